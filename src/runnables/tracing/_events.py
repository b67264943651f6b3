"""`astream_events` / `stream_events`: the run notifications as a stream of `StreamEvent` dicts.

`StreamEvent` is a union of TypedDicts, one per event name (`on_{kind}_{start|stream|end}`
for the seven run kinds, and `on_tool_error`), discriminated by the `Literal` `event` key:
comparing `ev["event"]` with a name narrows `ev` to that event, and so types its `data`.
The payload types are those the library's components of each kind produce (chain, parser
and tool payloads are user values: `Any`); a runnable of your own that reports one of these
`run_type`s must produce them too, and one that reports another kind makes events that the
union does not describe.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, TypeAlias, TypeVar, cast

from typing_extensions import NotRequired, TypedDict

from runnables._core.config import check_config
from runnables._core.fan_in import FanIn, Sink
from runnables._core.stopping import Stopped
from runnables._core.streaming import close_chunks
from runnables.tracing._common import (
    BUFFER_SIZE,
    NON_STREAMING_TYPES,
    AsyncSender,
    ItemMaker,
    RunFilter,
    inject,
    root_id_of,
    root_stream,
    run_to_end,
)
from runnables.tracing._handoff import END, Handoff, start_producer

if TYPE_CHECKING:
    from runnables._core.base import RunnableBase
    from runnables._core.config import RunnableConfig
    from runnables._core.runs import Run
    from runnables.documents import Document
    from runnables.messages import AIMessage, ToolCall
    from runnables.prompts import ChatPromptValue, StringPromptValue

__all__ = [
    "BaseStreamEvent",
    "ChainEndEvent",
    "ChainStartEvent",
    "ChainStreamEvent",
    "ChatModelEndEvent",
    "ChatModelStartEvent",
    "ChatModelStreamEvent",
    "CustomEvent",
    "EndData",
    "EventData",
    "LLMEndEvent",
    "LLMStartEvent",
    "LLMStreamEvent",
    "ParserEndEvent",
    "ParserStartEvent",
    "ParserStreamEvent",
    "PromptEndEvent",
    "PromptStartEvent",
    "PromptStreamEvent",
    "RetrieverEndEvent",
    "RetrieverStartEvent",
    "RetrieverStreamEvent",
    "StartData",
    "StreamData",
    "StreamEvent",
    "ToolEndEvent",
    "ToolErrorData",
    "ToolErrorEvent",
    "ToolStartEvent",
    "ToolStreamEvent",
    "astream_events",
    "stream_events",
]

ChunkT = TypeVar("ChunkT")
OutputT = TypeVar("OutputT")


# ------------------------------------------------------------------------------- payloads


class StartData(TypedDict):
    """The payload of a start event: the run's `input`, when it is known as the run starts
    (a step fed by a stream learns its input only at its end)."""

    input: NotRequired[Any]


class StreamData(TypedDict, Generic[ChunkT]):
    """The payload of a stream event: one `chunk` of the run's output."""

    chunk: ChunkT


class EndData(TypedDict, Generic[OutputT]):
    """The payload of an end event: the run's `output` (its chunks added up, `None` if it
    streamed none) and its `input` when known (the root run's end may carry none)."""

    input: NotRequired[Any]
    output: OutputT


class ToolErrorData(TypedDict):
    """The payload of `on_tool_error`: the exception the tool raised (the same object then
    reaches the consumer), the tool's `input` and, for a tool call, its `tool_call_id`."""

    error: BaseException
    input: Any
    tool_call_id: NotRequired[str | None]


EventData: TypeAlias = StartData | StreamData[Any] | EndData[Any] | ToolErrorData
"""The payload of any event (`ev["data"]` before `ev["event"]` is narrowed)."""


# --------------------------------------------------------------------------------- events


class BaseStreamEvent(TypedDict):
    """The keys every event has besides `event` (its name) and `data` (its payload)."""

    name: str
    run_id: str
    parent_ids: list[str]
    tags: list[str]
    metadata: dict[str, Any]


class ChainStartEvent(BaseStreamEvent):
    """`on_chain_start`: a chain (sequence, parallel, lambda, passthrough, ...) started."""

    event: Literal["on_chain_start"]
    data: StartData


class ChainStreamEvent(BaseStreamEvent):
    """`on_chain_stream`: a chain streamed a chunk of its output."""

    event: Literal["on_chain_stream"]
    data: StreamData[Any]


