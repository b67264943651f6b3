"""`astream_log`: the run as a stream of JSON Patch (RFC 6902) operations on a `RunState`."""

from __future__ import annotations

import collections
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pprint import pformat
from typing import TYPE_CHECKING, Any, ClassVar

from typing_extensions import TypedDict

from runnables._core.config import check_config
from runnables._core.fan_in import FanIn, Sink, deliver
from runnables._core.stream import Stream
from runnables._core.streaming import NOTHING, add_chunks, closing_chunks
from runnables.tracing._common import (
    NON_STREAMING_TYPES,
    AsyncSender,
    RunFilter,
    inject,
    root_id_of,
    root_stream,
)
from runnables.tracing._states import Journal, copy_containers, with_ops

if TYPE_CHECKING:
    from runnables._core.base import RunnableBase
    from runnables._core.config import RunnableConfig
    from runnables._core.runs import Run

__all__ = ["LogEntry", "RunLog", "RunLogPatch", "RunState", "astream_log"]


class LogEntry(TypedDict):
    """One sub-run in the log, under `/logs/<name>`."""

    id: str
    name: str
    type: str
    tags: list[str]
    metadata: dict[str, Any]
    start_time: str
    streamed_output: list[Any]
    streamed_output_str: list[str]
    final_output: Any
    end_time: str | None


class RunState(TypedDict):
    """The state the patches build: the root run, its output so far and its logged sub-runs."""

    id: str
    name: str
    type: str
    streamed_output: list[Any]
    final_output: Any
    logs: dict[str, LogEntry]


class RunLogPatch:
    """Some JSON Patch operations on the run state; `patch + patch` is a `RunLog`."""

    __slots__ = ("_ops",)

    def __init__(self, *ops: dict[str, Any]) -> None:
        self._ops: tuple[dict[str, Any], ...] | None = ops

    @property
    def ops(self) -> tuple[dict[str, Any], ...]:
        """The operations, in order."""
        return self._ops or ()

    def __add__(self, other: RunLogPatch) -> RunLog:
        if not isinstance(other, RunLogPatch):  # pyright: ignore[reportUnnecessaryIsInstance]
            return NotImplemented
        ops = [*self.ops, *other.ops]
        log = RunLog._following(Journal(ops, None, 0), len(ops))  # pyright: ignore[reportPrivateUsage]
        log._build()  # pyright: ignore[reportPrivateUsage] - now: an op that does not apply raises here
        return log

    def __repr__(self) -> str:
        return f"RunLogPatch({pformat(list(self.ops))[1:-1]})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RunLogPatch) and type(other) is type(self) and self.ops == other.ops
        )

    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]


