"""Observability: run records and callbacks, event streams and JSON Patch run logs.

`Run` and `Callback` are the records and the protocols every runnable reports to (a
callback is anything with one of `OnStart`, `OnStream`, `OnEnd`, `OnError`'s methods);
`Runnable.astream_events` yields `StreamEvent`s and `Runnable.astream_log` yields
`RunLogPatch`es (or `RunLog`s) built on them.
"""

from __future__ import annotations

from runnables._core.runs import Callback, OnEnd, OnError, OnStart, OnStream, Run
from runnables.tracing._events import EventData, StreamEvent
from runnables.tracing._log import LogEntry, RunLog, RunLogPatch, RunState

__all__ = [
    "Callback",
    "EventData",
    "LogEntry",
    "OnEnd",
    "OnError",
    "OnStart",
    "OnStream",
    "Run",
    "RunLog",
    "RunLogPatch",
    "RunState",
    "StreamEvent",
]
