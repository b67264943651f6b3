"""Stopping sync work early: threads cannot be cancelled, so a sync fan-out (a parallel's
branches) marks its `Stop` when one branch fails, and the others give up at their next step
(the next chunk of a leaf stream, the next leaf call) instead of running to their end."""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["Stop", "Stopped", "check_stop", "current_stop", "reset_stop", "set_stop"]


class Stopped(BaseException):
    """Raised in a branch whose sibling has failed (a `BaseException`, so that user code's
    `except Exception` does not swallow it); the fan-out raises the sibling's error instead."""


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


def check_stop() -> None:
    """Raise `Stopped` if the fan-out running this code (or one around it) has stopped."""
    stop = _CURRENT.get()
    if stop is not None and stop.is_set():
        raise Stopped


set_stop = _CURRENT.set
reset_stop = _CURRENT.reset
