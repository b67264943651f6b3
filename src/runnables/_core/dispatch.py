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
import contextvars
import inspect
import logging
import queue
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
_Batch = tuple[tuple[Callable[..., object], ...], tuple[Any, ...]]  # methods, their arguments

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
            (self._thread or self._thread_worker()).post((sync_methods, args))
        if async_methods:
            worker = self._task_worker()
            if worker is None:  # no event loop here: the thread runs them to completion
                self._thread_worker().post((async_methods, args))
            else:
                worker.post([(method, args) for method in async_methods])

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
        if thread is not None:
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
            # A worker thread of the run (a sync step): its event loop's worker, if it has one,
            # keeps the order and the loop (the post is handed over to the loop).
            return next(iter(self._loops.values()), None) if len(self._loops) == 1 else None
        key = loop.key()
        worker = self._loops.get(key)
        if worker is None:
            with self._lock:
                worker = self._loops.setdefault(key, _TaskWorker(loop))
        return worker


def _report(method: Callable[..., object]) -> None:
    _log.exception("callback %r raised; the run goes on", method)


class _ThreadWorker:
    """Calls queued methods in order on a daemon thread of its own (a callback stuck for good
    must not keep the process from exiting; a fresh thread starts with an empty context, so
    a runnable the callback calls is not a child of the run it is told about), started when
    there is work and ending once idle for a moment. Posting costs a put on a `SimpleQueue`;
    the worker takes what has piled up in batches, pausing between batches, so that a fast
    run does not pay a thread switch per notification."""

    __slots__ = ("_busy_since", "_dropping", "_items", "_lock", "_running")

    def __init__(self) -> None:
        self._items: queue.SimpleQueue[_Batch | threading.Event] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False
        self._busy_since: float | None = None  # written by the worker only
        self._dropping = False

    def post(self, item: _Batch) -> None:
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
        self._items.put(item)
        if not self._running:
            self._ensure_running()

    def _ensure_running(self) -> None:
        with self._lock:
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._work, name="runnables-callbacks", daemon=True).start()

    def _work(self) -> None:
        items = self._items
        while True:
            try:
                item = items.get(timeout=_LINGER)
            except queue.Empty:
                with self._lock:
                    self._running = False
                # A post that saw `_running` still true just before: take its item over.
                if items.empty():
                    return
                with self._lock:
                    if self._running:  # a new worker has started for it
                        return
                    self._running = True
                continue
            self._deliver(item)
            while True:  # what piled up meanwhile, without waiting
                try:
                    item = items.get_nowait()
                except queue.Empty:
                    break
                self._deliver(item)
            time.sleep(_BATCH)  # let the next batch grow

    def _deliver(self, item: _Batch | threading.Event) -> None:
        if isinstance(item, threading.Event):  # a `wait` marker: everything before is done
            item.set()
            return
        methods, args = item
        for method in methods:
            self._busy_since = time.monotonic()
            try:
                result = method(*args)
                if inspect.isawaitable(result):
                    from runnables._core.interop import run_coroutine_blocking

                    run_coroutine_blocking(partial(_await_bounded, result, method))
            except BaseException:
                # Even SystemExit or a stray CancelledError must not end this thread: the
                # call's later notifications would be lost, and its end would wait
                # CALLBACK_TIMEOUT for a worker that is gone.
                _report(method)
        self._busy_since = None
        self._dropping = False

    def wait(self, deadline: float) -> None:
        """Wait until what was posted before this call is delivered (at most until `deadline`)."""
        marker = threading.Event()
        self._items.put(marker)
        self._ensure_running()
        if not marker.wait(max(0.0, deadline - time.monotonic())):
            _log.error(
                "callbacks have not caught up within %s s; the call goes on without them",
                CALLBACK_TIMEOUT,
            )


async def _await_bounded(awaitable: Any, method: Callable[..., object]) -> None:
    """Await an async callback's result within `CALLBACK_TIMEOUT` (on the worker's own loop)."""
    import anyio

    with anyio.move_on_after(CALLBACK_TIMEOUT) as scope:
        await awaitable
    if scope.cancelled_caught:
        _detached(method)


def _detached(method: Callable[..., object]) -> None:
    _log.error(
        "callback %r took more than %s s and was cancelled; it is detached",
        method,
        CALLBACK_TIMEOUT,
    )


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
            # An empty context: a runnable the callback calls is not a child of the run.
            self._running = self._loop.spawn(
                self._work, name="runnables callbacks", context=contextvars.Context()
            )

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
                    except anyio.get_cancelled_exc_class():
                        # A callback may raise CancelledError of its own (asyncio): that must
                        # not end this worker, which would drop the call's later notifications.
                        if self._loop.cancel_pending():
                            raise
                        _report(method)
                if scope.cancelled_caught:
                    self._detached.add(owner)
                    _detached(method)
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
