"""`Handoff`: items passed from a producer thread to a consumer as they are made, a few at most
waiting, with the consumer able to stop the producer at its next item; `start_producer` runs
a producer on a thread (reused: starting one costs more than a short stream)."""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from runnables._core.stopping import Stopped

__all__ = ["END", "Handoff", "start_producer"]

_log = logging.getLogger("runnables")

T = TypeVar("T")


class _End:
    """What `take` gives once the producer is done."""

    __slots__ = ()


END = _End()


class Handoff(Generic[T]):
    """A bounded queue between producer threads and one consumer, which also carries the
    producers' end (or failure) and the consumer's leaving. The consumer takes what waits all
    at once, and each side wakes the other only when it waits (a lock and an append per item
    otherwise)."""

    __slots__ = (
        "_blocked",
        "_changed",
        "_error",
        "_items",
        "_lock",
        "_over",
        "_size",
        "_stopped",
        "_unattended",
        "_waiting",
    )

    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._items: list[T] = []
        self._size = size
        self._over = False
        self._error: BaseException | None = None
        self._stopped = False
        self._unattended = False  # the consumer left without waiting for the end
        self._waiting = False  # the consumer waits for an item
        self._blocked = 0  # producers waiting for room

    def put(self, item: T, *, or_stop: bool = True) -> None:
        """Queue `item`, waiting while `size` items wait. Once the consumer has left, the item
        is dropped, and with `or_stop` `Stopped` is raised: the producer stops there."""
        with self._lock:
            while len(self._items) >= self._size and not self._stopped:
                self._blocked += 1
                self._changed.wait()
                self._blocked -= 1
            if self._stopped:
                if or_stop:
                    raise Stopped
                return
            self._items.append(item)
            if self._waiting:
                self._changed.notify()

    def stopped(self) -> bool:
        """Whether the consumer has left."""
        return self._stopped

    def finish(self, error: BaseException | None = None) -> None:
        """The producer is done (with `error` if it failed): `take` gives what is left, then
        raises `error` or gives `END`."""
        with self._lock:
            self._over = True
            self._error = error
            self._changed.notify_all()
            unattended = self._unattended
        if unattended and error is not None:
            _log.error("a stream left by its consumer failed as it closed", exc_info=error)

    def take(self) -> list[T] | _End:
        """Every item waiting (waiting for one); `END` once the producer is done, or its error."""
        with self._lock:
            while not self._items and not self._over:
                self._waiting = True
                self._changed.wait()
                self._waiting = False
            items = self._items
            if items:
                self._items = []
                if self._blocked:
                    self._changed.notify_all()
                return items
            error, self._error = self._error, None
        if error is not None:
            raise error
        return END

    def stop(self, *, waits: bool = True) -> None:
        """The consumer leaves: the items waiting are dropped, a producer waiting for room
        goes on (and stops at its next item). Unless it `waits` for the end (and so for the
        producer's failure, if any), a failure is logged."""
        with self._lock:
            self._stopped = True
            self._unattended = not waits
            self._items = []
            self._changed.notify_all()

    def raise_failure(self) -> None:
        """Raise the producer's failure, if `take` has not raised it already."""
        error, self._error = self._error, None
        if error is not None:
            raise error

    def wait_over(self) -> None:
        """Wait until the producer is done."""
        with self._lock:
            while not self._over:
                self._changed.wait()


#: Seconds an idle producer thread waits for another producer to run before it ends.
_IDLE_SECONDS = 10.0

_jobs: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
_pool_lock = threading.Lock()
_idle = 0  # threads waiting for a job, less the jobs queued for them


def start_producer(job: Callable[[], object]) -> None:
    """Run `job()` on a thread of its own: an idle one if there is one, else a new one."""
    global _idle
    with _pool_lock:
        if _idle > 0:
            _idle -= 1
            _jobs.put(job)
            return
    threading.Thread(target=_serve, args=(job,), name="runnables producer", daemon=True).start()


def _serve(job: Callable[[], object]) -> None:
    global _idle
    while True:
        job()  # (it hands its own failures on: see `Handoff.finish`)
        del job
        with _pool_lock:
            _idle += 1
        try:
            job = _jobs.get(timeout=_IDLE_SECONDS)
        except queue.Empty:
            with _pool_lock:
                if _idle > 0:  # no job is on its way to this thread: it ends
                    _idle -= 1
                    return
            job = _jobs.get()  # one was claimed for it the instant its wait ended


def _forget_threads() -> None:
    """In a forked child, the parent's idle threads do not exist."""
    global _idle, _jobs, _pool_lock
    _idle = 0
    _jobs = queue.SimpleQueue()
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads)
