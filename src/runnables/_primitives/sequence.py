"""`RunnableSequence`: each step's output is the next step's input."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, Union, cast, overload

import attrs

from runnables._core.base import RunnableBase
from runnables._core.batching import abatch_calls, batch_calls
from runnables._core.context import enter, leave
from runnables._core.interop import run_in_worker_thread
from runnables._core.public import public
from runnables._core.streaming import (
    NOTHING,
    aaggregate,
    aclose_chunks,
    add_step_note,
    aggregate,
    aone,
    close_chunks,
    closing_chunks,
)
from runnables._core.traced import TracedStream
from runnables.errors import RunnablesValueError

if TYPE_CHECKING:
    from runnables._core.config import RunnableConfig
    from runnables._core.context import RunContext
    from runnables._core.protocol import SupportsInvoke
    from runnables.schema import Schema

__all__ = ["RunnableSequence"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
E = TypeVar("E")
F = TypeVar("F")
I2 = TypeVar("I2")
O2 = TypeVar("O2")


def _flatten(steps: tuple[Any, ...]) -> tuple[RunnableBase[Any, Any], ...]:
    from runnables._primitives.coerce import coerce_to_runnable

    flat: list[RunnableBase[Any, Any]] = []
    for step in steps:
        runnable = coerce_to_runnable(step)
        if type(runnable) is RunnableSequence:
            flat.extend(runnable.steps)
        else:
            flat.append(runnable)
    return tuple(flat)


_Stage = Union["RunnableBase[Any, Any]", "tuple[RunnableBase[Any, Any], ...]"]


def _async_stages(steps: tuple[RunnableBase[Any, Any], ...]) -> tuple[_Stage, ...]:
    """The steps, with each run of consecutive steps that block (sync functions) grouped to
    run in one worker thread trip under `ainvoke`."""
    stages: list[_Stage] = []
    run: list[RunnableBase[Any, Any]] = []
    for step in steps:
        if step._blocks:  # pyright: ignore[reportPrivateUsage]
            run.append(step)
            continue
        if run:
            stages.append(tuple(run) if len(run) > 1 else run[0])
            run = []
        stages.append(step)
    if run:
        stages.append(tuple(run) if len(run) > 1 else run[0])
    return tuple(stages)


def _writes_batch(step: RunnableBase[Any, Any]) -> bool:
    """Whether `step` has a `batch` or `abatch` of its own (a subclass batching its inputs
    together, e.g. in one request), which a sequence's batch then calls."""
    kind = type(step)
    return any(getattr(kind, name) is not getattr(RunnableBase, name) for name in _BATCHES)


_BATCHES = ("batch", "abatch")


#: A stage of a sequence's batch: steps run input by input (a step, or a sequence of several),
#: or one step whose own `batch`/`abatch` takes every input at once (`True`).
_BatchStage = tuple["RunnableBase[Any, Any]", bool]


def _batch_stages(steps: tuple[RunnableBase[Any, Any], ...]) -> tuple[_BatchStage, ...]:
    """The stages of a batch through `steps`; none when no step batches on its own (the
    whole sequence then runs input by input, as one stage)."""
    if not any(_writes_batch(step) for step in steps):
        return ()
    stages: list[_BatchStage] = []
    run: list[RunnableBase[Any, Any]] = []
    for step in (*steps, None):
        if step is not None and not _writes_batch(step):
            run.append(step)
            continue
        if run:
            stages.append((run[0] if len(run) == 1 else RunnableSequence(*run), False))
            run = []
        if step is not None:
            stages.append((step, True))
    return tuple(stages)


