"""Validation errors: the leaf exception raised by hooks and the path-collecting walker.

cattrs reports nested failures as exception groups whose members carry notes saying
which attribute or index failed; :func:`collect` flattens such a tree into
``(path, message)`` pairs such as ``("$.items[2].name", "expected str, got int")``.
"""

from __future__ import annotations

import json
import re

from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ForbiddenExtraKeysError,
    IterableValidationNote,
)

from runnables.errors import RunnablesValueError

__all__ = ["Invalid", "SchemaError", "collect", "got", "join_path", "members"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SchemaError(RunnablesValueError):
    """Data did not match a schema; ``errors`` has one ``"<path>: <problem>"`` per failure.

    Paths start at ``$``; keys that are identifiers follow a dot (``$.items``), other
    keys are JSON-quoted in brackets (``$["a b"]``) and list indices are bracketed
    (``$.items[2]``).
    """

    errors: list[str]

    def __init__(self, errors: list[str], title: str = "value") -> None:
        self.errors = list(errors)
        count = len(self.errors)
        plural = "" if count == 1 else "s"
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"{count} validation error{plural} for {title}:\n{lines}")

    def __reduce__(self) -> tuple[type[SchemaError], tuple[list[str]]]:
        return (type(self), (self.errors,))


class Invalid(ValueError):
    """A failure at the current path, raised by the strict structuring hooks."""


def got(value: object) -> str:
    """Name the Python type of ``value`` for messages (``None`` for ``None``)."""
    return "None" if value is None else type(value).__name__


def join_path(path: str, segment: int | str) -> str:
    """Append an index or a key to a path."""
    if isinstance(segment, int):
        return f"{path}[{segment}]"
    if _IDENTIFIER.fullmatch(segment):
        return f"{path}.{segment}"
    return f"{path}[{json.dumps(segment)}]"


def members(group: BaseValidationError) -> list[Exception]:
    """Return the member exceptions of a cattrs validation group."""
    found: list[Exception] = list(group.exceptions)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    return found


def _segment(exc: BaseException) -> int | str | None:
    for note in reversed(getattr(exc, "__notes__", [])):
        if isinstance(note, AttributeValidationNote):
            return note.name
        if isinstance(note, IterableValidationNote):
            return note.index
    return None


def collect(exc: BaseException, path: str = "$") -> list[tuple[str, str]]:
    """Flatten a structuring failure into ``(path, message)`` pairs, in input order."""
    if isinstance(exc, BaseValidationError):
        found: list[tuple[str, str]] = []
        for sub in members(exc):
            segment = _segment(sub)
            if isinstance(sub, KeyError) and isinstance(segment, str):
                found.append((path, f"missing required key {segment!r}"))
            elif segment is None:
                found.extend(collect(sub, path))
            else:
                found.extend(collect(sub, join_path(path, segment)))
        return found
    if isinstance(exc, ForbiddenExtraKeysError):
        return [(join_path(path, str(key)), "unexpected key") for key in sorted(exc.extra_fields)]
    if isinstance(exc, Invalid):
        return [(path, str(exc))]
    return [(path, f"{type(exc).__name__}: {exc}")]
