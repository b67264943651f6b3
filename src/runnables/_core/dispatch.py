"""Delivering notifications to user callbacks off the run's path.

The library's own observers (the event stream, the run log, listeners; anything with
`run_inline = True`) are called in place. A user's callbacks are not: a slow one would stretch
every chunk of a stream, and an async one that never returns would hold the run forever. Each
call with user callbacks gets a `Dispatcher`, which delivers their notifications in the order
they happened, from a worker of its own:

* sync methods on a worker thread (async methods too when the run has no event loop);
* async methods on a task of the run's event loop (so they may use the loop's resources).

A callback method that runs longer than `CALLBACK_TIMEOUT` seconds is detached: an async one is
cancelled, a sync one (which cannot be interrupted) is left to finish while its worker's later
notifications are dropped; either way once, with a log record. When a call's root run ends,
the call waits (at most `CALLBACK_TIMEOUT`) until its callbacks have seen everything, so that
a callback has seen `on_end` when `invoke` returns.
"""

from __future__ import annotations

import collections
import inspect
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

__all__ = ["CALLBACK_TIMEOUT", "Dispatcher", "is_async_method"]

_log = logging.getLogger("runnables")

#: Seconds a callback method may take with one notification before it is detached, and that a
#: call waits at its end for its callbacks to catch up.
CALLBACK_TIMEOUT = 10.0

_Item = tuple[Callable[..., object], tuple[Any, ...]]

_LINGER = 0.05  # seconds an idle worker waits for more before its thread goes back to the pool
_BATCH = 0.001  # seconds a woken worker lets its batch grow


def is_async_method(method: Callable[..., object]) -> bool:
    """Whether calling `method` gives a coroutine to await."""
    return inspect.iscoroutinefunction(method) or inspect.iscoroutinefunction(
        getattr(method, "__call__", None)  # noqa: B004 - a callable object's own kind
    )


class Dispatcher:
    """The delivery of one call's user-callback notifications (see the module docstring)."""

    __slots__ = ("_lock", "_loops", "_thread")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: _ThreadWorker | None = None
        self._loops: dict[object, _TaskWorker] = {}

    def post(
        self,
        sync_methods: tuple[Callable[..., object], ...],
        async_methods: tuple[Callable[..., object], ...],
        args: tuple[Any, ...],
    ) -> None:
        """Queue a notification for `sync_methods` and `async_methods`; never blocks."""
        if sync_methods:
            self._thread_worker().post([(method, args) for method in sync_methods])
        if async_methods:
            worker = self._task_worker()
            items = [(method, args) for method in async_methods]
            if worker is None:  # no event loop here: the thread runs them to completion
                self._thread_worker().post(items)
            else:
                worker.post(items)

    def wait(self) -> None:
        """From sync code: wait (at most `CALLBACK_TIMEOUT`) until what was posted from
        threads is delivered. (Tasks of an event loop blocked by this call deliver later.)"""
        if self._thread is not None:
            self._thread.wait(time.monotonic() + CALLBACK_TIMEOUT)

    async def wait_async(self) -> None:
        """From async code: wait (at most `CALLBACK_TIMEOUT`) until everything is delivered."""
        deadline = time.monotonic() + CALLBACK_TIMEOUT
        for worker in list(self._loops.values()):
            await worker.wait(deadline)
        thread = self._thread
        if thread is not None and not thread.idle():
            import anyio.to_thread

            await anyio.to_thread.run_sync(thread.wait, deadline)

    def _thread_worker(self) -> _ThreadWorker:
        worker = self._thread
        if worker is None:
            with self._lock:
                worker = self._thread
                if worker is None:
                    worker = self._thread = _ThreadWorker()
        return worker

    def _task_worker(self) -> _TaskWorker | None:
        from runnables._core.loop import current_loop

        try:
            loop = current_loop()
        except RuntimeError:
            return None
        key = loop.key()
        worker = self._loops.get(key)
        if worker is None:
            with self._lock:
                worker = self._loops.setdefault(key, _TaskWorker(loop))
        return worker


def _report(method: Callable[..., object]) -> None:
    _log.exception("callback %r raised; the run goes on", method)