class ChainEndEvent(BaseStreamEvent):
    """`on_chain_end`: a chain ended with its output."""

    event: Literal["on_chain_end"]
    data: EndData[Any]


class PromptStartEvent(BaseStreamEvent):
    """`on_prompt_start`: a prompt template started, on its variables."""

    event: Literal["on_prompt_start"]
    data: StartData


class PromptStreamEvent(BaseStreamEvent):
    """`on_prompt_stream`: a prompt's value as one chunk (only when the prompt is the root run)."""

    event: Literal["on_prompt_stream"]
    data: StreamData[StringPromptValue | ChatPromptValue]


class PromptEndEvent(BaseStreamEvent):
    """`on_prompt_end`: a prompt template ended with its prompt value."""

    event: Literal["on_prompt_end"]
    data: EndData[StringPromptValue | ChatPromptValue]


class ChatModelStartEvent(BaseStreamEvent):
    """`on_chat_model_start`: a chat model started."""

    event: Literal["on_chat_model_start"]
    data: StartData


class ChatModelStreamEvent(BaseStreamEvent):
    """`on_chat_model_stream`: a chat model streamed a chunk (maybe a fallback's `AIMessage`)."""

    event: Literal["on_chat_model_stream"]
    data: StreamData[AIMessage]


class ChatModelEndEvent(BaseStreamEvent):
    """`on_chat_model_end`: a chat model ended with its message (`None` if it streamed nothing)."""

    event: Literal["on_chat_model_end"]
    data: EndData[AIMessage | None]


class LLMStartEvent(BaseStreamEvent):
    """`on_llm_start`: a text completion model started."""

    event: Literal["on_llm_start"]
    data: StartData


class LLMStreamEvent(BaseStreamEvent):
    """`on_llm_stream`: a text completion model streamed a piece of text."""

    event: Literal["on_llm_stream"]
    data: StreamData[str]


class LLMEndEvent(BaseStreamEvent):
    """`on_llm_end`: a text completion model ended with its text (`None` if it streamed nothing)."""

    event: Literal["on_llm_end"]
    data: EndData[str | None]


class ParserStartEvent(BaseStreamEvent):
    """`on_parser_start`: an output parser started."""

    event: Literal["on_parser_start"]
    data: StartData


class ParserStreamEvent(BaseStreamEvent):
    """`on_parser_stream`: an output parser streamed a chunk of its output."""

    event: Literal["on_parser_stream"]
    data: StreamData[Any]


class ParserEndEvent(BaseStreamEvent):
    """`on_parser_end`: an output parser ended with its output."""

    event: Literal["on_parser_end"]
    data: EndData[Any]


class RetrieverStartEvent(BaseStreamEvent):
    """`on_retriever_start`: a retriever started, on its query."""

    event: Literal["on_retriever_start"]
    data: StartData


class RetrieverStreamEvent(BaseStreamEvent):
    """`on_retriever_stream`: a retriever's documents as one chunk (only as the root run)."""

    event: Literal["on_retriever_stream"]
    data: StreamData[list[Document]]


class RetrieverEndEvent(BaseStreamEvent):
    """`on_retriever_end`: a retriever ended with the documents it found."""

    event: Literal["on_retriever_end"]
    data: EndData[list[Document]]


class ToolStartEvent(BaseStreamEvent):
    """`on_tool_start`: a tool started, on its arguments or tool call."""

    event: Literal["on_tool_start"]
    data: StartData


class ToolStreamEvent(BaseStreamEvent):
    """`on_tool_stream`: a tool's result as one chunk (only when the tool is the root run)."""

    event: Literal["on_tool_stream"]
    data: StreamData[Any]


class ToolEndEvent(BaseStreamEvent):
    """`on_tool_end`: a tool ended with its result."""

    event: Literal["on_tool_end"]
    data: EndData[Any]


class ToolErrorEvent(BaseStreamEvent):
    """`on_tool_error`: a tool raised (no other run reports its failure as an event)."""

    event: Literal["on_tool_error"]
    data: ToolErrorData


class CustomEvent(BaseStreamEvent):
    """`on_custom_event`: a running step called `dispatch_custom_event(name, data)`. `name`
    is that name, `run_id` and `parent_ids` those of the calling step's run, `tags` and
    `metadata` what it inherited, and `data` the payload as given."""

    event: Literal["on_custom_event"]
    data: Any


