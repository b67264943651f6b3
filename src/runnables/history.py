"""Conversation memory: chat-history stores, and the wrapper that loads and saves a session's
messages around each turn of a runnable."""

from __future__ import annotations

from runnables._chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory
from runnables._sqlite_history import SQLiteChatMessageHistory
from runnables._with_history import FieldSpecLike, HistoryInput, RunnableWithMessageHistory

__all__ = [
    "BaseChatMessageHistory",
    "FieldSpecLike",
    "HistoryInput",
    "InMemoryChatMessageHistory",
    "RunnableWithMessageHistory",
    "SQLiteChatMessageHistory",
]

for _cls in (
    BaseChatMessageHistory,
    FieldSpecLike,
    InMemoryChatMessageHistory,
    RunnableWithMessageHistory,
    SQLiteChatMessageHistory,
):
    _cls.__module__ = __name__
