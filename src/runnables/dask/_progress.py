"""Progress bars for a cluster job: items done out of the total, the rate and the time left.

The job counts items as each chunk comes back and tells its bar; a bar draws at most every
`interval` seconds, so a job of a million items draws a few hundred times, not a million.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol, TextIO, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["NotebookProgress", "Progress", "TerminalProgress", "default_progress", "describe"]


@runtime_checkable
class Progress(Protocol):
    """What a job tells as it runs: pass an object with these two methods as `progress=`.

    `update` is called on the client (from one thread at a time) each time a chunk's items
    are done; `close` once when the job ends, finished, failed or cancelled.
    """

    def update(self, done: int, total: int | None) -> None:
        """`done` items out of `total` (None when the input's length is not known) are done."""
        ...

    def close(self) -> None:
        """The job ended: draw the last state and let go of the display."""
        ...


def describe(done: int, total: int | None, elapsed: float) -> str:
    """One line of progress: `37/100 (37%) 12.5 items/s, 0:05 left`, or without a total
    `37 items, 12.5 items/s`."""
    rate = done / elapsed if elapsed > 0 else 0.0
    speed = f"{rate:.1f} items/s"
    if total is None:
        return f"{done} items, {speed}"
    percent = 100 * done // total if total else 100
    left = f", {_clock((total - done) / rate)} left" if rate > 0 and done < total else ""
    return f"{done}/{total} ({percent}%) {speed}{left}"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


class _Throttled:
    """The counting and throttling every bar shares; subclasses only draw."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._drawn_at: float | None = None
        self._done = 0
        self._total: int | None = None
        self._closed = False
        self._lock = threading.Lock()  # `abatch` may still update from its thread after close

    def update(self, done: int, total: int | None) -> None:
        with self._lock:
            if self._closed:
                return
            self._done, self._total = done, total
            now = self._clock()
            if self._drawn_at is None or now - self._drawn_at >= self._interval:
                self._drawn_at = now
                self._draw(final=False)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._draw(final=True)

    def _line(self) -> str:
        line = describe(self._done, self._total, self._clock() - self._started)
        stopped = self._total is not None and self._done < self._total
        return f"{line} (stopped)" if stopped else line

    def _draw(self, *, final: bool) -> None:
        raise NotImplementedError


class TerminalProgress(_Throttled):
    """A bar on `stream` (stderr by default), redrawn in place with `\\r` on a terminal and
    written as plain lines otherwise (a log file, CI); the last line always ends the bar."""

    def __init__(
        self, stream: TextIO | None = None, *, interval: float | None = None, width: int = 30
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        # Plain lines pile up in a log, so they come less often than redraws.
        super().__init__(interval if interval is not None else 0.1 if self._tty else 1.0)
        self._width = width

    def _draw(self, *, final: bool) -> None:
        line = self._line()
        if self._tty:
            self._stream.write(f"\r{self._gauge()} {line}\033[K" + ("\n" if final else ""))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def _gauge(self) -> str:
        if self._total is None:
            return ""
        filled = self._width * self._done // self._total if self._total else self._width
        return "|" + "#" * filled + " " * (self._width - filled) + "|"


class NotebookProgress(_Throttled):
    """An `ipywidgets` progress bar with a line of text under the running cell; green when
    the job finished, red when it stopped early. `bar` and `text` are its two widgets."""

    def __init__(self, *, interval: float = 0.1) -> None:
        widgets: Any = importlib.import_module("ipywidgets")  # untyped, and optional
        display: Any = importlib.import_module("IPython.display").display

        super().__init__(interval)
        self.bar: Any = widgets.IntProgress(min=0, max=1, value=0)
        self.text: Any = widgets.HTML("")
        display(widgets.HBox([self.bar, self.text]))

    def _draw(self, *, final: bool) -> None:
        self.bar.max = max(1, self._total if self._total is not None else self._done)
        self.bar.value = self._done
        self.text.value = self._line()
        if final:
            stopped = self._total is not None and self._done < self._total
            self.bar.bar_style = "danger" if stopped else "success"


def default_progress() -> Progress:
    """A widget in a notebook (IPython's kernel running and `ipywidgets` importable), the
    terminal bar anywhere else."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    in_kernel = shell is not None and hasattr(shell, "kernel")
    if in_kernel and importlib.util.find_spec("ipywidgets") is not None:
        return NotebookProgress()
    return TerminalProgress()
