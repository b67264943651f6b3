"""Stopping sync work early: threads cannot be cancelled, so a sync fan-out (a parallel's
branches) marks its `Stop` when one branch fails, and the leaf streams below give up at
their next chunk instead of running to their end."""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["Stop", "Stopped", "current_stop", "reset_stop", "set_stop"]


class Stopped(BaseException):
    """Raised in sync work nobody wants any more: a branch whose sibling has failed (the
    fan-out raises the sibling's error instead), a run whose event stream was left. A
    `BaseException`, so that user code's `except Exception` does not swallow it."""


class Stop:
    """The stop flag of one sync fan-out, and of every fan-out nested in its branches."""

    __slots__ = ("parent", "stopped")

    def __init__(self, parent: Stop | None) -> None:
        self.parent = parent
        self.stopped = False

    def is_set(self) -> bool:
        stop: Stop | None = self
        while stop is not None:
            if stop.stopped:
                return True
            stop = stop.parent
        return False


#: The `Stop` of the innermost sync fan-out running the current code, if any.
_CURRENT: ContextVar[Stop | None] = ContextVar("runnables_stop", default=None)

current_stop = _CURRENT.get
set_stop = _CURRENT.set
reset_stop = _CURRENT.reset
