"""`RunnableBase`: the public API of every runnable, on the `Engine` of hooks and traced calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from typing_extensions import Unpack

from runnables._core.batching import abatch_calls, batch_calls
from runnables._core.concurrency import DEFAULT_WIDTH
from runnables._core.config import RunnableConfig, check_config
from runnables._core.context import RunContext, context_for
from runnables._core.engine import Engine
from runnables._core.hooks import default_hook
from runnables._core.public import public
from runnables._core.stream import Stream
from runnables._core.streaming import (
    aone,
)
from runnables.errors import RunnablesValueError

if TYPE_CHECKING:
    from typing_extensions import TypeForm

    from runnables._core.configurable import (
        AnyConfigurableField,
        ConfigurableField,
        ConfigurableFieldSpec,
        RunnableConfigurableAlternatives,
        RunnableConfigurableFields,
    )
    from runnables._core.protocol import Branch, Runnable, SupportsInvoke
    from runnables._primitives.binding import AsyncListener, Listener, RunnableBinding
    from runnables._primitives.each import RunnableEach
    from runnables._primitives.fallbacks import RunnableWithFallbacks
    from runnables._primitives.retry import ExponentialJitterParams, RunnableRetry
    from runnables._primitives.sequence import RunnableSequence
    from runnables.graph import Graph
    from runnables.schema import Schema
    from runnables.tools import Tool
    from runnables.tracing._events import StreamEvent
    from runnables.tracing._log import RunLog, RunLogPatch

__all__ = ["RunnableBase"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
Next = TypeVar("Next")
I2 = TypeVar("I2")
O2 = TypeVar("O2")


@public
class RunnableBase(Engine[In, Out]):
    """The base of every runnable: subclasses write `_invoke` / `_ainvoke` (and `_transform` /
    `_atransform` if they stream), or LangChain-style public `invoke` / `ainvoke`; the
    `Engine` derives and traces the rest, and this class gives every runnable its public
    API: calls, batches, streams, observability, composition and wrappers.
    """

    __slots__ = ()

    # ------------------------------------------------------------------ schemas

    @property
    def input_schema(self: RunnableBase[I2, Any]) -> Schema[I2]:
        """The schema of the input, derived from the runnable's structure."""
        from runnables.schema import Schema

        return Schema(self.input_type, f"{self.name}Input")

    @property
    def output_schema(self: RunnableBase[Any, O2]) -> Schema[O2]:
        """The schema of the output, derived from the runnable's structure."""
        from runnables.schema import Schema

        return Schema(self.output_type, f"{self.name}Output")

    def get_graph(self) -> Graph:
        """The structure as a graph: `.nodes`, `.edges`, `.draw_mermaid()`, `.draw_ascii()`."""
        from runnables.graph import graph_of

        return graph_of(self)

    # ------------------------------------------------------------- public calls

    def _batch_context(self, ctx: RunContext) -> RunContext:
        """The context shared by every input of a batch (a binding merges its config here,
        so that its `max_concurrency` is one budget for the whole batch)."""
        return ctx

    def _batch_contexts(
        self, config: RunnableConfig | Sequence[RunnableConfig] | None, count: int
    ) -> tuple[list[RunContext], int | None]:
        """One context per input (sharing one budget), and the fan-out width."""
        if config is None or isinstance(config, Mapping):
            ctx = self._batch_context(context_for(config))
            return [ctx] * count, ctx.max_concurrency
        configs = list(config)
        if len(configs) != count:
            raise RunnablesValueError(
                f"batch got {count} inputs but {len(configs)} configs; give one config or one "
                "per input"
            )
        first = self._batch_context(context_for(configs[0]))
        ctxs = [first, *(context_for({**c, "max_concurrency": None}) for c in configs[1:])]
        if first.budget is not None:
            ctxs = [first, *(c.replace(budget=first.budget) for c in ctxs[1:])]
        return ctxs, first.max_concurrency

    @default_hook
    def invoke(self, input: In, config: RunnableConfig | None = None) -> Out:
        """Run once on `input` and return the output."""
        return self._call(input, context_for(config))

    @default_hook
    async def ainvoke(self, input: In, config: RunnableConfig | None = None) -> Out:
        """Run once on `input`, asynchronously."""
        return await self._acall(input, context_for(config))

    @overload
    def batch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[False] = False,
    ) -> list[Out]: ...
    @overload
    def batch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[True],
    ) -> list[Out | Exception]: ...
    @overload
    def batch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool,
    ) -> list[Out | Exception]: ...
    def batch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
    ) -> list[Out] | list[Out | Exception]:
        """Run on many inputs (concurrently on threads); outputs come back in input order.
        A failure (without `return_exceptions`) is that of the lowest failing index."""
        items = list(inputs)
        if not items:
            return []
        ctxs, width = self._batch_contexts(config, len(items))
        return self._batch_each(items, ctxs, width or DEFAULT_WIDTH, return_exceptions)

    def _batch_each(
        self, items: list[Any], ctxs: list[RunContext], width: int, return_exceptions: bool
    ) -> list[Any]:
        """The outputs of `batch` (a sequence overrides this to batch step by step)."""
        return batch_calls(self._call, items, ctxs, width, return_exceptions)

    @overload
    async def abatch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[False] = False,
    ) -> list[Out]: ...
    @overload
    async def abatch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[True],
    ) -> list[Out | Exception]: ...
    @overload
    async def abatch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool,
    ) -> list[Out | Exception]: ...
    async def abatch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
    ) -> list[Out] | list[Out | Exception]:
        """Run on many inputs concurrently as tasks; outputs come back in input order."""
        items = list(inputs)
        if not items:
            return []
        ctxs, width = self._batch_contexts(config, len(items))
        return await self._abatch_each(items, ctxs, width, return_exceptions)

    async def _abatch_each(
        self, items: list[Any], ctxs: list[RunContext], width: int | None, return_exceptions: bool
    ) -> list[Any]:
        """The outputs of `abatch` (the first failure in time cancels the rest)."""
        return await abatch_calls(self._acall, items, ctxs, width, return_exceptions)

    @overload
    def batch_as_completed(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[False] = False,
    ) -> Iterator[tuple[int, Out]]: ...
    @overload
    def batch_as_completed(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[True],
    ) -> Iterator[tuple[int, Out | Exception]]: ...
    @overload
    def batch_as_completed(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool,
    ) -> Iterator[tuple[int, Out | Exception]]: ...
    def batch_as_completed(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
    ) -> Iterator[tuple[int, Out]] | Iterator[tuple[int, Out | Exception]]:
        """Run on many inputs on threads, yielding `(index, output)` as each finishes."""
        from runnables._core.concurrency import fan_out_as_completed

        items = list(inputs)
        if not items:
            return iter(())
        ctxs, width = self._batch_contexts(config, len(items))
        call = self._call

        def run_one(index: int) -> Any:
            try:
                return call(items[index], ctxs[index])
            except Exception as exc:
                if not return_exceptions:
                    raise
                return exc

        return fan_out_as_completed(run_one, len(items), width or DEFAULT_WIDTH)

    @overload
    def abatch_as_completed(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[False] = False,
    ) -> AsyncIterator[tuple[int, Out]]: ...
    @overload
    def abatch_as_completed(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[True],
    ) -> AsyncIterator[tuple[int, Out | Exception]]: ...
    @overload
    def abatch_as_completed(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool,
    ) -> AsyncIterator[tuple[int, Out | Exception]]: ...
    def abatch_as_completed(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
    ) -> AsyncIterator[tuple[int, Out]] | AsyncIterator[tuple[int, Out | Exception]]:
        """Run on many inputs as tasks, yielding `(index, output)` as each finishes."""
        from runnables._core.concurrency import afan_out_as_completed

        items = list(inputs)
        ctxs, width = self._batch_contexts(config, len(items)) if items else ([], None)
        acall = self._acall

        async def run_one(index: int) -> Any:
            try:
                return await acall(items[index], ctxs[index])
            except Exception as exc:
                if not return_exceptions:
                    raise
                return exc

        return afan_out_as_completed(run_one, len(items), width)

    def stream(self, input: In, config: RunnableConfig | None = None) -> Iterator[Out]:
        """Yield output chunks as they are produced (one chunk if this cannot stream)."""
        return self._call_transform(iter((input,)), context_for(config))

    def astream(self, input: In, config: RunnableConfig | None = None) -> AsyncIterator[Out]:
        """Yield output chunks as they are produced, asynchronously."""
        return Stream(self._acall_transform(aone(input), context_for(config)))

    def transform(
        self, inputs: Iterator[In], config: RunnableConfig | None = None
    ) -> Iterator[Out]:
        """Stream in, stream out: consume input chunks, yield output chunks."""
        return self._call_transform(iter(inputs), context_for(config))

    def atransform(
        self, inputs: AsyncIterator[In], config: RunnableConfig | None = None
    ) -> AsyncIterator[Out]:
        """Async stream in, stream out."""
        return Stream(self._acall_transform(inputs, context_for(config)))

    # ------------------------------------------------------------- observability

    def astream_events(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v2"] = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream the run's events (`on_{kind}_{start|stream|end}`) as they happen."""
        from runnables.tracing._common import RunFilter
        from runnables.tracing._events import astream_events

        keep = RunFilter(
            include_names, include_types, include_tags, exclude_names, exclude_types, exclude_tags
        )
        return astream_events(self, input, config, version=version, keep=keep)

    def stream_events(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v2"] = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> Iterator[StreamEvent]:
        """`astream_events` from sync code (over `stream`)."""
        from runnables.tracing._common import RunFilter
        from runnables.tracing._events import stream_events

        keep = RunFilter(
            include_names, include_types, include_tags, exclude_names, exclude_types, exclude_tags
        )
        return stream_events(self, input, config, version=version, keep=keep)

    @overload
    def astream_log(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        diff: Literal[True] = True,
        with_streamed_output_list: bool = True,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[RunLogPatch]: ...
    @overload
    def astream_log(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        diff: Literal[False],
        with_streamed_output_list: bool = True,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[RunLog]: ...
    def astream_log(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        diff: bool = True,
        with_streamed_output_list: bool = True,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[RunLogPatch] | AsyncIterator[RunLog]:
        """Stream the run as JSON Patch operations on its `RunState` (`diff=False`: the states)."""
        from runnables.tracing._common import RunFilter
        from runnables.tracing._log import astream_log

        keep = RunFilter(
            include_names, include_types, include_tags, exclude_names, exclude_types, exclude_tags
        )
        return astream_log(
            self,
            input,
            config,
            diff=diff,
            with_streamed_output_list=with_streamed_output_list,
            keep=keep,
        )

    # ------------------------------------------------------------- composition

    @overload
    def __or__(self, other: SupportsInvoke[Out, Next]) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(
        self, other: Callable[[Iterator[Out]], Iterator[Next]]
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(
        self, other: Callable[[AsyncIterator[Out]], AsyncIterator[Next]]
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(self, other: Callable[[Out], Iterator[Next]]) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(self, other: Callable[[Out], AsyncIterator[Next]]) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(
        self, other: Callable[[Out], Coroutine[Any, Any, Next]]
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(self, other: Callable[[Out], Runnable[Out, Next]]) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(self, other: Callable[[Out], Next]) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(self, other: Mapping[str, Branch[Out]]) -> RunnableSequence[In, dict[str, Any]]: ...
    def __or__(self, other: Any) -> RunnableSequence[In, Any]:
        """`self | other`: a sequence feeding this runnable's output to `other`."""
        from runnables._primitives.coerce import coerce_to_runnable
        from runnables._primitives.sequence import RunnableSequence

        return RunnableSequence(self, coerce_to_runnable(other))

    @overload
    def __ror__(
        self: RunnableBase[I2, O2], other: SupportsInvoke[Next, I2]
    ) -> RunnableSequence[Next, O2]: ...
    @overload
    def __ror__(
        self: RunnableBase[dict[str, Any], O2],
        other: Mapping[str, Branch[I2]],
    ) -> RunnableSequence[I2, O2]: ...
    @overload
    def __ror__(
        self: RunnableBase[I2, O2], other: Callable[[Next], Iterator[I2]]
    ) -> RunnableSequence[Next, O2]: ...
    @overload
    def __ror__(
        self: RunnableBase[I2, O2], other: Callable[[Next], AsyncIterator[I2]]
    ) -> RunnableSequence[Next, O2]: ...
    @overload
    def __ror__(
        self: RunnableBase[I2, O2], other: Callable[[Next], Coroutine[Any, Any, I2]]
    ) -> RunnableSequence[Next, O2]: ...
    @overload
    def __ror__(
        self: RunnableBase[I2, O2], other: Callable[[Next], Runnable[Next, I2]]
    ) -> RunnableSequence[Next, O2]: ...
    @overload
    def __ror__(
        self: RunnableBase[I2, O2], other: Callable[[Next], I2]
    ) -> RunnableSequence[Next, O2]: ...
    def __ror__(self, other: Any) -> RunnableSequence[Any, Any]:
        """`other | self` for a function or a dict of branches on the left."""
        from runnables._primitives.coerce import coerce_to_runnable
        from runnables._primitives.sequence import RunnableSequence

        return RunnableSequence(coerce_to_runnable(other), self)

    # Up to three steps are typed; only a longer pipe falls back to `Any` (a catch-all for any
    # number of steps would also accept a mistyped short one). One step takes every shape that
    # `|` takes; in two or three steps a function is typed by its return annotation, so an async
    # or generator function there gives a coroutine or iterator type (use `|` for those).
    @overload
    def pipe(self, /, *, name: str | None = None) -> RunnableSequence[In, Out]: ...
    @overload
    def pipe(
        self, a: SupportsInvoke[Out, Next], /, *, name: str | None = None
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def pipe(
        self, a: Callable[[Iterator[Out]], Iterator[Next]], /
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def pipe(
        self, a: Callable[[AsyncIterator[Out]], AsyncIterator[Next]], /
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def pipe(
        self, a: Callable[[Out], Iterator[Next]], /, *, name: str | None = None
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def pipe(
        self, a: Callable[[Out], AsyncIterator[Next]], /, *, name: str | None = None
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def pipe(
        self, a: Callable[[Out], Coroutine[Any, Any, Next]], /
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def pipe(
        self, a: Callable[[Out], Runnable[Out, Next]], /, *, name: str | None = None
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def pipe(
        self, a: Callable[[Out], Next], /, *, name: str | None = None
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def pipe(
        self,
        a: SupportsInvoke[Out, I2] | Callable[[Out], I2],
        b: SupportsInvoke[I2, Next] | Callable[[I2], Next],
        /,
        *,
        name: str | None = None,
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def pipe(
        self,
        a: SupportsInvoke[Out, I2] | Callable[[Out], I2],
        b: SupportsInvoke[I2, O2] | Callable[[I2], O2],
        c: SupportsInvoke[O2, Next] | Callable[[O2], Next],
        /,
        *,
        name: str | None = None,
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def pipe(
        self,
        a: SupportsInvoke[Any, Any] | Callable[[Any], Any],
        b: SupportsInvoke[Any, Any] | Callable[[Any], Any],
        c: SupportsInvoke[Any, Any] | Callable[[Any], Any],
        d: SupportsInvoke[Any, Any] | Callable[[Any], Any],
        /,
        *others: SupportsInvoke[Any, Any] | Callable[[Any], Any],
        name: str | None = None,
    ) -> RunnableSequence[In, Any]: ...
    def pipe(self, *others: Any, name: str | None = None) -> RunnableSequence[In, Any]:
        """`self | a | b | ...` spelled as a method (named `name`, if given)."""
        from runnables._primitives.coerce import coerce_to_runnable
        from runnables._primitives.sequence import RunnableSequence

        return RunnableSequence(self, *(coerce_to_runnable(other) for other in others), name=name)

    # ------------------------------------------------------------- wrappers

    def with_config(
        self, config: RunnableConfig | None = None, **keys: Unpack[RunnableConfig]
    ) -> RunnableBinding[In, Out]:
        """A copy bound to `config` (merged under any config passed to a call)."""
        from runnables._primitives.binding import RunnableBinding

        merged: RunnableConfig = {**(config or {}), **keys}
        check_config(merged)
        return RunnableBinding(bound=self, config=merged)

    def with_retry(
        self,
        *,
        stop_after_attempt: int = 3,
        retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,),
        wait_exponential_jitter: bool = True,
        exponential_jitter_params: ExponentialJitterParams | None = None,
        retry_if_exception: Callable[[Exception], bool] | None = None,
    ) -> RunnableRetry[In, Out]:
        """A copy that retries failures (a stream only while it has yielded nothing): those of
        `retry_if_exception_type` for which `retry_if_exception` (if given) says yes."""
        from runnables._primitives.retry import RunnableRetry

        return RunnableRetry(
            bound=self,
            stop_after_attempt=stop_after_attempt,
            retry_if_exception_type=retry_if_exception_type,
            wait_exponential_jitter=wait_exponential_jitter,
            exponential_jitter_params=exponential_jitter_params,
            retry_if_exception=retry_if_exception,
        )

    def with_fallbacks(
        self,
        # This runnable's own types, not solved ones: solving would widen `Out` to a union with
        # any fallback's output, so that a fallback of other types would never be an error.
        fallbacks: Sequence[SupportsInvoke[In, Out]],
        *,
        exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
        exception_key: str | None = None,
    ) -> RunnableWithFallbacks[In, Out]:
        """A copy that tries `fallbacks` in order when this one fails."""
        from runnables._primitives.fallbacks import RunnableWithFallbacks

        return RunnableWithFallbacks(
            runnable=self,
            fallbacks=tuple(fallbacks),
            exceptions_to_handle=exceptions_to_handle,
            exception_key=exception_key,
        )

    def with_listeners(
        self,
        *,
        on_start: Listener | None = None,
        on_end: Listener | None = None,
        on_error: Listener | None = None,
    ) -> RunnableBinding[In, Out]:
        """A copy that calls back with its `Run` record when it starts, ends or fails (a
        listener with a `config` parameter also gets the call's config)."""
        from runnables._primitives.binding import Listeners, RunnableBinding

        return RunnableBinding(bound=self, listeners=Listeners(on_start, on_end, on_error))

    def with_alisteners(
        self,
        *,
        on_start: AsyncListener | None = None,
        on_end: AsyncListener | None = None,
        on_error: AsyncListener | None = None,
    ) -> RunnableBinding[In, Out]:
        """`with_listeners` for async listeners: each is awaited, in order, before the run
        goes on (on a sync call, on an event loop of its own)."""
        from runnables._primitives.binding import Listeners, RunnableBinding

        return RunnableBinding(bound=self, listeners=Listeners(on_start, on_end, on_error))

    # `TypeForm`, not `type`: a union or `Optional[...]` is a type expression but not a class.
    @overload
    def with_types(
        self, *, input_type: None = None, output_type: None = None
    ) -> RunnableBinding[In, Out]: ...
    @overload
    def with_types(
        self, *, input_type: TypeForm[I2], output_type: None = None
    ) -> RunnableBinding[I2, Out]: ...
    @overload
    def with_types(
        self, *, input_type: None = None, output_type: TypeForm[O2]
    ) -> RunnableBinding[In, O2]: ...
    @overload
    def with_types(
        self, *, input_type: TypeForm[I2], output_type: TypeForm[O2]
    ) -> RunnableBinding[I2, O2]: ...
    def with_types(
        self, *, input_type: object = None, output_type: object = None
    ) -> RunnableBinding[Any, Any]:
        """A copy declaring other input/output types (and so other schemas); behaviour is unchanged."""
        from runnables._primitives.binding import RunnableBinding

        return RunnableBinding(
            bound=self, declared_input_type=input_type, declared_output_type=output_type
        )

    def map(self) -> RunnableEach[In, Out]:
        """A runnable applying this one to each element of a sequence."""
        from runnables._primitives.each import RunnableEach

        return RunnableEach(self)

    # `pick` and `assign` need a runnable whose output is a dict: the `self` types make them
    # unavailable on any other, and `pick` keeps the type of the dict's values.
    @overload
    def pick(self: RunnableBase[I2, Mapping[str, O2]], keys: str) -> RunnableSequence[I2, O2]: ...
    @overload
    def pick(
        self: RunnableBase[I2, Mapping[str, O2]], keys: list[str]
    ) -> RunnableSequence[I2, dict[str, O2]]: ...
    def pick(self, keys: str | list[str]) -> RunnableSequence[Any, Any]:
        """This runnable followed by picking one key (its value) or several (a sub-dict)."""
        from runnables._primitives.passthrough import RunnablePick
        from runnables._primitives.sequence import RunnableSequence

        return RunnableSequence(cast("RunnableBase[Any, Any]", self), RunnablePick(keys))

    def assign(
        self: RunnableBase[I2, Mapping[str, Any]],
        **branches: SupportsInvoke[dict[str, Any], Any] | Callable[[dict[str, Any]], Any],
    ) -> RunnableSequence[I2, dict[str, Any]]:
        """This runnable (which outputs a dict) followed by adding keys computed from it."""
        from runnables._primitives.passthrough import RunnableAssign
        from runnables._primitives.sequence import RunnableSequence

        first = cast("RunnableBase[I2, Any]", self)
        return RunnableSequence(first, RunnableAssign.of(branches))

    # ------------------------------------------------- helpers (LangChain's spellings)

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """`name` (default: this runnable's name) with `suffix` appended as LangChain does:
        title-cased after a capitalised name (`ParserInput`), else after an underscore."""
        base = name or self.name
        if not suffix:
            return base
        if base[:1].isupper():
            return base + suffix.title()
        return f"{base}_{suffix.lower()}"

    def get_input_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """The JSON Schema of the input (`input_schema.json_schema()`)."""
        return self.input_schema.json_schema()

    def get_output_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """The JSON Schema of the output (`output_schema.json_schema()`)."""
        return self.output_schema.json_schema()

    def get_prompts(self, config: RunnableConfig | None = None) -> list[RunnableBase[Any, Any]]:
        """The prompt templates in this runnable's graph, in top-down order."""
        from runnables._primitives.keywords import is_prompt

        return [
            node.data
            for node in self.get_graph().nodes
            if node.data is not None and is_prompt(node.data)
        ]

    def bind(self, **kwargs: Any) -> RunnableBase[In, Out]:
        """A copy whose calls get `kwargs`: keyword arguments of a lifted function (which must
        accept them), call options of a model (`stop=...`). Other runnables take none: a
        `TypeError` says so, rather than dropping them as LangChain does."""
        from runnables._primitives.keywords import bind_keywords

        return bind_keywords(self, kwargs)

    def as_tool(
        self,
        args_schema: type | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        arg_types: Mapping[str, Any] | None = None,
    ) -> Tool[Out]:
        """This runnable as a `Tool` a model can call: its arguments are the fields of the input
        type (a TypedDict, attrs class or dataclass), of `args_schema`, or `arg_types` for a
        dict input; any other input is one argument, `__arg1`."""
        from runnables._primitives.as_tool import runnable_as_tool

        return runnable_as_tool(self, args_schema, name, description, arg_types)

    # ------------------------------------------------------------- configuration

    @property
    def config_specs(self) -> tuple[ConfigurableFieldSpec, ...]:
        """The `config["configurable"]` keys this runnable and the ones inside it read."""
        from runnables._core.configurable import config_specs_of

        return config_specs_of(self)

    def config_schema(self, *, include: Sequence[str] | None = None) -> Schema[dict[str, Any]]:
        """The schema of the config a call may pass, with a `configurable` object of the keys
        in `config_specs` (each with its type; its default and text in the JSON Schema);
        `include` adds other `RunnableConfig` keys ("tags", "metadata", "run_name", ...)."""
        from runnables._core.configurable import config_schema

        return config_schema(f"{self.name}Config", self.config_specs, include or ())

    def get_config_jsonschema(self) -> dict[str, Any]:
        """The JSON Schema of `config_schema()`, with each field's title, default and text."""
        from runnables._core.configurable import config_jsonschema

        return config_jsonschema(f"{self.name}Config", self.config_specs)

    def configurable_fields(
        self, **fields: AnyConfigurableField
    ) -> RunnableConfigurableFields[In, Out]:
        """A copy whose named attrs fields each call may set through `config["configurable"]`
        (a name that is not a field is an error listing the fields)."""
        from runnables._core.configurable import RunnableConfigurableFields

        return RunnableConfigurableFields(self, fields)

    def configurable_alternatives(
        self,
        which: ConfigurableField,
        *,
        default_key: str = "default",
        prefix_keys: bool = False,
        # This runnable's own types, as in `with_fallbacks`: each alternative must fit them.
        **alternatives: SupportsInvoke[In, Out] | Callable[[], SupportsInvoke[In, Out]],
    ) -> RunnableConfigurableAlternatives[In, Out]:
        """A runnable that runs this one or an alternative, chosen per call by
        `config["configurable"][which.id]` (`default_key` chooses this one)."""
        from runnables._core.configurable import RunnableConfigurableAlternatives

        return RunnableConfigurableAlternatives(
            which, self, alternatives, default_key=default_key, prefix_keys=prefix_keys
        )
