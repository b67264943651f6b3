"""User callbacks never stall a run without bound: they are told in order, off the run's path,
and one that overruns `CALLBACK_TIMEOUT` is detached (docs/how-to/callbacks.md)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from runnables import Run, RunnableLambda
from runnables._core import dispatch


def _numbers(x: int) -> Iterator[int]:
    yield from range(20)


async def _anumbers(x: int) -> AsyncIterator[int]:
    for i in range(20):
        await anyio.sleep(0)
        yield i


class HeldUntilTheEnd:
    """A sync callback that cannot handle a chunk before the consumer has read them all:
    called in the run's path, it would stop the stream at its first chunk for good."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.seen: list[tuple[str, Any]] = []
        self.lock = threading.Lock()

    def on_start(self, run: Run) -> None:
        with self.lock:
            self.seen.append(("start", run.name))

    def on_stream(self, run: Run, chunk: Any) -> None:
        assert self.release.wait(10), "the stream waited for its callback"
        with self.lock:
            self.seen.append(("stream", chunk))

    def on_end(self, run: Run) -> None:
        with self.lock:
            self.seen.append(("end", run.outputs))


def test_a_slow_sync_callback_does_not_hold_the_stream() -> None:
    callback = HeldUntilTheEnd()
    chunks = RunnableLambda(_numbers).stream(0, {"callbacks": [callback]})
    got = [next(chunks) for _ in range(20)]  # all of them, while the callback waits
    assert got == list(range(20))
    callback.release.set()
    assert list(chunks) == []  # the end: the call waits until its callback has caught up
    assert callback.seen == [
        ("start", "_numbers"),
        *[("stream", i) for i in range(20)],
        ("end", sum(range(20))),
    ]


@pytest.mark.anyio
async def test_a_slow_callback_does_not_hold_the_event_stream() -> None:
    callback = HeldUntilTheEnd()
    events = RunnableLambda(_anumbers).astream_events(0, {"callbacks": [callback]})
    kinds = []
    async for event in events:
        kinds.append(event["event"])
        if event["event"] == "on_chain_end":
            callback.release.set()  # only now: every event came before the callback moved
    assert kinds == ["on_chain_start", *["on_chain_stream"] * 20, "on_chain_end"]
    assert callback.seen[-1] == ("end", sum(range(20)))
    assert len(callback.seen) == 22


class Ordered:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def on_start(self, run: Run) -> None:
        await anyio.sleep(0.001)
        self.seen.append(f"start {run.name}")

    async def on_stream(self, run: Run, chunk: Any) -> None:
        self.seen.append(f"stream {run.name} {chunk}")

    async def on_end(self, run: Run) -> None:
        self.seen.append(f"end {run.name}")


class OrderedInline(Ordered):
    run_inline = True


@pytest.mark.anyio
async def test_async_callbacks_are_told_in_order_on_the_runs_loop() -> None:
    """Off the run's path, a callback sees exactly what one called in place sees, in order."""
    queued, inline = Ordered(), OrderedInline()
    chain = RunnableLambda(_anumbers) | RunnableLambda(lambda total: total + 1)
    config: Any = {"callbacks": [queued, inline]}
    chunks = [chunk async for chunk in chain.astream(0, config)]
    assert chunks == [sum(range(20)) + 1]
    assert queued.seen == inline.seen
    assert len(queued.seen) == 3 + 20 + 1 + 1 + 3  # 3 starts; the streams of 3 runs; 3 ends
    assert queued.seen[-1] == "end RunnableSequence"


class NeverReturns:
    def __init__(self) -> None:
        self.started = 0

    async def on_start(self, run: Run) -> None:
        self.started += 1
        await anyio.sleep_forever()


@pytest.mark.anyio
async def test_an_async_callback_that_never_returns_is_cancelled_and_detached(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(dispatch, "CALLBACK_TIMEOUT", 0.2)
    callback = NeverReturns()
    with anyio.fail_after(5), caplog.at_level(logging.ERROR, logger="runnables"):
        assert await RunnableLambda(_anumbers).ainvoke(0, {"callbacks": [callback]}) == 190
        await anyio.sleep(0.1)  # its detachment and the call's end come at the same deadline
    assert callback.started == 1
    assert any("was cancelled; it is detached" in r.getMessage() for r in caplog.records)


def test_a_sync_callback_that_never_returns_is_left_behind(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(dispatch, "CALLBACK_TIMEOUT", 0.2)
    release = threading.Event()

    class Stuck:
        def on_start(self, run: Run) -> None:
            release.wait(10)

    try:
        with caplog.at_level(logging.ERROR, logger="runnables"):
            assert RunnableLambda(lambda x: x + 1).invoke(1, {"callbacks": [Stuck()]}) == 2
        assert any("have not caught up" in r.getMessage() for r in caplog.records)
    finally:
        release.set()


def test_a_callback_marked_run_inline_is_called_in_the_runs_path() -> None:
    threads: list[int] = []

    class Inline:
        run_inline = True

        def on_stream(self, run: Run, chunk: Any) -> None:
            threads.append(threading.get_ident())

    list(RunnableLambda(_numbers).stream(0, {"callbacks": [Inline()]}))
    assert set(threads) == {threading.get_ident()}


@pytest.mark.anyio
async def test_an_async_listener_that_never_returns_is_cancelled_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Listeners are awaited in place (LangChain's order), but bounded as callbacks are."""
    monkeypatch.setattr(dispatch, "CALLBACK_TIMEOUT", 0.2)
    ended: list[Run] = []

    async def stuck(run: Run) -> None:
        await anyio.sleep_forever()

    async def on_end(run: Run) -> None:
        ended.append(run)

    step = RunnableLambda(lambda x: x + 1).with_alisteners(on_start=stuck, on_end=on_end)
    with anyio.fail_after(5), caplog.at_level(logging.ERROR, logger="runnables"):
        assert await step.ainvoke(1) == 2
        assert [chunk async for chunk in step.astream(1)] == [2]
    assert len(ended) == 2  # the next listener still runs
    assert (
        sum("listener" in r.getMessage() and "cancelled" in r.getMessage() for r in caplog.records)
        == 2
    )


def test_an_async_listener_that_never_returns_does_not_hold_a_sync_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dispatch, "CALLBACK_TIMEOUT", 0.2)

    async def stuck(run: Run) -> None:
        await anyio.sleep_forever()

    step = RunnableLambda(lambda x: x + 1).with_alisteners(on_end=stuck)
    assert step.invoke(1) == 2
    assert list(step.stream(1)) == [2]