class RunLog(RunLogPatch):
    """The operations so far and the state they build (`.state`, a `RunState`).

    A log made by adding a patch to another shares with it the parts of the state the patch
    leaves alone (and the list of operations): adding costs the size of the change, and
    `.state` is built when first read, from the last state built. A state is never changed
    by what comes later; treat it as read-only, as a change to it may show in other logs."""

    __slots__ = ("_base", "_journal", "_length", "_state")

    def __init__(self, *ops: dict[str, Any], state: RunState) -> None:
        super().__init__(*ops)
        self._state: Any = state
        self._journal: Journal | None = None
        self._length = len(ops)
        self._base: tuple[Any, int] | None = None

    @classmethod
    def _following(cls, journal: Journal, length: int) -> RunLog:
        """The log of the first `length` ops of `journal`, its state not built yet."""
        log = cls.__new__(cls)
        log._ops = None
        log._state = NOTHING
        log._journal = journal
        log._length = length
        #: A state to build this one from if the journal's latest has gone past it.
        log._base = (journal.latest, journal.latest_at)
        return log

    @property
    def ops(self) -> tuple[dict[str, Any], ...]:
        """Every operation so far, in order (as LangChain's `RunLog` keeps them)."""
        ops = self._ops
        if ops is None:
            journal = self._journal
            assert journal is not None
            ops = self._ops = tuple(journal.ops[: self._length])
        return ops

    @property
    def state(self) -> RunState:
        """The state the operations build."""
        state = self._state
        if state is NOTHING:
            state = self._build()
        return state  # type: ignore[no-any-return]

    def _build(self) -> Any:
        journal, length = self._journal, self._length
        assert journal is not None
        if journal.latest_at <= length:
            base, at = journal.latest, journal.latest_at
        else:
            assert self._base is not None
            base, at = self._base
        state = self._state = with_ops(base, journal.ops[at:length])
        self._base = None
        if length >= journal.latest_at:
            journal.latest, journal.latest_at = state, length
        return state

    def _then(self, ops: tuple[dict[str, Any], ...]) -> RunLog:
        """This log followed by `ops`, its state not built yet."""
        journal = self._journal
        if journal is None or len(journal.ops) != self._length:  # a first addition, or a branch
            journal = Journal(list(self.ops), self.state, self._length)
        journal.ops.extend(ops)
        return RunLog._following(journal, len(journal.ops))

    def __add__(self, other: RunLogPatch) -> RunLog:
        if not isinstance(other, RunLogPatch):  # pyright: ignore[reportUnnecessaryIsInstance]
            return NotImplemented
        if isinstance(other, RunLog):
            return super().__add__(other)
        log = self._then(other.ops)
        log._build()  # now: an op that does not apply raises here
        return log

    def __reduce__(self) -> tuple[Any, ...]:
        # (As a plain log: a pickle or copy holds its ops and state, not its journal.)
        return (_plain_log, (self.ops, self.state))

    def __repr__(self) -> str:
        return f"RunLog({pformat(self.state)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunLog) and self.state == other.state

    __hash__: ClassVar[None] = None


def _plain_log(ops: tuple[dict[str, Any], ...], state: RunState) -> RunLog:
    return RunLog(*ops, state=state)


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat(timespec="milliseconds")


def _standard_output(run: Run) -> Any:
    """A sub-run's output as LangChain logs it: a retriever's documents under `documents`, a
    chain's non-dict output under `output`, a prompt's or model's output as it is."""
    output = run.outputs
    if run.error is not None:
        return None
    if run.run_type == "retriever":
        return {"documents": output}
    if run.run_type in ("prompt", "chat_model", "llm"):
        return output
    if isinstance(output, dict):
        return output  # pyright: ignore[reportUnknownVariableType]
    return {"output": output}


def _token_text(chunk: Any) -> str:
    content = getattr(chunk, "content", chunk)
    return content if isinstance(content, str) else str(content)


