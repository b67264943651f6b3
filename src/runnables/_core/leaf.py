"""The guarded call of user code: every leaf (lifted functions, generators, models, tools,
retrievers) goes through here, so the order is the same everywhere:

1. hold a `max_concurrency` slot of the call's budget (if it has one), for the whole call or
   the whole stream;
2. publish the run context around each step of user code (so runnables called inside it
   become child runs, sharing the budget and borrowing the slot: see `budget`), and enter
   what callbacks publish to their run's code, if any (see `scopes`);
3. call the user code (in a worker thread when sync code is reached from async code).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import closing
from contextvars import ContextVar
from functools import partial
from typing import Any, TypeVar

from runnables._core.budget import Budget, Slot
from runnables._core.context import CURRENT, ROOT, RunContext, enter, enter_nested, leave
from runnables._core.interop import aiterate_in_threads, run_in_worker_thread
from runnables._core.scopes import ascoped, ascoped_chunks, scoped, scoped_chunks, scopes_of
from runnables._core.stopping import Stopped, current_stop
from runnables._core.streaming import aclose_chunks, close_chunks, closing_chunks

__all__ = [
    "aleaf",
    "aleaf_in_thread",
    "aleaf_iter",
    "aleaf_iter_in_threads",
    "fed_aiter",
    "fed_iter",
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
    if ctx.handlers.code_scopes:
        func = scoped(scopes_of(ctx), func)
    slot = _take_blocking(ctx)
    try:
        return in_context(ctx, func, *args, _slot=slot, **kwargs)
    finally:
        _give_back(slot)


async def aleaf(ctx: RunContext, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Await async user code from async code, as a leaf."""
    if ctx is ROOT:
        return await func(*args, **kwargs)
    if ctx.handlers.code_scopes:
        func = ascoped(scopes_of(ctx), func)
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
    if ctx.handlers.code_scopes:
        call = scoped(scopes_of(ctx), call)
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
        if (stop := current_stop()) is not None and stop.is_set():
            raise Stopped  # a sibling of a sync parallel above has failed
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


class _SlotStepped(_Stepped[T]):
    """`_Stepped` for a stream holding a slot: each step takes the slot back from the stream
    consumers that borrow it while the stream is paused (see `Budget.step_in`)."""

    __slots__ = ("_budget", "_slot")

    def __init__(self, ctx: RunContext, chunks: Iterator[T], slot: Slot) -> None:
        super().__init__(ctx, chunks, slot)
        self._slot = slot
        self._budget = slot.budget

    def __next__(self) -> T:
        if (stop := current_stop()) is not None and stop.is_set():
            raise Stopped
        slot, budget = self._slot, self._budget
        budget.step_in_blocking(slot)
        token = enter_nested(self._nested)
        try:
            return next(self._chunks)
        finally:
            leave(token)
            budget.step_out(slot)


def _stepped(ctx: RunContext, chunks: Iterator[T], slot: Slot | None) -> _Stepped[T]:
    return _Stepped(ctx, chunks, slot) if slot is None else _SlotStepped(ctx, chunks, slot)


class _ASlotSteps(AsyncIterator[T]):
    """An async stream holding a slot, stepped as `_SlotStepped` is."""

    __slots__ = ("_chunks", "_slot")

    def __init__(self, chunks: AsyncIterator[T], slot: Slot) -> None:
        self._chunks = chunks
        self._slot = slot

    async def __anext__(self) -> T:
        slot = self._slot
        await slot.budget.step_in(slot)
        try:
            return await self._chunks.__anext__()
        finally:
            slot.budget.step_out(slot)

    async def aclose(self) -> None:
        await aclose_chunks(self._chunks)


def leaf_iter(
    ctx: RunContext, func: Callable[..., Iterator[T]], *args: Any, **kwargs: Any
) -> Iterator[T]:
    """Iterate a sync user generator from sync code, as a leaf (closed however this ends).
    (With nothing to hold, publish or stop, the user's generator is the stream itself.)"""
    if ctx is ROOT and current_stop() is None:
        return func(*args, **kwargs)
    return _leaf_iter(ctx, func, *args, **kwargs)


