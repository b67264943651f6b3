"""One input stream fed to several consumers as it arrives (the branches of a parallel that
streams its input), with the consumers' outputs merged as they come.

The decisions live in `Tee`, which does no I/O; `tee_threads` drives it with threads for sync
streams and `tee_tasks` with the tasks of a `FanIn` for async ones. In both, one pump pulls
the input, only when a consumer waits for a chunk and every consumer still reading has room
for one more: memory stays bounded (`TEE_SIZE` chunks per consumer, and the merged output's
own buffer), and a slow consumer slows the input down rather than letting chunks pile up for
it. The pump is not the reader of the merged output, so a consumer's output never waits for
the input's next chunk.
"""

from __future__ import annotations

import operator
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextvars import ContextVar, copy_context
from typing import Any, Generic, TypeVar

from runnables._core.concurrency import fan_out
from runnables._core.fan_in import FanIn, Producer, Sink, deliver
from runnables._core.loop import Wakeup
from runnables._core.stopping import Stopped
from runnables._core.streaming import NOTHING, aclose_chunks, aone, close_chunks

__all__ = ["OUT_SIZE", "SKIP", "TEE_SIZE", "Tee", "tee_tasks", "tee_threads"]

T = TypeVar("T")
U = TypeVar("U")

#: What a passthrough returns for an input chunk it does not pass on.
SKIP: Any = object()

#: Input chunks that may wait for each consumer.
TEE_SIZE = 8

#: Output chunks that may wait for the reader of a sync merged stream.
OUT_SIZE = 64

#: The index of a passthrough chunk in the merged stream.
PASSED = -1


class Tee(Generic[T]):
    """Who has been given which input chunk, and whether to pull the next one (no I/O)."""

    __slots__ = ("eager", "ended", "live", "lockstep", "queues", "waiting")

    def __init__(self, count: int, *, eager: bool, lockstep: bool) -> None:
        self.queues: list[deque[T]] = [deque() for _ in range(count)]
        self.live = [True] * count  # still reading its input
        self.waiting = [False] * count  # waiting for a chunk
        self.ended = False  # the input has ended (or failed)
        #: The pump passes every chunk on itself too (an assign's passthrough): it pulls as
        #: long as there is room, not only when a consumer waits.
        self.eager = eager
        #: Pull only while every consumer waits: under a `max_concurrency` budget, a leaf
        #: stream feeding the consumers lends them its slot while it is paused, so it must
        #: not run while they do (as in a sequence, where they take turns).
        self.lockstep = lockstep

    def wants_input(self) -> bool:
        """Whether to pull the next input chunk now."""
        if self.ended:
            return False
        if self.lockstep:
            return all(w for w, live in zip(self.waiting, self.live, strict=True) if live) and (
                self.eager or any(self.live)
            )
        wanted = self.eager
        for queue, live, waiting in zip(self.queues, self.live, self.waiting, strict=True):
            if live:
                if len(queue) >= TEE_SIZE:
                    return False
                wanted = wanted or waiting
        return wanted

    def needless(self) -> bool:
        """Whether nobody will want another input chunk."""
        return self.ended or not (self.eager or any(self.live))

    def put(self, chunk: T) -> None:
        """Give an input chunk to every consumer still reading (who then waits no more)."""
        for index, live in enumerate(self.live):
            if live:
                self.queues[index].append(chunk)
                self.waiting[index] = False

    def take(self, index: int) -> T:
        """Consumer `index`'s next chunk; `NOTHING` if there is none yet (or none to come,
        when `ended`)."""
        queue = self.queues[index]
        chunk: T = queue.popleft() if queue else NOTHING
        return chunk

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
    *,
    lockstep: bool = False,
) -> Iterator[tuple[int, U]]:
    """Run each consumer on a thread over its copy of `inputs` (pulled on one more thread),
    yielding `(index, chunk)` as their chunks come, and `(PASSED,
    passthrough(chunk))` for each input chunk unless that is `SKIP`.

    The first exception (a consumer's, or the input's) is raised as itself. However the stream
    ends, every thread stops at its next chunk in or out, and is joined. `lockstep`: see
    `Tee.lockstep`.
    """
    merge: _Merge[T, U] = _Merge(len(consumers), passthrough, lockstep)
    whole = _whole(inputs) if passthrough is None else NOTHING
    if whole is NOTHING:
        # A thread each: consumers fed by the pump wait for one another (a pool might run
        # them one after the other).
        threads = [
            _thread(merge, merge.consume, index, consumer)
            for index, consumer in enumerate(consumers)
        ]
        threads.append(_thread(merge, merge.pump, inputs))
    else:  # `stream(input)`: no input to pump, and consumers that wait only for the reader
        merge.tee.put(whole)
        merge.tee.ended = True
        merge.running -= 1

        def consume(index: int) -> None:
            merge.consume(index, consumers[index])

        threads = [_thread(merge, fan_out, consume, len(consumers), len(consumers))]  # on the pool
    for thread in threads:
        thread.start()
    try:
        while (item := merge.next()) is not None:
            yield item
    finally:
        merge.close()
        # Closed on one of its own threads (by the garbage collector, there): they stop at
        # their next chunk; waiting for them here could wait for this very thread.
        if merge not in _INSIDE.get():
            for thread in threads:
                thread.join()


