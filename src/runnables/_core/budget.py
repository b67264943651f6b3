"""`Budget`: the `max_concurrency` slots shared by every leaf call below the call they were
given to, from threads, tasks and event loops alike."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from runnables._core.loop import LoopHandle, Wakeup, current_loop

__all__ = ["Budget"]

W = TypeVar("W", bound="_Waiter")


class _Waiter:
    """One caller waiting for a slot; `granted` is set (under the budget's lock) when a
    releasing caller hands its slot over, then `wake` is called."""

    __slots__ = ("granted",)

    def __init__(self) -> None:
        self.granted = False

    def wake(self) -> bool:
        """Wake the waiter; False if it can no longer be woken (its event loop has ended)."""
        raise NotImplementedError


class _ThreadWaiter(_Waiter):
    __slots__ = ("lock",)

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.lock.acquire()

    def wake(self) -> bool:
        self.lock.release()
        return True


class _TaskWaiter(_Waiter):
    __slots__ = ("loop", "wakeup")

    def __init__(self) -> None:
        super().__init__()
        self.loop: LoopHandle = current_loop()
        self.wakeup: Wakeup = self.loop.wakeup()

    def wake(self) -> bool:
        if self.loop.is_current():
            self.wakeup.wake()
            return True
        return self.loop.call_soon(self.wakeup.wake)


class Budget:
    """`max_concurrency` slots shared by every leaf call below the call they were given to.

    Only leaves hold a slot, so nesting never deadlocks; a budget nested inside another takes
    a slot of its parent too. Used as `with budget:` from threads and `async with budget:`
    from tasks, on any event loop: it belongs to none. Waiters are served in arrival order;
    a released slot is handed straight to the first waiter, which is woken on its own thread
    or event loop (no polling).
    """

    __slots__ = ("_free", "_lock", "_waiters", "limit", "parent")

    def __init__(self, limit: int, parent: Budget | None = None) -> None:
        self.limit = limit
        self.parent = parent
        self._free = limit
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()

    def __repr__(self) -> str:
        return f"Budget(limit={self.limit}, free={self._free}, waiting={len(self._waiters)})"

    # -- one budget's own slots

    def _give(self) -> None:
        while True:
            with self._lock:
                if not self._waiters:
                    self._free += 1
                    return
                waiter = self._waiters.popleft()
                waiter.granted = True
            if waiter.wake():
                return
            # Its event loop has ended: nobody will use the slot, so pass it on.

    def _claim(self) -> bool:
        """Take a slot if one is free and nobody waits for one (arrival order); the caller
        holds the lock."""
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    def _take_or_queue(self, make_waiter: Callable[[], W]) -> W | None:
        """Take a slot now (None), or queue a waiter for one."""
        with self._lock:
            if self._claim():
                return None
            waiter = make_waiter()
            self._waiters.append(waiter)
            return waiter

    def _wait_blocking(self) -> None:
        waiter = self._take_or_queue(_ThreadWaiter)
        if waiter is None:
            return
        try:
            waiter.lock.acquire()
        except BaseException:
            self._abandon(waiter)
            raise

    async def _wait(self) -> None:
        waiter = self._take_or_queue(_TaskWaiter)
        if waiter is None:
            return
        try:
            await waiter.wakeup.wait()
        except BaseException:
            self._abandon(waiter)
            raise

    def _abandon(self, waiter: _Waiter) -> None:
        """A waiter gives up (cancelled): leave the queue, or pass on a slot already granted."""
        with self._lock:
            if not waiter.granted:
                self._waiters.remove(waiter)
                return
        self._give()

    # -- the slots of this budget and every parent

    def try_acquire(self) -> bool:
        """Take a slot if one is free right now (and one of each parent budget), else none."""
        if self.parent is not None and not self.parent.try_acquire():
            return False
        with self._lock:
            if self._claim():
                return True
        if self.parent is not None:
            self.parent.release()
        return False

    def acquire_blocking(self) -> None:
        """Take a slot (and one of each parent budget), blocking this thread until one is free."""
        if self.parent is not None:
            self.parent.acquire_blocking()
        try:
            self._wait_blocking()
        except BaseException:
            if self.parent is not None:
                self.parent.release()
            raise

    async def acquire(self) -> None:
        """Take a slot (and one of each parent budget), waiting without blocking the event
        loop; cancellable while waiting."""
        if self.try_acquire():
            return
        if self.parent is not None:
            await self.parent.acquire()
        try:
            await self._wait()
        except BaseException:
            if self.parent is not None:
                self.parent.release()
            raise

    def release(self) -> None:
        """Give back a slot (and the parents' slots) taken by any of the acquire methods."""
        self._give()
        if self.parent is not None:
            self.parent.release()

    def __enter__(self) -> None:
        self.acquire_blocking()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: Any) -> None:
        self.release()
