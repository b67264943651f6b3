"""Streams at scale: bounded buffers between producers and a slow consumer, long chains,
long streams with callbacks, and batches far larger than the number of tasks they use."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from runnables import Run, RunnableGenerator, RunnableLambda, RunnableParallel, RunnableSequence
from runnables._core import concurrency
from runnables._core.tee import OUT_SIZE


def _counting_source(produced: list[int]) -> Any:
    def source(x: int) -> Iterator[int]:
        for i in range(100_000):
            produced.append(i)
            yield i

    return source


def test_sync_parallel_stream_holds_back_a_branch_that_gets_ahead() -> None:
    produced: list[int] = []
    slow_side: list[int] = []

    def slow(x: int) -> Iterator[int]:
        slow_side.append(x)
        yield x

    stream = RunnableParallel(fast=_counting_source(produced), slow=slow).stream(0)
    next(stream)
    time.sleep(0.3)  # a consumer busy elsewhere
    assert len(produced) <= OUT_SIZE + 4  # not 100,000 chunks piling up
    stream.close()


@pytest.mark.anyio
async def test_async_parallel_stream_holds_back_a_branch_that_gets_ahead() -> None:
    produced: list[int] = []

    async def source(x: int) -> AsyncIterator[int]:
        for i in range(100_000):
            produced.append(i)
            yield i

    async def one(x: int) -> AsyncIterator[int]:
        yield x

    stream = RunnableParallel(fast=source, other=one).astream(0)
    await stream.__anext__()
    await anyio.sleep(0.2)
    assert len(produced) <= 8
    await stream.aclose()  # type: ignore[attr-defined]


def _inc(x: int) -> int:
    return x + 1


def _numbers(x: int) -> Iterator[int]:
    yield from range(x)


def test_a_stream_through_ten_thousand_steps() -> None:
    chain = RunnableSequence(RunnableLambda(_numbers), *[RunnableLambda(_inc)] * 10_000)
    assert list(chain.stream(3)) == [3 + 10_000]
    assert chain.invoke(3) == 3 + 10_000


@pytest.mark.anyio
async def test_an_async_stream_through_ten_thousand_steps() -> None:
    chain = RunnableSequence(RunnableLambda(_numbers), *[RunnableLambda(_inc)] * 10_000)
    assert [chunk async for chunk in chain.astream(3)] == [3 + 10_000]


def test_the_last_of_many_steps_still_streams() -> None:
    chain = RunnableSequence(*[RunnableLambda(_inc)] * 1_000, RunnableLambda(_numbers))
    assert list(chain.stream(0)) == list(range(1_000))


class _Outputs:
    def __init__(self) -> None:
        self.outputs: dict[str, Any] = {}
        self.lock = threading.Lock()

    def on_end(self, run: Run) -> None:
        with self.lock:
            self.outputs[run.name] = run.outputs


def test_long_string_streams_add_up_in_run_records() -> None:
    def words(x: int) -> Iterator[str]:
        for _ in range(50_000):
            yield "ab"

    def relay(chunks: Iterator[str]) -> Iterator[str]:
        yield from chunks

    outputs = _Outputs()
    chain = RunnableLambda(words) | RunnableGenerator(relay)
    assert sum(1 for _ in chain.stream(0, {"callbacks": [outputs]})) == 50_000
    assert outputs.outputs["words"] == "ab" * 50_000
    assert outputs.outputs["relay"] == "ab" * 50_000
    assert outputs.outputs["RunnableSequence"] == "ab" * 50_000


@pytest.mark.anyio
async def test_abatch_without_a_limit_runs_a_bounded_number_of_tasks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(concurrency, "DEFAULT_TASKS", 50)
    lock = threading.Lock()
    running = peak = 0

    async def nap(x: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        await anyio.sleep(0.001)
        with lock:
            running -= 1
        return x

    inputs = list(range(1_000))
    assert await RunnableLambda(nap).abatch(inputs) == inputs
    assert peak == 50
