"""Fan-out over threads and tasks, and the `max_concurrency` budget shared by one call."""

from __future__ import annotations

import functools
import os
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import copy_context
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

if TYPE_CHECKING:
    import concurrent.futures

__all__ = [
    "DEFAULT_WIDTH",
    "Budget",
    "afan_out",
    "afan_out_as_completed",
    "fan_out",
    "fan_out_as_completed",
]

T = TypeVar("T")

#: How many branches or inputs run at once when no max_concurrency is given (sync fan-out).
DEFAULT_WIDTH = min(32, (os.cpu_count() or 1) + 4)


@functools.cache
def _pool() -> concurrent.futures.ThreadPoolExecutor:
    """The shared worker threads of sync fan-outs, started on first use."""
    import concurrent.futures

    return concurrent.futures.ThreadPoolExecutor(
        max_workers=256, thread_name_prefix="runnables-worker"
    )


class Budget:
    """`max_concurrency` slots shared by every leaf call below the call they were given to.

    Only leaves hold a slot, so nesting never deadlocks. A budget nested inside another
    takes a slot of its parent too. The same budget is used from threads, from tasks and
    from fresh event loops in other threads (sync calls of async functions), so it belongs
    to no event loop: a count under a plain lock, with a condition for blocked threads and
    polling (cancellable) for waiting tasks.
    """

    __slots__ = ("_free", "_freed", "_lock", "_waiting", "limit", "parent")

    def __init__(self, limit: int, parent: Budget | None = None) -> None:
        self.limit = limit
        self.parent = parent
        self._free = limit
        self._waiting = 0
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)

    def _take(self) -> bool:
        with self._lock:
            if self._free:
                self._free -= 1
                return True
            return False

    def _take_blocking(self) -> None:
        with self._lock:
            self._waiting += 1
            try:
                while not self._free:
                    self._freed.wait()
            finally:
                self._waiting -= 1
            self._free -= 1

    def _give(self) -> None:
        with self._lock:
            self._free += 1
            if self._waiting:
                self._freed.notify()

    @contextmanager
    def slot(self) -> Generator[None, None, None]:
        """Hold one slot (and one of each parent budget) from sync code."""
        with self.parent.slot() if self.parent is not None else nullcontext():
            self._take_blocking()
            try:
                yield
            finally:
                self._give()

    def try_acquire(self) -> bool:
        """Take a slot if one is free right now (and one of each parent budget), else none."""
        if self.parent is not None and not self.parent.try_acquire():
            return False
        if self._take():
            return True
        if self.parent is not None:
            self.parent.release_async()
        return False

    async def acquire(self) -> None:
        """Take one slot (and one of each parent budget) from async code, without blocking the
        event loop (and cancellable while waiting)."""
        if self.parent is not None:
            await self.parent.acquire()
        try:
            delay = 0.001
            while not self._take():
                await anyio.sleep(delay)
                delay = min(delay * 2, _MAX_POLL)
        except BaseException:
            if self.parent is not None:
                self.parent.release_async()
            raise

    def release_async(self) -> None:
        """Give back a slot taken by `acquire` or `try_acquire`."""
        self._give()
        if self.parent is not None:
            self.parent.release_async()


#: Longest pause between two tries of an async caller waiting for a `Budget` slot.
_MAX_POLL = 0.01


