"""Validation errors: the exceptions hooks raise, and error paths that stay cheap when deep.

A :class:`Path` is a linked list from a position back to the root, so stepping into a
child costs O(1) however deep the data is, and :func:`render` shows a very long path
with its middle abbreviated instead of printing hundreds of thousands of segments.
"""

from __future__ import annotations

import json
import re

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


class Path:
    """A position in the data: its parent, its last key or index, and its depth.

    ``head`` holds the first segments (shared by all deeper paths once full), so a path
    can be rendered abbreviated without walking back to the root.
    """

    __slots__ = ("depth", "head", "parent", "segment")

    def __init__(self, parent: Path | None, segment: int | str) -> None:
        self.parent = parent
        self.segment = segment
        if parent is None:
            self.depth = 0
            self.head: tuple[int | str, ...] = ()
        else:
            self.depth = parent.depth + 1
            self.head = parent.head if self.depth > _KEPT else (*parent.head, segment)

    def child(self, segment: int | str) -> Path:
        """The path one key or index below this one."""
        return Path(self, segment)


ROOT = Path(None, "$")


def _text(segments: tuple[int | str, ...] | list[int | str]) -> str:
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _IDENTIFIER.fullmatch(segment):
            parts.append(f".{segment}")
        else:
            parts.append(f"[{json.dumps(segment)}]")
    return "".join(parts)


def render(path: Path) -> str:
    """Write ``path`` in the documented syntax, abbreviating its middle when very long."""
    count = path.depth if path.depth <= _LONGEST else _KEPT
    tail: list[int | str] = []
    node = path
    for _ in range(count):
        tail.append(node.segment)
        assert node.parent is not None  # depth counts the parents
        node = node.parent
    tail.reverse()
    if path.depth <= _LONGEST:
        return "$" + _text(tail)
    hidden = path.depth - 2 * _KEPT
    return f"${_text(path.head)}{ABBREVIATED}{hidden:,} more)…{_text(tail)}"