@public
@attrs.frozen(init=False)
class RunnableSequence(RunnableBase[In, Out]):
    """Steps run one after another; nested sequences are flattened into one.

    Streams lazily: each step that can transform passes chunks on as they arrive, and a
    step that cannot waits for its whole input. A batch calls the own `batch`/`abatch` of a
    step that has one with every input still alive (not those that failed before it, with
    `return_exceptions`), under the call's one concurrency budget.
    """

    steps: tuple[RunnableBase[Any, Any], ...]
    explicit_name: str | None = None
    _async_stages: tuple[_Stage, ...] = attrs.field(default=(), eq=False, repr=False)
    _batch_stages: tuple[_BatchStage, ...] = attrs.field(default=(), eq=False, repr=False)

    @overload
    def __init__(
        self: RunnableSequence[A, B], a: SupportsInvoke[A, B], /, *, name: str | None = None
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableSequence[A, C],
        a: SupportsInvoke[A, B],
        b: SupportsInvoke[B, C],
        /,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableSequence[A, D],
        a: SupportsInvoke[A, B],
        b: SupportsInvoke[B, C],
        c: SupportsInvoke[C, D],
        /,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableSequence[A, E],
        a: SupportsInvoke[A, B],
        b: SupportsInvoke[B, C],
        c: SupportsInvoke[C, D],
        d: SupportsInvoke[D, E],
        /,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableSequence[A, F],
        a: SupportsInvoke[A, B],
        b: SupportsInvoke[B, C],
        c: SupportsInvoke[C, D],
        d: SupportsInvoke[D, E],
        e: SupportsInvoke[E, F],
        /,
        *,
        name: str | None = None,
    ) -> None: ...
    # Six steps or more are not typed (a catch-all for any number of steps would also accept a
    # mistyped short sequence).
    @overload
    def __init__(
        self: RunnableSequence[Any, Any],
        a: Any,
        b: Any,
        c: Any,
        d: Any,
        e: Any,
        f: Any,
        /,
        *steps: Any,
        name: str | None = None,
    ) -> None: ...
    def __init__(self, *steps: Any, name: str | None = None) -> None:
        if not steps:
            raise RunnablesValueError("RunnableSequence needs at least one step")
        flat = _flatten(steps)
        self.__attrs_init__(flat, name, _async_stages(flat), _batch_stages(flat))  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]

    @property
    def name(self) -> str:
        return self.explicit_name or "RunnableSequence"

    @property
    def first(self) -> RunnableBase[In, Any]:
        return self.steps[0]

    @property
    def last(self) -> RunnableBase[Any, Out]:
        return self.steps[-1]

    @property
    def input_type(self) -> Any:
        return self.first.input_type

    @property
    def output_type(self) -> Any:
        return self.last.output_type

    @property
    def input_schema(self: RunnableSequence[I2, Any]) -> Schema[I2]:
        return self.first.input_schema

    @property
    def output_schema(self: RunnableSequence[Any, O2]) -> Schema[O2]:
        return self.last.output_schema

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        value: Any = input
        if not ctx.callbacks:  # untraced: no position tags to add
            for step in self.steps:
                value = step._call(value, ctx)
            return value  # type: ignore[no-any-return]  # (no `cast` call on the hot path)
        for position, step in enumerate(self.steps, 1):
            value = step._call(value, ctx.with_local_tag(f"seq:step:{position}"))
        return cast("Out", value)

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        value: Any = input
        if not ctx.callbacks and ctx.budget is None:
            # Untraced, and no slot to wait for: consecutive steps that would each hop to a
            # worker thread make one trip together.
            for stage in self._async_stages:
                if isinstance(stage, tuple):
                    value = await run_in_worker_thread(self._run_in_thread, stage, value, ctx)
                else:
                    value = await stage._acall(value, ctx)
            return cast("Out", value)
        for position, step in enumerate(self.steps, 1):
            value = await step._acall(value, ctx.with_local_tag(f"seq:step:{position}"))
        return cast("Out", value)

    @staticmethod
    def _run_in_thread(
        steps: tuple[RunnableBase[Any, Any], ...], value: Any, ctx: RunContext
    ) -> Any:
        """Run `steps` one after another in a worker thread, stopping between steps if the
        awaiting task has been cancelled."""
        from runnables._core.threads import check_cancelled

        for step in steps:
            value = step._call(value, ctx)
            check_cancelled()
        return value

    # A batch goes step by step only when a step batches on its own: each such step gets the
    # inputs still alive at once, and the steps between run input by input. Traced, every
    # input runs through the steps on its own, so that its run holds its steps' runs.

    def _batch_each(
        self, items: list[Any], ctxs: list[RunContext], width: int, return_exceptions: bool
    ) -> list[Any]:
        if not self._batch_stages or any(ctx.callbacks for ctx in ctxs):
            return super()._batch_each(items, ctxs, width, return_exceptions)
        state = _Batch(items, ctxs)
        for step, own in self._batch_stages:
            alive = state.alive
            values, contexts = state.values(), [ctxs[i] for i in alive]
            if own:
                token = enter(contexts[0])
                try:
                    outputs = step.batch(
                        values, _configs(contexts), return_exceptions=return_exceptions
                    )
                finally:
                    leave(token)
            else:
                outputs = batch_calls(step._call, values, contexts, width, return_exceptions)
            state.advance(step, outputs)
        return state.results

    async def _abatch_each(
        self, items: list[Any], ctxs: list[RunContext], width: int | None, return_exceptions: bool
    ) -> list[Any]:
        if not self._batch_stages or any(ctx.callbacks for ctx in ctxs):
            return await super()._abatch_each(items, ctxs, width, return_exceptions)
        state = _Batch(items, ctxs)
        for step, own in self._batch_stages:
            alive = state.alive
            values, contexts = state.values(), [ctxs[i] for i in alive]
            if own:
                token = enter(contexts[0])
                try:
                    outputs = await step.abatch(
                        values, _configs(contexts), return_exceptions=return_exceptions
                    )
                finally:
                    leave(token)
            else:
                outputs = await abatch_calls(
                    step._acall, values, contexts, width, return_exceptions
                )
            state.advance(step, outputs)
        return state.results

    def _stages(
        self, ctx: RunContext, *, sync: bool
    ) -> list[tuple[int, list[RunnableBase[Any, Any]]]]:
        """The steps as stream stages `(position, steps)`. Untraced, steps whose stream would
        be one chunk computed from their whole input join the next step's stage: they are
        invoked one after another, so that a stream through thousands of such steps does not
        nest thousands of generators."""
        if ctx.callbacks:
            return [(position, [step]) for position, step in enumerate(self.steps, 1)]
        stages: list[tuple[int, list[RunnableBase[Any, Any]]]] = []
        run: list[RunnableBase[Any, Any]] = []
        for position, step in enumerate(self.steps, 1):
            run.append(step)
            if position == len(self.steps) or not step._one_chunk(sync):
                stages.append((position, run))
                run = []
        return stages

    def _call_transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        if ctx.callbacks:
            return super()._call_transform(inputs, ctx)
        # Untraced, the stages' own generator names this sequence on an exception no step
        # named, as the engine's would: one generator fewer per chunk.
        return self._staged(inputs, ctx.for_children(), ctx.run_name or self.name)

    def _transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        return self._staged(inputs, ctx, None)

    def _staged(self, inputs: Iterator[In], ctx: RunContext, name: str | None) -> Iterator[Out]:
        """The stream through the stages; `name` (the sequence's) noted on an exception."""
        stages: list[Iterator[Any]] = []
        chunks: Iterator[Any] = inputs
        traced = bool(ctx.callbacks)
        try:
            try:
                plan = self._stages(ctx, sync=True)
                index = 0
                while index < len(plan):
                    position, steps = plan[index]
                    index += 1
                    *whole, last = steps
                    tagged = ctx.with_local_tag(f"seq:step:{position}")
                    if whole:  # closed after the stage it feeds (a user's generator may not)
                        chunks = _invoked(whole, chunks, ctx)
                        stages.append(chunks)
                    elif traced and stages:
                        # The stage's first chunk read ahead, as its traced reader would read
                        # it first: a chunk then goes up one stage at a time (see `_Stages`).
                        first = next(chunks, NOTHING)
                        if first is not NOTHING:
                            chunks = itertools.chain((first,), chunks)
                    if not traced and index < len(plan) and len(plan[index][1]) == 1:
                        both = last._call_transform_into(plan[index][1][0], chunks, ctx)
                        if both is not None:  # this stage and the next as one
                            index += 1
                            chunks = both
                            stages.append(chunks)
                            continue
                    chunks = last._call_transform(chunks, tagged)
                    stages.append(chunks)
                yield from chunks
            finally:
                for stage in reversed(stages):
                    close_chunks(stage)
        except Exception as exc:
            if name is not None:
                add_step_note(exc, name)
            raise

    def _atransform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        stages: list[AsyncIterator[Any]] = []
        chunks: AsyncIterator[Any] = inputs
        for position, steps in self._stages(ctx, sync=False):
            *whole, last = steps
            tagged = ctx.with_local_tag(f"seq:step:{position}")
            if whole:  # closed after the stage it feeds (a user's generator may not close it)
                chunks = _ainvoked(whole, chunks, ctx)
                stages.append(chunks)
            chunks = last._acall_transform(chunks, tagged)
            stages.append(chunks)
        return _Stages(stages, traced=bool(ctx.callbacks))


