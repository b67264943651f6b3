"""`FanIn`: the one way the library runs producers concurrently and hands what they make to a
consumer (parallel streams, `abatch_as_completed`, event streams and run logs).

Why not an async generator around a task group: a generator that yields from inside a task
group makes the consumer's frame own that group's cancel scope across every `yield`. A
consumer that stops early without `aclosing()` (a plain `break`) leaves the generator to be
closed later by the garbage collector, in another task, which exits the cancel scope in a
task other than the one that entered it: a crash on asyncio, a corrupted scheduler on trio.

So the producers run in a task of their own that the consumer does not own (started through
`LoopHandle.spawn`); their task group lives entirely inside it. The consumer holds an
ordinary object whose `__anext__` only takes from a bounded queue, the `Sink` the producers
put into (so a slow consumer slows the producers down). The producers live exactly as long as the stream:
exhausting it waits for them; `aclose()` cancels them and waits for their cleanup (shielded,
so it also completes when the consumer is being cancelled); dropping the object unfinished
cancels them from a callback on their event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import anyio
import anyio.lowlevel

from runnables._core.loop import LoopHandle, Wakeup, current_loop

__all__ = ["FanIn", "Producer", "Sink", "deliver"]

T = TypeVar("T")

#: Items a consumer takes between two checks for its own cancellation.
_CHECK_EVERY = 256


class Sink(Generic[T]):
    """The bounded queue between the producers of a `FanIn` and its consumer, on one event
    loop. Producers `offer` (or `deliver`) items; once the consumer has gone, items are
    dropped (the producers are being cancelled)."""

    __slots__ = ("_gone", "_receiver", "_size", "ended", "items", "loop", "senders")

    def __init__(self, size: int, loop: LoopHandle) -> None:
        # Lists, not deques: at most `size` (a few dozen) items, and one of these per stream
        # of a server's many (a deque allocates a block of 64 slots at once).
        self.items: list[T] = []  # (the consumer, `FanIn`, takes from them in place)
        self._size = size
        self.loop = loop  # the event loop the consumer runs on
        self._receiver: Wakeup | None = None  # the consumer, waiting for an item
        self.senders: list[Wakeup] = []  # producers waiting for room
        self._gone = False  # the consumer has gone
        self.ended = False  # every producer has finished

    def offer(self, item: T) -> bool:
        """Queue `item` if there is room, without a checkpoint; False if the queue is full."""
        if self._gone:
            return True
        if len(self.items) >= self._size:
            return False
        self.items.append(item)
        receiver = self._receiver
        if receiver is not None:
            self._receiver = None
            receiver.wake()
        return True

    def force(self, item: T) -> None:
        """Queue `item` even if the queue is full (for items handed over from other threads,
        which cannot wait for room)."""
        if self._gone:
            return
        self.items.append(item)
        receiver = self._receiver
        if receiver is not None:
            self._receiver = None
            receiver.wake()

    async def put(self, item: T) -> None:
        """Queue `item`, waiting while the queue is full."""
        while not self.offer(item):
            wakeup = self.loop.wakeup()
            self.senders.append(wakeup)
            try:
                await wakeup.wait()
            except BaseException:
                try:
                    self.senders.remove(wakeup)
                except ValueError:  # woken already: pass the room on to the next producer
                    self.wake_sender()
                raise

    def wake_sender(self) -> None:
        """Tell the first producer waiting for room that there is some."""
        if self.senders:
            self.senders.pop(0).wake()

    # -- the consumer's side (which also takes from `items` in place)

    def wait(self) -> Awaitable[None]:
        """Wait until an item is queued or the producers have ended (the one waiting consumer;
        a wait that was cancelled leaves a wakeup that the next item spends harmlessly)."""
        wakeup = self._receiver = self.loop.wakeup()
        return wakeup.wait()

    def wakeup(self) -> Wakeup:
        """A wakeup on this sink's event loop."""
        return self.loop.wakeup()

    def end(self) -> None:
        """The producers have all finished: the consumer takes what is left, then stops."""
        self.ended = True
        receiver, self._receiver = self._receiver, None
        if receiver is not None:
            receiver.wake()

    def leave(self) -> None:
        """The consumer has gone: drop what is queued and release every waiting producer."""
        self._gone = True
        self.items.clear()
        senders, self.senders = self.senders, []
        for wakeup in senders:
            wakeup.wake()


async def deliver(sink: Sink[T], item: T) -> None:
    """Queue `item`, waiting only when the queue is full: no checkpoint while there is room
    (items keep the order in which things happened, and a scheduler round trip per item would
    dominate the cost)."""
    if not sink.offer(item):
        await sink.put(item)