def _leaf_iter(
    ctx: RunContext, func: Callable[..., Iterator[T]], *args: Any, **kwargs: Any
) -> Iterator[T]:
    if ctx.handlers.code_scopes:
        func = scoped_chunks(scopes_of(ctx), func)
    slot = _take_blocking(ctx)
    try:
        _opened(slot)
        chunks = in_context(ctx, func, *args, _slot=slot, **kwargs)
        with closing(_stepped(ctx, chunks, slot)) as stepped:
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
    if ctx.handlers.code_scopes:
        func = ascoped_chunks(scopes_of(ctx), func)
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
        _opened(slot)
        self.nested = ctx.nested(slot)
        try:
            chunks = in_context(ctx, make, _slot=slot)
            if slot is not None:
                chunks = _ASlotSteps(chunks, slot)
            self.chunks = chunks
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
    if ctx.handlers.code_scopes:
        func = scoped_chunks(scopes_of(ctx), func)
    slot = await _take(ctx)
    try:
        _opened(slot)
        chunks = await run_in_worker_thread(
            partial(in_context, _slot=slot), ctx, partial(func, **kwargs) if kwargs else func, *args
        )
        async with closing_chunks(aiterate_in_threads(_stepped(ctx, chunks, slot))) as stepped:
            async for chunk in stepped:
                yield chunk
    finally:
        _give_back(slot)


# -- stream consumers: user code fed chunk by chunk by the steps before it

#: The slots of the leaf streams opened in this task (and the tasks and threads it started
#: since it first opened one, which share the list): idle whenever their streams are paused
#: at a `yield`, so a stream consumer's code may run on them (see `Feed`).
_OPEN: ContextVar[list[Slot] | None] = ContextVar("runnables_open_streams", default=None)


def _opened(slot: Slot | None) -> None:
    """Note the slot of a leaf stream that has just opened (dropping those of ended ones)."""
    if slot is None:
        return
    slot.budget.opened(slot)
    open_ = _OPEN.get()
    if open_ is None:
        _OPEN.set([slot])
        return
    if len(open_) > 4:
        open_[:] = [s for s in open_ if not s.done]
    open_.append(slot)


