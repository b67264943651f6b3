"""A hostile user's pass over streams, callbacks and events (issue #9, session 16): each test
here is a failure found by trying to break api.md §8 and §5 through the public API, kept as
its regression test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from runnables import Run, RunnableLambda, RunnableSequence
from runnables._core import dispatch

# ------------------------------------------------------------------------------ callbacks


class RaisesOnceThenRecords:
    """A callback whose first `on_start` raises `exc` (any exception, even one derived from
    `BaseException` only), and which records everything it is told after that."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.raised = False
        self.seen: list[str] = []

    def on_start(self, run: Run) -> None:
        if not self.raised:
            self.raised = True
            raise self.exc
        self.seen.append(f"start {run.name}")

    def on_end(self, run: Run) -> None:
        self.seen.append(f"end {run.name}")


def _double(x: int) -> int:
    return 2 * x


@pytest.mark.parametrize("exc", [SystemExit(2), KeyboardInterrupt(), GeneratorExit()])
def test_a_sync_callback_raising_a_base_exception_loses_nothing_else(
    exc: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    """It was the end of the callbacks' worker thread: the call waited CALLBACK_TIMEOUT (10 s)
    for it, and every later notification of the call was lost."""
    callback = RaisesOnceThenRecords(exc)
    chain = RunnableLambda(_double) | RunnableLambda(_double)
    started = time.monotonic()
    assert chain.invoke(1, {"callbacks": [callback]}) == 4
    assert time.monotonic() - started < dispatch.CALLBACK_TIMEOUT / 2
    assert callback.seen == [
        "start _double",
        "end _double",
        "start _double",
        "end _double",
        "end RunnableSequence",
    ]
    assert "raised; the run goes on" in caplog.text


class CancelsItself:
    """An async callback whose `on_start` raises `CancelledError` of its own (as awaiting a
    future that someone cancelled does), recording what else it is told."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    async def on_start(self, run: Run) -> None:
        self.seen.append("start")
        raise asyncio.CancelledError

    async def on_stream(self, run: Run, chunk: Any) -> None:
        self.seen.append(chunk)

    async def on_end(self, run: Run) -> None:
        self.seen.append("end")


async def _three(x: int) -> AsyncIterator[int]:
    for i in range(3):
        await anyio.sleep(0)
        yield i


# trio has no public way to make a `Cancelled`: user code cannot raise one of its own.
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_async_callback_raising_cancelled_error_loses_nothing_else(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """It silently ended the task delivering the call's async callbacks: `on_stream` and
    `on_end` were never told, to it or to any other callback of the call."""
    callback = CancelsItself()
    chunks = [c async for c in RunnableLambda(_three).astream(0, {"callbacks": [callback]})]
    assert chunks == [0, 1, 2]
    assert callback.seen == ["start", 0, 1, 2, "end"]
    assert "raised; the run goes on" in caplog.text


def test_an_async_callback_raising_cancelled_error_in_a_sync_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """From sync code the async callback runs on the callbacks' thread, which the
    `CancelledError` ended (the call then waited CALLBACK_TIMEOUT)."""
    callback = CancelsItself()
    started = time.monotonic()
    assert list(RunnableLambda(_three).stream(0, {"callbacks": [callback]})) == [0, 1, 2]
    assert time.monotonic() - started < dispatch.CALLBACK_TIMEOUT / 2
    assert callback.seen == ["start", 0, 1, 2, "end"]
    assert "raised; the run goes on" in caplog.text


# ------------------------------------------------------------------------------ scale


async def _ainc(x: int) -> int:
    return x + 1


def test_a_sync_stream_through_ten_thousand_async_steps() -> None:
    """`stream` of 10,000 async functions in a row nested a generator per step
    (RecursionError), while `astream` and `invoke` of the same chain worked."""
    chain = RunnableSequence(*[RunnableLambda(_ainc)] * 10_000)
    assert list(chain.stream(3)) == [3 + 10_000]
