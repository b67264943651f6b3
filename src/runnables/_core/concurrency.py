"""Fan-out over threads and tasks: run a function for each index, at most so many at once."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import copy_context
from functools import partial
from typing import Any, TypeVar

import anyio

from runnables._core.fan_in import FanIn, Sink, deliver
from runnables._core.threads import WorkerThreads

__all__ = [
    "DEFAULT_TASKS",
    "DEFAULT_WIDTH",
    "afan_out",
    "afan_out_as_completed",
    "fan_out",
    "fan_out_as_completed",
]

T = TypeVar("T")

#: How many branches or inputs run at once when no max_concurrency is given (sync fan-out).
DEFAULT_WIDTH = min(32, (os.cpu_count() or 1) + 4)

#: How many tasks an async fan-out starts at most when no max_concurrency is given: enough for
#: any I/O-bound batch, while a batch of a million inputs keeps a bounded number of tasks.
DEFAULT_TASKS = 10_000


class _Helpers(WorkerThreads[Callable[[], None]]):
    """The shared threads of sync fan-outs' helpers (up to 256, for nested fan-outs; each
    ends once idle, see `WorkerThreads`)."""

    def _run(self, item: Callable[[], None]) -> None:
        item()  # (`_FanOut._helper`, which lets no exception out)


_HELPERS = _Helpers("runnables-worker", 256)


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
                self.fail(exc)
                return

    def fail(self, exc: BaseException) -> None:
        """Stop handing out indices; `exc` is raised to the caller (the first one only)."""
        with self.lock:
            if self.error is None:
                self.error = exc
            self.closed = True

    def spawn_helper(self) -> None:
        with self.lock:
            if self.closed or self.next >= self.count - 1 or self.spawned >= self.width - 1:
                return
            self.spawned += 1
        _HELPERS.submit(partial(copy_context().run, self._helper))

    def _helper(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.active += 1
        try:
            self.spawn_helper()
            self.drain()
        except BaseException as exc:  # no thread could be started for another helper
            self.fail(exc)
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

    The first exception cancels the rest and is re-raised as itself (not as a group), a
    `KeyboardInterrupt` or `SystemExit` too, on trio as on asyncio.
    """
    if count == 1:
        await fn(0)
        return
    indices = iter(range(count))
    errors: list[BaseException] = []
    cancelled = anyio.get_cancelled_exc_class()

    async def worker() -> None:
        for index in indices:
            try:
                await fn(index)
            except cancelled as exc:
                # Not from this group: a step raised it itself (or the caller is being
                # cancelled, and then the group raises that). Never a silently lost result.
                if not tg.cancel_scope.cancel_called:
                    errors.append(exc)
                    tg.cancel_scope.cancel()
                raise
            except BaseException as exc:  # an interrupt or exit as well: raised bare below
                errors.append(exc)
                tg.cancel_scope.cancel()
                return

    async with anyio.create_task_group() as tg:
        for _ in range(min(count, width or DEFAULT_TASKS)):
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


def afan_out_as_completed(
    fn: Callable[[int], Awaitable[T]], count: int, width: int | None
) -> AsyncIterator[tuple[int, T]]:
    """Like `afan_out`, but yield `(i, result)` as each call finishes (a `FanIn`: the consumer
    may stop at any point; the calls still running are then cancelled)."""
    indices = iter(range(count))

    async def worker(send: Sink[tuple[int, T]]) -> None:
        for index in indices:
            await deliver(send, (index, await fn(index)))

    workers = min(count, width or DEFAULT_TASKS)
    return FanIn([worker] * workers, buffer=max(workers, 1))
