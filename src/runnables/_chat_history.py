"""The chat-history protocol, and the in-memory store that implements it."""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from typing import Protocol

import anyio.to_thread
import attrs

from runnables.errors import RunnablesTypeError
from runnables.messages import AIMessage, BaseMessage, HumanMessage

__all__ = ["BaseChatMessageHistory", "InMemoryChatMessageHistory", "checked_messages"]


class BaseChatMessageHistory(Protocol):
    """Where one conversation's messages are kept between turns.

    A store writes `messages`, `add_messages` and `clear`; subclassing this protocol gives it
    the rest: the one-message helpers, and async methods that run the sync ones in a worker
    thread (so a blocking store never blocks the event loop). A store with native async I/O
    writes `aget_messages`, `aadd_messages` and `aclear` too. `add_messages` must add all of
    its messages or none of them: a turn is never half-written.
    """

    @property
    @abstractmethod
    def messages(self) -> list[BaseMessage]:
        """The conversation so far, oldest first (a new list: changing it changes nothing)."""

    @abstractmethod
    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append `messages`, all of them or (if this raises) none."""

    @abstractmethod
    def clear(self) -> None:
        """Forget every message of this conversation."""

    def add_message(self, message: BaseMessage) -> None:
        """Append one message."""
        self.add_messages([message])

    def add_user_message(self, message: HumanMessage | str) -> None:
        """Append what the user said (a string becomes a `HumanMessage`)."""
        self.add_messages([HumanMessage(message) if isinstance(message, str) else message])

    def add_ai_message(self, message: AIMessage | str) -> None:
        """Append what the model said (a string becomes an `AIMessage`)."""
        self.add_messages([AIMessage(message) if isinstance(message, str) else message])

    async def aget_messages(self) -> list[BaseMessage]:
        """`messages`, read in a worker thread."""
        return await anyio.to_thread.run_sync(lambda: self.messages)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """`add_messages` in a worker thread; a cancelled caller still waits for it to finish,
        so the write is never abandoned half-way."""
        await anyio.to_thread.run_sync(self.add_messages, messages)

    async def aclear(self) -> None:
        """`clear` in a worker thread."""
        await anyio.to_thread.run_sync(self.clear)


def checked_messages(messages: Iterable[object]) -> list[BaseMessage]:
    """`messages` as a list, after checking that each one is a message."""
    checked: list[BaseMessage] = []
    for index, message in enumerate(messages):
        if not isinstance(message, BaseMessage):
            msg = f"messages[{index}]: expected a BaseMessage, got {type(message).__name__}"
            raise RunnablesTypeError(msg)
        checked.append(message)
    return checked


@attrs.define(eq=False)
class InMemoryChatMessageHistory(BaseChatMessageHistory):
    """A conversation kept in a list in this process; safe to share between threads and tasks.

    Keep one per session in a dict, e.g. ``store.setdefault(session_id,
    InMemoryChatMessageHistory())``, and return it from the history factory.
    """

    _messages: list[BaseMessage] = attrs.field(
        factory=list, converter=checked_messages, alias="messages"
    )
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    @property
    def messages(self) -> list[BaseMessage]:
        with self._lock:
            return list(self._messages)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        checked = checked_messages(messages)
        with self._lock:
            self._messages.extend(checked)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    # In memory, nothing blocks: no trip to a worker thread (and no checkpoint mid-write).

    async def aget_messages(self) -> list[BaseMessage]:
        return self.messages

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        self.add_messages(messages)

    async def aclear(self) -> None:
        self.clear()
