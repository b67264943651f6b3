"""`RunnableBranch`: run the first branch whose condition holds, else the default."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union, cast, overload

import attrs

from runnables._core.base import RunnableBase
from runnables._core.public import public
from runnables._core.streaming import aaggregate, aggregate, aone, closing_chunks
from runnables._primitives.coerce import coerce_to_runnable
from runnables.errors import RunnablesTypeError, RunnablesValueError

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.protocol import SupportsInvoke

__all__ = ["RunnableBranch"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I1 = TypeVar("I1")
O1 = TypeVar("O1")


@public
@attrs.frozen(init=False)
class RunnableBranch(RunnableBase[In, Out], Generic[In, Out]):
    """`RunnableBranch((cond, r1), (cond2, r2), default)`: the first branch whose condition is
    truthy runs on the input; if none is, `default` does."""

    branches: tuple[tuple[RunnableBase[In, Any], RunnableBase[In, Out]], ...]
    default: RunnableBase[In, Out]

    @overload
    def __init__(
        self: RunnableBranch[I1, O1],
        *branches: tuple[
            SupportsInvoke[I1, object] | Callable[[I1], object],
            SupportsInvoke[I1, O1] | Callable[[I1], O1],
        ],
        default: SupportsInvoke[I1, O1] | Callable[[I1], O1],
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableBranch[I1, O1],
        *branches_and_default: tuple[
            SupportsInvoke[I1, object] | Callable[[I1], object],
            SupportsInvoke[I1, O1] | Callable[[I1], O1],
        ]
        | SupportsInvoke[I1, O1]
        | Callable[[I1], O1],
    ) -> None: ...
    def __init__(self, *branches: Any, default: Any = None) -> None:
        pairs_given: list[Any] = list(branches)
        if default is None:
            if not pairs_given or isinstance(pairs_given[-1], tuple):
                raise RunnablesValueError(
                    "RunnableBranch needs a default branch last: RunnableBranch((cond, r), ..., default)"
                )
            default = pairs_given.pop()
        pairs: list[tuple[RunnableBase[Any, Any], RunnableBase[Any, Any]]] = []
        for position, pair in enumerate(pairs_given, 1):
            if not isinstance(pair, tuple) or len(cast("tuple[Any, ...]", pair)) != 2:
                raise RunnablesTypeError(
                    f"RunnableBranch branch {position} must be a (condition, runnable) pair, got {pair!r}"
                )
            condition, branch = cast("tuple[Any, Any]", pair)
            pairs.append((coerce_to_runnable(condition), coerce_to_runnable(branch)))
        if not pairs:
            raise RunnablesValueError(
                "RunnableBranch needs at least one (condition, runnable) pair before the default"
            )
        self.__attrs_init__(tuple(pairs), coerce_to_runnable(default))  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]

    @property
    def input_type(self) -> Any:
        candidates = [r.input_type for pair in self.branches for r in pair] + [
            self.default.input_type
        ]
        return next((t for t in candidates if t is not Any), Any)

    @property
    def output_type(self) -> Any:
        outputs = [branch.output_type for _, branch in self.branches] + [self.default.output_type]
        return Any if Any in outputs else Union[tuple(outputs)]  # noqa: UP007

    def _choose(self, input: In, ctx: RunContext) -> tuple[RunnableBase[In, Out], str]:
        for position, (condition, branch) in enumerate(self.branches, 1):
            if condition._call(input, ctx.with_local_tag(f"condition:{position}")):
                return branch, f"branch:{position}"
        return self.default, "branch:default"

    async def _achoose(self, input: In, ctx: RunContext) -> tuple[RunnableBase[In, Out], str]:
        for position, (condition, branch) in enumerate(self.branches, 1):
            if await condition._acall(input, ctx.with_local_tag(f"condition:{position}")):
                return branch, f"branch:{position}"
        return self.default, "branch:default"

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        branch, tag = self._choose(input, ctx)
        return branch._call(input, ctx.with_local_tag(tag))

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        branch, tag = await self._achoose(input, ctx)
        return await branch._acall(input, ctx.with_local_tag(tag))

    def _transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        input = aggregate(inputs)
        branch, tag = self._choose(input, ctx)
        yield from branch._call_transform(iter((input,)), ctx.with_local_tag(tag))

    async def _atransform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        input = await aaggregate(inputs)
        branch, tag = await self._achoose(input, ctx)
        async with closing_chunks(
            branch._acall_transform(aone(input), ctx.with_local_tag(tag))
        ) as chunks:
            async for chunk in chunks:
                yield chunk
