"""The progress bars of runnables.dask, drawn on a string stream (no cluster needed)."""

from __future__ import annotations

import io

import pytest

from runnables.dask import NotebookProgress, Progress, TerminalProgress
from runnables.dask._progress import default_progress, describe


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in an interactive shell."""

    def isatty(self) -> bool:
        return True


def test_describe_tells_count_percent_rate_and_time_left() -> None:
    assert describe(25, 100, 5.0) == "25/100 (25%) 5.0 items/s, 0:15 left"
    assert describe(100, 100, 4.0) == "100/100 (100%) 25.0 items/s"
    assert describe(7, None, 2.0) == "7 items, 3.5 items/s"
    assert describe(0, 10, 0.0) == "0/10 (0%) 0.0 items/s"
    assert describe(1, 8000, 1.0).endswith("2:13:19 left")


def test_plain_lines_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = TerminalProgress(stream, interval=0)
    for done in (0, 3, 10):
        bar.update(done, 10)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["0/10", "3/10", "10/10", "10/10"]
    assert "\r" not in stream.getvalue()
    assert lines[-1].startswith("10/10 (100%)")


def test_a_terminal_bar_is_redrawn_in_place_and_ends_its_line() -> None:
    stream = Terminal()
    bar = TerminalProgress(stream, interval=0, width=10)
    bar.update(5, 10)
    bar.close()
    text = stream.getvalue()
    assert text.count("\r") == 2
    assert text.endswith("\n")
    assert text.count("\n") == 1
    assert "|#####     | 5/10 (50%)" in text
    assert text.rstrip().endswith("(stopped)\033[K")


def test_drawing_is_throttled_but_close_draws_the_last_state() -> None:
    stream = io.StringIO()
    bar = TerminalProgress(stream, interval=3600)
    for done in range(1, 1001):
        bar.update(done, 1000)
    bar.close()
    bar.update(5, 1000)  # after close: ignored
    lines = stream.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["1/1000", "1000/1000"]


def test_an_unknown_total_counts_items() -> None:
    stream = io.StringIO()
    bar = TerminalProgress(stream, interval=0)
    bar.update(4, None)
    bar.close()
    assert stream.getvalue().splitlines()[-1].startswith("4 items, ")


def test_outside_a_notebook_the_default_is_the_terminal_bar() -> None:
    bar = default_progress()
    assert isinstance(bar, TerminalProgress)
    assert isinstance(bar, Progress)


def test_the_notebook_widget_shows_the_count_and_how_it_ended(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("ipywidgets")
    finished = NotebookProgress(interval=0)
    finished.update(3, 10)
    assert (finished.bar.value, finished.bar.max) == (3, 10)
    finished.update(10, 10)
    finished.close()
    assert finished.bar.bar_style == "success"
    assert finished.text.value.startswith("10/10 (100%)")
    stopped = NotebookProgress(interval=0)
    stopped.update(4, 10)
    stopped.close()
    assert stopped.bar.bar_style == "danger"
    assert stopped.text.value.endswith("(stopped)")
    assert "IntProgress" in capsys.readouterr().out  # displayed (as text, outside a notebook)