Producer = Callable[[Sink[T]], Awaitable[None]]
"""Sends its items into the sink it is given, with `deliver`."""


class FanIn(AsyncIterator[T], Generic[T]):
    """The items of `producers`, run concurrently, in the order they are sent.

    Started by the first `__anext__` (so creating one needs no event loop). The first
    exception a producer raises cancels the others and is raised to the consumer as itself,
    once every producer has stopped.
    """

    __slots__ = ("_buffer", "_closed", "_loop", "_producers", "_run", "_sink", "_taken")

    def __init__(self, producers: Sequence[Producer[T]], *, buffer: int) -> None:
        self._producers = producers
        self._buffer = buffer
        self._sink: Sink[T] | None = None
        self._loop: LoopHandle | None = None
        self._run: _Run[T] | None = None
        self._closed = False
        self._taken = 0  # items taken since the last check for cancellation

    def __aiter__(self) -> FanIn[T]:
        return self

    async def __anext__(self) -> T:
        sink = self._sink
        if sink is None:
            if self._closed:
                raise StopAsyncIteration
            sink = self._start()
        items = sink.items
        while True:
            if items:  # `take`, in place: this runs for every item
                item = items.pop(0)
                if sink.senders:
                    sink.wake_sender()
                self._taken += 1
                if self._taken >= _CHECK_EVERY:
                    # A consumer woken by its producer in the same turn of the loop in which a
                    # cancellation is delivered (asyncio only cancels a task whose wait is
                    # still pending), or one that never has to wait, must still see it.
                    self._taken = 0
                    await anyio.lowlevel.checkpoint_if_cancelled()
                return item
            if sink.ended or self._closed:
                break
            await sink.wait()
        self._closed = True
        run = self._run
        assert run is not None
        await run.wait_done()
        if run.error is not None:
            raise run.error
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop the producers (cancelling them) and wait until their cleanup has run."""
        if self._closed:
            return
        self._closed = True
        run, sink = self._run, self._sink
        if run is None or sink is None:
            return
        run.scope.cancel()
        sink.leave()
        await run.wait_done()

    def __del__(self) -> None:
        if self._closed or self._sink is None:
            return
        self._closed = True
        assert self._loop is not None
        assert self._run is not None
        # Not cancelled right here: a finalizer may run in any thread, at any point of the
        # event loop's own work.
        scope, sink = self._run.scope, self._sink
        self._loop.call_soon(lambda: _abandon(scope, sink))

    def _start(self) -> Sink[T]:
        loop = self._loop = current_loop()
        sink: Sink[T] = Sink(self._buffer, loop)
        self._sink = sink
        # The producers' task refers to `_Run`, never to this object, so that dropping this
        # object is seen (and stops them).
        run = self._run = _Run(self._producers, sink)
        loop.spawn(run.run, name="runnables stream producers")
        return sink


class _Run(Generic[T]):
    """The producers' side of a `FanIn`: their task's cancel scope, first error and end."""

    __slots__ = ("done", "error", "producers", "scope", "sink", "waiters")

    def __init__(self, producers: Sequence[Producer[T]], sink: Sink[T]) -> None:
        self.producers = producers
        self.sink = sink
        self.scope = anyio.CancelScope()
        self.done = False
        self.waiters: list[Wakeup] = []
        self.error: BaseException | None = None

    async def run(self) -> None:
        try:
            with self.scope:
                producers = self.producers
                if len(producers) == 1:
                    await self._produce(producers[0], None)
                else:
                    async with anyio.create_task_group() as tg:
                        for produce in producers:
                            tg.start_soon(self._produce, produce, tg.cancel_scope)
        finally:
            self.sink.end()
            self.done = True
            waiters, self.waiters = self.waiters, []
            for wakeup in waiters:
                wakeup.wake()

    async def _produce(self, produce: Producer[T], siblings: anyio.CancelScope | None) -> None:
        try:
            await produce(self.sink)
        except BaseException as exc:
            if isinstance(exc, anyio.get_cancelled_exc_class()) and (
                self.scope.cancel_called or (siblings is not None and siblings.cancel_called)
            ):
                raise
            # Everything else goes to the consumer (a cancellation this stream did not ask for,
            # too: a step raised it itself): a task that nobody awaits must not raise.
            if self.error is None:
                self.error = exc
            if siblings is not None:
                siblings.cancel()

    async def wait_done(self) -> None:
        """Wait for the producers to have stopped (also while the caller is being cancelled)."""
        if self.done:
            return
        wakeup = self.sink.wakeup()
        self.waiters.append(wakeup)
        with anyio.CancelScope(shield=True):
            await wakeup.wait()


def _abandon(scope: anyio.CancelScope, sink: Sink[Any]) -> None:
    scope.cancel()
    sink.leave()