class Feed:
    """The slot of a stream consumer (a `RunnableGenerator` fed chunk by chunk), held while
    its code runs and given back each time it asks for an input chunk.

    The leaf streams before it hold their slots until they end, so waiting for a slot of its
    own would deadlock at max_concurrency=1. But while its code runs, they are paused at a
    `yield`, their slots idle: it borrows one (the latest opened, a free one if any; never one
    whose own code runs a step, nor a consumer's paused for input), and the runnables its code
    calls borrow from it in turn. Its own code's steps are marked as a stream's are
    (`step_in`, `step_out`), since consumers after it borrow its slot in turn. With no such stream (before its first
    input chunk, after the last, or fed by steps that hold nothing) it takes a slot as any
    leaf does. Per chunk, the common case is two flag flips (`Budget.pause`, `resume`): the
    consumer keeps its slot, and runs on it again if the stream's slot is idle once more.
    """

    __slots__ = ("_budget", "_budgets", "_ctx", "_paused", "_slot", "_stepping", "nested")

    def __init__(self, ctx: RunContext, budget: Budget) -> None:
        self._ctx = ctx
        self._budget = budget
        budgets: list[Budget] = []
        above: Budget | None = budget
        while above is not None:
            budgets.append(above)
            above = above.parent
        self._budgets = tuple(budgets)
        self._slot: Slot | None = None
        self._paused = False  # `_slot` is kept while the consumer waits for a chunk
        self._stepping = False  # its code runs (not paused at a `yield`)
        self.nested = ctx.nested()  # what its code sees: `ctx` lending its current slot
        if _OPEN.get() is None:  # made now, to be shared with the tasks that feed it
            _OPEN.set([])

    def _next(self) -> Slot:
        """A slot to take: borrowing a paused stream's if there is one (waiting for it, or any
        other slot, if it is lent), else the one lent to the consumer's caller."""
        lender = None
        for slot in reversed(_OPEN.get() or ()):
            if not slot.done and not slot.paused and slot.budget in self._budgets:
                if slot.free:
                    lender = slot
                    break
                lender = lender or slot
        if lender is None:
            # None opened where this consumer's input is pulled (as when a sync stream's
            # steps run on an event loop of their own): any stream of the budget that is
            # idle, lest this wait for a slot those steps hold.
            lender = next(filter(None, map(Budget.paused, self._budgets)), None)
        if lender is not None:
            return Slot(self._budget, lender, fed=True)
        return Slot(self._budget, self._ctx.lender)

    def _took(self, slot: Slot) -> None:
        self._slot = slot
        slot.running = self._stepping
        _opened(slot)  # idle in turn while the consumer is paused at a `yield`
        self.nested = self._ctx.nested(slot)

    def step_in_blocking(self) -> None:
        """The consumer's code runs a step (see `Budget.step_in`)."""
        self._stepping = True
        slot = self._slot
        if slot is not None:
            self._budget.step_in_blocking(slot)

    async def step_in(self) -> None:
        """`step_in_blocking` from a task."""
        self._stepping = True
        slot = self._slot
        if slot is not None:
            await self._budget.step_in(slot)

    def step_out(self) -> None:
        """The consumer is paused at a `yield` (or has ended)."""
        self._stepping = False
        slot = self._slot
        if slot is not None:
            self._budget.step_out(slot)

    def resume(self) -> bool:
        """Whether the consumer runs on its paused slot again (see `Budget.resume`); if not,
        it is to `take` a new one."""
        slot = self._slot
        if slot is None:
            return False
        self._paused = False
        if self._budget.resume(slot):
            return True
        self._slot = None
        return False

    def take_blocking(self) -> None:
        """Take a new slot, blocking this thread until one is free."""
        slot = self._next()
        budget = self._budget
        if slot.lender is not None:
            budget.acquire_blocking(slot)
        elif not budget.try_acquire(slot):
            budget.acquire_or_stream_blocking(slot)
        self._took(slot)

    async def take(self) -> None:
        """Take a new slot, waiting without blocking the event loop."""
        slot = self._next()
        budget = self._budget
        if not budget.try_acquire(slot):
            if slot.lender is not None:
                await budget.acquire(slot)
            else:
                await budget.acquire_or_stream(slot)
        self._took(slot)

    def give(self) -> None:
        """The consumer's code waits (for its input) or has ended: give its slot back (once
        the runnables it lent the slot to are done with it), or keep it paused."""
        slot = self._slot
        if slot is None or self._paused:
            return
        if self._budget.pause(slot):
            self._paused = True
            return
        self._slot = None
        slot.budget.end(slot)

    def close(self) -> None:
        """The consumer has ended: `give`, for good."""
        self.give()
        slot, self._slot = self._slot, None
        if slot is not None:
            slot.done = True  # paused: it holds nothing, and is no stream to borrow from


class _FedChunks(Iterator[T]):
    """A sync consumer's input: the slot is given back while it waits for each chunk."""

    __slots__ = ("_chunks", "_feed")

    def __init__(self, chunks: Iterator[T], feed: Feed) -> None:
        self._chunks = chunks
        self._feed = feed

    def __next__(self) -> T:
        feed = self._feed
        feed.give()
        try:
            chunk = next(self._chunks)
        except Exception:
            self._resume()
            raise
        self._resume()
        return chunk

    def _resume(self) -> None:
        feed = self._feed
        if not feed.resume():
            feed.take_blocking()
            CURRENT.set(feed.nested)  # for the rest of this step (`_FedStepped` resets it)


class _FedStepped(Iterator[T]):
    """`_Stepped` for a consumer: publishes the context lending its slot of the moment."""

    __slots__ = ("_chunks", "_feed")

    def __init__(self, feed: Feed, chunks: Iterator[T]) -> None:
        self._feed = feed
        self._chunks = chunks

    def __next__(self) -> T:
        if (stop := current_stop()) is not None and stop.is_set():
            raise Stopped  # a sibling of a sync parallel above has failed
        feed = self._feed
        feed.step_in_blocking()
        token = enter_nested(feed.nested)
        try:
            return next(self._chunks)
        finally:
            leave(token)
            feed.step_out()

    def close(self) -> None:
        token = enter_nested(self._feed.nested)
        try:
            close_chunks(self._chunks)
        finally:
            leave(token)


def fed_feed(ctx: RunContext) -> Feed | None:
    """The `Feed` for a consumer called under `ctx` (None without a budget). Made in the task
    that pulls its input, so that the streams opened there are seen from the consumer's
    code wherever it runs."""
    budget = ctx.budget
    return None if budget is None else Feed(ctx, budget)


