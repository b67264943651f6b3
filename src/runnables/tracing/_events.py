"""`astream_events` / `stream_events`: the run notifications as a stream of `StreamEvent` dicts."""

from __future__ import annotations

import collections
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Literal

from anyio.streams.memory import MemoryObjectSendStream
from typing_extensions import NotRequired, TypedDict

from runnables._core.config import check_config
from runnables._core.fan_in import FanIn
from runnables.tracing._common import (
    BUFFER_SIZE,
    NON_STREAMING_TYPES,
    AsyncSender,
    RunFilter,
    inject,
    root_id_of,
    run_to_end,
)

if TYPE_CHECKING:
    from runnables._core.base import RunnableBase
    from runnables._core.config import RunnableConfig
    from runnables._core.runs import Run

__all__ = ["EventData", "StreamEvent", "astream_events", "stream_events"]


class EventData(TypedDict, total=False):
    """The payload of an event: `input` on start (when known), `chunk` on stream, `input` and
    `output` on end."""

    input: Any
    chunk: Any
    output: Any


class StreamEvent(TypedDict):
    """One event of `astream_events(version="v2")`."""

    event: str
    name: str
    run_id: str
    parent_ids: list[str]
    tags: list[str]
    metadata: dict[str, Any]
    data: EventData
    error: NotRequired[str]


class _Info:
    """What every event of one run shares, worked out once when it starts."""

    __slots__ = ("kept", "name", "parent_ids", "prefix", "run_id", "streams")

    def __init__(self, run: Run, parent_ids: list[str], kept: bool, streams: bool) -> None:
        self.run_id = str(run.id)
        self.parent_ids = parent_ids
        self.name = run.name
        self.prefix = f"on_{run.run_type}_"
        self.kept = kept
        self.streams = streams


class _EventMaker:
    """Turns run notifications into `StreamEvent`s (shared by the sync and async forms)."""

    __slots__ = ("keep", "root_id", "root_input", "runs")

    def __init__(self, keep: RunFilter, root_id: uuid.UUID, root_input: Any) -> None:
        self.keep = keep
        self.root_id = root_id
        self.root_input = root_input
        self.runs: dict[uuid.UUID, _Info] = {}  # the live runs

    def _event(self, run: Run, info: _Info, phase: str, data: EventData) -> StreamEvent:
        return {
            "event": info.prefix + phase,
            "name": info.name,
            "run_id": info.run_id,
            "parent_ids": list(info.parent_ids),
            "tags": list(run.tags),
            "metadata": dict(run.metadata),
            "data": data,
        }

    def start(self, run: Run) -> StreamEvent | None:
        parent = run.parent_id
        if parent is None:
            parent_ids: list[str] = []
        else:
            above = self.runs.get(parent)
            parent_ids = [*above.parent_ids, above.run_id] if above is not None else [str(parent)]
        is_root = run.id == self.root_id
        kept = self.keep(run)
        streams = kept and (is_root or run.run_type not in NON_STREAMING_TYPES)
        info = self.runs[run.id] = _Info(run, parent_ids, kept, streams)
        if not kept:
            return None
        if is_root:
            return self._event(run, info, "start", {"input": self.root_input})
        return self._event(run, info, "start", {} if run.inputs is None else {"input": run.inputs})

    def stream(self, run: Run, chunk: Any) -> StreamEvent | None:
        info = self.runs.get(run.id)
        if info is None or not info.streams:
            return None
        return self._event(run, info, "stream", {"chunk": chunk})

    def end(self, run: Run) -> StreamEvent | None:
        info = self.runs.pop(run.id, None)
        if info is None or not info.kept:
            return None
        inputs = self.root_input if run.id == self.root_id else run.inputs
        return self._event(run, info, "end", {"input": inputs, "output": run.outputs})

    def error(self, run: Run) -> None:
        # LangChain's v2 stream emits no event for a failed run: the exception reaches the
        # consumer instead.
        self.runs.pop(run.id, None)


class _SyncEventCollector:
    """The callback of `stream_events`: collects events for the sync generator to hand out
    between chunks of the root stream (thread-safe: parallel branches run on threads)."""

    __slots__ = ("events", "maker")

    def __init__(self, maker: _EventMaker) -> None:
        self.maker = maker
        self.events: collections.deque[StreamEvent] = collections.deque()

    def on_start(self, run: Run) -> None:
        event = self.maker.start(run)
        if event is not None:
            self.events.append(event)

    def on_stream(self, run: Run, chunk: Any) -> None:
        event = self.maker.stream(run, chunk)
        if event is not None:
            self.events.append(event)

    def on_end(self, run: Run) -> None:
        event = self.maker.end(run)
        if event is not None:
            self.events.append(event)

    def on_error(self, run: Run, exc: BaseException) -> None:
        self.maker.error(run)


def _check_version(version: str) -> None:
    if version != "v2":
        raise NotImplementedError(f"only version='v2' event streams are supported, got {version!r}")


def astream_events(
    runnable: RunnableBase[Any, Any],
    input: Any,
    config: RunnableConfig | None,
    *,
    version: Literal["v2"] | str,
    keep: RunFilter,
) -> AsyncIterator[StreamEvent]:
    """The events of one `astream` of `runnable` on `input`, as they happen."""
    _check_version(version)
    check_config(config or {})
    root_id = root_id_of(config)
    maker = _EventMaker(keep, root_id, input)

    async def produce(send: MemoryObjectSendStream[StreamEvent]) -> None:
        await run_to_end(runnable.astream(input, inject(config, AsyncSender(maker, send), root_id)))

    return FanIn([produce], buffer=BUFFER_SIZE)


def stream_events(
    runnable: RunnableBase[Any, Any],
    input: Any,
    config: RunnableConfig | None,
    *,
    version: Literal["v2"] | str,
    keep: RunFilter,
) -> Iterator[StreamEvent]:
    """The events of one `stream` of `runnable` on `input`, handed out between its chunks."""
    _check_version(version)
    root_id = root_id_of(config)
    collector = _SyncEventCollector(_EventMaker(keep, root_id, input))
    config_with = inject(config, collector, root_id)
    return _sync_events(runnable, input, config_with, collector)


def _sync_events(
    runnable: RunnableBase[Any, Any],
    input: Any,
    config: RunnableConfig,
    collector: _SyncEventCollector,
) -> Iterator[StreamEvent]:
    events = collector.events
    chunks = runnable.stream(input, config)
    try:
        for _ in chunks:
            while events:
                yield events.popleft()
        while events:
            yield events.popleft()
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