class _Stages(AsyncIterator[Any]):
    """The chunks of a sequence's last stage; closing it closes every stage, the last first.
    (Not a generator: its `__anext__` hands over the last stage's own, one layer fewer per
    chunk.)

    Traced, its first `__anext__` reads ahead each stage's first chunk in turn, from the first
    stage on, before the last stage's: every traced stage would read its input first anyway,
    so the runs start, stream and end in the same order, but a chunk then goes up one stage
    at a time rather than through a call per stage at once (which thousands of traced stages
    in a row would nest past the recursion limit)."""

    __slots__ = ("_cold", "_stages", "passes_on")

    def __init__(self, stages: list[AsyncIterator[Any]], *, traced: bool) -> None:
        self._stages = stages
        #: The stream whose chunks this one passes on unchanged (a traced sequence's run
        #: shares its output total).
        self.passes_on = stages[-1]
        self._cold = traced and len(stages) > 1

    def __aiter__(self) -> _Stages:
        return self

    def __anext__(self) -> Awaitable[Any]:
        if self._cold:
            return self._first()
        return self.passes_on.__anext__()

    async def _first(self) -> Any:
        self._cold = False
        stages = self._stages
        for stage, reader in itertools.pairwise(stages):
            if type(stage) is TracedStream and type(reader) is TracedStream:
                await stage.peek()
        return await self.passes_on.__anext__()

    async def aclose(self) -> None:
        for stage in reversed(self._stages):
            await aclose_chunks(stage)


