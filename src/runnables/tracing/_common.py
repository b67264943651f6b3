"""What the event stream and the run log share: filters, config injection, the sender."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from runnables._core.runs import new_run_id
from runnables._core.streaming import aclose_chunks

if TYPE_CHECKING:
    from runnables._core.base import RunnableBase
    from runnables._core.config import RunnableConfig
    from runnables._core.fan_in import Sink
    from runnables._core.runs import Run

__all__ = [
    "AsyncSender",
    "ItemMaker",
    "RunFilter",
    "inject",
    "root_id_of",
    "root_stream",
    "run_to_end",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# Runs of these kinds never stream in LangChain (their one output arrives at the end), so their
# single "chunk" is not reported as a stream event / streamed output.
NON_STREAMING_TYPES = frozenset({"prompt", "retriever", "tool"})

# How many events may wait for the consumer before the run is made to wait (back-pressure).
BUFFER_SIZE = 64

_NONE: frozenset[str] = frozenset()  # shared by every filter that leaves a criterion out


class RunFilter:
    """LangChain's include/exclude rule: a run is kept if any include matches (or none is
    given), unless any exclude matches."""

    __slots__ = (
        "exclude_names",
        "exclude_tags",
        "exclude_types",
        "include_names",
        "include_tags",
        "include_types",
        "trivial",
    )

    def __init__(
        self,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> None:
        self.include_names = frozenset(include_names) if include_names else _NONE
        self.include_types = frozenset(include_types) if include_types else _NONE
        self.include_tags = frozenset(include_tags) if include_tags else _NONE
        self.exclude_names = frozenset(exclude_names) if exclude_names else _NONE
        self.exclude_types = frozenset(exclude_types) if exclude_types else _NONE
        self.exclude_tags = frozenset(exclude_tags) if exclude_tags else _NONE
        self.trivial = not (
            self.include_names
            or self.include_types
            or self.include_tags
            or self.exclude_names
            or self.exclude_types
            or self.exclude_tags
        )

    def __call__(self, run: Run) -> bool:
        if self.trivial:
            return True
        include = not (self.include_names or self.include_types or self.include_tags)
        if (
            run.name in self.include_names
            or run.run_type in self.include_types
            or not self.include_tags.isdisjoint(run.tags)
        ):
            include = True
        if (
            run.name in self.exclude_names
            or run.run_type in self.exclude_types
            or not self.exclude_tags.isdisjoint(run.tags)
        ):
            include = False
        return include


class ItemMaker(Protocol[T_co]):
    """Turns run notifications into the items a stream carries (events or log patches)."""

    def start(self, run: Run) -> T_co | None: ...
    def stream_maker(self, run: Run) -> Callable[[Any], T_co] | None:
        """What makes the item of each chunk a started run streams (worked out once per run);
        None if its chunks make no item."""
        ...

    def end(self, run: Run) -> T_co | None: ...
    def error(self, run: Run) -> T_co | None: ...


class AsyncSender(Generic[T]):
    """The callback injected into the call: puts each item its maker builds into the stream's
    bounded `Sink` (so a slow consumer slows the run down).

    Called in place (no coroutine) while there is room. From a thread other than the event
    loop's (a sync step in a worker thread), the item is handed to the loop to queue instead,
    past the bound: the sink belongs to the loop, and a worker thread must not wait on it.
    """

    run_inline = True  # the library's own observer: called in place, in order
    never_raises = True

    __slots__ = ("loop", "maker", "sink", "thread")

    def __init__(self, maker: ItemMaker[T], sink: Sink[T]) -> None:
        self.maker = maker
        self.sink = sink
        self.loop = sink.loop
        self.thread = threading.get_ident()

    def _send(self, item: T | None) -> Awaitable[None] | None:
        if item is None:
            return None
        if threading.get_ident() != self.thread:
            self.loop.call_soon(partial(self.sink.force, item))
            return None
        if self.sink.offer(item):
            return None
        return self.sink.put(item)

    def on_start(self, run: Run) -> Awaitable[None] | None:
        return self._send(self.maker.start(run))

    def on_stream(self, run: Run, chunk: Any) -> Awaitable[None] | None:
        # (A traced async stream on the loop's thread uses `chunk_emitter` instead.)
        make = self.maker.stream_maker(run)
        return None if make is None else self._send(make(chunk))

    def chunk_emitter(
        self, run: Run
    ) -> tuple[Callable[[Any, Any], Awaitable[None] | None], Any] | None:
        """How a stream tells this sender of each chunk `run` streams, worked out once per run:
        `(emit, arg)` to call as `emit(arg, chunk)`; None if its chunks make no item."""
        if threading.get_ident() != self.thread:
            return self.on_stream, run
        make = self.maker.stream_maker(run)
        if make is None:
            return None
        return self.send_chunk, make

    def send_chunk(self, make: Callable[[Any], T], chunk: Any) -> Awaitable[None] | None:
        """Queue the item `make` makes of `chunk` (from the loop's thread)."""
        item = make(chunk)
        if self.sink.offer(item):
            return None
        return self.sink.put(item)

    def on_end(self, run: Run) -> Awaitable[None] | None:
        return self._send(self.maker.end(run))

    def on_error(self, run: Run, exc: BaseException) -> Awaitable[None] | None:
        return self._send(self.maker.error(run))


def root_id_of(config: RunnableConfig | None) -> uuid.UUID:
    """The id the root run will have: the configured `run_id`, else a fresh one."""
    given = (config or {}).get("run_id")
    return given if given is not None else new_run_id()


def inject(config: RunnableConfig | None, callback: object, root_id: uuid.UUID) -> RunnableConfig:
    """`config` with `callback` added to its callbacks and the root run id fixed."""
    from runnables._core.config import check_config

    base: RunnableConfig = {**(config or {})}
    check_config(base)
    callbacks: list[Any] = [*base.get("callbacks", []), callback]
    base["callbacks"] = callbacks
    base["run_id"] = root_id
    return base


def root_stream(
    runnable: RunnableBase[Any, Any], input: Any, config: RunnableConfig
) -> AsyncIterator[Any]:
    """The chunks of `runnable.astream(input, config)` for a producer that closes them itself
    (without the `Stream` that closes a stream a user drops: one layer fewer per chunk)."""
    from runnables._core.context import context_for
    from runnables._core.streaming import aone

    return runnable._acall_transform(aone(input), context_for(config))  # pyright: ignore[reportPrivateUsage]


async def run_to_end(chunks: AsyncIterator[Any]) -> None:
    """Consume a stream whose chunks only matter for the notifications they cause; close it
    however this ends."""
    try:
        async for _ in chunks:
            pass
    finally:
        await aclose_chunks(chunks)
