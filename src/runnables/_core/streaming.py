"""Adding stream chunks up, and the error notes that name a failing step."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar, cast

from runnables.errors import RunnablesValueError

__all__ = [
    "NOTHING",
    "ARecorder",
    "AddableDict",
    "Recorder",
    "Total",
    "aaggregate",
    "add_chunks",
    "add_note",
    "add_step_note",
    "aggregate",
    "aone",
    "awaited",
    "aclose_chunks",
    "close_chunks",
    "closing_chunks",
]

T = TypeVar("T")

NOTHING: Any = object()
_NOTE_PREFIX = "raised in runnable "


class AddableDict(dict[str, Any]):
    """A stream chunk holding named parts (from parallels, assign, pick): `+` merges the parts
    key by key. A plain dict chunk is a whole value, which the next chunk replaces."""

    #: `parts + [more, parts]` merges a whole stream in one pass (see `Total`).
    _adds_chunk_lists = True

    def __add__(self, other: object) -> AddableDict:
        if isinstance(other, list):
            return _merge_all(self, cast("list[Mapping[str, Any]]", other))
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


def _merge_all(first: Mapping[str, Any], rest: list[Mapping[str, Any]]) -> AddableDict:
    """`first + rest[0] + rest[1] + ...`, with each key's values added up by a `Total` (in time
    linear in the stream, where adding the dicts one by one copies every string part so far)."""
    totals: dict[str, Total | None] = {}  # None: the key's value is None (the next one replaces it)
    for chunk in (first, *rest):
        for key, value in chunk.items():
            if value is None:
                totals[key] = None
                continue
            total = totals.get(key)
            if total is None:
                totals[key] = total = Total()
            total.add(value)
    return AddableDict({key: None if t is None else t.value for key, t in totals.items()})


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


class Total:
    """Stream chunks added up, in time linear in the stream's length.

    Strings are added with `+` while the total is short (one object, as most streams of
    tokens are); past `_SMALL` characters, where `+` would copy ever more, the pieces are kept
    and joined once, when the value is asked for (each `_RUN` pieces joined into one as they
    come, so that a long stream of small chunks is not kept as that many string objects). A
    chunk whose class sets `_adds_chunk_lists` (message chunks, where each `+` copies the
    content so far too) gets the chunks of its own class that follow it kept, and added all
    at once, `first + [second, ...]`, when the value is asked for. Other chunks are added with
    `add_chunks` as they come.
    """

    __slots__ = ("_later", "_parts", "_runs", "_value")

    def __init__(self) -> None:
        # (Lists made only when needed: a server keeps several totals per stream alive.)
        self._value: Any = NOTHING  # the total; for a long string, its head
        self._parts: list[str] | None = None  # a long string: the pieces since the last run
        self._runs: list[str] | None = None  # a long string: joined runs of pieces, if any
        self._later: list[Any] | None = None  # chunks to add to `_value` in one go

    def add(self, chunk: Any) -> None:
        parts = self._parts
        if parts is not None:
            if type(chunk) is str:
                parts.append(chunk)
                if len(parts) == _RUN:
                    runs = self._runs
                    if runs is None:
                        self._runs = ["".join(parts)]
                    else:
                        runs.append("".join(parts))
                    parts.clear()
                return
            self._value = self.value
            self._parts = self._runs = None
        value = self._value
        if type(chunk) is str:
            if type(value) is str:
                if len(value) < _SMALL:
                    self._value = value + chunk
                else:
                    self._parts = [chunk]
                return
            if value is NOTHING:
                self._value = chunk
                return
        elif value is NOTHING:
            self._value = chunk
            if getattr(chunk, "_adds_chunk_lists", False):
                self._later = []
            return
        later = self._later
        if later is not None:
            if type(chunk) is type(value):
                later.append(chunk)
                return
            self._value = value = self.value
            self._later = None
        try:  # `add_chunks`, inlined: this runs for every chunk at every traced level
            self._value = value + chunk
        except TypeError:
            self._value = chunk

    @property
    def value(self) -> Any:
        """The total so far; `NOTHING` if no chunk was added."""
        parts = self._parts
        if parts is None:
            later = self._later
            if later:
                self._value = self._value + later
                later.clear()
            return self._value
        runs = self._runs
        if runs is None and not parts:
            return self._value
        self._value = whole = "".join([self._value, *(runs or ()), *parts])
        self._runs = None
        parts.clear()
        return whole

    def or_none(self) -> Any:
        """The total so far; None if no chunk was added (for run records)."""
        value = self.value
        return None if value is NOTHING else value


#: Strings up to this many characters are added up with `+` (see `Total`).
_SMALL = 1024

#: Past `_SMALL`, string chunks joined into one as they are added up (see `Total`).
_RUN = 32


class _Recording:
    """What both recorders keep: the input, its total so far, a chunk read ahead and the
    input's own failure."""

    __slots__ = ("_ahead", "_inputs", "_total", "failed")

    def __init__(self, inputs: Any) -> None:
        self._inputs = inputs
        self._total = Total()
        self._ahead: Any = NOTHING
        self.failed: BaseException | None = None

    def total(self) -> Any:
        """The chunks seen so far added up; None if there were none."""
        return self._total.or_none()