StreamEvent: TypeAlias = (
    ChainStartEvent
    | ChainStreamEvent
    | ChainEndEvent
    | PromptStartEvent
    | PromptStreamEvent
    | PromptEndEvent
    | ChatModelStartEvent
    | ChatModelStreamEvent
    | ChatModelEndEvent
    | LLMStartEvent
    | LLMStreamEvent
    | LLMEndEvent
    | ParserStartEvent
    | ParserStreamEvent
    | ParserEndEvent
    | RetrieverStartEvent
    | RetrieverStreamEvent
    | RetrieverEndEvent
    | ToolStartEvent
    | ToolStreamEvent
    | ToolEndEvent
    | ToolErrorEvent
    | CustomEvent
)
"""One event of `astream_events(version="v2")`: narrow it on `ev["event"]` to type `ev["data"]`."""


class _Event(BaseStreamEvent):
    """An event as `_EventMaker` builds it: its name is known only at run time."""

    event: str
    data: EventData


class _Info:
    """What every event of one run shares, worked out once when it starts. The events of one
    run share one copy of its tags and metadata (as LangChain's do); each gets its own
    `parent_ids` list and `data`."""

    __slots__ = ("kept", "metadata", "name", "names", "parent_ids", "run_id", "streams", "tags")

    def __init__(self, run: Run, parent_ids: list[str], kept: bool, streams: bool) -> None:
        self.run_id = str(run.id)
        self.parent_ids = parent_ids
        self.name = run.name
        self.names = _event_names(run.run_type)
        self.kept = kept
        self.streams = streams  # whether its chunks are reported
        self.tags = run.tags.copy()
        self.metadata = run.metadata.copy()

    def event(self, name: str, data: EventData) -> StreamEvent:
        """An event of this run."""
        event: _Event = {
            "event": name,
            "name": self.name,
            "run_id": self.run_id,
            "parent_ids": self.parent_ids.copy(),
            "tags": self.tags,
            "metadata": self.metadata,
            "data": data,
        }
        # The one unchecked step: which member of the union this is (its name, and so its
        # payload's types) follows from the run's kind, a `run_type: str` known at run time.
        # (An ignore rather than a `cast` call: this runs for every event.)
        return event  # type: ignore[return-value]  # pyright: ignore[reportReturnType]

    def chunk_event(self, chunk: Any) -> StreamEvent:
        """The stream event of a chunk of this run (`event`, written out: this runs for
        every chunk of every run, where one call more is a cost a server sees)."""
        event: _Event = {
            "event": self.names[1],
            "name": self.name,
            "run_id": self.run_id,
            "parent_ids": self.parent_ids.copy(),
            "tags": self.tags,
            "metadata": self.metadata,
            "data": {"chunk": chunk},
        }
        return event  # type: ignore[return-value]  # pyright: ignore[reportReturnType] - see `event`


_NAMES: dict[str, tuple[str, str, str, str]] = {}


def _event_names(run_type: str) -> tuple[str, str, str, str]:
    """The names of a run kind's start, stream, end and error events (made once per kind)."""
    names = _NAMES.get(run_type)
    if names is None:
        prefix = f"on_{run_type}_"
        names = (prefix + "start", prefix + "stream", prefix + "end", prefix + "error")
        if len(_NAMES) < 64:  # (run kinds are a handful; a runnable may report its own)
            _NAMES[run_type] = names
    return names


