"""`RunnableEach`: apply a runnable to every element of a sequence."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from runnables._core.base import RunnableBase
from runnables._core.concurrency import (
    DEFAULT_WIDTH,
    afan_out,
    afan_out_as_completed,
    fan_out,
    fan_out_as_completed,
)
from runnables._core.public import public
from runnables._core.streaming import closing_chunks

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.protocol import SupportsInvoke

__all__ = ["RunnableEach"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I1 = TypeVar("I1")
O1 = TypeVar("O1")


# Covariant in `Out` although `list` is invariant: every call returns a fresh list that nothing
# else holds, so a `RunnableEach[str, bool]` may stand where a `RunnableEach[str, int]` is wanted.
@public
@attrs.frozen(init=False)
class RunnableEach(RunnableBase[Sequence[In], list[Out]]):  # pyright: ignore[reportInvalidTypeArguments]
    """`bound` over each element, concurrently; streams `[output]` chunks in element order."""

    bound: RunnableBase[In, Out]

    def __init__(self: RunnableEach[I1, O1], bound: SupportsInvoke[I1, O1]) -> None:
        from runnables._primitives.coerce import coerce_to_runnable

        self.__attrs_init__(coerce_to_runnable(bound))  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]

    @property
    def name(self) -> str:
        return f"RunnableEach<{self.bound.name}>"

    @property
    def input_type(self) -> Any:
        return list[self.bound.input_type]  # type: ignore[name-defined]

    @property
    def output_type(self) -> Any:
        return list[self.bound.output_type]  # type: ignore[name-defined]

    def _elements(self, input: Sequence[In]) -> list[In]:
        """The inputs to map over; a `TypeError` naming this step if `input` has none."""
        try:
            return list(input)
        except TypeError:
            if isinstance(input, Iterable):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
                raise  # an iterable that failed while iterating: its own error
            raise TypeError(
                f"{self.name} maps over a sequence of inputs, got {type(input).__name__}: "
                f"{input!r:.80}"
            ) from None

    def _invoke(self, input: Sequence[In], ctx: RunContext) -> list[Out]:
        items = self._elements(input)
        results: list[Any] = [None] * len(items)

        def run_one(index: int) -> None:
            results[index] = self.bound._call(items[index], ctx)

        fan_out(run_one, len(items), ctx.max_concurrency or DEFAULT_WIDTH)
        return results

    async def _ainvoke(self, input: Sequence[In], ctx: RunContext) -> list[Out]:
        items = self._elements(input)
        results: list[Any] = [None] * len(items)

        async def run_one(index: int) -> None:
            results[index] = await self.bound._acall(items[index], ctx)

        await afan_out(run_one, len(items), ctx.max_concurrency)
        return results

    def _stream(self, input: Sequence[In], ctx: RunContext) -> Iterator[list[Out]]:
        items = self._elements(input)
        if not items:  # one chunk, the empty output, as every stream has at least one
            yield []
            return
        finished = fan_out_as_completed(
            lambda index: self.bound._call(items[index], ctx),
            len(items),
            ctx.max_concurrency or DEFAULT_WIDTH,
        )
        yield from _in_order(finished)

    async def _astream(self, input: Sequence[In], ctx: RunContext) -> AsyncIterator[list[Out]]:
        items = self._elements(input)
        if not items:
            yield []
            return

        async def run_one(index: int) -> Out:
            return await self.bound._acall(items[index], ctx)

        pending: dict[int, Out] = {}
        next_index = 0
        async with closing_chunks(
            afan_out_as_completed(run_one, len(items), ctx.max_concurrency)
        ) as finished:
            async for index, output in finished:
                pending[index] = output
                while next_index in pending:
                    yield [pending.pop(next_index)]
                    next_index += 1


def _in_order(finished: Iterator[tuple[int, Out]]) -> Iterator[list[Out]]:
    """Re-order `(index, output)` pairs, yielding `[output]` as soon as all before it are out."""
    pending: dict[int, Out] = {}
    next_index = 0
    for index, output in finished:
        pending[index] = output
        while next_index in pending:
            yield [pending.pop(next_index)]
            next_index += 1
