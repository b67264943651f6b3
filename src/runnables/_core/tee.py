"""One input stream fed to several consumers as it arrives (the branches of a parallel that
streams its input), with the consumers' outputs merged as they come.

The decisions live in `Tee`, which does no I/U; `tee_threads` drives it with threads for sync
streams and `Feeder` drives it from a `FanIn` for async ones. In both, the input is pulled by
the one who consumes the merged output (the thread or task that iterated it before), only when
a consumer is waiting for a chunk and every consumer still reading has room for one more:
memory stays bounded (`Tee.size` chunks per consumer), and a slow consumer slows the input
down rather than letting chunks pile up for it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextvars import copy_context
from typing import Any, Generic, TypeVar

from runnables._core.fan_in import SKIP, FanIn, Producer, Sink, deliver
from runnables._core.loop import Wakeup
from runnables._core.stopping import Stop, Stopped, current_stop, reset_stop, set_stop
from runnables._core.streaming import NOTHING, aclose_chunks, close_chunks

__all__ = ["SKIP", "Feeder", "Tee", "tee_tasks", "tee_threads"]

T = TypeVar("T")
U = TypeVar("U")

#: Input chunks that may wait for each consumer.
TEE_SIZE = 8

#: Output chunks that may wait for the consumer of a sync merged stream.
OUT_SIZE = 64


class Tee(Generic[T]):
    """Who has been given which input chunk, and whether to pull the next one (no I/U)."""

    __slots__ = ("eager", "ended", "live", "queues", "size", "waiting")

    def __init__(self, count: int, size: int, *, eager: bool) -> None:
        self.queues: list[deque[T]] = [deque() for _ in range(count)]
        self.live = [True] * count  # still reading its input
        self.waiting = [False] * count  # waiting for a chunk
        self.ended = False  # the input has ended
        self.size = size
        #: The puller takes every chunk itself too (an assign's passthrough): it pulls as long
        #: as there is room, not only when a consumer waits.
        self.eager = eager

    def wants_input(self) -> bool:
        """Whether to pull the next input chunk now."""
        if self.ended:
            return False
        wanted = self.eager
        for queue, live, waiting in zip(self.queues, self.live, self.waiting, strict=True):
            if live:
                if len(queue) >= self.size:
                    return False
                wanted = wanted or waiting
        return wanted

    def put(self, chunk: T) -> None:
        """Give an input chunk to every consumer still reading."""
        for queue, live in zip(self.queues, self.live, strict=True):
            if live:
                queue.append(chunk)

    def take(self, index: int) -> T:
        """Consumer `index`'s next chunk; `NOTHING` if there is none yet (or none to come,
        when `ended`)."""
        queue = self.queues[index]
        chunk: T = queue.popleft() if queue else NOTHING
        return chunk

    def end(self) -> None:
        """The input has ended."""
        self.ended = True

    def leave(self, index: int) -> None:
        """Consumer `index` reads no more (it ended or failed): it no longer holds the input up."""
        self.live[index] = False
        self.waiting[index] = False
        self.queues[index].clear()


# ----------------------------------------------------------------------------- sync


def tee_threads(
    inputs: Iterator[T],
    consumers: Sequence[Callable[[Iterator[T]], Iterator[U]]],
    passthrough: Callable[[T], U] | None = None,
) -> Iterator[tuple[int, U]]:
    """Run each consumer on a thread of its own over its copy of `inputs`, yielding
    `(index, chunk)` as their chunks come (and `(-1, passthrough(chunk))` for each input chunk,
    unless that is `SKIP`).

    The first exception (a consumer's, or the input's) is raised as itself once the others are
    stopped. However the stream ends, each consumer stops at its next step (its next input or
    output chunk, or the next step of a leaf below it) and its thread is joined.
    """
    merge: _Merge[T, U] = _Merge(len(consumers), eager=passthrough is not None)
    threads = [
        threading.Thread(
            target=copy_context().run,
            args=(merge.run, index, consumer),
            name="runnables-parallel-branch",
            daemon=True,
        )
        for index, consumer in enumerate(consumers)
    ]
    for thread in threads:
        thread.start()
    try:
        while True:
            index, item = merge.next()
            if index >= 0:
                yield index, item
                continue
            if index == _DONE:
                return
            # The input's next chunk, pulled here, in the consumer's thread, without the lock.
            chunk = next(inputs, NOTHING)
            if chunk is NOTHING:
                merge.end()
                continue
            merge.put(chunk)
            if passthrough is not None and (passed := passthrough(chunk)) is not SKIP:
                yield -1, passed
    finally:
        merge.close()
        for thread in threads:
            thread.join()


class _Merge(Generic[T, U]):
    """The state `tee_threads` shares with its consumers' threads, under one condition."""

    __slots__ = ("changed", "closed", "error", "out", "running", "stop", "tee")

    def __init__(self, count: int, *, eager: bool) -> None:
        self.tee: Tee[T] = Tee(count, TEE_SIZE, eager=eager)
        self.changed = threading.Condition()
        self.out: deque[tuple[int, U]] = deque()
        self.running = count
        self.error: BaseException | None = None
        self.closed = False
        # Marked on close: the leaves below the consumers stop at their next step.
        self.stop = Stop(current_stop())

    def next(self) -> tuple[int, Any]:
        """The next output `(index, chunk)`; `(_PULL, None)`: pull an input chunk;
        `(_DONE, None)`: every consumer (and the passthrough) has ended."""
        tee = self.tee
        with self.changed:
            while True:
                if self.error is not None:
                    raise self.error
                if self.out:
                    item = self.out.popleft()
                    self.changed.notify_all()
                    return item
                if tee.wants_input():
                    return _PULL, None
                if not self.running and (tee.ended or not tee.eager):
                    return _DONE, None
                self.changed.wait()

    def put(self, chunk: T) -> None:
        with self.changed:
            self.tee.put(chunk)
            self.changed.notify_all()

    def end(self) -> None:
        with self.changed:
            self.tee.end()
            self.changed.notify_all()

    def close(self) -> None:
        with self.changed:
            self.closed = True
            self.stop.stopped = True
            self.changed.notify_all()

    def run(self, index: int, consumer: Callable[[Iterator[T]], Iterator[U]]) -> None:
        """Consumer `index`'s thread: its output chunks into `out`, its error into `error`."""
        token = set_stop(self.stop)
        try:
            chunks = consumer(_TeeInput(self, index))
            try:
                for chunk in chunks:
                    with self.changed:
                        while len(self.out) >= OUT_SIZE and not self.closed:
                            self.changed.wait()
                        if self.closed:
                            break
                        self.out.append((index, chunk))
                        self.changed.notify_all()
            finally:
                close_chunks(chunks)
        except BaseException as exc:
            with self.changed:
                if self.error is None and not self.closed:
                    self.error = exc
                self.changed.notify_all()
        finally:
            with self.changed:
                self.tee.leave(index)
                self.running -= 1
                self.changed.notify_all()
            reset_stop(token)