class _FanOut:
    """Distributes `count` indices to the calling thread and to pool helpers.

    Helpers start one another while work remains, so a fast fan-out costs one submit and a
    slow one grows to `width` threads quickly. Once the caller has run out of work it closes
    the fan-out: helpers that have not started by then do nothing, and the caller waits only
    for helpers that are running, so nested fan-outs never wait for a free pool thread.
    """

    __slots__ = (
        "active",
        "closed",
        "count",
        "done",
        "error",
        "fn",
        "lock",
        "next",
        "spawned",
        "width",
    )

    def __init__(self, fn: Callable[[int], None], count: int, width: int) -> None:
        self.fn = fn
        self.count = count
        self.width = width
        self.next = 0
        self.spawned = 0
        self.active = 1  # the caller
        self.closed = False
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)

    def take(self) -> int | None:
        with self.lock:
            if self.closed or self.next >= self.count:
                return None
            index = self.next
            self.next += 1
            return index

    def drain(self) -> None:
        while (index := self.take()) is not None:
            try:
                self.fn(index)
            except BaseException as exc:
                with self.lock:
                    if self.error is None:
                        self.error = exc
                    self.closed = True
                return

    def spawn_helper(self) -> None:
        with self.lock:
            if self.closed or self.next >= self.count - 1 or self.spawned >= self.width - 1:
                return
            self.spawned += 1
        _pool().submit(copy_context().run, self._helper)

    def _helper(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.active += 1
        try:
            self.spawn_helper()
            self.drain()
        finally:
            with self.lock:
                self.active -= 1
                self.done.notify_all()

    def close_and_wait(self) -> None:
        with self.lock:
            self.closed = True
            self.active -= 1
            while self.active:
                self.done.wait()


def fan_out(fn: Callable[[int], None], count: int, width: int) -> None:
    """Call `fn(i)` for each i in range(count), up to `width` at a time on threads.

    The first exception stops handing out new indices; it is raised once every running
    call has returned, so no thread is left running work of this call.
    """
    if count <= 1 or width <= 1:
        for index in range(count):
            fn(index)
        return
    fan = _FanOut(fn, count, width)
    try:
        fan.spawn_helper()
        fan.drain()
    finally:
        fan.close_and_wait()
    if fan.error is not None:
        raise fan.error


async def afan_out(fn: Callable[[int], Awaitable[None]], count: int, width: int | None) -> None:
    """Await `fn(i)` for each i in range(count), up to `width` at a time as anyio tasks.

    The first exception cancels the rest and is re-raised as itself (not as a group).
    """
    if count == 1:
        await fn(0)
        return
    next_index = 0
    errors: list[BaseException] = []

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            try:
                await fn(index)
            except Exception as exc:
                errors.append(exc)
                tg.cancel_scope.cancel()
                return

    async with anyio.create_task_group() as tg:
        for _ in range(min(count, width or count)):
            tg.start_soon(worker)
    if errors:
        raise errors[0]


def fan_out_as_completed(fn: Callable[[int], T], count: int, width: int) -> Iterator[tuple[int, T]]:
    """Like `fan_out`, but yield `(i, fn(i))` as each call returns.

    The consuming thread runs calls itself whenever nothing is ready, so it never waits on a
    pool that is busy elsewhere. Closing the iterator early waits for running calls.
    """
    finished: queue.SimpleQueue[tuple[int, Any, BaseException | None]] = queue.SimpleQueue()

    def run_one(index: int) -> None:
        try:
            finished.put((index, fn(index), None))
        except BaseException as exc:
            finished.put((index, None, exc))

    fan = _FanOut(run_one, count, width)
    try:
        fan.spawn_helper()
        for _ in range(count):
            while True:
                try:
                    index, value, error = finished.get_nowait()
                    break
                except queue.Empty:
                    own = fan.take()
                    if own is None:
                        index, value, error = finished.get()
                        break
                    run_one(own)
            if error is not None:
                raise error
            yield index, value
    finally:
        fan.close_and_wait()


async def afan_out_as_completed(
    fn: Callable[[int], Awaitable[T]], count: int, width: int | None
) -> AsyncIterator[tuple[int, T]]:
    """Like `afan_out`, but yield `(i, result)` as each call finishes."""
    if count == 0:
        return
    send, receive = anyio.create_memory_object_stream[tuple[int, T]](count)
    next_index = 0
    errors: list[BaseException] = []

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            try:
                send.send_nowait((index, await fn(index)))
            except Exception as exc:
                errors.append(exc)
                tg.cancel_scope.cancel()
                return

    closed = False
    with send, receive:
        async with anyio.create_task_group() as tg:
            for _ in range(min(count, width or count)):
                tg.start_soon(worker)
            try:
                for _ in range(count):
                    yield await receive.receive()
            except GeneratorExit:
                # Closed early: cancel the calls still running and end without re-raising
                # GeneratorExit into the task group (which would wrap it in a group).
                closed = True
                tg.cancel_scope.cancel()
    if errors and not closed:
        raise errors[0]
