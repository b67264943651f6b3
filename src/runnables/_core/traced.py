"""`TracedStream`: the async stream of a step that someone listens to (callbacks, listeners, an
event stream or a run log), which records the step's run as the chunks go through.

A class rather than an async generator, for the many streams a server runs at once: one
object per traced step, no generator frame per step, and a step fed by another traced step
reads its input record from that step's output total instead of adding the same chunks up
again in a recorder layer of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from runnables._core.context import CURRENT
from runnables._core.leaf import FedStream, LeafStream
from runnables._core.runs import (
    Notice,
    Run,
    asettle,
    finish_run,
    notify_async,
    notify_soon,
    start_run,
)
from runnables._core.streaming import (
    NOTHING,
    ARecorder,
    Total,
    aaggregate,
    aclose_chunks,
    add_step_note,
    aone,
)

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.engine import Engine

__all__ = ["TracedStream"]

_LEAF_STREAMS = (LeafStream, FedStream)


class TracedStream(AsyncIterator[Any]):
    """`step`'s output stream for `inputs` under `ctx`, traced: the run starts when its input
    does (a component needing its whole input once that is complete, any other runnable at
    its first chunk), each chunk is added to the run's output and notified, and the run ends
    (or fails, naming the step on the exception) with the stream. A component that cannot
    stream at all ends its run before its output moves on."""

    __slots__ = (
        "_ahead",
        "_ctx",
        "_emit",
        "_emit_arg",
        "_given",
        "_handlers",
        "_held",
        "_inputs",
        "_leaf",
        "_over",
        "_recorded",
        "_run",
        "_shares",
        "_step",
        "_stream",
        "_total",
    )

    def __init__(self, step: Engine[Any, Any], inputs: AsyncIterator[Any], ctx: RunContext) -> None:
        self._step = step
        self._inputs: AsyncIterator[Any] | None = inputs
        self._ctx: RunContext | None = ctx  # until the run starts (a server keeps many streams)
        self._handlers = ctx.handlers
        self._run: Run | None = None
        self._stream: AsyncIterator[Any] | None = None  # while the step streams
        self._leaf: LeafStream[Any] | None = None  # `_stream`, when it is a user generator's
        self._total = Total()
        #: The traced stream whose chunks this one passes on unchanged, if any: its total is
        #: this one's too (read when needed: it may itself share another's once it starts).
        self._shares: TracedStream | None = None
        self._held: list[Any] | None = None  # the output of a step that cannot stream, reversed
        self._ahead: Any = NOTHING  # a chunk read ahead by the next step (`peek`)
        self._given: Any = None  # the whole input, when known at once
        #: Where the input's chunks are added up, when they are: this step's own recorder,
        #: or the output total of the traced step that feeds it.
        self._recorded: TracedStream | ARecorder | None = None
        #: `emit(arg, chunk)` tells of each chunk (see `_emitter`); None when no one is told.
        self._emit: Callable[[Any, Any], Awaitable[None] | None] | None = None
        self._emit_arg: Any = None
        self._over = False

    def __aiter__(self) -> TracedStream:
        return self

    async def peek(self) -> Any:
        """The first chunk (`NOTHING` if there is none); the next `__anext__` gives it again."""
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
        stream = self._stream
        if stream is None:
            return await self._outside_stream()
        leaf = self._leaf
        try:
            if leaf is None:
                chunk = await stream.__anext__()
            else:  # `LeafStream.__anext__`, in place
                chunks = leaf.chunks
                if chunks is None:
                    chunks = await leaf.open()
                token = CURRENT.set(leaf.nested)
                try:
                    chunk = await chunks.__anext__()
                finally:
                    CURRENT.reset(token)
        except StopAsyncIteration:
            await self._end()
            return await self._outside_stream()
        except BaseException as exc:
            raise await self._fail(exc)  # noqa: B904 - the same exception, or what closing raised
        if self._shares is None:
            self._total.add(chunk)
        emit = self._emit
        if emit is not None:
            pending = emit(self._emit_arg, chunk)
            if pending is not None:
                try:
                    await pending
                except BaseException as exc:
                    raise await self._fail(exc)  # noqa: B904
        return chunk

    async def _outside_stream(self) -> Any:
        """A chunk when the step is not streaming: it is yet to start, or it is over (and may
        still hand out the output it held until its run ended)."""
        if self._over:
            held = self._held
            if held:
                return held.pop()
            raise StopAsyncIteration
        if not await self._start():
            return await self.__anext__()
        output: list[Any] = []  # a step that cannot stream: its run ends first
        while True:
            try:
                output.append(await self.__anext__())
            except StopAsyncIteration:
                break
        output.reverse()
        self._held = output
        return await self._outside_stream()

    async def _start(self) -> bool:
        """Start the run and the step's stream; whether the step's output is to be held until
        its run ends."""
        step, ctx = self._step, self._ctx
        assert ctx is not None
        self._ctx = None
        inputs: AsyncIterator[Any] | None = self._inputs
        assert inputs is not None
        self._inputs = None
        self._over = True  # until the step streams: a failure on the way ends the stream
        streams_input = "_atransform" in step._written  # pyright: ignore[reportPrivateUsage]
        whole = step.run_type != "chain" and not streams_input
        known: Any
        kind = type(inputs)  # (not `isinstance`: an ABC's check is slow)
        if kind is aone:  # the whole input, known at once: nothing to record
            known = self._given = cast("aone[Any]", inputs).value
        else:
            peekable: TracedStream | ARecorder
            if type(inputs) is TracedStream:
                peekable = inputs
                self._recorded = inputs  # the chunks that step streams are this input
            else:
                peekable = self._recorded = ARecorder(inputs)
            inputs = peekable
            try:
                known = await aaggregate(peekable) if whole else await peekable.peek()
            except Exception as exc:
                add_step_note(exc, ctx.run_name or step.name)
                raise
        run = self._run = start_run(step.name, step.run_type, known if whole else None, ctx)
        pending = notify_soon(ctx.handlers.on_start, run)
        if pending is not None:
            await pending
        emitter = _emitter(ctx.handlers.on_stream, run)
        if emitter is not None:
            self._emit, self._emit_arg = emitter
        child = ctx.child_of(run)
        try:
            if streams_input:
                self._stream = step._atransform(inputs, child)  # pyright: ignore[reportPrivateUsage]
            else:
                whole_input = known if whole else await aaggregate(inputs)
                self._stream = step._astream(whole_input, child)  # pyright: ignore[reportPrivateUsage]
        except BaseException as exc:
            raise await self._fail(exc)  # noqa: B904
        stream = self._stream
        if type(stream) in _LEAF_STREAMS:  # (not `isinstance`: an ABC's check is slow)
            self._leaf = cast("LeafStream[Any]", stream)
        passed_on = getattr(stream, "passes_on", None)
        if type(passed_on) is TracedStream:  # its chunks are this step's: one total for both
            self._shares = passed_on
        self._over = False
        return whole and "_astream" not in step._written  # pyright: ignore[reportPrivateUsage]

    def output(self) -> Total:
        """This stream's chunks so far, added up."""
        stream = self
        while stream._shares is not None:
            stream = stream._shares
        return stream._total

    def _input_record(self) -> Any:
        recorded = self._recorded
        if recorded is None:
            return self._given
        if isinstance(recorded, TracedStream):
            return recorded.output().or_none()
        return recorded.total()

    async def _end(self) -> None:
        self._stream = None
        self._over = True
        if self._leaf is not None:
            self._leaf.end()
        run, handlers = self._run, self._handlers
        assert run is not None
        run.inputs = self._input_record()
        finish_run(run, self.output().or_none())
        pending = notify_soon(handlers.on_end, run)
        if pending is not None:
            await pending
        if run.parent_id is None and handlers.dispatcher is not None:
            await asettle(handlers, run)
        self._release()

    def _release(self) -> None:
        """Drop what an ended run no longer needs (a finished step's stream stays referenced
        until its sequence ends; its output total is kept: the next step's input record)."""
        self._run = self._leaf = self._recorded = self._given = None
        self._emit = self._emit_arg = None

    async def _fail(self, exc: BaseException) -> BaseException:
        """Close the step's stream, record the failure on the run and tell its observers;
        the exception to raise (the closing's own, if closing failed)."""
        stream, self._stream = self._stream, None
        self._over = True
        self._held = None
        if stream is not None:
            try:
                await aclose_chunks(stream)
            except BaseException as closing:
                closing.__context__ = exc
                exc = closing
        run, handlers = self._run, self._handlers
        assert run is not None
        add_step_note(exc, run.name)
        run.inputs = self._input_record()
        finish_run(run, error=exc)
        await notify_async(handlers.on_error, run, exc)
        if isinstance(exc, Exception):
            await asettle(handlers, run)
        self._release()
        return exc

    async def aclose(self) -> None:
        """Stop: a step still streaming is closed and its run ends with `GeneratorExit` as its
        error (as an async generator's would)."""
        self._held = None
        if self._stream is None:
            self._over = True
            return
        exc = await self._fail(GeneratorExit())
        if not isinstance(exc, GeneratorExit):
            raise exc


def _emitter(
    on_stream: Notice, run: Run
) -> tuple[Callable[[Any, Any], Awaitable[None] | None], Any] | None:
    """How to tell of each chunk `run` streams, as `(emit, arg)` for `emit(arg, chunk)`: the
    library's own observer's way when it is the only one (an event stream, a run log), else
    `notify_soon`; None when no one is told of chunks."""
    own = on_stream.own
    if own is not None:
        emitter: tuple[Callable[[Any, Any], Awaitable[None] | None], Any] | None
        emitter = own.chunk_emitter(run)
        return emitter
    if on_stream.inline or on_stream.post is not None:
        return partial(notify_soon, on_stream), run
    return None