_PULL = -1
_DONE = -2


class _TeeInput(Iterator[T]):
    """One consumer's copy of the input (sync)."""

    __slots__ = ("_index", "_merge")

    def __init__(self, merge: _Merge[T, Any], index: int) -> None:
        self._merge = merge
        self._index = index

    def __next__(self) -> T:
        merge, index = self._merge, self._index
        tee = merge.tee
        with merge.changed:
            while True:
                if merge.closed:
                    raise Stopped
                chunk = tee.take(index)
                if chunk is not NOTHING:
                    merge.changed.notify_all()
                    return chunk
                if tee.ended:
                    raise StopIteration
                tee.waiting[index] = True
                merge.changed.notify_all()
                merge.changed.wait()
                tee.waiting[index] = False


# ---------------------------------------------------------------------------- async


def tee_tasks(
    inputs: AsyncIterator[T],
    consumers: Sequence[Callable[[AsyncIterator[T]], AsyncIterator[U]]],
    passthrough: Callable[[T], U] | None = None,
) -> FanIn[tuple[int, U]]:
    """`tee_threads` for async streams: the consumers run as tasks (of a `FanIn`, so that
    the stream may be abandoned at any point), the input is pulled by the task iterating the
    result."""
    feeder: Feeder[T, U] = Feeder(inputs, len(consumers), passthrough)

    def producer(
        index: int, consumer: Callable[[AsyncIterator[T]], AsyncIterator[U]]
    ) -> Producer[tuple[int, U]]:
        async def produce(send: Sink[tuple[int, U]]) -> None:
            try:
                chunks = consumer(_ATeeInput(feeder, index, send.wakeup))
                try:
                    async for chunk in chunks:
                        await deliver(send, (index, chunk))
                finally:
                    await aclose_chunks(chunks)
            finally:
                feeder.leave(index)

        return produce

    producers = [producer(index, consumer) for index, consumer in enumerate(consumers)]
    return FanIn(producers, buffer=len(producers), feeder=feeder)