#: The tees whose threads (and the threads those start) the current code runs on.
_INSIDE: ContextVar[tuple[object, ...]] = ContextVar("runnables_tee_inside", default=())


def _thread(merge: object, target: Callable[..., object], *args: Any) -> threading.Thread:
    context = copy_context()
    context.run(_INSIDE.set, (*_INSIDE.get(), merge))
    return threading.Thread(
        target=context.run,
        args=(target, *args),
        name="runnables-parallel-branch",
        daemon=True,
    )


_ONE_CHUNK: tuple[type, ...] = (type(iter(())), type(iter([])))


def _whole(inputs: Iterator[T]) -> T:
    """The one chunk of an input known to hold exactly one (taken from it); else `NOTHING`."""
    if type(inputs) in _ONE_CHUNK and operator.length_hint(inputs) == 1:
        return next(inputs)
    chunk: T = NOTHING
    return chunk


class _Merge(Generic[T, U]):
    """The state `tee_threads` shares with its threads, under one condition."""

    __slots__ = ("changed", "closed", "error", "out", "passthrough", "running", "tee")

    def __init__(self, count: int, passthrough: Callable[[T], U] | None, lockstep: bool) -> None:
        self.tee: Tee[T] = Tee(count, eager=passthrough is not None, lockstep=lockstep)
        self.passthrough = passthrough
        self.changed = threading.Condition()
        self.out: deque[tuple[int, U]] = deque()
        self.running = count + 1  # the consumers and the pump
        self.error: BaseException | None = None
        self.closed = False

    def next(self) -> tuple[int, U] | None:
        """The next output `(index, chunk)`; None once every thread has ended."""
        with self.changed:
            while True:
                if self.error is not None:
                    raise self.error
                if self.out:
                    item = self.out.popleft()
                    self.changed.notify_all()
                    return item
                if not self.running:
                    return None
                self.changed.wait()

    def close(self) -> None:
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def _send(self, item: tuple[int, U]) -> bool:
        """Queue an output, waiting for room (the lock held); False once the reader has gone."""
        while len(self.out) >= OUT_SIZE and not self.closed:
            self.changed.wait()
        if self.closed:
            return False
        self.out.append(item)
        self.changed.notify_all()
        return True

    def _fail(self, exc: BaseException) -> None:
        with self.changed:
            if self.error is None and not self.closed:
                self.error = exc
            self.changed.notify_all()

    def pump(self, inputs: Iterator[T]) -> None:
        """The pump's thread: pull the input whenever the tee wants a chunk."""
        tee, changed = self.tee, self.changed
        try:
            while True:
                with changed:
                    while not tee.wants_input():
                        if self.closed or tee.needless():
                            return
                        changed.wait()
                chunk = next(inputs, NOTHING)  # without the lock
                passthrough = self.passthrough
                passed = SKIP if passthrough is None or chunk is NOTHING else passthrough(chunk)
                with changed:
                    if chunk is NOTHING:
                        tee.ended = True
                        changed.notify_all()
                        return
                    tee.put(chunk)
                    changed.notify_all()
                    if passed is not SKIP and not self._send((PASSED, passed)):
                        return
        except BaseException as exc:
            self._fail(exc)
        finally:
            with changed:
                tee.ended = True  # (consumers still waiting are closed by the reader)
                self.running -= 1
                changed.notify_all()

    def consume(self, index: int, consumer: Callable[[Iterator[T]], Iterator[U]]) -> None:
        """Consumer `index`'s thread: its output chunks into `out`."""
        try:
            chunks = consumer(_TeeInput(self, index))
            try:
                for chunk in chunks:
                    with self.changed:
                        if not self._send((index, chunk)):
                            break
            finally:
                close_chunks(chunks)
        except BaseException as exc:
            self._fail(exc)
        finally:
            with self.changed:
                self.tee.leave(index)
                self.running -= 1
                self.changed.notify_all()


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
                # (A chunk already here is taken even once the stream is closed: a branch that
                # starts late still starts, and is closed at its first chunk, as any other.)
                chunk = tee.take(index)
                if chunk is not NOTHING:
                    merge.changed.notify_all()  # there is room for the pump
                    return chunk
                if tee.ended:
                    raise StopIteration
                if merge.closed or merge.error is not None:
                    raise Stopped
                tee.waiting[index] = True
                merge.changed.notify_all()
                merge.changed.wait()


