"""The exceptions runnables raises itself, so that one `except RunnablesError:` catches
anything the library refused. Each also subclasses the built-in exception it is, so code
catching `TypeError` or `ValueError` keeps working::

    RunnablesError                          anything runnables refused
    ├── RunnablesTypeError (TypeError)      a value of the wrong kind: an unknown config key,
    │                                       a non-callable step, an input a step cannot take
    ├── RunnablesValueError (ValueError)    a value of the right kind that is wrong: an empty
    │   │                                   stream, a limit below 1, a missing variable
    │   ├── runnables.schema.SchemaError    data that does not match a schema (every path)
    │   ├── runnables.prompts.PromptTemplateError   a template with more than {name} fields
    │   ├── PromptInputError (also KeyError)   a prompt missing one of its variables
    │   └── runnables.parsers.OutputParserException   model output a parser cannot read
    ├── RunnablesRecursionError (RecursionError)   runnables returning runnables too deeply
    └── runnables.models.OpenAIError (RuntimeError)   an OpenAI-compatible endpoint failed

Exceptions raised by your own functions are never wrapped: they reach you unchanged, with a
note naming the step that raised them.
"""

from __future__ import annotations

__all__ = [
    "PromptInputError",
    "RunnablesError",
    "RunnablesRecursionError",
    "RunnablesTypeError",
    "RunnablesValueError",
]


class RunnablesError(Exception):
    """Base of every exception runnables raises itself."""


class RunnablesTypeError(RunnablesError, TypeError):
    """A value of the wrong kind was given to runnables."""


class RunnablesValueError(RunnablesError, ValueError):
    """A value of the right kind but wrong was given to runnables."""


class RunnablesRecursionError(RunnablesError, RecursionError):
    """Runnables returned by functions nested deeper than `recursion_limit`."""


class PromptInputError(RunnablesValueError, KeyError):
    """A prompt was formatted without one of its variables.

    It is a `ValueError` like every value runnables refuses, and a `KeyError` as LangChain
    raises, so ``except KeyError:`` written for LangChain keeps working.
    """

    def __str__(self) -> str:
        # KeyError would quote the message as a key; it is a sentence.
        return Exception.__str__(self)
