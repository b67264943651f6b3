"""The guarded call of user code: every leaf (lifted functions, generators, models, tools,
retrievers) goes through here, so the order is the same everywhere:

1. hold a `max_concurrency` slot of the call's budget (if it has one), for the whole call or
   the whole stream;
2. publish the run context around each step of user code (so runnables called inside it
   become child runs, sharing the budget and borrowing the slot: see `budget`);
3. call the user code (in a worker thread when sync code is reached from async code).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import closing
from functools import partial
from typing import Any, TypeVar

from runnables._core.budget import Slot
from runnables._core.context import CURRENT, ROOT, RunContext, enter, enter_nested, leave
from runnables._core.interop import aiterate_in_threads, run_in_worker_thread
from runnables._core.streaming import aclose_chunks, close_chunks, closing_chunks

__all__ = [
    "aleaf",
    "aleaf_in_thread",
    "aleaf_iter",
    "aleaf_iter_in_threads",
    "in_context",
    "leaf",
    "leaf_iter",
]

T = TypeVar("T")


def in_context(
    ctx: RunContext, func: Callable[..., T], *args: Any, _slot: Slot | None = None, **kwargs: Any
) -> T:
    """`func(*args, **kwargs)` with `ctx` published to the code it runs, which holds `_slot`
    if given (step 2 only)."""
    token = enter(ctx, _slot)
    try:
        return func(*args, **kwargs)
    finally:
        leave(token)


def _take_blocking(ctx: RunContext) -> Slot | None:
    """A slot of the call's budget, taken (blocking this thread until one is free); None
    when the call has no budget."""
    budget = ctx.budget
    if budget is None:
        return None
    slot = Slot(budget, ctx.lender)
    budget.acquire_blocking(slot)
    return slot


async def _take(ctx: RunContext) -> Slot | None:
    """`_take_blocking` from async code (waiting without blocking the event loop)."""
    budget = ctx.budget
    if budget is None:
        return None
    slot = Slot(budget, ctx.lender)
    if not budget.try_acquire(slot):
        await budget.acquire(slot)
    return slot


def _give_back(slot: Slot | None) -> None:
    """The leaf holding `slot` (if any) has returned."""
    if slot is not None:
        slot.budget.end(slot)


def leaf(ctx: RunContext, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call sync user code from sync code, as a leaf."""
    if ctx is ROOT:  # nothing to hold, nothing to publish
        return func(*args, **kwargs)
    slot = _take_blocking(ctx)
    try:
        return in_context(ctx, func, *args, _slot=slot, **kwargs)
    finally:
        _give_back(slot)


