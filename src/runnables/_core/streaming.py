"""Adding stream chunks up, and the error notes that name a failing step."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from runnables.errors import RunnablesValueError

__all__ = [
    "NOTHING",
    "AddableDict",
    "aaggregate",
    "add_chunks",
    "add_note",
    "add_step_note",
    "aggregate",
    "aone",
    "awaited",
    "closing_chunks",
]

T = TypeVar("T")

NOTHING: Any = object()
_NOTE_PREFIX = "raised in runnable "


class AddableDict(dict[str, Any]):
    """A stream chunk holding named parts (from parallels, assign, pick): `+` merges the parts
    key by key. A plain dict chunk is a whole value, which the next chunk replaces."""

    def __add__(self, other: object) -> AddableDict:
        if not isinstance(other, Mapping):
            return NotImplemented
        merged = AddableDict(self)
        for key, value in cast("Mapping[str, Any]", other).items():
            merged[key] = add_chunks(merged[key], value) if merged.get(key) is not None else value
        return merged

    def __radd__(self, other: object) -> AddableDict:
        if not isinstance(other, Mapping):
            return NotImplemented
        return AddableDict(cast("Mapping[str, Any]", other)) + self


def add_chunks(total: Any, chunk: Any) -> Any:
    """Add a stream chunk to the total so far with `+` (`AddableDict` parts merge by key).

    Values that cannot be added keep the latest chunk, as a final output would.
    """
    if total is NOTHING:
        return chunk
    try:
        return total + chunk
    except TypeError:
        return chunk


def aggregate(chunks: Iterable[T]) -> T:
    """All chunks added up; an empty stream is an error since there is no value to give."""
    total: Any = NOTHING
    for chunk in chunks:
        total = add_chunks(total, chunk)
    if total is NOTHING:
        raise RunnablesValueError("the input stream was empty: there is no input to run on")
    return total  # type: ignore[no-any-return]


async def aaggregate(chunks: AsyncIterator[T]) -> T:
    """`aggregate` for an async stream."""
    total: Any = NOTHING
    async for chunk in chunks:
        total = add_chunks(total, chunk)
    if total is NOTHING:
        raise RunnablesValueError("the input stream was empty: there is no input to run on")
    return total  # type: ignore[no-any-return]


def add_step_note(exc: BaseException, name: str) -> None:
    """Name the failing step on the exception, once: the innermost step that saw it wins."""
    notes: list[str] | None = getattr(exc, "__notes__", None)
    if notes is not None and any(note.startswith(_NOTE_PREFIX) for note in notes):
        return
    add_note(exc, f"{_NOTE_PREFIX}{name!r}")


def add_note(exc: BaseException, note: str) -> None:
    """`exc.add_note(note)`, also on Python 3.10 (where tracebacks do not show it)."""
    notes: list[str] | None = getattr(exc, "__notes__", None)
    if notes is None:
        notes = []
        setattr(exc, "__notes__", notes)  # noqa: B010 - BaseException has no such attribute before 3.11
    notes.append(note)


@asynccontextmanager
async def closing_chunks(chunks: AsyncIterator[T]) -> AsyncGenerator[AsyncIterator[T], None]:
    """Use an async stream and close it (if it can be closed) however the block exits."""
    try:
        yield chunks
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


async def awaited(make: Callable[[], Awaitable[T]]) -> AsyncIterator[T]:
    """A one-chunk stream: the result of awaiting `make()` (called when iterated)."""
    yield await make()


async def aone(value: T) -> AsyncIterator[T]:
    """A one-chunk async stream: `value`."""
    yield value