# ---------------------------------------------------------------------------- async


def tee_tasks(
    inputs: AsyncIterator[T],
    consumers: Sequence[Callable[[AsyncIterator[T]], AsyncIterator[U]]],
    passthrough: Callable[[T], U] | None = None,
    *,
    lockstep: bool = False,
) -> FanIn[tuple[int, U]]:
    """`tee_threads` for async streams: the consumers and the pump run as the producers of a
    `FanIn` (so that the stream may be left at any point), each consumer in a task of its own."""
    state: _Tasks[T] = _Tasks(len(consumers), eager=passthrough is not None, lockstep=lockstep)

    def consume(
        index: int, consumer: Callable[[AsyncIterator[T]], AsyncIterator[U]]
    ) -> Producer[tuple[int, U]]:
        async def produce(send: Sink[tuple[int, U]]) -> None:
            try:
                chunks = consumer(_ATeeInput(state, index, send.wakeup))
                try:
                    async for chunk in chunks:
                        await deliver(send, (index, chunk))
                finally:
                    await aclose_chunks(chunks)
            finally:
                state.tee.leave(index)
                state.wake_pump()

        return produce

    async def pump(send: Sink[tuple[int, U]]) -> None:
        tee = state.tee
        try:
            while True:
                while not tee.wants_input():
                    if tee.needless():
                        return
                    state.pump = send.wakeup()
                    await state.pump.wait()
                try:
                    chunk = await inputs.__anext__()
                except StopAsyncIteration:
                    tee.ended = True
                    state.wake_consumers()
                    return
                tee.put(chunk)
                state.wake_consumers()
                if passthrough is not None and (passed := passthrough(chunk)) is not SKIP:
                    await deliver(send, (PASSED, passed))
        except BaseException:
            # The input failed (or the stream is being closed): the consumers are cancelled,
            # never told that the input has ended (they would run on part of it).
            tee.ended = True
            raise

    producers = [consume(index, consumer) for index, consumer in enumerate(consumers)]
    if passthrough is None and isinstance(inputs, aone) and inputs.value is not NOTHING:
        # The whole input, known at once (`astream(input)`): each consumer starts on it, in
        # order, with no input to pump.
        state.tee.put(inputs.value)
        state.tee.ended = True
    else:
        producers.append(pump)
    return FanIn(producers, buffer=len(producers))


class _Tasks(Generic[T]):
    """The state `tee_tasks` shares with its tasks (all on one event loop thread)."""

    __slots__ = ("pump", "tee", "waiters")

    def __init__(self, count: int, *, eager: bool, lockstep: bool) -> None:
        self.tee: Tee[T] = Tee(count, eager=eager, lockstep=lockstep)
        self.waiters: list[Wakeup | None] = [None] * count  # consumers waiting for a chunk
        self.pump: Wakeup | None = None  # the pump, waiting to be wanted

    def wake_pump(self) -> None:
        pump, self.pump = self.pump, None
        if pump is not None:
            pump.wake()

    def wake_consumers(self) -> None:
        waiters = self.waiters
        for index, wakeup in enumerate(waiters):
            if wakeup is not None:
                waiters[index] = None
                wakeup.wake()


class _ATeeInput(AsyncIterator[T]):
    """One consumer's copy of the input (async)."""

    __slots__ = ("_index", "_state", "_wakeup")

    def __init__(self, state: _Tasks[T], index: int, wakeup: Callable[[], Wakeup]) -> None:
        self._state = state
        self._index = index
        self._wakeup = wakeup

    async def __anext__(self) -> T:
        state, index = self._state, self._index
        tee = state.tee
        while True:
            chunk = tee.take(index)
            if chunk is not NOTHING:
                state.wake_pump()  # there is room now
                return chunk
            if tee.ended:
                raise StopAsyncIteration
            wakeup = state.waiters[index] = self._wakeup()
            tee.waiting[index] = True
            state.wake_pump()
            try:
                await wakeup.wait()
            finally:
                state.waiters[index] = None
