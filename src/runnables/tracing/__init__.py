"""Observability: run records and callbacks, event streams and JSON Patch run logs.

`Run` and `Callback` are the records and the protocols every runnable reports to (a
callback is anything with one of `OnStart`, `OnStream`, `OnEnd`, `OnError`'s methods);
`Runnable.astream_events` yields `StreamEvent`s and `Runnable.astream_log` yields
`RunLogPatch`es (or `RunLog`s) built on them.

`StreamEvent` is a union of one TypedDict per event name (`ChatModelStreamEvent` is
`on_chat_model_stream`, ...): comparing `ev["event"]` with a name narrows the event, and
its `data` is then a `StartData`, a `StreamData[chunk type]`, an `EndData[output type]`
(or, for `on_tool_error`, a `ToolErrorData`).
"""

from __future__ import annotations

from runnables._core.runs import Callback, OnCustomEvent, OnEnd, OnError, OnStart, OnStream, Run
from runnables.tracing._events import (
    BaseStreamEvent,
    ChainEndEvent,
    ChainStartEvent,
    ChainStreamEvent,
    ChatModelEndEvent,
    ChatModelStartEvent,
    ChatModelStreamEvent,
    CustomEvent,
    EndData,
    EventData,
    LLMEndEvent,
    LLMStartEvent,
    LLMStreamEvent,
    ParserEndEvent,
    ParserStartEvent,
    ParserStreamEvent,
    PromptEndEvent,
    PromptStartEvent,
    PromptStreamEvent,
    RetrieverEndEvent,
    RetrieverStartEvent,
    RetrieverStreamEvent,
    StartData,
    StreamData,
    StreamEvent,
    ToolEndEvent,
    ToolErrorData,
    ToolErrorEvent,
    ToolStartEvent,
    ToolStreamEvent,
)
from runnables.tracing._log import LogEntry, RunLog, RunLogPatch, RunState

__all__ = [
    "BaseStreamEvent",
    "Callback",
    "ChainEndEvent",
    "ChainStartEvent",
    "ChainStreamEvent",
    "ChatModelEndEvent",
    "ChatModelStartEvent",
    "ChatModelStreamEvent",
    "CustomEvent",
    "EndData",
    "EventData",
    "LLMEndEvent",
    "LLMStartEvent",
    "LLMStreamEvent",
    "LogEntry",
    "OnCustomEvent",
    "OnEnd",
    "OnError",
    "OnStart",
    "OnStream",
    "ParserEndEvent",
    "ParserStartEvent",
    "ParserStreamEvent",
    "PromptEndEvent",
    "PromptStartEvent",
    "PromptStreamEvent",
    "RetrieverEndEvent",
    "RetrieverStartEvent",
    "RetrieverStreamEvent",
    "Run",
    "RunLog",
    "RunLogPatch",
    "RunState",
    "StartData",
    "StreamData",
    "StreamEvent",
    "ToolEndEvent",
    "ToolErrorData",
    "ToolErrorEvent",
    "ToolStartEvent",
    "ToolStreamEvent",
]
