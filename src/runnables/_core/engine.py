"""The engine of every runnable: the hooks a primitive writes, their defaults, and the
traced, noted calls that parents make of their children. `RunnableBase` builds the public API
on top of it (see docs/internals.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from runnables._core.context import ROOT, RunContext, enter, leave
from runnables._core.hooks import default_hook, written
from runnables._core.interop import (
    aiterate_in_threads,
    iterate_blocking,
    run_coroutine_blocking,
    run_in_worker_thread,
)
from runnables._core.runs import (
    asettle,
    finish_run,
    notify,
    notify_async,
    settle,
    start_run,
)
from runnables._core.scopes import ascoped, scoped, scopes_of
from runnables._core.streaming import (
    Recorder,
    Total,
    aaggregate,
    aclose_chunks,
    add_step_note,
    aggregate,
    aone,
    awaited,
    close_chunks,
    closing_chunks,
)
from runnables._core.traced import TracedStream

if TYPE_CHECKING:
    from runnables._core.config import RunnableConfig

__all__ = ["Engine"]

#: The methods a runnable class may write, the rest being derived from them.
_HOOKS = (
    "_invoke",
    "_ainvoke",
    "_transform",
    "_stream",
    "_atransform",
    "_astream",
    "invoke",
    "ainvoke",
)

_SYNC_STREAMING = frozenset({"_stream", "_transform"})
_ASYNC_STREAMING = frozenset({"_astream", "_atransform"})
_SYNC_HOOKS = frozenset({"_invoke", "invoke"}) | _SYNC_STREAMING
_ASYNC_HOOKS = frozenset({"_ainvoke", "ainvoke"}) | _ASYNC_STREAMING

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)


class Engine(Generic[In, Out]):
    """What every runnable is made of: its description (name, kind, types), the hooks a
    primitive writes (`_invoke`, `_ainvoke`, `_transform`, `_stream`, `_atransform`,
    `_astream`) with defaults that derive the missing ones, and the calls its parents make
    (`_call`, `_acall`, `_call_transform`, `_acall_transform`), which trace the run when
    someone listens and name the failing step on an exception.
    """

    __slots__ = ()

    #: The hooks of `_HOOKS` this class writes itself (set for each class as it is created).
    _written: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._written = written(cls, _HOOKS)

    @property
    def name(self) -> str:
        """The run name: the class name unless a subclass knows better."""
        return type(self).__name__

    @property
    def run_type(self) -> str:
        """The kind of run this is, for callbacks, events and logs."""
        return "chain"

    def _one_chunk(self, sync: bool) -> bool:
        """Whether streaming this runnable (sync or async) gives one chunk, its output for its
        whole input: it writes no streaming hook at all (either side's would stream)."""
        return not self._written & (_SYNC_STREAMING | _ASYNC_STREAMING)

    @property
    def _blocks(self) -> bool:
        """Whether the async path of this runnable only runs blocking sync code in a worker
        thread (so that several such steps in a row may share one trip to a thread)."""
        return False

    # ------------------------------------------------------------------ types

    @property
    def input_type(self) -> Any:
        """The declared input type (an annotation); `Any` when nothing is known."""
        return Any

    @property
    def output_type(self) -> Any:
        """The declared output type (an annotation); `Any` when nothing is known."""
        return Any

    # ------------------------------------------------------------------ hooks

    # A primitive writes any one of these (or LangChain-style `invoke`/`ainvoke`); each
    # default derives its hook from what the class does write, preferring the same side
    # (sync or async), then streaming hooks over single answers.

    @default_hook
    def _invoke(self, input: In, ctx: RunContext) -> Out:
        """Run once, synchronously: `invoke` if written, else the sync stream added up, else
        the async path run to completion."""
        has = self._written
        if "invoke" in has:
            invoke = self.invoke
            if ctx.handlers.code_scopes:
                invoke = scoped(scopes_of(ctx), invoke)
            token = enter(ctx)
            try:
                return invoke(input, ctx.as_config())
            finally:
                leave(token)
        if "_stream" in has or "_transform" in has:
            return aggregate(self._stream(input, ctx), output_of=self.name)
        if has & _ASYNC_HOOKS:
            return run_coroutine_blocking(lambda: self._ainvoke(input, ctx))
        raise NotImplementedError(
            f"{type(self).__name__} writes none of the hooks {', '.join(_HOOKS)}: write one"
        )

    @default_hook
    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        """Run once, asynchronously: `ainvoke` if written, else the async stream added up,
        else the sync path in a worker thread."""
        has = self._written
        if "ainvoke" in has:
            ainvoke: Callable[..., Awaitable[Out]] = self.ainvoke
            if ctx.handlers.code_scopes:
                ainvoke = ascoped(scopes_of(ctx), ainvoke)
            token = enter(ctx)
            try:
                return await ainvoke(input, ctx.as_config())
            finally:
                leave(token)
        if "_astream" in has or "_atransform" in has:
            return await aaggregate(self._astream(input, ctx), output_of=self.name)
        return await run_in_worker_thread(self._invoke, input, ctx)

    @default_hook
    def _transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        """Stream in, stream out. Defaults to waiting for the whole input, then `_stream`."""
        return self._stream(aggregate(inputs), ctx)

    @default_hook
    def _stream(self, input: In, ctx: RunContext) -> Iterator[Out]:
        """Stream the output for one whole input: `_transform` if written, else the async
        stream when only async hooks stream, else one chunk, the invoke result."""
        has = self._written
        if "_transform" in has:
            return self._transform(iter((input,)), ctx)
        if not has & _SYNC_HOOKS and has & _ASYNC_STREAMING:
            return iterate_blocking(lambda: self._astream(input, ctx))
        return iter((self._invoke(input, ctx),))

    @default_hook
    async def _atransform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        """Async stream in, stream out. Defaults to waiting for the whole input, then `_astream`."""
        whole = await aaggregate(inputs)
        async with closing_chunks(self._astream(whole, ctx)) as chunks:
            async for chunk in chunks:
                yield chunk

    @default_hook
    def _astream(self, input: In, ctx: RunContext) -> AsyncIterator[Out]:
        """Async stream for one whole input: `_atransform` if written, else the sync stream
        (in worker threads) when only sync hooks stream, else one chunk, the ainvoke result."""
        has = self._written
        if "_atransform" in has:
            return self._atransform(aone(input), ctx)
        if not has & _ASYNC_HOOKS and has & _SYNC_STREAMING:
            return aiterate_in_threads(self._stream(input, ctx))
        return awaited(lambda: self._ainvoke(input, ctx))

    # ------------------------------------------------ the wrapped calls children use

    def _call(self, input: In, ctx: RunContext) -> Out:
        """`_invoke` with tracing (when someone listens) and the failing step's note."""
        if ctx.callbacks:
            return self._traced_call(input, ctx)
        try:
            return self._invoke(input, ctx if ctx is ROOT else ctx.for_children())
        except Exception as exc:
            add_step_note(exc, ctx.run_name or self.name)
            raise

    def _traced_call(self, input: In, ctx: RunContext) -> Out:
        run = start_run(self.name, self.run_type, input, ctx)
        notify(ctx.handlers.on_start, run)
        try:
            output = self._invoke(input, ctx.child_of(run))
        except BaseException as exc:
            add_step_note(exc, run.name)
            finish_run(run, error=exc)
            notify(ctx.handlers.on_error, run, exc)
            if isinstance(exc, Exception):
                settle(ctx.handlers, run)
            raise
        finish_run(run, output)
        notify(ctx.handlers.on_end, run)
        settle(ctx.handlers, run)
        return output

    async def _acall(self, input: In, ctx: RunContext) -> Out:
        """`_ainvoke` with tracing (when someone listens) and the failing step's note."""
        if ctx.callbacks:
            return await self._atraced_call(input, ctx)
        try:
            return await self._ainvoke(input, ctx if ctx is ROOT else ctx.for_children())
        except Exception as exc:
            add_step_note(exc, ctx.run_name or self.name)
            raise

    async def _atraced_call(self, input: In, ctx: RunContext) -> Out:
        run = start_run(self.name, self.run_type, input, ctx)
        await notify_async(ctx.handlers.on_start, run)
        try:
            output = await self._ainvoke(input, ctx.child_of(run))
        except BaseException as exc:
            add_step_note(exc, run.name)
            finish_run(run, error=exc)
            await notify_async(ctx.handlers.on_error, run, exc)
            if isinstance(exc, Exception):
                await asettle(ctx.handlers, run)
            raise
        finish_run(run, output)
        await notify_async(ctx.handlers.on_end, run)
        await asettle(ctx.handlers, run)
        return output

    def _call_transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        """`_transform` with tracing and the failing step's note. (A runnable that needs its
        whole input is streamed through `_stream` directly, one generator fewer per chunk.)"""
        streams_input = "_transform" in self._written
        if not ctx.callbacks:
            inner = ctx if ctx is ROOT else ctx.for_children()
            try:
                if streams_input:
                    yield from self._transform(inputs, inner)
                else:
                    yield from self._stream(aggregate(inputs), inner)
            except Exception as exc:
                add_step_note(exc, ctx.run_name or self.name)
                raise
            return
        # Like LangChain, a run starts when its input does: a component that needs its whole
        # input once that is complete (and so known), any other runnable at its first chunk.
        seen = Recorder(inputs)
        whole = self.run_type != "chain" and not streams_input
        try:
            known: Any = aggregate(seen) if whole else seen.peek()
        except Exception as exc:
            add_step_note(exc, ctx.run_name or self.name)
            raise
        # One that cannot stream at all ends its run before its output moves on.
        held: list[Any] | None = [] if whole and "_stream" not in self._written else None
        run = start_run(self.name, self.run_type, known if whole else None, ctx)
        notify(ctx.handlers.on_start, run)
        total = Total()
        child = ctx.child_of(run)
        try:
            if streams_input:
                chunks = self._transform(seen, child)
            else:
                chunks = self._stream(known if whole else aggregate(seen), child)
            try:
                for chunk in chunks:
                    total.add(chunk)
                    notify(ctx.handlers.on_stream, run, chunk)
                    if held is None:
                        yield chunk
                    else:
                        held.append(chunk)
            finally:  # however this ends: not left to the garbage collector
                close_chunks(chunks)
        except BaseException as exc:
            add_step_note(exc, run.name)
            run.inputs = seen.total()
            finish_run(run, error=exc)
            notify(ctx.handlers.on_error, run, exc)
            if isinstance(exc, Exception):
                settle(ctx.handlers, run)
            raise
        run.inputs = seen.total()
        finish_run(run, total.or_none())
        notify(ctx.handlers.on_end, run)
        settle(ctx.handlers, run)
        if held:
            yield from held

    def _call_transform_into(
        self, consumer: Engine[Any, Any], inputs: Iterator[In], ctx: RunContext
    ) -> Iterator[Any] | None:
        """Untraced sync: `consumer._call_transform` of this runnable's `_call_transform`, made
        in fewer steps per chunk, failing steps named alike; None (the default) when this
        runnable has no such shortcut for `consumer`. (A sequence asks at each stage.)"""
        return None

    def _acall_transform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        """`_atransform` with tracing (see `TracedStream`) and the failing step's note."""
        if ctx.callbacks:
            return TracedStream(self, inputs, ctx)
        return self._anoted_transform(inputs, ctx)

    async def _anoted_transform(
        self, inputs: AsyncIterator[In], ctx: RunContext
    ) -> AsyncIterator[Out]:
        """`_atransform` untraced, naming the failing step on an exception."""
        inner = ctx if ctx is ROOT else ctx.for_children()
        try:
            if "_atransform" in self._written:
                stream = self._atransform(inputs, inner)
            else:
                stream = self._astream(await aaggregate(inputs), inner)
            try:  # (not `async with closing_chunks`: one object fewer per stream)
                async for chunk in stream:
                    yield chunk
            finally:
                await aclose_chunks(stream)
        except Exception as exc:
            add_step_note(exc, ctx.run_name or self.name)
            raise

    if TYPE_CHECKING:  # the public calls, written by `RunnableBase` (LangChain-style hooks too)

        def invoke(self, input: In, config: RunnableConfig | None = None) -> Out: ...

        async def ainvoke(self, input: In, config: RunnableConfig | None = None) -> Out: ...
