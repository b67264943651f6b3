"""Reading Server-Sent Events on the client side, one line at a time, without I/O."""

from __future__ import annotations

__all__ = ["EventReader"]


class EventReader:
    """Reads text/event-stream lines one at a time (no I/O), returning each completed event.

    Only the ``event`` and ``data`` fields are kept; comments and other fields are skipped.
    """

    __slots__ = ("_data", "_event", "ended")

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        #: Set by the caller once the server has sent its ``end`` event.
        self.ended = False

    def line(self, text: str) -> tuple[str, str] | None:
        """Take one line (without its ending); return ``(event, data)`` when a blank line ends one."""
        if not text:
            if not self._event and not self._data:
                return None
            event = (self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []
            return event
        name, _, value = text.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None
