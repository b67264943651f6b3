"""Validation errors: the exceptions hooks raise, and error paths that stay cheap when deep.

A :data:`Path` is a linked list from a position back to the root, so stepping into a
child costs O(1) however deep the data is, and :func:`render` shows a very long path
with its middle abbreviated instead of printing hundreds of thousands of segments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from runnables.errors import RunnablesValueError

__all__ = [
    "ABBREVIATED",
    "ROOT",
    "ConstraintViolation",
    "Invalid",
    "Path",
    "SchemaError",
    "got",
    "render",
]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Paths with more segments than this are shown as their first and last few segments.
_LONGEST = 40
_KEPT = 10

#: Marks the abbreviated middle of a long path (followed by the count and "more").
ABBREVIATED = "…("


class SchemaError(RunnablesValueError):
    """Data did not match a schema; ``errors`` has one ``"<path>: <problem>"`` per failure.

    Paths start at ``$``; keys that are identifiers follow a dot (``$.items``), other
    keys are JSON-quoted in brackets (``$["a b"]``) and list indices are bracketed
    (``$.items[2]``). A path longer than 40 segments keeps its first and last 10, with
    ``…(N more)…`` in between.
    """

    errors: list[str]

    def __init__(self, errors: list[str], title: str = "value") -> None:
        self.errors = list(errors)
        count = len(self.errors)
        plural = "" if count == 1 else "s"
        lines = "\n".join(f"  {e}" for e in self.errors)
        message = f"{count} validation error{plural} for {title}:\n{lines}"
        if any(ABBREVIATED in e.split(": ", 1)[0] for e in self.errors):
            message += f"\n(paths longer than {_LONGEST} segments are abbreviated)"
        super().__init__(message)

    def __reduce__(self) -> tuple[type[SchemaError], tuple[list[str]]]:
        return (type(self), (self.errors,))


class Invalid(ValueError):
    """A failure at the current path: the value is not of the expected kind."""


class ConstraintViolation(Invalid):
    """The value had the right type but broke an ``Annotated`` constraint."""


def got(value: object) -> str:
    """Name the Python type of ``value`` for messages (``None`` for ``None``)."""
    return "None" if value is None else type(value).__name__


#: A position in the data: ``()`` for the root, else ``(parent path, key or index)``. A
#: linked list, so stepping into a child costs one small tuple however deep the data is.
Path = tuple[Any, ...]
ROOT: Path = ()


def _text(segments: Iterable[int | str]) -> str:
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _IDENTIFIER.fullmatch(segment):
            parts.append(f".{segment}")
        else:
            parts.append(f"[{json.dumps(segment)}]")
    return "".join(parts)


def render(paths: Sequence[Path]) -> list[str]:
    """Write each path in the documented syntax, abbreviating the middle of long ones.

    Depths and leading segments are worked out once per position shared by the paths,
    so many errors deep in the same data cost time in proportion to the data.
    """
    known: dict[int, tuple[int, tuple[int | str, ...]]] = {id(ROOT): (0, ())}
    texts: list[str] = []
    for path in paths:
        pending: list[Path] = []
        node = path
        while id(node) not in known:
            pending.append(node)
            node = node[0]
        for node in reversed(pending):
            depth, head = known[id(node[0])]
            known[id(node)] = (depth + 1, (*head, node[1]) if depth < _KEPT else head)
        depth, head = known[id(path)]
        tail: list[int | str] = []
        node = path
        for _ in range(depth if depth <= _LONGEST else _KEPT):
            tail.append(node[1])
            node = node[0]
        tail.reverse()
        if depth <= _LONGEST:
            texts.append("$" + _text(tail))
        else:
            hidden = depth - 2 * _KEPT
            texts.append(f"${_text(head)}{ABBREVIATED}{hidden:,} more)…{_text(tail)}")
    return texts
