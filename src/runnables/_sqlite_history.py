"""`SQLiteChatMessageHistory`: conversations kept in an SQLite file, one row per message."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Generator, Sequence
from contextlib import closing, contextmanager
from typing import cast

import attrs

from runnables._chat_history import BaseChatMessageHistory, checked_messages
from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import BaseMessage, message_from_dict, message_to_dict

__all__ = ["SQLiteChatMessageHistory"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_table_name(_: object, __: object, value: str) -> None:
    """The table name is written into SQL (it cannot be a parameter), so only a plain
    identifier is allowed."""
    if not isinstance(cast("object", value), str) or not _IDENTIFIER.fullmatch(value):
        msg = f"table_name must be a plain SQL identifier (letters, digits, _), got {value!r}"
        raise RunnablesValueError(msg)


def _check_path(_: object, __: object, value: str | os.PathLike[str]) -> None:
    """Every call opens its own connection, so a private database would forget each write."""
    if os.fspath(value) in ("", ":memory:"):
        msg = (
            f"path {os.fspath(value)!r} names a private database that each connection gets "
            "afresh: give a file path, or use InMemoryChatMessageHistory"
        )
        raise RunnablesValueError(msg)


def _check_session_id(_: object, __: object, value: str) -> None:
    if not isinstance(cast("object", value), str):
        msg = f"session_id must be a str, got {type(value).__name__}"
        raise RunnablesTypeError(msg)


@attrs.frozen
class SQLiteChatMessageHistory(BaseChatMessageHistory):
    """One conversation (`session_id`) in the SQLite database file at `path`.

    Each message is one row holding its `message_to_dict` JSON, so its kind round-trips. Every
    call opens its own connection, so one value may be used from any thread; concurrent
    writers wait for each other (up to `timeout` seconds), and `add_messages` writes all its
    messages in one transaction. The async methods run in a worker thread, and a cancelled
    caller waits for the write in progress to commit or roll back.
    """

    session_id: str = attrs.field(validator=_check_session_id)
    path: str | os.PathLike[str] = attrs.field(validator=_check_path)
    table_name: str = attrs.field(
        default="message_store", kw_only=True, validator=_check_table_name
    )
    timeout: float = attrs.field(default=30.0, kw_only=True)

    @contextmanager
    def _connect(self) -> Generator[sqlite3.Connection]:
        """A connection in autocommit mode (transactions are explicit), the table created."""
        with closing(
            sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        ) as connection:
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table_name} "
                "(id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, "
                "message TEXT NOT NULL)"
            )
            connection.execute(
                f"CREATE INDEX IF NOT EXISTS {self.table_name}_session "
                f"ON {self.table_name} (session_id, id)"
            )
            yield connection

    @property
    def messages(self) -> list[BaseMessage]:
        with self._connect() as connection:
            rows: list[tuple[str]] = connection.execute(
                f"SELECT message FROM {self.table_name} WHERE session_id = ? ORDER BY id",
                (self.session_id,),
            ).fetchall()
        return [message_from_dict(json.loads(row)) for (row,) in rows]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        rows = [
            (self.session_id, json.dumps(message_to_dict(message)))
            for message in checked_messages(messages)
        ]
        if not rows:
            return
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(
                    f"INSERT INTO {self.table_name} (session_id, message) VALUES (?, ?)", rows
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def clear(self) -> None:
        with self._connect() as connection:
            connection.execute(
                f"DELETE FROM {self.table_name} WHERE session_id = ?", (self.session_id,)
            )