class _EventMaker(ItemMaker[StreamEvent]):
    """Turns run notifications into `StreamEvent`s (shared by the sync and async forms),
    shaped as LangChain's v2 events are: the root's end carries its output only; below the
    root a chat model's input is `{"messages": [[...]]}`, an LLM's `{"prompts": [...]}` and a
    retriever's `{"query": ...}`;
    a failing tool reports `on_tool_error`; tools, retrievers and prompts never stream."""

    __slots__ = ("keep", "root_id", "root_input", "runs")

    def __init__(self, keep: RunFilter, root_id: uuid.UUID, root_input: Any) -> None:
        self.keep = keep
        self.root_id = root_id.int  # (run ids as ints: hashed and compared in C)
        self.root_input = root_input
        self.runs: dict[int, _Info] = {}  # the live runs, by id

    def start(self, run: Run) -> StreamEvent | None:
        parent = run.parent_id
        if parent is None:
            parent_ids: list[str] = []
        else:
            above = self.runs.get(parent.int)
            parent_ids = [*above.parent_ids, above.run_id] if above is not None else [str(parent)]
        kept = self.keep(run)
        streams = kept and run.run_type not in NON_STREAMING_TYPES
        run_id = run.id.int
        info = self.runs[run_id] = _Info(run, parent_ids, kept, streams)
        if not kept:
            return None
        if run_id == self.root_id:
            return info.event(info.names[0], {"input": self.root_input})
        if run.inputs is None:
            return info.event(info.names[0], {})
        return info.event(info.names[0], {"input": _input_of(run)})

    def stream_maker(self, run: Run) -> Callable[[Any], StreamEvent] | None:
        info = self.runs.get(run.id.int)
        return info.chunk_event if info is not None and info.streams else None

    def end(self, run: Run) -> StreamEvent | None:
        info = self._forget(run)
        if info is None or not info.kept:
            return None
        if run.id.int == self.root_id:
            return info.event(info.names[2], {"output": run.outputs})
        return info.event(info.names[2], {"input": _input_of(run), "output": run.outputs})

    def error(self, run: Run) -> StreamEvent | None:
        # LangChain's v2 stream reports a failed run only for tools: for the others the
        # exception reaches the consumer instead.
        info = self._forget(run)
        if info is None or not info.kept or run.run_type != "tool" or run.error is None:
            return None
        call = _tool_call(run.inputs)
        data: ToolErrorData = {
            "error": run.error,
            "input": call.args if call is not None else run.inputs,
            "tool_call_id": call.id if call is not None else None,
        }
        return info.event(info.names[3], data)

    def custom(
        self, name: str, data: Any, run_id: uuid.UUID, tags: list[str], metadata: dict[str, Any]
    ) -> StreamEvent | None:
        """The event of a custom event dispatched by run `run_id`: filtered as LangChain does,
        by its own name, the name as its kind, and its tags."""
        keep = self.keep
        # (A `RunFilter` reads only a run's name, kind and tags.)
        named = cast("Run", _NamedEvent(name=name, run_type=name, tags=tags))
        if not keep.trivial and not keep(named):
            return None
        info = self.runs.get(run_id.int)
        event: CustomEvent = {
            "event": "on_custom_event",
            "name": name,
            "run_id": str(run_id),
            "parent_ids": info.parent_ids.copy() if info is not None else [],
            "tags": list(tags),
            "metadata": dict(metadata),
            "data": data,
        }
        return event

    def _forget(self, run: Run) -> _Info | None:
        return self.runs.pop(run.id.int, None)


class _NamedEvent(NamedTuple):
    """What a `RunFilter` reads of a run, for a custom event."""

    name: str
    run_type: str
    tags: list[str]


def _input_of(run: Run) -> Any:
    """A child run's input as LangChain's events show it (models: their messages or prompts,
    an input the model refuses as it is; retrievers: `{"query": ...}`)."""
    inputs = run.inputs
    kind = run.run_type
    if kind == "retriever":
        return {"query": inputs}
    if kind not in ("chat_model", "llm"):
        return inputs
    from runnables.errors import RunnablesTypeError
    from runnables.models.base import messages_of, prompt_of

    try:
        if kind == "chat_model":
            return {"messages": [messages_of(inputs)]}
        return {"prompts": [prompt_of(inputs)]}
    except RunnablesTypeError:
        return inputs


def _tool_call(inputs: Any) -> ToolCall | None:
    from runnables.tools import as_tool_call

    return as_tool_call(inputs)


class _SyncEventCollector:
    """The callback of `stream_events`: hands each event to the consumer as it happens
    (thread-safe: parallel branches run on threads). Once the consumer has left, a run that
    starts or streams is stopped there (`Stopped`); runs that end are let end."""

    run_inline = True  # the library's own observer: called in place, in order

    __slots__ = ("events", "maker")

    def __init__(self, maker: _EventMaker) -> None:
        self.maker = maker
        self.events: Handoff[StreamEvent] = Handoff(BUFFER_SIZE)

    def on_start(self, run: Run) -> None:
        event = self.maker.start(run)
        if event is not None:
            self.events.put(event)
        elif self.events.stopped():
            raise Stopped

    def on_stream(self, run: Run, chunk: Any) -> None:
        make = self.maker.stream_maker(run)
        if make is not None:
            self.events.put(make(chunk))
        elif self.events.stopped():
            raise Stopped

    def on_end(self, run: Run) -> None:
        event = self.maker.end(run)
        if event is not None:
            self.events.put(event, or_stop=False)

    def on_error(self, run: Run, exc: BaseException) -> None:
        event = self.maker.error(run)
        if event is not None:
            self.events.put(event, or_stop=False)

    def on_custom_event(
        self,
        name: str,
        data: Any,
        /,
        *,
        run_id: uuid.UUID,
        tags: list[str],
        metadata: dict[str, Any],
    ) -> None:
        event = self.maker.custom(name, data, run_id, tags, metadata)
        if event is not None:
            self.events.put(event)