def fed_iter(
    ctx: RunContext,
    func: Callable[[Iterator[Any]], Iterator[T]],
    inputs: Iterator[Any],
    feed: Feed | None = None,
) -> Iterator[T]:
    """Iterate a sync stream transformer fed chunk by chunk by the steps before it, as a leaf
    holding a slot only while its code runs (see `Feed`)."""
    feed = feed or fed_feed(ctx)
    if feed is None:
        return leaf_iter(ctx, func, inputs)
    if ctx.handlers.code_scopes:
        func = scoped_chunks(scopes_of(ctx), func)
    return _fed_iter(feed, func, inputs)


def _fed_iter(
    feed: Feed, func: Callable[[Iterator[Any]], Iterator[T]], inputs: Iterator[Any]
) -> Iterator[T]:
    feed.take_blocking()
    try:
        token = enter_nested(feed.nested)
        try:
            chunks = func(_FedChunks(inputs, feed))
        finally:
            leave(token)
        with closing(_FedStepped(feed, chunks)) as stepped:
            yield from stepped
    finally:
        feed.close()


def fed_aiter(
    ctx: RunContext,
    func: Callable[[AsyncIterator[Any]], AsyncIterator[T]],
    inputs: AsyncIterator[Any],
) -> AsyncIterator[T]:
    """Iterate an async stream transformer fed chunk by chunk by the steps before it, as a
    leaf holding a slot only while its code runs (see `Feed`)."""
    feed = fed_feed(ctx)
    if feed is None:
        return aleaf_iter(ctx, func, inputs)
    if ctx.handlers.code_scopes:
        func = ascoped_chunks(scopes_of(ctx), func)
    return FedStream(feed, func, inputs)


class FedStream(LeafStream[T]):
    """A `LeafStream` for a consumer: its slot comes from `Feed`, and `nested` follows it."""

    __slots__ = ("_feed",)

    def __init__(
        self,
        feed: Feed,
        func: Callable[[AsyncIterator[Any]], AsyncIterator[T]],
        inputs: AsyncIterator[Any],
    ) -> None:
        super().__init__(feed.nested, partial(func, _FedAChunks(inputs, feed, self)))
        self._feed = feed

    async def open(self) -> AsyncIterator[T]:
        make, self._make = self._make, None
        if make is None:
            raise StopAsyncIteration
        feed = self._feed
        await feed.take()
        self.nested = feed.nested
        token = enter_nested(feed.nested)
        try:
            chunks = self.chunks = _AFedSteps(make(), feed)
        except BaseException:
            self.end()
            raise
        finally:
            leave(token)
        return chunks

    def end(self) -> None:
        self._make = None
        self._feed.close()


class _AFedSteps(AsyncIterator[T]):
    """An async consumer's output, stepped as `_FedStepped` is."""

    __slots__ = ("_chunks", "_feed")

    def __init__(self, chunks: AsyncIterator[T], feed: Feed) -> None:
        self._chunks = chunks
        self._feed = feed

    async def __anext__(self) -> T:
        feed = self._feed
        await feed.step_in()
        try:
            return await self._chunks.__anext__()
        finally:
            feed.step_out()

    async def aclose(self) -> None:
        await aclose_chunks(self._chunks)


class _FedAChunks(AsyncIterator[T]):
    """An async consumer's input: the slot is given back while it waits for each chunk."""

    __slots__ = ("_chunks", "_feed", "_stream")

    def __init__(self, chunks: AsyncIterator[T], feed: Feed, stream: FedStream[Any]) -> None:
        self._chunks = chunks
        self._feed = feed
        self._stream = stream

    async def __anext__(self) -> T:
        feed = self._feed
        feed.give()
        try:
            chunk = await self._chunks.__anext__()
        except Exception:
            if not feed.resume():
                await self._take()
            raise
        if not feed.resume():
            await self._take()
        return chunk

    async def _take(self) -> None:
        feed = self._feed
        await feed.take()
        self._stream.nested = feed.nested  # published at each step from now on
        CURRENT.set(feed.nested)  # and for the rest of this one (the stream resets it)

    async def aclose(self) -> None:
        await aclose_chunks(self._chunks)
