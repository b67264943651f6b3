"""The f-string template parser behind the prompts: ``{name}`` fields and ``{{``/``}}`` only.

A template is parsed once, when its prompt is built, into literal text and variable names;
formatting joins those pieces with the values. `str.format` is never called on a template, so
no template can reach an attribute, an index, a conversion or a format spec of any value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from runnables.errors import RunnablesTypeError, RunnablesValueError

__all__ = ["PromptTemplateError", "Template", "parse_template"]

_BRACE = re.compile(r"[{}]")
_SPECIAL = re.compile(r"[.\[\]!:{]")
_SHOWN = 40
_HINT = "only plain fields like '{topic}' are allowed ('{{' and '}}' are literal braces)"


class PromptTemplateError(RunnablesValueError):
    """A prompt template that is not plain text with ``{name}`` fields.

    ``position`` is the index in the template of the brace that starts the offending field
    (or of the lone brace); the message also gives its line and column.
    """

    position: int

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position

    def __reduce__(self) -> tuple[type[PromptTemplateError], tuple[str, int]]:
        return (type(self), (str(self), self.position))


@attrs.frozen
class Template:
    """A parsed template: each field's preceding literal text and name, then the tail;
    ``variables`` are the names in order of first appearance."""

    fields: tuple[tuple[str, str], ...]
    tail: str
    variables: tuple[str, ...] = attrs.field(init=False)

    @variables.default  # pyright: ignore[reportUntypedFunctionDecorator, reportAttributeAccessIssue, reportUnknownMemberType]
    def _names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for _, name in self.fields))

    def render(self, values: Mapping[str, Any]) -> str:
        """The text with each field replaced by ``format(value, "")`` of its variable."""
        parts: list[str] = []
        for literal, name in self.fields:
            value = values[name]
            parts.append(literal)
            parts.append(value if type(value) is str else format(value, ""))
        parts.append(self.tail)
        return "".join(parts)


def _where(template: str, position: int) -> str:
    line = template.count("\n", 0, position) + 1
    column = position - (template.rfind("\n", 0, position) + 1) + 1
    return f"at position {position} (line {line}, column {column})"


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def _field_problem(name: str) -> str | None:
    """What makes the text between a field's braces more than a variable name, if anything."""
    special = _SPECIAL.search(name)
    if special is not None:
        char = special.group()
        if char == ".":
            return "uses attribute access ('.')"
        if char in "[]":
            return "uses indexing ('[...]')"
        if char == "!":
            return "uses a conversion ('!r', '!s' or '!a')"
        if char == "{":
            return "has a nested '{'"
        if "{" in name[special.end() :]:
            return "has a nested field in its format spec"
        return "has a format spec (':...'), format the value before passing it in"
    if not name:
        return "has no name (positional fields are not allowed)"
    if name.isdecimal():
        return "is positional (a number, not a name)"
    if not name.isidentifier():
        return "is not a plain name (letters, digits and '_', not starting with a digit)"
    return None


def parse_template(template: str) -> Template:
    """Parse an f-string template, refusing anything but literal text and ``{name}`` fields.

    Raises:
        PromptTemplateError: naming the first offending field or brace and its position.
    """
    if not isinstance(template, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RunnablesTypeError(
            f"a prompt template must be a str, got {type(template).__name__}: {template!r}"
        )
    fields: list[tuple[str, str]] = []
    literal: list[str] = []
    start = 0
    while (brace := _BRACE.search(template, start)) is not None:
        at = brace.start()
        char = brace.group()
        if template.startswith(char, at + 1):
            literal.append(template[start : at + 1])
            start = at + 2
            continue
        if char == "}":
            raise PromptTemplateError(
                f"prompt template: single '}}' {_where(template, at)}; "
                "write '}}' for a literal brace",
                at,
            )
        end = template.find("}", at + 1)
        if end == -1:
            raise PromptTemplateError(
                f"prompt template: '{{' {_where(template, at)} is never closed; "
                "write '{{' for a literal brace",
                at,
            )
        name = template[at + 1 : end]
        problem = _field_problem(name)
        if problem is not None:
            raise PromptTemplateError(
                f"prompt template: field {_shown(template[at : end + 1])} "
                f"{_where(template, at)} {problem}; {_HINT}",
                at,
            )
        literal.append(template[start:at])
        fields.append(("".join(literal), name))
        literal = []
        start = end + 1
    literal.append(template[start:])
    return Template(tuple(fields), "".join(literal))
