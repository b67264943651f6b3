"""A Server-Sent Events response whose producer is cancelled the moment the client goes away.

Starlette's streaming response notices a disconnect only when its next write fails, so a
run waiting on a slow model would go on after the client left; this one cancels the
producer as soon as ``http.disconnect`` arrives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import anyio
from starlette.responses import Response

from ._disconnect import cancelled_on_disconnect

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

__all__ = ["EventStream", "frame"]


def frame(event: str, data: str | None = None) -> bytes:
    """One event in the text/event-stream format (``data`` must be a single line)."""
    if data is None:
        return f"event: {event}\r\n\r\n".encode()
    return f"event: {event}\r\ndata: {data}\r\n\r\n".encode()


class EventStream(Response):
    """Send the frames ``produce()`` yields; stop and cancel it if the client disconnects.

    ``on_disconnect`` is called once, after the producer has been cancelled and cleaned up.
    """

    media_type = "text/event-stream"

    def __init__(
        self, produce: Callable[[], AsyncIterator[bytes]], on_disconnect: Callable[[], None]
    ) -> None:
        # Not Response.__init__: it would declare a Content-Length for the empty body.
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self._produce = produce
        self._on_disconnect = on_disconnect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        completed = write_failed = False
        async with cancelled_on_disconnect(receive) as departure:
            frames = self._produce()
            try:
                await send(
                    {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
                )
                async for chunk in frames:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                completed = True
            except OSError:  # a server that reports a closed connection on write
                write_failed = True
            finally:
                with anyio.CancelScope(shield=True):
                    await _close(frames)
        # After the last write, a closed connection is normal.
        if (departure.left or write_failed) and not completed:
            self._on_disconnect()


async def _close(frames: AsyncIterator[bytes]) -> None:
    aclose = getattr(frames, "aclose", None)
    if aclose is not None:
        await aclose()
