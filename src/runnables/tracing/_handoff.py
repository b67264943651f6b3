"""`Handoff`: items passed from a producer thread to a consumer as they are made, a few at most
waiting, with the consumer able to stop the producer at its next item."""

from __future__ import annotations

import collections
import threading
from typing import Generic, TypeVar

__all__ = ["END", "Handoff", "Stopped"]

T = TypeVar("T")


class Stopped(BaseException):
    """Raised in the producer when it makes an item the consumer no longer wants: it unwinds
    the producer's work (a `BaseException`, as a cancellation: callers let it through)."""


class _End:
    """What `take` gives once the producer is done."""

    __slots__ = ()


END = _End()


class Handoff(Generic[T]):
    """A bounded queue between one producer thread and one consumer, which also carries the
    producer's end (or failure) and the consumer's leaving."""

    __slots__ = ("_changed", "_error", "_items", "_over", "_size", "_stopped")

    def __init__(self, size: int) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._items: collections.deque[T] = collections.deque()
        self._size = size
        self._over = False
        self._error: BaseException | None = None
        self._stopped = False

    def put(self, item: T, *, or_stop: bool = True) -> None:
        """Queue `item`, waiting while `size` items wait. Once the consumer has left, the item
        is dropped, and with `or_stop` `Stopped` is raised: the producer stops there."""
        with self._changed:
            while len(self._items) >= self._size and not self._stopped:
                self._changed.wait()
            if self._stopped:
                if or_stop:
                    raise Stopped
                return
            self._items.append(item)
            self._changed.notify()

    def stopped(self) -> bool:
        """Whether the consumer has left."""
        return self._stopped

    def finish(self, error: BaseException | None = None) -> None:
        """The producer is done (with `error` if it failed): `take` gives what is left, then
        raises `error` or gives `END`."""
        with self._changed:
            self._over = True
            self._error = error
            self._changed.notify_all()

    def take(self) -> T | _End:
        """The next item, waiting for it; `END` once the producer is done (or its error)."""
        with self._changed:
            items = self._items
            while not items and not self._over:
                self._changed.wait()
            if items:
                item = items.popleft()
                self._changed.notify()
                return item
            error, self._error = self._error, None
        if error is not None:
            raise error
        return END

    def stop(self) -> None:
        """The consumer leaves: the items waiting are dropped, a producer waiting for room
        goes on (and stops at its next item)."""
        with self._changed:
            self._stopped = True
            self._items.clear()
            self._changed.notify_all()

    def raise_failure(self) -> None:
        """Raise the producer's failure, if `take` has not raised it already."""
        error, self._error = self._error, None
        if error is not None:
            raise error

    def wait_over(self) -> None:
        """Wait until the producer is done."""
        with self._changed:
            while not self._over:
                self._changed.wait()
