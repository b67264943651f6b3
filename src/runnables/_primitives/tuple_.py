"""`RunnableTuple`: every branch gets the same input; the output is a typed tuple."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import attrs

from runnables._core.base import RunnableBase
from runnables._core.public import public
from runnables._primitives.parallel import RunnableParallel
from runnables.errors import RunnablesValueError

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.protocol import SupportsInvoke

__all__ = ["RunnableTuple"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I = TypeVar("I")  # noqa: E741
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
E = TypeVar("E")
F = TypeVar("F")


@public
@attrs.frozen(init=False)
class RunnableTuple(RunnableBase[In, Out]):
    """Run branches on the same input at once, like `RunnableParallel`, and return their
    outputs as a tuple in branch order, so that each position keeps its own type."""

    bound: RunnableParallel[In]
    explicit_name: str | None = None

    @overload
    def __init__(
        self: RunnableTuple[I, tuple[A, B]],
        a: SupportsInvoke[I, A],
        b: SupportsInvoke[I, B],
        /,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableTuple[I, tuple[A, B, C]],
        a: SupportsInvoke[I, A],
        b: SupportsInvoke[I, B],
        c: SupportsInvoke[I, C],
        /,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableTuple[I, tuple[A, B, C, D]],
        a: SupportsInvoke[I, A],
        b: SupportsInvoke[I, B],
        c: SupportsInvoke[I, C],
        d: SupportsInvoke[I, D],
        /,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableTuple[I, tuple[A, B, C, D, E]],
        a: SupportsInvoke[I, A],
        b: SupportsInvoke[I, B],
        c: SupportsInvoke[I, C],
        d: SupportsInvoke[I, D],
        e: SupportsInvoke[I, E],
        /,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableTuple[I, tuple[A, B, C, D, E, F]],
        a: SupportsInvoke[I, A],
        b: SupportsInvoke[I, B],
        c: SupportsInvoke[I, C],
        d: SupportsInvoke[I, D],
        e: SupportsInvoke[I, E],
        f: SupportsInvoke[I, F],
        /,
        *,
        name: str | None = None,
    ) -> None: ...
    def __init__(self, *branches: Any, name: str | None = None) -> None:
        if len(branches) < 2:
            raise RunnablesValueError("RunnableTuple needs at least two branches")
        parallel = RunnableParallel[In]({str(i): b for i, b in enumerate(branches)})
        self.__attrs_init__(parallel, name)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]

    @property
    def branches(self) -> tuple[RunnableBase[In, Any], ...]:
        return tuple(branch for _, branch in self.bound.branches)

    @property
    def name(self) -> str:
        return (
            self.explicit_name
            or f"RunnableTuple<{','.join(branch.name for branch in self.branches)}>"
        )

    @property
    def input_type(self) -> Any:
        return self.bound.input_type

    @property
    def output_type(self) -> Any:
        return tuple.__class_getitem__(tuple(branch.output_type for branch in self.branches))

    def _to_tuple(self, result: dict[str, Any]) -> Out:
        return cast("Out", tuple(result[key] for key, _ in self.bound.branches))

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        return self._to_tuple(self.bound._call(input, ctx))

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        return self._to_tuple(await self.bound._acall(input, ctx))
