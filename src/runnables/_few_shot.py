"""Few-shot prompts: a fixed list of examples, each formatted by an example prompt, placed
between a prefix and a suffix (text) or among the messages of a chat prompt (chat).

The examples are formatted once, when the prompt is built, and their text is inserted as it
is: an example holding ``{braces}`` is never read as a template (LangChain formats the joined
text again, so there an example's braces become fields).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

import attrs

from runnables.errors import PromptInputError, RunnablesTypeError
from runnables.messages import BaseMessage
from runnables.prompts import (
    BaseMessagePromptTemplate,
    ChatPromptTemplate,
    ChatPromptValue,
    PromptTemplate,
    PromptValue,
    StringPromptValue,
    TemplateFormat,
    _check_declared,  # pyright: ignore[reportPrivateUsage]
    _names,  # pyright: ignore[reportPrivateUsage]
    _Prompt,  # pyright: ignore[reportPrivateUsage]
)
from runnables.schema import Schema

if TYPE_CHECKING:
    pass

__all__ = ["FewShotChatMessagePromptTemplate", "FewShotPromptTemplate"]


def _examples(value: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    if isinstance(value, (str, Mapping)):
        shown = cast("object", value)
        raise RunnablesTypeError(
            f"examples must be a list of dicts, got {type(shown).__name__}: {shown!r:.80}"
        )
    examples: list[dict[str, Any]] = []
    for index, example in enumerate(value):
        if not isinstance(example, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise RunnablesTypeError(
                f"examples[{index}] must be a dict of the example prompt's variables, "
                f"got {type(example).__name__}: {example!r}"
            )
        examples.append(dict(example))
    return tuple(examples)


def _example_values(index: int, example: Mapping[str, Any], variables: list[str]) -> dict[str, Any]:
    missing = [name for name in variables if name not in example]
    if missing:
        raise PromptInputError(
            f"examples[{index}] lacks {missing}, needed by the example prompt; "
            f"it has {sorted(example)}"
        )
    return {name: example[name] for name in variables}


@attrs.frozen
class FewShotPromptTemplate(_Prompt[StringPromptValue]):
    """A text prompt of ``prefix``, each example formatted by ``example_prompt``, and
    ``suffix``, joined by ``example_separator`` (empty pieces left out, as in LangChain).

    The prefix and suffix are templates (f-string or mustache) whose variables are the
    prompt's input (``input_variables``, LangChain's spelling, may list them and is checked);
    each example is a dict holding the example prompt's variables. Example selectors are not
    provided: pass the examples to use.
    """

    value_type: ClassVar[type[PromptValue]] = StringPromptValue

    examples: tuple[dict[str, Any], ...] = attrs.field(
        converter=_examples, hash=False, kw_only=True
    )
    example_prompt: PromptTemplate = attrs.field(kw_only=True)
    suffix: str = attrs.field(kw_only=True)
    prefix: str = attrs.field(default="", kw_only=True)
    example_separator: str = attrs.field(default="\n\n", kw_only=True)
    template_format: TemplateFormat = attrs.field(default="f-string", kw_only=True)
    partial_variables: dict[str, Any] = attrs.field(
        factory=dict, converter=dict, hash=False, kw_only=True
    )
    _declared: tuple[str, ...] | None = attrs.field(
        default=None,
        converter=_names,
        kw_only=True,
        alias="input_variables",
        eq=False,
        hash=False,
        repr=False,
    )
    _prefix: PromptTemplate = attrs.field(init=False, eq=False, repr=False)
    _suffix: PromptTemplate = attrs.field(init=False, eq=False, repr=False)
    _shots: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.example_prompt, PromptTemplate):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise RunnablesTypeError(
                "FewShotPromptTemplate's example_prompt must be a PromptTemplate, got "
                f"{type(self.example_prompt).__name__}"
            )
        variables = self.example_prompt.input_variables
        shots = tuple(
            self.example_prompt.format(**_example_values(index, example, variables))
            for index, example in enumerate(self.examples)
        )
        for name, text in (("_prefix", self.prefix), ("_suffix", self.suffix)):
            template = PromptTemplate(
                text, template_format=self.template_format, partial_variables=self.partial_variables
            )
            object.__setattr__(self, name, template)
        object.__setattr__(self, "_shots", shots)
        if self._declared is not None:
            used = [*self._prefix._parsed.variables, *self._suffix._parsed.variables]  # pyright: ignore[reportPrivateUsage]
            _check_declared(self._declared, list(dict.fromkeys(used)), self.partial_variables)

    @property
    def input_variables(self) -> list[str]:
        """The prefix's and suffix's variables still to be given, in order of appearance."""
        return list(dict.fromkeys([*self._prefix.input_variables, *self._suffix.input_variables]))

    @property
    def input_schema(self) -> Schema[dict[str, Any]]:
        kind: Any = str if self.template_format == "f-string" else Any
        return Schema.object("PromptInput", dict.fromkeys(self.input_variables, kind))

    def partial(self, **variables: Any) -> FewShotPromptTemplate:
        """A copy with some variables filled in ahead of time."""
        return attrs.evolve(self, partial_variables={**self.partial_variables, **variables})

    def format(self, **variables: Any) -> str:
        """The formatted text; raises `PromptInputError` if a variable is missing."""
        missing = [name for name in self.input_variables if name not in variables]
        if missing:
            raise PromptInputError(
                f"prompt {self.name!r} needs variables {missing}; got {sorted(variables)}"
            )
        pieces = [
            *([self._prefix.format(**variables)] if self.prefix else []),
            *(shot for shot in self._shots if shot),
            *([self._suffix.format(**variables)] if self.suffix else []),
        ]
        return self.example_separator.join(pieces)

    def format_prompt(self, **variables: Any) -> StringPromptValue:
        """The formatted prompt value."""
        return StringPromptValue(self.format(**variables))


@attrs.frozen
class FewShotChatMessagePromptTemplate(_Prompt[ChatPromptValue]):
    """The messages of each example formatted by ``example_prompt`` (a chat prompt or a
    message template), one example after the other.

    It takes no variables of its own: put it among the messages of a `ChatPromptTemplate`
    (``[("system", ...), few_shot, ("human", "{input}")]``) or invoke it alone.
    """

    value_type: ClassVar[type[PromptValue]] = ChatPromptValue

    examples: tuple[dict[str, Any], ...] = attrs.field(
        converter=_examples, hash=False, kw_only=True
    )
    example_prompt: ChatPromptTemplate | BaseMessagePromptTemplate = attrs.field(kw_only=True)
    _messages: tuple[BaseMessage, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        prompt = self.example_prompt
        if not isinstance(prompt, (ChatPromptTemplate, BaseMessagePromptTemplate)):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise RunnablesTypeError(
                "FewShotChatMessagePromptTemplate's example_prompt must be a ChatPromptTemplate "
                f"or a message template, got {type(prompt).__name__}"
            )
        variables = prompt.input_variables
        messages = tuple(
            message
            for index, example in enumerate(self.examples)
            for message in prompt.format_messages(**_example_values(index, example, variables))
        )
        object.__setattr__(self, "_messages", messages)

    @property
    def input_variables(self) -> list[str]:
        """None: the examples are fixed."""
        return []

    @property
    def input_schema(self) -> Schema[dict[str, Any]]:
        return Schema.object("PromptInput", {})

    def format_messages(self, **variables: Any) -> list[BaseMessage]:
        """The examples' messages (any variables given are ignored)."""
        return list(self._messages)

    def format_prompt(self, **variables: Any) -> ChatPromptValue:
        """The formatted prompt value."""
        return ChatPromptValue(self.format_messages())

    def format(self, **variables: Any) -> str:
        """The examples' messages as one ``Role: text`` string."""
        return self.format_prompt().to_string()
