"""`RunnableParallel`: every branch gets the same input; the output maps names to outputs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import attrs
from typing_extensions import TypeVar

from runnables._core.base import RunnableBase
from runnables._core.concurrency import DEFAULT_WIDTH, afan_out, fan_out
from runnables._core.nesting import anested, nested
from runnables._core.public import public
from runnables._core.stopping import Stop, Stopped, current_stop, reset_stop, set_stop
from runnables._core.streaming import AddableDict, close_chunks, closing_chunks
from runnables._core.tee import tee_tasks, tee_threads
from runnables.errors import RunnablesValueError

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.protocol import Branch
    from runnables.schema import Schema

__all__ = ["RunnableParallel"]

In = TypeVar("In", contravariant=True)
# Always `dict[str, Any]` to pyright and plain mypy; the `runnables.mypy` plugin fills in a
# TypedDict of the branches' outputs.
Out = TypeVar("Out", covariant=True, default=dict[str, Any])


def _coerce_branches(branches: Mapping[str, Any]) -> tuple[tuple[str, RunnableBase[Any, Any]], ...]:
    from runnables._primitives.coerce import coerce_to_runnable

    return tuple((key, coerce_to_runnable(value)) for key, value in branches.items())


@public
@attrs.frozen(init=False)
class RunnableParallel(RunnableBase[In, Out]):
    """Run named branches on the same input at once (threads for sync calls, tasks for async)
    and return `{name: output}`; streams each branch's chunks as `{name: chunk}`."""

    branches: tuple[tuple[str, RunnableBase[In, Any]], ...]
    explicit_name: str | None = None

    def __init__(
        self,
        branches: Mapping[str, Branch[In]] | None = None,
        /,
        *,
        name: str | None = None,
        **kwargs: Branch[In],
    ) -> None:
        merged = {**(branches or {}), **kwargs}
        if not merged:
            raise RunnablesValueError("RunnableParallel needs at least one branch")
        self.__attrs_init__(_coerce_branches(merged), name)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]

    @property
    def name(self) -> str:
        return (
            self.explicit_name or f"RunnableParallel<{','.join(key for key, _ in self.branches)}>"
        )

    @property
    def steps(self) -> dict[str, RunnableBase[In, Any]]:
        return dict(self.branches)

    @property
    def input_type(self) -> Any:
        return next((t for _, b in self.branches if (t := b.input_type) is not Any), Any)

    @property
    def output_type(self) -> Any:
        return self.output_schema.type

    @property
    def output_schema(self) -> Schema[Out]:
        from runnables.schema import Schema

        return cast(
            "Schema[Out]",
            Schema.object(
                f"{self.name}Output", {key: branch.output_type for key, branch in self.branches}
            ),
        )

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        return nested(self._invoke_here, input, ctx)

    def _invoke_here(self, input: In, ctx: RunContext) -> Out:
        branches = self.branches
        if len(branches) == 1:
            key, branch = branches[0]
            return cast("Out", {key: branch._call(input, ctx.with_local_tag(f"map:key:{key}"))})
        results: list[Any] = [None] * len(branches)
        stop = Stop(current_stop())
        failures: list[BaseException] = []  # in the order they happened

        def run_branch(index: int) -> None:
            key, branch = branches[index]
            try:
                results[index] = branch._call(input, ctx.with_local_tag(f"map:key:{key}"))
            except BaseException as exc:
                if not isinstance(exc, Stopped):
                    failures.append(exc)
                stop.stopped = True  # the other branches give up at their next step
                raise

        # Set once here: the fan-out's threads run in copies of this context.
        token = set_stop(stop)
        try:
            fan_out(run_branch, len(branches), ctx.max_concurrency or DEFAULT_WIDTH)
        except Stopped:
            if not failures:  # stopped from outside: a parallel around this one failed
                raise
        else:
            return cast(
                "Out", {key: result for (key, _), result in zip(branches, results, strict=True)}
            )
        finally:
            reset_stop(token)
        raise failures[0]  # the failure that stopped the branch fan_out saw first

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        return await anested(self._ainvoke_here, input, ctx)

    async def _ainvoke_here(self, input: In, ctx: RunContext) -> Out:
        branches = self.branches
        if len(branches) == 1:
            key, branch = branches[0]
            output = await branch._acall(input, ctx.with_local_tag(f"map:key:{key}"))
            return cast("Out", {key: output})
        results: list[Any] = [None] * len(branches)

        async def run_branch(index: int) -> None:
            key, branch = branches[index]
            results[index] = await branch._acall(input, ctx.with_local_tag(f"map:key:{key}"))

        await afan_out(run_branch, len(branches), None)
        return cast(
            "Out", {key: result for (key, _), result in zip(branches, results, strict=True)}
        )

    def _transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        # Each branch gets the input chunks as they arrive (one that cannot transform adds
        # them up itself); their outputs stream as `{key: chunk}`.
        branches = self.branches
        if len(branches) == 1:  # inline: a thread would cost some 150 us per stream
            key, branch = branches[0]
            chunks = branch._call_transform(inputs, ctx.with_local_tag(f"map:key:{key}"))
            try:
                for chunk in chunks:
                    yield cast("Out", AddableDict({key: chunk}))
            finally:
                close_chunks(chunks)
            return
        keys = [key for key, _ in branches]
        for index, chunk in tee_threads(
            inputs, self._consumers(ctx), lockstep=ctx.budget is not None
        ):
            yield cast("Out", AddableDict({keys[index]: chunk}))

    def _consumers(self, ctx: RunContext) -> list[Callable[[Iterator[In]], Iterator[Any]]]:
        """Each branch as a consumer of its own copy of the input (for `tee_threads`)."""
        return [
            partial(branch._call_transform, ctx=ctx.with_local_tag(f"map:key:{key}"))
            for key, branch in self.branches
        ]

    def _aconsumers(
        self, ctx: RunContext
    ) -> list[Callable[[AsyncIterator[In]], AsyncIterator[Any]]]:
        """Each branch as a consumer of its own copy of the input (for `tee_tasks`)."""
        return [
            partial(branch._acall_transform, ctx=ctx.with_local_tag(f"map:key:{key}"))
            for key, branch in self.branches
        ]

    async def _atransform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        # Even one branch streams from a task of its own: nested parallels then pass chunks
        # from task to task, not through one async generator per level on one stack.
        keys = [key for key, _ in self.branches]
        async with closing_chunks(
            tee_tasks(inputs, self._aconsumers(ctx), lockstep=ctx.budget is not None)
        ) as merged:
            async for index, chunk in merged:
                yield cast("Out", AddableDict({keys[index]: chunk}))