class Recorder(_Recording, Iterator[Any]):
    """Passes an input stream through while adding it up (for a run record, or to run again
    on the whole input); `peek` reads the first chunk ahead (the next `__next__` gives it
    again). An exception from the input itself is kept in `failed`."""

    __slots__ = ()

    def __init__(self, inputs: Iterator[Any]) -> None:
        super().__init__(inputs)

    def peek(self) -> Any:
        """The first chunk (`NOTHING` if there is none)."""
        self._ahead = next(self, NOTHING)
        return self._ahead

    def __next__(self) -> Any:
        ahead = self._ahead
        if ahead is not NOTHING:
            self._ahead = NOTHING
            return ahead
        try:
            chunk = next(self._inputs)
        except StopIteration:
            raise
        except BaseException as exc:
            self.failed = exc
            raise
        self._total.add(chunk)
        return chunk

    def whole(self) -> Any:
        """The whole input: the chunks not yet seen are read too."""
        for _ in self:
            pass
        return _whole(self._total)


class ARecorder(_Recording, AsyncIterator[Any]):
    """`Recorder` for an async input stream."""

    __slots__ = ()

    def __init__(self, inputs: AsyncIterator[Any]) -> None:
        super().__init__(inputs)

    async def peek(self) -> Any:
        """The first chunk (`NOTHING` if there is none)."""
        try:
            self._ahead = await self.__anext__()
        except StopAsyncIteration:
            return NOTHING
        return self._ahead

    async def __anext__(self) -> Any:
        ahead = self._ahead
        if ahead is not NOTHING:
            self._ahead = NOTHING
            return ahead
        try:
            chunk = await self._inputs.__anext__()
        except StopAsyncIteration:
            raise
        except BaseException as exc:
            self.failed = exc
            raise
        self._total.add(chunk)
        return chunk

    async def whole(self) -> Any:
        """The whole input: the chunks not yet seen are read too."""
        async for _ in self:
            pass
        return _whole(self._total)


def aggregate(chunks: Iterable[T], *, output_of: str | None = None) -> T:
    """All chunks added up; an empty stream is an error since there is no value to give
    (`output_of`: the chunks are that runnable's output, not an input)."""
    total = Total()
    for chunk in chunks:
        total.add(chunk)
    whole: T = _whole(total, output_of)
    return whole


async def aaggregate(chunks: AsyncIterator[T], *, output_of: str | None = None) -> T:
    """`aggregate` for an async stream."""
    total = Total()
    async for chunk in chunks:
        total.add(chunk)
    whole: T = _whole(total, output_of)
    return whole


def _whole(total: Total, output_of: str | None = None) -> Any:
    value = total.value
    if value is NOTHING:
        if output_of is not None:
            raise RunnablesValueError(
                f"{output_of!r} streamed no output: there is no value to return (its stream, "
                "`stream`/`astream`, is empty)"
            )
        raise RunnablesValueError("the input stream was empty: there is no input to run on")
    return value


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


def close_chunks(chunks: object) -> None:
    """Close a sync stream, if it can be closed (a generator runs its cleanup)."""
    close: Callable[[], object] | None = getattr(chunks, "close", None)
    if close is not None:
        close()


async def aclose_chunks(chunks: object) -> None:
    """Close an async stream, if it can be closed (an async generator runs its cleanup)."""
    aclose: Callable[[], Awaitable[object]] | None = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()


if TYPE_CHECKING:
    _Map: TypeAlias = "map[Any]"
else:
    _Map = map  # (not subscriptable at run time)


class closing_map(_Map):
    """`map(func, chunks)` that closes `chunks` when closed: a stream step converting chunk by
    chunk with no generator frame of its own per chunk."""

    __slots__ = ("_chunks",)
    _chunks: Iterator[Any]

    def __new__(cls, func: Callable[[Any], Any], chunks: Iterator[Any]) -> closing_map:
        mapped = super().__new__(cls, func, chunks)
        mapped._chunks = chunks
        return mapped

    def close(self) -> None:
        close_chunks(self._chunks)


class closing_chunks(Generic[T]):
    """`async with closing_chunks(stream) as chunks:` uses an async stream and closes it (if it
    can be closed) however the block exits. (A class, not an `@asynccontextmanager`: one is
    entered for every stream of every step, and a generator per use costs memory and time.)"""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: AsyncIterator[T]) -> None:
        self._chunks = chunks

    async def __aenter__(self) -> AsyncIterator[T]:
        return self._chunks

    async def __aexit__(self, *exc_info: object) -> None:
        await aclose_chunks(self._chunks)


class awaited(AsyncIterator[T]):
    """A one-chunk stream: the result of awaiting `make()` (called when iterated). (A class:
    no generator of the library is ever left unfinished to the garbage collector.)"""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], Awaitable[T]]) -> None:
        self._make: Callable[[], Awaitable[T]] | None = make

    def __aiter__(self) -> awaited[T]:
        return self

    async def __anext__(self) -> T:
        make, self._make = self._make, None
        if make is None:
            raise StopAsyncIteration
        return await make()


class aone(AsyncIterator[T]):
    """A one-chunk async stream: `value`. (A class: see `awaited`.)"""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value: Any = value

    @property
    def value(self) -> T:
        """The chunk, before it is taken (`NOTHING` after)."""
        value: T = self._value
        return value

    def __aiter__(self) -> aone[T]:
        return self

    async def __anext__(self) -> T:
        value, self._value = self._value, NOTHING
        if value is NOTHING:
            raise StopAsyncIteration
        return value  # type: ignore[no-any-return]