class _LogMaker:
    """Turns run notifications into patches (one lock: sub-runs may report from threads)."""

    __slots__ = ("counts", "keep", "keys", "lock", "root_id")

    def __init__(self, keep: RunFilter, root_id: uuid.UUID) -> None:
        self.keep = keep
        self.root_id = root_id.int  # (run ids as ints: hashed and compared in C)
        self.keys: dict[int, str] = {}  # the live runs' keys in the log, by id
        self.counts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def start(self, run: Run) -> RunLogPatch | None:
        if run.id.int == self.root_id or not self.keep(run):
            return None
        with self.lock:
            self.counts[run.name] += 1
            count = self.counts[run.name]
            name = run.name if count == 1 else f"{run.name}:{count}"
            # A JSON pointer token: a name may hold `/` or `~` (RFC 6901 escapes them).
            key = name.replace("~", "~0").replace("/", "~1") if "/" in name or "~" in name else name
            self.keys[run.id.int] = key
        entry: LogEntry = {
            "id": str(run.id),
            "name": run.name,
            "type": run.run_type,
            "tags": list(run.tags),
            "metadata": dict(run.metadata),
            "start_time": _iso(run.start_time) or "",
            "streamed_output": [],
            "streamed_output_str": [],
            "final_output": None,
            "end_time": None,
        }
        return RunLogPatch({"op": "add", "path": f"/logs/{key}", "value": entry})

    def stream_paths(self, run: Run) -> tuple[str, str | None] | None:
        """Where `run`'s chunks go in the log: its `streamed_output` and, for a model, its
        `streamed_output_str` (else None); None if its chunks are not logged."""
        key = self.keys.get(run.id.int)
        if key is None or run.run_type in NON_STREAMING_TYPES:
            return None
        if run.run_type not in ("chat_model", "llm"):
            return f"/logs/{key}/streamed_output/-", None
        return f"/logs/{key}/streamed_output/-", f"/logs/{key}/streamed_output_str/-"

    def stream_maker(self, run: Run) -> Callable[[Any], RunLogPatch] | None:
        paths = self.stream_paths(run)
        if paths is None:
            return None
        streamed, text = paths
        if text is None:
            return lambda chunk: RunLogPatch({"op": "add", "path": streamed, "value": chunk})
        return lambda chunk: RunLogPatch(
            {"op": "add", "path": text, "value": _token_text(chunk)},
            {"op": "add", "path": streamed, "value": chunk},
        )

    def end(self, run: Run) -> RunLogPatch | None:
        key = self.keys.pop(run.id.int, None)
        if key is None:
            return None
        return RunLogPatch(
            {"op": "add", "path": f"/logs/{key}/final_output", "value": _standard_output(run)},
            {"op": "add", "path": f"/logs/{key}/end_time", "value": _iso(run.end_time)},
        )

    def error(self, run: Run) -> RunLogPatch | None:
        """A failed run's entry ends like any other (its `final_output` stays None)."""
        return self.end(run)


# Per chunk, a patch is built in place: made without `__init__`'s call, and each op copied
# from a template op whose `value` is replaced (cheaper than a dict display).
_new = object.__new__

_Emit = Callable[[Any, Any], "Awaitable[None] | None"]


class _LogSender(AsyncSender[RunLogPatch]):
    """The `AsyncSender` of a run log, whose chunk emitters build a chunk's patch and queue it
    in one call (two emitters per log; a streaming run keeps only its template op)."""

    __slots__ = ("emit", "emit_text", "log")

    def __init__(self, maker: _LogMaker, sink: Sink[RunLogPatch]) -> None:
        super().__init__(maker, sink)
        self.log = maker
        self.emit, self.emit_text = _chunk_emitters(sink)

    def chunk_emitter(self, run: Run) -> tuple[_Emit, Any] | None:
        if threading.get_ident() != self.thread:
            return self.on_stream, run
        paths = self.log.stream_paths(run)
        if paths is None:
            return None
        streamed, text = paths
        op = {"op": "add", "path": streamed, "value": None}
        if text is None:
            return self.emit, op
        return self.emit_text, ({"op": "add", "path": text, "value": None}, op)


def _chunk_emitters(sink: Sink[RunLogPatch]) -> tuple[_Emit, _Emit]:
    """`emit(template, chunk)`, which queues the patch of the template op with `chunk` as its
    value, and `emit_text((text_template, template), chunk)`, which puts the chunk's text
    first (a model's chunk), as `send_chunk` would."""
    offer, put = sink.offer, sink.put

    def emit(template: dict[str, Any], chunk: Any) -> Awaitable[None] | None:
        op = template.copy()
        op["value"] = chunk
        patch = _new(RunLogPatch)
        patch._ops = (op,)  # pyright: ignore[reportPrivateUsage]
        return None if offer(patch) else put(patch)

    def emit_text(
        templates: tuple[dict[str, Any], dict[str, Any]], chunk: Any
    ) -> Awaitable[None] | None:
        text, op = templates[0].copy(), templates[1].copy()
        text["value"] = _token_text(chunk)
        op["value"] = chunk
        patch = _new(RunLogPatch)
        patch._ops = (text, op)  # pyright: ignore[reportPrivateUsage]
        return None if offer(patch) else put(patch)

    return emit, emit_text


