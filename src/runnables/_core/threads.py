"""The library's worker threads: where sync user code reached from async code runs.

anyio's `to_thread.run_sync` costs about 130 us of CPU per call when hundreds are in flight
(a capacity limiter, a cancel scope and a thread wakeup per call, one loop callback per
result); a server that starts hundreds of streams whose first step is a plain function spends
a third of its time there. Here a call is a record put on one queue: an idle worker takes it
(a worker is started only when none is free, up to anyio's default thread limit), and results
go back to each event loop in batches, one loop callback for all that finished meanwhile.

The semantics are anyio's: the call runs in a copy of the caller's context; cancelling the
waiting task drops a call no worker has started, and waits for a started one to return (then
raises the cancellation), cancelling the coroutines it runs on the loop (`run_for`); code in
the worker can reach the event loop that started it (`worker_token`) and ask whether its
caller has been cancelled (`check_cancelled`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Awaitable, Callable
from contextvars import Context, copy_context
from typing import Any, Generic, TypeVar

import anyio
import anyio.lowlevel

from runnables._core.loop import LoopHandle, Wakeup, current_loop

__all__ = [
    "WorkerCancelled",
    "WorkerThreads",
    "check_cancelled",
    "current_call",
    "run_for",
    "run_in_worker_thread",
    "worker_token",
]

T = TypeVar("T")
W = TypeVar("W")

#: Seconds an idle worker waits for work before it ends.
_IDLE_SECONDS = 10.0

#: Workers at most, unless anyio's default thread limiter allows more (read only when needed).
_DEFAULT_MAX_WORKERS = 40


class WorkerCancelled(BaseException):
    """Raised by `check_cancelled` in a worker whose caller has been cancelled (the caller
    raises its own cancellation; this only unwinds the worker's code)."""


class _Call:
    """One call of sync code in a worker: what to run, where its result goes."""

    __slots__ = (
        "args",
        "cancelled",
        "context",
        "done",
        "error",
        "func",
        "loop",
        "result",
        "scopes",
        "started",
        "token",
        "wakeup",
    )

    def __init__(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        context: Context,
        loop: LoopHandle,
        token: anyio.lowlevel.EventLoopToken,
    ) -> None:
        self.func = func
        self.args = args
        self.context = context
        self.loop = loop
        self.token = token
        self.wakeup: Wakeup = loop.wakeup()
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancelled = False  # the waiting task has been cancelled (read by the worker)
        self.started = False  # a worker has begun the call (both flags change under the lock)
        self.done = False  # the result has reached the event loop
        # The cancel scopes of coroutines the call runs on the loop (`run_for`), cancelled
        # with it: a worker waiting on one is never left waiting for a caller that has gone.
        self.scopes: list[anyio.CancelScope] = []


class WorkerThreads(Generic[W]):
    """Threads taking work from one queue: one is started only when no thread is free (up to
    `_max_workers`), and one left without work for `_IDLE_SECONDS` ends (a stdlib executor
    keeps its threads for good). Subclasses say what running an item is (`_run`).

    `_free` counts threads waiting for work minus items waiting for a thread: an item that
    finds it negative starts a thread (while under the limit), so no item ever waits for one
    that is busy while a thread could be started.
    """

    def __init__(self, name: str, max_workers: int) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._work: queue.SimpleQueue[W] = queue.SimpleQueue()
        self._free = 0
        self._workers = 0
        self._max_workers = max_workers

    def submit(self, item: W) -> None:
        with self._lock:
            self._free -= 1
            self._work.put(item)
            if self._free >= 0 or not self._may_start():
                return  # a free thread, or the next one to finish, takes it
            self._workers += 1
            self._free += 1
        try:
            threading.Thread(target=self._serve, name=self._name, daemon=True).start()
        except BaseException:  # (no thread could be started: the system's limit)
            with self._lock:
                self._workers -= 1
                self._free -= 1
            raise

    def _may_start(self) -> bool:
        """Whether one more thread may start (called under the lock)."""
        return self._workers < self._max_workers

    def _run(self, item: W, /) -> None:
        raise NotImplementedError

    def _serve(self) -> None:
        work, lock = self._work, self._lock
        while True:
            try:
                item = work.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                with lock:
                    try:
                        item = work.get_nowait()  # put in the instant the wait ended
                    except queue.Empty:
                        self._free -= 1
                        self._workers -= 1
                        return
            self._run(item)
            del item  # (nothing of it is kept while this thread waits for the next)
            with lock:
                self._free += 1


class _Pool(WorkerThreads[_Call]):
    """The worker threads of sync calls from async code, and the per-loop batches of
    finished calls."""

    def __init__(self) -> None:
        super().__init__("runnables worker", _DEFAULT_MAX_WORKERS)
        self._limit_read = -1.0  # when anyio's thread limit was last read
        self._finished: dict[object, list[_Call]] = {}  # by loop: calls ended, not yet handed back

    def _may_start(self) -> bool:
        if self._workers < self._max_workers:
            return True
        now = time.monotonic()
        if now < self._limit_read + 1.0:
            return False
        self._limit_read = now  # (a user may have raised anyio's limit meanwhile)
        self._max_workers = max(self._max_workers, _anyio_thread_limit())
        return self._workers < self._max_workers

    def _run(self, call: _Call) -> None:
        with self._lock:
            dropped = call.cancelled  # its caller has gone before it started
            call.started = not dropped
        if dropped:
            del call.func, call.args, call.context
            return
        _local.call = call
        try:
            call.result = call.context.run(call.func, *call.args)
        except BaseException as exc:
            call.error = exc
        finally:
            _local.call = None
        del call.func, call.args, call.context
        self._hand_back(call)

    def withdraw(self, call: _Call) -> bool:
        """Mark `call` cancelled; whether a worker had started it (else none will)."""
        with self._lock:
            call.cancelled = True
            return call.started

    def _hand_back(self, call: _Call) -> None:
        """Queue `call` for its event loop; the first of a batch schedules the batch."""
        loop = call.loop
        key = loop.key()
        with self._lock:
            batch = self._finished.get(key)
            if batch is not None:
                batch.append(call)
                return
            self._finished[key] = [call]
        if not loop.call_soon(lambda: self._wake(key)):
            with self._lock:  # the loop has ended: nobody waits for these any more
                del self._finished[key]

    def _wake(self, key: object) -> None:
        with self._lock:
            batch = self._finished.pop(key)
        for call in batch:
            call.done = True
            call.wakeup.wake()


def _anyio_thread_limit() -> int:
    import anyio.to_thread

    return int(anyio.to_thread.current_default_thread_limiter().total_tokens)


_POOL = _Pool()
_local = threading.local()
_last_token: tuple[object, anyio.lowlevel.EventLoopToken] | None = None


def _token(loop: LoopHandle) -> anyio.lowlevel.EventLoopToken:
    """anyio's token for `loop`, the running one (kept for the last loop asked about: the
    lookup costs more than the rest of a call's hand-over)."""
    global _last_token
    key = loop.key()
    last = _last_token
    if last is not None and last[0] is key:
        return last[1]
    token = anyio.lowlevel.current_token()
    _last_token = (key, token)
    return token


async def run_in_worker_thread(func: Callable[..., T], *args: Any) -> T:
    """Run a sync callable in a worker thread; cancellation waits for it to return."""
    loop = current_loop()
    call = _Call(func, args, copy_context(), loop, _token(loop))
    _POOL.submit(call)
    try:
        await call.wakeup.wait()
    except BaseException:
        if not call.done:
            if not _POOL.withdraw(call):
                raise  # dropped: no worker will run it
            for scope in call.scopes:
                scope.cancel()
            with anyio.CancelScope(shield=True):
                while not call.done:
                    call.wakeup = call.loop.wakeup()
                    await call.wakeup.wait()
        if call.error is None or isinstance(call.error, WorkerCancelled):
            raise
        # The call failed on its own: that goes first, as anyio's worker threads do it (a
        # cancellation by a scope is delivered again at the next checkpoint).
    error = call.error
    if error is not None:
        call.error = None  # no cycle through the traceback's frames
        raise error
    result: T = call.result
    return result


def current_call() -> _Call | None:
    """The call this worker thread is running; None outside the library's workers."""
    call: _Call | None = getattr(_local, "call", None)
    return call


def worker_token() -> anyio.lowlevel.EventLoopToken | None:
    """In a worker running a call: the token of the event loop that made it (for
    `anyio.from_thread.run(..., token=...)`); None anywhere else."""
    call = current_call()
    return None if call is None else call.token


async def run_for(call: _Call, func: Callable[[], Awaitable[T]]) -> T:
    """Await `func()` on the loop for `call`'s worker (through `anyio.from_thread`),
    cancelled when the call's caller is (as anyio ties such tasks to the host task's scope)."""
    with anyio.CancelScope() as scope:
        if call.cancelled:
            scope.cancel()
        call.scopes.append(scope)
        try:
            return await func()
        finally:
            call.scopes.remove(scope)
    raise WorkerCancelled  # cancelled: the caller raises its own cancellation


def check_cancelled() -> None:
    """In a worker: raise `WorkerCancelled` if the call's caller has been cancelled."""
    call = current_call()
    if call is not None and call.cancelled:
        raise WorkerCancelled