class _EventSender(AsyncSender[StreamEvent]):
    """The `AsyncSender` of an event stream, which also carries custom events. These are
    queued at once, past the bound (as LangChain's are): a sync step dispatching one from the
    event loop's thread could not wait for room."""

    __slots__ = ("events",)

    def __init__(self, maker: _EventMaker, sink: Sink[StreamEvent]) -> None:
        super().__init__(maker, sink)
        self.events = maker

    def chunk_emitter(
        self, run: Run
    ) -> tuple[Callable[[Any, Any], Awaitable[None] | None], Any] | None:
        if threading.get_ident() != self.thread:
            return self.on_stream, run
        info = self.events.runs.get(run.id.int)
        if info is None or not info.streams:
            return None
        return self._send_chunk_event, info

    def _send_chunk_event(self, info: _Info, chunk: Any) -> Awaitable[None] | None:
        """Queue the stream event of `chunk` (`_Info.chunk_event` and `send_chunk` in one call:
        this runs for every chunk of every run)."""
        event: _Event = {
            "event": info.names[1],
            "name": info.name,
            "run_id": info.run_id,
            "parent_ids": info.parent_ids.copy(),
            "tags": info.tags,
            "metadata": info.metadata,
            "data": {"chunk": chunk},
        }
        if self.sink.offer(event):  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType] - see `_Info.event`
            return None
        return self.sink.put(event)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

    def on_custom_event(
        self,
        name: str,
        data: Any,
        /,
        *,
        run_id: uuid.UUID,
        tags: list[str],
        metadata: dict[str, Any],
    ) -> None:
        event = self.events.custom(name, data, run_id, tags, metadata)
        if event is None:
            return
        if threading.get_ident() != self.thread:
            self.loop.call_soon(partial(self.sink.force, event))
        elif not self.sink.offer(event):
            self.sink.force(event)


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

    def produce(send: Sink[StreamEvent]) -> Awaitable[None]:
        config_with = inject(config, _EventSender(maker, send), root_id)
        return run_to_end(root_stream(runnable, input, config_with))

    return FanIn([produce], buffer=BUFFER_SIZE)


def stream_events(
    runnable: RunnableBase[Any, Any],
    input: Any,
    config: RunnableConfig | None,
    *,
    version: Literal["v2"] | str,
    keep: RunFilter,
) -> Iterator[StreamEvent]:
    """The events of one `stream` of `runnable` on `input`, as they happen."""
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
    """The events of `runnable.stream`, which runs on a thread of its own (in a copy of the
    caller's context) so that each event is handed out as it happens, not only between
    chunks. Leaving early stops the stream at its next event and waits until it has closed,
    so that every step's cleanup has run when this generator is closed."""
    events = collector.events
    context = contextvars.copy_context()
    consumer = threading.get_ident()
    start_producer(lambda: context.run(_produce, runnable, input, config, events))
    try:
        while True:
            taken = events.take()
            if taken is END:
                return
            yield from taken  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues] - not END
    finally:
        # Closed on another thread (by the garbage collector, maybe on a thread the run itself
        # uses): the run stops at its next event, with nobody waiting for it.
        waits = threading.get_ident() == consumer
        events.stop(waits=waits)
        if waits:
            events.wait_over()
            events.raise_failure()  # closing the stream failed: said, not swallowed


def _produce(
    runnable: RunnableBase[Any, Any], input: Any, config: RunnableConfig, events: Handoff[Any]
) -> None:
    """Run the stream to its end (or until the consumer leaves); tell `events` how it ended."""
    failure: BaseException | None = None
    try:
        chunks = runnable.stream(input, config)
        try:
            for _ in chunks:
                if events.stopped():
                    break
        finally:
            close_chunks(chunks)
    except BaseException as exc:  # handed to the consumer, which raises it
        if not _only_stopped(exc):
            failure = exc
    events.finish(failure)


def _only_stopped(exc: BaseException) -> bool:
    """Whether `exc` is the stop of a stream the consumer left (maybe grouped, from branches)."""
    if isinstance(exc, Stopped):
        return True
    group: tuple[BaseException, ...] | None = getattr(exc, "exceptions", None)
    return bool(group) and all(_only_stopped(sub) for sub in group or ())
