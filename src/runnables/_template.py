"""The f-string template parser behind the prompts: ``{name}`` fields and ``{{``/``}}`` only.

A template is parsed once, when its prompt is built, into literal text and variable names;
formatting joins those pieces with the values. `str.format` is never called on a template, so
no template can reach an attribute, an index, a conversion or a format spec of any value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

import attrs

from runnables.errors import RunnablesTypeError, RunnablesValueError

__all__ = [
    "ContentTemplate",
    "Parsed",
    "PromptTemplateError",
    "Template",
    "parse_content",
    "parse_template",
]

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


class Parsed(Protocol):
    """A parsed template of any format: the names it reads and how it renders."""

    @property
    def variables(self) -> tuple[str, ...]: ...

    def render(self, values: Mapping[str, Any]) -> str: ...


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


def _field_end(template: str, at: int) -> int:
    """Where the field opened at `at` ends, counting the braces nested in it (as `str.format`
    does), so an error quotes the whole field; -1 if it never closes."""
    depth = 0
    for brace in _BRACE.finditer(template, at):
        depth += 1 if brace.group() == "{" else -1
        if depth == 0:
            return brace.start()
    return -1


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
        nested = template.find("{", at + 1, None if end == -1 else end)
        if nested != -1:
            end = _field_end(template, at)
        if end == -1:
            opened = f"field {_shown(template[at:])}" if nested != -1 else "'{'"
            inner = f" (the '{{' {_where(template, nested)} opens a nested field)"
            raise PromptTemplateError(
                f"prompt template: {opened} {_where(template, at)} is never closed"
                f"{inner if nested != -1 else ''}; write '{{{{' for a literal brace",
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


#: How deeply the parts of a message's content may nest (dicts in lists in dicts ...).
_CONTENT_DEPTH = 16


@attrs.frozen
class ContentTemplate:
    """Message content given as a list of parts (strings, ``{"type": "text", ...}``,
    ``{"type": "image_url", ...}`` or other dicts), in which every string value, at any depth,
    is a template; keys and other values are kept as they are. As in LangChain, a text part
    whose text renders empty is left out. ``variables`` are the names in order of first
    appearance."""

    parts: tuple[object, ...]  # the parts with each string replaced by its `Template`
    variables: tuple[str, ...]

    def render(self, values: Mapping[str, Any]) -> list[str | dict[str, Any]]:
        """The content with every template rendered."""
        rendered: list[str | dict[str, Any]] = []
        for part in self.parts:
            done = cast("dict[str, Any]", _render(part, values))
            if not (done.keys() <= {"type", "text"} and done.get("text") == ""):
                rendered.append(done)
        return rendered


def _render(node: object, values: Mapping[str, Any]) -> object:
    if isinstance(node, dict):
        return {key: _render(item, values) for key, item in cast("dict[str, object]", node).items()}
    if isinstance(node, list):
        return [_render(item, values) for item in cast("list[object]", node)]
    if node is None or isinstance(node, (bool, int, float)):
        return node
    return cast("Parsed", node).render(values)


def _normalized(part: object) -> object:
    """A part in the shape LangChain gives it: a string is a text part, and an image part's
    url string is wrapped in ``{"url": ...}``."""
    if isinstance(part, str):
        return {"type": "text", "text": part}
    if isinstance(part, dict):
        entry = cast("dict[str, object]", part)
        url = entry.get("image_url")
        if isinstance(url, str):
            return {"type": "image_url", **entry, "image_url": {"url": url}}
        return entry
    return part


def parse_content(
    content: list[object], parse_text: Callable[[str], Parsed] = parse_template
) -> ContentTemplate:
    """Parse list content, each of whose string values is a template.

    Raises:
        PromptTemplateError: naming the part (``content[1].text``) and the field.
        RunnablesTypeError: for a part that is not a string or a dict with string keys.
    """
    names: dict[str, None] = {}

    def parse(node: object, where: str, depth: int) -> object:
        if depth > _CONTENT_DEPTH:
            raise RunnablesValueError(
                f"{where}: message content nested deeper than {_CONTENT_DEPTH} levels"
            )
        if isinstance(node, str):
            try:
                template = parse_text(node)
            except PromptTemplateError as exc:
                raise PromptTemplateError(f"{where}: {exc}", exc.position) from exc
            names.update(dict.fromkeys(template.variables))
            return template
        if isinstance(node, dict):
            parsed: dict[str, object] = {}
            for key, item in cast("dict[object, object]", node).items():
                if not isinstance(key, str):
                    raise RunnablesTypeError(f"{where}: a content key must be a str, got {key!r}")
                inner = f"{where}.{key}" if key.isidentifier() else f"{where}[{key!r}]"
                parsed[key] = parse(item, inner, depth + 1)
            return parsed
        if isinstance(node, list):
            items = cast("list[object]", node)
            return [parse(item, f"{where}[{index}]", depth + 1) for index, item in enumerate(items)]
        if node is None or isinstance(node, (bool, int, float)):
            return node
        raise RunnablesTypeError(
            f"{where}: message content holds strings, numbers, lists and dicts, "
            f"got {type(node).__name__}"
        )

    parts: list[object] = []
    for index, part in enumerate(content):
        where = f"content[{index}]"
        if not isinstance(part, (str, dict)):
            raise RunnablesTypeError(
                f"{where}: a content part must be a string or a dict, got {type(part).__name__}"
            )
        parts.append(parse(_normalized(cast("object", part)), where, 1))
    return ContentTemplate(tuple(parts), tuple(names))
