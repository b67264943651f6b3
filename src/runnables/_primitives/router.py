"""`RouterRunnable`: route `{"key": ..., "input": ...}` to one of a mapping of runnables."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import attrs
from typing_extensions import TypedDict

from runnables._core.base import RunnableBase
from runnables._core.public import public
from runnables._core.streaming import aaggregate, aggregate, aone, closing_chunks
from runnables._primitives.coerce import coerce_to_runnable
from runnables._primitives.parallel import RunnableParallel
from runnables.errors import RunnablesTypeError, RunnablesValueError

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.protocol import SupportsInvoke

__all__ = ["RouterInput", "RouterRunnable", "RunnableMap"]

Out = TypeVar("Out", covariant=True)
O1 = TypeVar("O1")

#: LangChain's name for `RunnableParallel`.
RunnableMap = RunnableParallel


@public
class RouterInput(TypedDict):
    """The input of a `RouterRunnable`: which runnable (`key`) gets which `input`."""

    key: str
    input: Any


@public
@attrs.frozen(init=False)
class RouterRunnable(RunnableBase[RouterInput, Out]):
    """Call the runnable named by the input's `key` on the input's `input`.

    Like a binding it adds no run of its own: the chosen runnable's run is the one traced.
    An unknown key is a `ValueError` naming the known ones.
    """

    routes: tuple[tuple[str, RunnableBase[Any, Out]], ...]

    # A dict mixing runnables and functions is typed `Any`: checkers join its values to
    # `object` before matching them against a union.
    @overload
    def __init__(
        self: RouterRunnable[O1], runnables: Mapping[str, SupportsInvoke[Any, O1]]
    ) -> None: ...
    @overload
    def __init__(
        self: RouterRunnable[O1], runnables: Mapping[str, Callable[[Any], O1]]
    ) -> None: ...
    @overload
    def __init__(
        self: RouterRunnable[Any],
        runnables: Mapping[str, SupportsInvoke[Any, Any] | Callable[[Any], Any]],
    ) -> None: ...
    def __init__(
        self, runnables: Mapping[str, SupportsInvoke[Any, Any] | Callable[[Any], Any]]
    ) -> None:
        routes = tuple((key, coerce_to_runnable(value)) for key, value in runnables.items())
        self.__attrs_init__(routes)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]

    @property
    def runnables(self) -> dict[str, RunnableBase[Any, Out]]:
        """The routes, by key (LangChain's name)."""
        return dict(self.routes)

    def _route(self, input: RouterInput) -> tuple[RunnableBase[Any, Out], Any]:
        if (
            not isinstance(cast("object", input), Mapping)
            or "key" not in input
            or "input" not in input
        ):
            raise RunnablesTypeError(
                f"RouterRunnable needs a dict with 'key' and 'input', got {input!r:.200}"
            )
        key = input["key"]
        runnable = next((r for k, r in self.routes if k == key), None)
        if runnable is None:
            raise RunnablesValueError(
                f"RouterRunnable has no runnable for key {key!r}; known keys: "
                f"{sorted(k for k, _ in self.routes)!r}"
            )
        return runnable, input["input"]

    def _call(self, input: RouterInput, ctx: RunContext) -> Out:
        runnable, actual = self._route(input)
        return runnable._call(actual, ctx)

    async def _acall(self, input: RouterInput, ctx: RunContext) -> Out:
        runnable, actual = self._route(input)
        return await runnable._acall(actual, ctx)

    def _call_transform(self, inputs: Iterator[RouterInput], ctx: RunContext) -> Iterator[Out]:
        runnable, actual = self._route(aggregate(inputs))
        return runnable._call_transform(iter((actual,)), ctx)

    async def _acall_transform(
        self, inputs: AsyncIterator[RouterInput], ctx: RunContext
    ) -> AsyncIterator[Out]:
        runnable, actual = self._route(await aaggregate(inputs))
        async with closing_chunks(runnable._acall_transform(aone(actual), ctx)) as chunks:
            async for chunk in chunks:
                yield chunk

    _invoke = _call
    _ainvoke = _acall
    _transform = _call_transform
    _atransform = _acall_transform
