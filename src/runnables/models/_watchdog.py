"""`Watchdog`: an overall deadline for one request of httpx's sync client.

httpx's timeouts bound each connect, read and write, so a server sending a byte a second holds
a blocking call for as long as it likes. The watchdog learns the request's socket from httpcore's
`trace` extension and shuts it down when the deadline passes: the blocked read returns at once,
httpx raises, and the caller sees `expired` and reports a timeout.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Any, final

__all__ = ["Watchdog"]

# The network streams each request opens; the last one holds the socket in use (TLS wraps it).
_CONNECTED = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})


@final
class Watchdog:
    """Shuts down the socket of a request still running `seconds` after it entered."""

    __slots__ = ("_finished", "_lock", "_socket", "_timer", "expired")

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._finished = False
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` extension: remember each socket the request connects."""
        if event not in _CONNECTED:
            return
        sock: object = info["return_value"].get_extra_info("socket")
        if isinstance(sock, socket.socket):
            with self._lock:
                self._socket = sock
                if self.expired:
                    self._shut()

    def _expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            self._shut()

    def _shut(self) -> None:
        if self._socket is None:
            return
        # A socket httpx already closed has no read left to interrupt.
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            self._finished = True
            self._socket = None
        self._timer.cancel()