class Feeder(Generic[T, U]):
    """The input side of a `FanIn` whose producers consume one input stream: the `FanIn`'s
    consumer pulls `inputs` (in its own task) whenever `Tee` says so, and gets
    `passthrough(chunk)` for each chunk, unless that is `SKIP`."""

    __slots__ = ("_inputs", "nudge", "passthrough", "tee", "waiters")

    def __init__(
        self,
        inputs: AsyncIterator[T],
        count: int,
        passthrough: Callable[[T], U] | None = None,
    ) -> None:
        self._inputs = inputs
        self.tee: Tee[T] = Tee(count, TEE_SIZE, eager=passthrough is not None)
        self.passthrough = passthrough
        self.waiters: list[Wakeup | None] = [None] * count
        #: Wakes the `FanIn`'s consumer (set by the `FanIn` when it starts).
        self.nudge: Callable[[], None] = _nothing

    async def pull(self) -> Any:
        """Pull one input chunk and hand it out; what the `FanIn` yields for it,
        `(-1, passthrough(chunk))`, or `SKIP`."""
        try:
            chunk = await self._inputs.__anext__()
        except StopAsyncIteration:
            self.tee.end()
            self._wake_all()
            return SKIP
        self.tee.put(chunk)
        self._wake_all()
        passthrough = self.passthrough
        if passthrough is None or (passed := passthrough(chunk)) is SKIP:
            return SKIP
        return (-1, passed)

    def leave(self, index: int) -> None:
        """Consumer `index` has ended."""
        self.tee.leave(index)
        self.waiters[index] = None
        self.nudge()

    def _wake_all(self) -> None:
        waiters = self.waiters
        for index, wakeup in enumerate(waiters):
            if wakeup is not None:
                waiters[index] = None
                wakeup.wake()


def _nothing() -> None:
    pass


class _ATeeInput(AsyncIterator[T]):
    """One consumer's copy of the input (async)."""

    __slots__ = ("_feeder", "_index", "_wakeup")

    def __init__(self, feeder: Feeder[T, Any], index: int, wakeup: Callable[[], Wakeup]) -> None:
        self._feeder = feeder
        self._index = index
        self._wakeup = wakeup

    async def __anext__(self) -> T:
        feeder, index = self._feeder, self._index
        tee = feeder.tee
        while True:
            chunk = tee.take(index)
            if chunk is not NOTHING:
                if tee.wants_input():  # there may be room now
                    feeder.nudge()
                return chunk
            if tee.ended:
                raise StopAsyncIteration
            wakeup = feeder.waiters[index] = self._wakeup()
            tee.waiting[index] = True
            feeder.nudge()
            try:
                await wakeup.wait()
            finally:
                tee.waiting[index] = False
                feeder.waiters[index] = None
