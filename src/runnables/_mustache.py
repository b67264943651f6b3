"""The mustache templates behind ``template_format="mustache"``: data lookups only.

A template is parsed once, when its prompt is built, into text, variables and sections, with
LangChain's rules for standalone lines, HTML escaping and missing names (they render empty).
Lookups walk dict keys and list indexes of the given values and nothing else: no attribute
access, no partials, no delimiter changes, and a function is never called, so a template read
from anywhere can only copy out the data it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import attrs

from runnables._template import PromptTemplateError
from runnables.errors import RunnablesTypeError

__all__ = ["MustacheTemplate", "parse_mustache"]

_KINDS = {"!": "comment", "#": "section", "^": "inverted", "/": "end", "&": "raw", "{": "raw"}
_REFUSED = {
    ">": "is a partial ('{{>...}}'); partials are not supported, put the text in the template",
    "=": "changes the delimiters ('{{=...=}}'), which is not supported",
}
_MISSING = object()


@attrs.frozen
class _Variable:
    path: tuple[str, ...]
    escape: bool


@attrs.frozen
class _Section:
    path: tuple[str, ...]
    inverted: bool
    body: tuple[_Node, ...]


_Node = str | _Variable | _Section


def _path(key: str) -> tuple[str, ...]:
    return (".",) if key == "." else tuple(key.split("."))


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _is_zero(value: object) -> bool:
    """0 and False render as themselves where other falsy values render empty."""
    return type(value) in (bool, int, float) and value == 0


def _walk(value: object, path: tuple[str, ...]) -> object:
    for key in path:
        if _is_zero(value):
            return value
        if isinstance(value, Mapping):
            mapping = cast("Mapping[object, object]", value)
            if key not in mapping:
                return _MISSING
            value = mapping[key]
        elif isinstance(value, (list, tuple)) and key.isdecimal():
            items = cast("Sequence[object]", value)
            if int(key) >= len(items):
                return _MISSING
            value = items[int(key)]
        else:
            return _MISSING
    return value


def _lookup(path: tuple[str, ...], scopes: Sequence[object]) -> object:
    """The value of a name: from the innermost scope holding the whole path, else ``""``."""
    if path == (".",):
        return scopes[0]
    for scope in scopes:
        value = _walk(scope, path)
        if value is not _MISSING:
            return value if _is_zero(value) else value or ""
    return ""


@attrs.frozen
class MustacheTemplate:
    """A parsed mustache template; ``variables`` are the top-level names it reads, in order of
    first appearance (a section's inner names are looked up in the section's value first)."""

    body: tuple[_Node, ...]
    variables: tuple[str, ...]

    def render(self, values: Mapping[str, Any]) -> str:
        """The text, with each name looked up in `values` and the sections expanded."""
        out: list[str] = []
        _render(self.body, [values], out)
        return "".join(out)


def _render(body: Sequence[_Node], scopes: list[object], out: list[str]) -> None:
    for node in body:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Variable):
            value = _lookup(node.path, scopes)
            if value is True and node.escape and node.path == (".",) and len(scopes) > 1:
                value = scopes[1]  # as LangChain renders '{{.}}' in a section opened by True
            text = str(value)
            out.append(_escape(text) if node.escape else text)
        else:
            value = _lookup(node.path, scopes)
            if callable(value):
                raise RunnablesTypeError(
                    f"mustache section {'.'.join(node.path)!r} got a function; functions are "
                    "never called by templates, pass the value instead"
                )
            if node.inverted:
                if not value:  # LangChain opens the section with True as its scope
                    _render(node.body, [True, *scopes], out)
            elif isinstance(value, (list, tuple)):
                for item in cast("Sequence[object]", value):
                    if item:  # as in LangChain, a falsy item renders nothing
                        _render(node.body, [item, *scopes], out)
            elif value:
                _render(node.body, [value, *scopes], out)


def _where(template: str, position: int) -> str:
    line = template.count("\n", 0, position) + 1
    column = position - (template.rfind("\n", 0, position) + 1) + 1
    return f"at position {position} (line {line}, column {column})"


def parse_mustache(template: str) -> MustacheTemplate:
    """Parse a mustache template, refusing partials, delimiter changes and bad nesting.

    Raises:
        PromptTemplateError: naming the offending tag and its position.
    """
    if not isinstance(template, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RunnablesTypeError(
            f"a prompt template must be a str, got {type(template).__name__}: {template!r}"
        )
    stack: list[tuple[str, int, list[_Node]]] = [("", 0, [])]
    names: dict[str, None] = {}
    start = newline = 0
    standalone = True
    while (at := template.find("{{", start)) != -1:
        literal = template[start:at]
        if "\n" in literal or standalone:
            padding = literal.rsplit("\n", 1)[-1]
            standalone = padding.isspace() or not padding
        close = template.find("}}", at + 2)
        if close == -1:
            raise PromptTemplateError(
                f"mustache template: tag {_where(template, at)} is never closed ('}}}}')", at
            )
        tag, end = template[at + 2 : close], close + 2
        if not tag.strip():
            raise PromptTemplateError(f"mustache template: empty tag {_where(template, at)}", at)
        if tag[0] in _REFUSED:
            raise PromptTemplateError(
                f"mustache template: tag {template[at:end]!r} {_where(template, at)} "
                f"{_REFUSED[tag[0]]}",
                at,
            )
        kind = _KINDS.get(tag[0], "variable")
        if tag[0] == "{":
            if not template.startswith("}", end):
                raise PromptTemplateError(
                    f"mustache template: '{{{{{{' {_where(template, at)} needs '}}}}}}'", at
                )
            end += 1
        key = tag[1:].strip() if kind != "variable" else tag.strip()
        if newline < end:  # the end of the tag's line, searched once per line
            newline = template.find("\n", end) % (len(template) + 1)
        if standalone and kind not in ("variable", "raw"):
            line = template[end:newline]
            standalone = line.isspace() or not line
        else:
            standalone = False
        if standalone:
            end = newline + 1 if newline < len(template) else end
            literal = literal.rstrip(" ")
        body = stack[-1][2]
        if literal:
            body.append(literal)
        if kind in ("variable", "raw", "section", "inverted") and key != "." and len(stack) == 1:
            names.setdefault(key.split(".")[0], None)
        if kind in ("variable", "raw"):
            body.append(_Variable(_path(key), escape=kind == "variable"))
        elif kind in ("section", "inverted"):
            stack.append((key, at, []))
        elif kind == "end":
            opened, opened_at, inner = stack.pop() if len(stack) > 1 else ("", at, [])
            if opened != key:
                problem = f"closes {opened!r}, opened {_where(template, opened_at)}"
                raise PromptTemplateError(
                    f"mustache template: '{{{{/{key}}}}}' {_where(template, at)} "
                    + (problem if opened else "closes a section that was never opened"),
                    at,
                )
            section = _Section(_path(opened), inverted=template[opened_at + 2] == "^", body=())
            stack[-1][2].append(attrs.evolve(section, body=tuple(inner)))
        start = end
    if len(stack) > 1:
        key, opened_at, _ = stack[-1]
        raise PromptTemplateError(
            f"mustache template: section {key!r} opened {_where(template, opened_at)} "
            "is never closed",
            opened_at,
        )
    if template[start:]:
        stack[0][2].append(template[start:])
    return MustacheTemplate(tuple(stack[0][2]), tuple(names))
