"""The two errors of `runnables.load`: a value that cannot be written, a text that is refused."""

from __future__ import annotations

from runnables.errors import RunnablesTypeError, RunnablesValueError

__all__ = ["DumpError", "LoadError"]


class DumpError(RunnablesTypeError):
    """A value in the chain cannot be written (a lambda, a local function, an open resource);
    the message names it and where it is in the chain."""


class LoadError(RunnablesValueError):
    """A text was refused or could not be rebuilt; the message names what and where."""


DumpError.__module__ = LoadError.__module__ = "runnables.load"
