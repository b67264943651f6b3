"""`RunnableSequence`: each step's output is the next step's input."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, Union, cast, overload

import attrs

from runnables._core.base import RunnableBase
from runnables._core.interop import run_in_worker_thread
from runnables._core.public import public
from runnables._core.streaming import aaggregate, aclose_chunks, aggregate, close_chunks
from runnables.errors import RunnablesValueError

if TYPE_CHECKING:
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


@public
@attrs.frozen(init=False)
class RunnableSequence(RunnableBase[In, Out]):
    """Steps run one after another; nested sequences are flattened into one.

    Streams lazily: each step that can transform passes chunks on as they arrive, and a
    step that cannot waits for its whole input.
    """

    steps: tuple[RunnableBase[Any, Any], ...]
    explicit_name: str | None = None
    _async_stages: tuple[_Stage, ...] = attrs.field(default=(), eq=False, repr=False)

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
        self.__attrs_init__(flat, name, _async_stages(flat))  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]

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

    def _transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        stages: list[Iterator[Any]] = []
        chunks: Iterator[Any] = inputs
        for position, steps in self._stages(ctx, sync=True):
            *whole, last = steps
            tagged = ctx.with_local_tag(f"seq:step:{position}")
            chunks = last._call_transform(_invoked(whole, chunks, ctx) if whole else chunks, tagged)
            stages.append(chunks)
        try:
            yield from chunks
        finally:
            for stage in reversed(stages):
                close_chunks(stage)

    def _atransform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        stages: list[AsyncIterator[Any]] = []
        chunks: AsyncIterator[Any] = inputs
        for position, steps in self._stages(ctx, sync=False):
            *whole, last = steps
            tagged = ctx.with_local_tag(f"seq:step:{position}")
            chunks = last._acall_transform(
                _ainvoked(whole, chunks, ctx) if whole else chunks, tagged
            )
            stages.append(chunks)
        return _Stages(stages)


class _Stages(AsyncIterator[Any]):
    """The chunks of a sequence's last stage; closing it closes every stage, the last first.
    (Not a generator: its `__anext__` hands over the last stage's own, one layer fewer per
    chunk.)"""

    __slots__ = ("_last", "_stages")

    def __init__(self, stages: list[AsyncIterator[Any]]) -> None:
        self._stages = stages
        self._last = stages[-1]

    def __aiter__(self) -> _Stages:
        return self

    def __anext__(self) -> Awaitable[Any]:
        return self._last.__anext__()

    async def aclose(self) -> None:
        for stage in reversed(self._stages):
            await aclose_chunks(stage)


def _invoked(
    steps: list[RunnableBase[Any, Any]], inputs: Iterator[Any], ctx: RunContext
) -> Iterator[Any]:
    """One chunk: the whole input, through `steps` invoked one after another (untraced)."""
    value = aggregate(inputs)
    for step in steps:
        value = step._call(value, ctx)  # pyright: ignore[reportPrivateUsage]
    yield value


async def _ainvoked(
    steps: list[RunnableBase[Any, Any]], inputs: AsyncIterator[Any], ctx: RunContext
) -> AsyncIterator[Any]:
    """`_invoked` for async streams."""
    value = await aaggregate(inputs)
    for step in steps:
        value = await step._acall(value, ctx)  # pyright: ignore[reportPrivateUsage]
    yield value