async def aleaf(ctx: RunContext, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Await async user code from async code, as a leaf."""
    if ctx is ROOT:
        return await func(*args, **kwargs)
    slot = await _take(ctx) if ctx.budget is not None else None
    token = enter(ctx, slot)
    try:
        return await func(*args, **kwargs)
    finally:
        leave(token)
        _give_back(slot)


async def aleaf_in_thread(ctx: RunContext, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call sync user code from async code, as a leaf, in a worker thread (the slot is taken
    here, without blocking the loop; cancelling waits for the call to return)."""
    call = partial(func, **kwargs) if kwargs else func
    if ctx.budget is None:
        return await run_in_worker_thread(in_context, ctx, call, *args)
    slot = await _take(ctx)
    try:
        return await run_in_worker_thread(partial(in_context, _slot=slot), ctx, call, *args)
    finally:
        _give_back(slot)


class _Stepped(Iterator[T]):
    """A sync stream advanced, and closed, with `ctx` published around each step."""

    __slots__ = ("_chunks", "_nested")

    def __init__(self, ctx: RunContext, chunks: Iterator[T], slot: Slot | None) -> None:
        self._nested = ctx.nested(slot)
        self._chunks = chunks

    def __next__(self) -> T:
        token = enter_nested(self._nested)
        try:
            return next(self._chunks)
        finally:
            leave(token)

    def close(self) -> None:
        token = enter_nested(self._nested)
        try:
            close_chunks(self._chunks)
        finally:
            leave(token)


def leaf_iter(
    ctx: RunContext, func: Callable[..., Iterator[T]], *args: Any, **kwargs: Any
) -> Iterator[T]:
    """Iterate a sync user generator from sync code, as a leaf (closed however this ends).
    (With nothing to hold or publish, the user's generator is the stream itself.)"""
    if ctx is ROOT:
        return func(*args, **kwargs)
    return _leaf_iter(ctx, func, *args, **kwargs)


def _leaf_iter(
    ctx: RunContext, func: Callable[..., Iterator[T]], *args: Any, **kwargs: Any
) -> Iterator[T]:
    slot = _take_blocking(ctx)
    try:
        chunks = in_context(ctx, func, *args, _slot=slot, **kwargs)
        with closing(_Stepped(ctx, chunks, slot)) as stepped:
            yield from stepped
    finally:
        _give_back(slot)


def aleaf_iter(
    ctx: RunContext, func: Callable[..., AsyncIterator[T]], *args: Any, **kwargs: Any
) -> AsyncIterator[T]:
    """Iterate an async user generator from async code, as a leaf. The context is published
    around each step only, so the stream may be advanced from different tasks. (With nothing
    to hold or publish, the user's generator is the stream itself: one layer fewer.)"""
    if ctx is ROOT:
        return func(*args, **kwargs)
    return LeafStream(ctx, partial(func, *args, **kwargs))


class LeafStream(AsyncIterator[T]):
    """An async user generator iterated as a leaf: `open` takes a slot of the call's budget
    (held until the stream ends) and makes the generator with the context published; each
    step then runs with `nested` published. A traced stream advances `chunks` itself, one
    layer fewer per chunk (see `TracedStream`)."""

    __slots__ = ("_ctx", "_make", "_slot", "chunks", "nested")

    def __init__(self, ctx: RunContext, make: Callable[[], AsyncIterator[T]]) -> None:
        self._ctx = ctx
        self._make: Callable[[], AsyncIterator[T]] | None = make
        self._slot: Slot | None = None
        self.chunks: AsyncIterator[T] | None = None  # the user's generator, once open
        self.nested = ctx

    def __aiter__(self) -> LeafStream[T]:
        return self

    async def open(self) -> AsyncIterator[T]:
        """Take the slot and make the user's generator (once); raise `StopAsyncIteration`
        once the stream has ended."""
        make, self._make = self._make, None
        if make is None:
            raise StopAsyncIteration
        ctx = self._ctx
        slot = self._slot = await _take(ctx) if ctx.budget is not None else None
        self.nested = ctx.nested(slot)
        try:
            chunks = self.chunks = in_context(ctx, make, _slot=slot)
        except BaseException:
            self.end()
            raise
        return chunks

    async def __anext__(self) -> T:
        chunks = self.chunks
        if chunks is None:
            chunks = await self.open()
        token = CURRENT.set(self.nested)  # `enter_nested`/`leave`, per chunk
        try:
            return await chunks.__anext__()
        except BaseException:
            self.end()  # the generator has finished, or failed
            raise
        finally:
            CURRENT.reset(token)

    def end(self) -> None:
        """The generator has finished: give the slot back (once)."""
        self._make = None
        slot, self._slot = self._slot, None
        _give_back(slot)

    async def aclose(self) -> None:
        """Close the user's generator (with the context published) and give the slot back."""
        self._make = None
        chunks = self.chunks
        try:
            if chunks is not None:
                token = enter_nested(self.nested)
                try:
                    await aclose_chunks(chunks)
                finally:
                    leave(token)
        finally:
            self.end()


async def aleaf_iter_in_threads(
    ctx: RunContext, func: Callable[..., Iterator[T]], *args: Any, **kwargs: Any
) -> AsyncIterator[T]:
    """Iterate a sync user generator from async code, as a leaf: each step in a worker thread,
    the slot held here for the whole stream."""
    slot = await _take(ctx)
    try:
        chunks = await run_in_worker_thread(
            partial(in_context, _slot=slot), ctx, partial(func, **kwargs) if kwargs else func, *args
        )
        async with closing_chunks(aiterate_in_threads(_Stepped(ctx, chunks, slot))) as stepped:
            async for chunk in stepped:
                yield chunk
    finally:
        _give_back(slot)