#: How many patches may wait for the consumer before the run is made to wait (back-pressure).
#: More than an event stream's: a run makes up to three small patches per chunk, and each
#: time the buffer fills the producer and consumer take turns (some ten times the cost of
#: handing over a patch); 256 measured fastest for a 1000-chunk two-step stream.
_BUFFER = 256

#: Chunk classes whose values hold no containers (no copy needed to log them).
_ATOMIC = frozenset({int, float, str, bool, bytes, type(None)})
_STREAMED: dict[str, Any] = {"op": "add", "path": "/streamed_output/-", "value": None}
_FINAL: dict[str, Any] = {"op": "replace", "path": "/final_output", "value": None}


def _changed(before: Any, after: Any) -> bool:
    if before is after:
        return False
    try:
        return bool(before != after)
    except Exception:
        return True


def _patches(
    runnable: RunnableBase[Any, Any],
    input: Any,
    config: RunnableConfig | None,
    *,
    with_streamed_output_list: bool,
    keep: RunFilter,
) -> AsyncIterator[RunLogPatch]:
    check_config(config or {})
    root_id = root_id_of(config)
    maker = _LogMaker(keep, root_id)
    root_state: RunState = {
        "id": str(root_id),
        "name": (config or {}).get("run_name") or runnable.name,
        "type": runnable.run_type,
        "streamed_output": [],
        "final_output": None,
        "logs": {},
    }

    async def produce(send: Sink[RunLogPatch]) -> None:
        await deliver(send, RunLogPatch({"op": "replace", "path": "", "value": root_state}))
        total: Any = NOTHING
        config_with = inject(config, _LogSender(maker, send), root_id)
        offer, put = send.offer, send.put
        async with closing_chunks(root_stream(runnable, input, config_with)) as chunks:
            async for chunk in chunks:
                before = None if total is NOTHING else total
                total = add_chunks(total, chunk)
                changed = _changed(before, total)
                ops: tuple[dict[str, Any], ...]
                if with_streamed_output_list:
                    streamed = _STREAMED.copy()
                    # A copy of the chunk's containers: the final output may grow from it.
                    streamed["value"] = (
                        chunk if chunk.__class__ in _ATOMIC else copy_containers(chunk)
                    )
                    if changed:
                        final = _FINAL.copy()
                        final["value"] = total
                        ops = (streamed, final)
                    else:
                        ops = (streamed,)
                elif changed:
                    final = _FINAL.copy()
                    final["value"] = total
                    ops = (final,)
                else:
                    continue
                patch = _new(RunLogPatch)
                patch._ops = ops  # pyright: ignore[reportPrivateUsage]
                if not offer(patch):
                    await put(patch)

    return FanIn([produce], buffer=_BUFFER)


def astream_log(
    runnable: RunnableBase[Any, Any],
    input: Any,
    config: RunnableConfig | None,
    *,
    diff: bool,
    with_streamed_output_list: bool,
    keep: RunFilter,
) -> AsyncIterator[RunLogPatch] | AsyncIterator[RunLog]:
    """The log of one `astream` of `runnable`: patches, or (`diff=False`) the states so far."""
    patches = _patches(
        runnable, input, config, with_streamed_output_list=with_streamed_output_list, keep=keep
    )
    if diff:
        return patches
    return Stream(_accumulate(patches))


async def _accumulate(patches: AsyncIterator[RunLogPatch]) -> AsyncIterator[RunLog]:
    """The patches added up, each log's state built only if it is read (see `RunLog`)."""
    log: RunLog | None = None
    async with closing_chunks(patches) as each:
        async for patch in each:
            if log is None:
                ops = list(patch.ops)
                log = RunLog._following(Journal(ops, None, 0), len(ops))  # pyright: ignore[reportPrivateUsage]
            else:
                log = log._then(patch.ops)  # pyright: ignore[reportPrivateUsage]
            yield log