class _ThreadWorker:
    """Calls queued methods in order on a pool thread, started when there is work and
    stopping once idle for a moment. It is woken at most once per batch (and then waits a
    little for the batch to grow), so that a fast run does not pay a thread switch per
    notification."""

    __slots__ = (
        "_busy_since",
        "_changed",
        "_delivered",
        "_dropping",
        "_items",
        "_posted",
        "_running",
        "_waiting",
    )

    def __init__(self) -> None:
        self._items: collections.deque[_Item] = collections.deque()
        self._changed = threading.Condition(threading.Lock())
        self._running = False
        self._waiting = False
        self._posted = 0
        self._delivered = 0
        self._busy_since: float | None = None
        self._dropping = False

    def post(self, items: list[_Item]) -> None:
        with self._changed:
            busy = self._busy_since
            if busy is not None and time.monotonic() - busy > CALLBACK_TIMEOUT:
                if not self._dropping:
                    self._dropping = True
                    _log.error(
                        "a callback has been handling one notification for more than %s s: "
                        "it is detached, and notifications are dropped until it returns",
                        CALLBACK_TIMEOUT,
                    )
                return
            self._items.extend(items)
            self._posted += len(items)
            if self._running:
                if self._waiting:
                    self._waiting = False
                    self._changed.notify_all()
                return
            self._running = True
        from runnables._core.concurrency import submit

        submit(self._work)

    def _work(self) -> None:
        while True:
            with self._changed:
                if not self._items:
                    self._waiting = True
                    self._changed.wait(_LINGER)  # more is likely to come soon
                    self._waiting = False
                    if not self._items:
                        self._running = False
                        self._changed.notify_all()
                        return
                    self._changed.wait(_BATCH)  # let the batch grow (posts do not wake us)
                batch = list(self._items)
                self._items.clear()
            # Only this thread writes `_busy_since` and `_delivered`; posters and waiters read
            # them under the lock, and waiters are woken once the batch is done.
            for method, args in batch:
                self._busy_since = time.monotonic()
                try:
                    result = method(*args)
                    if inspect.isawaitable(result):
                        from runnables._core.interop import run_coroutine_blocking

                        run_coroutine_blocking(partial(_await, result))
                except Exception:
                    _report(method)
                self._delivered += 1
            with self._changed:
                self._busy_since = None
                self._dropping = False
                self._changed.notify_all()

    def idle(self) -> bool:
        with self._changed:
            return self._delivered >= self._posted

    def wait(self, deadline: float) -> None:
        with self._changed:
            target = self._posted
            while self._delivered < target:
                left = deadline - time.monotonic()
                if left <= 0 or self._dropping:
                    _log.error(
                        "callbacks have not caught up within %s s; the call goes on without them",
                        CALLBACK_TIMEOUT,
                    )
                    return
                self._changed.wait(left)


async def _await(awaitable: Any) -> object:
    return await awaitable


class _TaskWorker:
    """Awaits queued async methods in order on a task of one event loop, started when there
    is work and ending when there is none; each within `CALLBACK_TIMEOUT`."""

    __slots__ = ("_detached", "_items", "_loop", "_running", "_waiters")

    def __init__(self, loop: Any) -> None:
        self._loop = loop
        self._items: collections.deque[_Item] = collections.deque()
        self._running = False
        self._waiters: list[Any] = []
        self._detached: set[int] = set()

    def post(self, items: list[_Item]) -> None:
        if not self._loop.is_current():  # from a worker thread of this run: hand it over
            self._loop.call_soon(lambda: self.post(items))
            return
        self._items.extend(items)
        if not self._running:
            self._running = True
            self._loop.spawn(self._work, name="runnables callbacks")

    async def _work(self) -> None:
        import anyio

        try:
            while self._items:
                method, args = self._items.popleft()
                owner = id(getattr(method, "__self__", method))
                if owner in self._detached:
                    continue
                with anyio.move_on_after(CALLBACK_TIMEOUT) as scope:
                    try:
                        result = method(*args)
                        if inspect.isawaitable(result):
                            await result
                    except Exception:
                        _report(method)
                if scope.cancelled_caught:
                    self._detached.add(owner)
                    _log.error(
                        "callback %r took more than %s s and was cancelled; it is detached",
                        method,
                        CALLBACK_TIMEOUT,
                    )
        finally:
            self._running = False
            waiters, self._waiters = self._waiters, []
            for wakeup in waiters:
                wakeup.wake()

    async def wait(self, deadline: float) -> None:
        import anyio

        if not self._running:
            return
        wakeup = self._loop.wakeup()
        self._waiters.append(wakeup)
        with anyio.move_on_after(max(0.0, deadline - time.monotonic())) as scope:
            await wakeup.wait()
        if scope.cancelled_caught:
            _log.error(
                "callbacks have not caught up within %s s; the call goes on without them",
                CALLBACK_TIMEOUT,
            )