class _Batch:
    """The decisions of a step-by-step batch, without I/O: which inputs are still alive, their
    current values, and the results (an input that failed at one step, with
    `return_exceptions`, has its failure as its result and goes no further)."""

    __slots__ = ("alive", "current", "results")

    def __init__(self, items: list[Any], ctxs: list[RunContext]) -> None:
        self.alive = list(range(len(items)))
        self.current = list(items)
        self.results: list[Any] = [None] * len(items)

    def values(self) -> list[Any]:
        current = self.current
        return [current[index] for index in self.alive]

    def advance(self, step: RunnableBase[Any, Any], outputs: list[Any]) -> None:
        alive = self.alive
        if len(outputs) != len(alive):
            raise RunnablesValueError(
                f"{step.name}.batch returned {len(outputs)} outputs for {len(alive)} inputs"
            )
        still: list[int] = []
        for index, output in zip(alive, outputs, strict=True):
            if isinstance(output, Exception):
                self.results[index] = output
            else:
                self.current[index] = self.results[index] = output
                still.append(index)
        self.alive = still


def _configs(contexts: list[RunContext]) -> RunnableConfig | list[RunnableConfig] | None:
    """The config(s) for a step's own batch, called with `contexts[0]` published: none when
    the inputs share one context (the step then inherits it whole, budget included)."""
    first = contexts[0]
    if all(ctx is first for ctx in contexts):
        return None
    return [ctx.as_config() for ctx in contexts]


def _invoked(
    steps: list[RunnableBase[Any, Any]], inputs: Iterator[Any], ctx: RunContext
) -> Iterator[Any]:
    """The whole input through `steps` invoked one after another (untraced), the last one
    streamed: one chunk, unless it is a function that returns a runnable to stream."""
    value = aggregate(inputs)
    *before, last = steps
    for step in before:
        value = step._call(value, ctx)  # pyright: ignore[reportPrivateUsage]
    yield from last._call_transform(iter((value,)), ctx)  # pyright: ignore[reportPrivateUsage]


async def _ainvoked(
    steps: list[RunnableBase[Any, Any]], inputs: AsyncIterator[Any], ctx: RunContext
) -> AsyncIterator[Any]:
    """`_invoked` for async streams."""
    value = await aaggregate(inputs)
    *before, last = steps
    for step in before:
        value = await step._acall(value, ctx)  # pyright: ignore[reportPrivateUsage]
    async with closing_chunks(last._acall_transform(aone(value), ctx)) as chunks:  # pyright: ignore[reportPrivateUsage]
        async for chunk in chunks:
            yield chunk
