"""`RunnableGenerator`: a stream transformer that consumes its input chunk by chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar, overload

import attrs

from runnables._core.base import RunnableBase
from runnables._core.context import RunContext
from runnables._core.interop import aiter_sync, atransform_in_thread, iterate_blocking
from runnables._core.leaf import (
    aleaf_iter,
    aleaf_iter_in_threads,
    fed_aiter,
    fed_feed,
    fed_iter,
    leaf_iter,
)
from runnables._core.public import public
from runnables._core.streaming import aaggregate, aggregate, aone
from runnables._core.types import function_types
from runnables._primitives.lambda_ import function_kind, function_name
from runnables.errors import RunnablesTypeError

__all__ = ["RunnableGenerator"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I1 = TypeVar("I1")
O1 = TypeVar("O1")


@public
@attrs.frozen(init=False)
class RunnableGenerator(RunnableBase[In, Out]):
    """Lift `Iterator[In] -> Iterator[Out]` (or the async-iterator form, or both) into a runnable
    that keeps a chain streaming: it sees each input chunk as it arrives."""

    transform_fn: Callable[[Iterator[Any]], Iterator[Any]] | None
    atransform_fn: Callable[[AsyncIterator[Any]], AsyncIterator[Any]] | None
    explicit_name: str | None = None

    @overload
    def __init__(
        self: RunnableGenerator[I1, O1],
        transform: Callable[[Iterator[I1]], Iterator[O1]],
        atransform: Callable[[AsyncIterator[I1]], AsyncIterator[O1]] | None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableGenerator[I1, O1],
        transform: Callable[[AsyncIterator[I1]], AsyncIterator[O1]],
        *,
        name: str | None = None,
    ) -> None: ...
    def __init__(
        self,
        transform: Callable[..., Any],
        atransform: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        sync_fn: Any = None
        async_fn: Any = atransform
        kind = function_kind(transform)
        if kind == "async generator":
            if atransform is not None:
                raise RunnablesTypeError("give the sync transform first and the async one second")
            async_fn = transform
        elif kind == "generator" or callable(transform):
            sync_fn = transform
        else:
            raise RunnablesTypeError(
                f"RunnableGenerator needs a generator function, got {transform!r}"
            )
        self.__attrs_init__(sync_fn, async_fn, name)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]

    @property
    def name(self) -> str:
        if self.explicit_name:
            return self.explicit_name
        func: Callable[..., Any] | None = self.transform_fn or self.atransform_fn
        return function_name(func, "RunnableGenerator") if func is not None else "RunnableGenerator"

    @property
    def input_type(self) -> Any:
        return self._types()[0]

    @property
    def output_type(self) -> Any:
        return self._types()[1]

    def _types(self) -> tuple[Any, Any]:
        func: Callable[..., Any] | None = self.transform_fn or self.atransform_fn
        return function_types(func, transforms=True) if func is not None else (Any, Any)

    # Given one whole input (invoke, batch, a stream of its own), the transform function is a
    # leaf like any other: it holds a slot of the call's `max_concurrency` budget for its
    # whole stream and lends it to the runnables it calls. Fed chunk by chunk by the steps
    # before it in a streamed chain, it holds a slot only while its code runs, given back
    # while it waits for each input chunk: those steps hold their slots until their streams
    # end, so it borrows the slot of the paused leaf stream feeding it (see `leaf.Feed`).

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        return aggregate(self._stream(input, ctx), output_of=self.name)

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        return await aaggregate(self._astream(input, ctx), output_of=self.name)

    def _stream(self, input: In, ctx: RunContext) -> Iterator[Out]:
        if self.transform_fn is not None:
            return leaf_iter(ctx, self.transform_fn, iter((input,)))
        afn = self.atransform_fn
        assert afn is not None
        return iterate_blocking(lambda: aleaf_iter(ctx, afn, aone(input)))

    def _astream(self, input: In, ctx: RunContext) -> AsyncIterator[Out]:
        if self.atransform_fn is not None:
            return aleaf_iter(ctx, self.atransform_fn, aone(input))
        assert self.transform_fn is not None
        return aleaf_iter_in_threads(ctx, self.transform_fn, iter((input,)))

    def _transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        if self.transform_fn is not None:
            return fed_iter(ctx, self.transform_fn, inputs)
        afn = self.atransform_fn
        assert afn is not None
        return iterate_blocking(lambda: fed_aiter(ctx, afn, aiter_sync(inputs)))

    def _atransform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        if self.atransform_fn is not None:
            return fed_aiter(ctx, self.atransform_fn, inputs)
        transform_fn = self.transform_fn
        assert transform_fn is not None
        feed = fed_feed(ctx)  # here, where its input is pulled
        return atransform_in_thread(
            lambda chunks: fed_iter(ctx, transform_fn, chunks, feed), inputs
        )
