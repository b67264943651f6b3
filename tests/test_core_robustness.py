"""Defects a reviewer found by using the core as a demanding user would, each kept fixed:
cancellation of fan-in streams on asyncio, streams dropped as a loop ends, one budget per
bound limit, callbacks' order, loop, time limit and context, sync views of async generators
that keep a cancel scope, and runnables that write any one hook."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

import anyio
import pytest

from conftest import Peak
from runnables import Run, RunnableBase, RunnableLambda, RunnableParallel, RunnablesError
from runnables._core import dispatch
from runnables._core.context import RunContext


async def _endless(x: int) -> AsyncIterator[int]:
    while True:
        await anyio.sleep(0)
        yield x


@pytest.mark.anyio
@pytest.mark.parametrize(
    "stream",
    [
        lambda: RunnableParallel(a=_endless, b=_endless).astream(1),
        lambda: RunnableLambda(_endless).astream_events(1),
        lambda: RunnableLambda(_endless).astream_log(1),
    ],
    ids=["parallel", "events", "log"],
)
async def test_a_deadline_around_a_fan_in_stream_fires(stream: Any) -> None:
    """A producer that always has an item ready wakes the consumer in the same turn of the
    loop that a cancellation is delivered in; the consumer must still notice it."""
    started = time.monotonic()
    with anyio.fail_after(5), anyio.move_on_after(0.1):
        async for _ in stream():
            pass
    assert time.monotonic() - started < 2


def test_a_stream_dropped_as_trio_ends_does_not_crash_trio() -> None:
    script = textwrap.dedent(
        """
        import anyio
        from runnables import RunnableParallel

        async def endless(x):
            while True:
                await anyio.sleep(0)
                yield x

        async def main():
            async for _ in RunnableParallel(a=endless, b=endless).with_retry().astream(1):
                break  # the last thing the program does

        for _ in range(20):
            anyio.run(main, backend="trio")
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "TrioInternalError" not in done.stderr


def _hold(peak: Peak, x: int) -> int:
    peak.hold_sync(0.01)
    return x


def test_a_bound_max_concurrency_is_one_budget_for_a_whole_batch() -> None:
    peak = Peak()
    peak.together = 2
    bound = RunnableLambda(partial(_hold, peak)).with_config(max_concurrency=2)
    assert bound.batch(list(range(10))) == list(range(10))
    assert peak.peak == 2
    again = Peak()
    again.together = 2
    bound = RunnableLambda(partial(_hold, again)).with_config(max_concurrency=2)
    assert anyio.run(bound.abatch, [1] * 8)
    assert again.peak == 2


class _AsyncOrder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def on_start(self, run: Run) -> None:
        self.seen.append(("start", run.name))

    async def on_end(self, run: Run) -> None:
        self.seen.append(("end", run.name))


@pytest.mark.anyio
async def test_async_callbacks_of_runs_in_worker_threads_keep_the_order() -> None:
    inner = RunnableLambda(lambda x: x + 1).with_config(run_name="inner")

    def outer(x: int) -> int:  # a sync step: it runs in a worker thread under ainvoke
        return inner.invoke(x)

    callback = _AsyncOrder()
    chain = RunnableLambda(outer) | RunnableLambda(lambda x: x * 2)
    assert await chain.ainvoke(1, {"callbacks": [callback]}) == 4
    assert callback.seen.index(("end", "inner")) < callback.seen.index(("end", "outer"))
    assert callback.seen[-1] == ("end", "RunnableSequence")


def test_an_async_callback_that_never_returns_in_a_sync_call_is_cancelled() -> None:
    script = textwrap.dedent(
        """
        import anyio, logging
        from runnables import RunnableLambda
        from runnables._core import dispatch
        dispatch.CALLBACK_TIMEOUT = 0.3
        logging.basicConfig(level=logging.ERROR)

        class Hangs:
            async def on_start(self, run):
                await anyio.sleep_forever()

        assert RunnableLambda(lambda x: x + 1).invoke(1, {"callbacks": [Hangs()]}) == 2
        print("returned")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr  # and the process could exit
    assert done.stdout.strip() == "returned"


def test_a_callback_calling_a_runnable_is_not_told_of_that_run() -> None:
    store = RunnableLambda(lambda x: x).with_config(run_name="store")
    seen: list[str] = []

    class Stores:
        def on_end(self, run: Run) -> None:
            seen.append(run.name)
            if len(seen) < 10:
                store.invoke(run.name)  # its own work: not a run of the traced call

    RunnableLambda(lambda x: x + 1).invoke(1, {"callbacks": [Stores()]})
    time.sleep(0.1)
    assert seen == ["RunnableLambda"]


@pytest.mark.anyio
async def test_ainvoke_returns_once_callbacks_handled_on_end() -> None:
    handled: list[str] = []

    class Slow:
        def on_end(self, run: Run) -> None:
            time.sleep(0.02)
            handled.append(run.name)

    for _ in range(5):
        handled.clear()
        await RunnableLambda(lambda x: x).ainvoke(1, {"callbacks": [Slow()]})
        assert handled == ["RunnableLambda"]


def test_sync_stream_of_an_async_generator_keeping_a_cancel_scope() -> None:
    async def letters(x: int) -> AsyncIterator[str]:
        with anyio.move_on_after(10):  # a scope kept across the yields
            for letter in "abc":
                await anyio.sleep(0)
                yield letter

    assert list(RunnableLambda(letters).stream(0)) == ["a", "b", "c"]
    stream = RunnableLambda(letters).stream(0)
    assert next(stream) == "a"
    stream.close()  # closed in the task that advanced it


class _OnlyStream(RunnableBase[str, str]):
    __slots__ = ()

    def _stream(self, input: str, ctx: RunContext) -> Iterator[str]:
        yield from input


class _OnlyAStream(RunnableBase[str, str]):
    __slots__ = ()

    async def _astream(self, input: str, ctx: RunContext) -> AsyncIterator[str]:
        for letter in input:
            yield letter


class _OnlyATransform(RunnableBase[str, str]):
    __slots__ = ()

    async def _atransform(self, inputs: AsyncIterator[str], ctx: RunContext) -> AsyncIterator[str]:
        async for text in inputs:
            for letter in text:
                yield letter


@pytest.mark.parametrize("kind", [_OnlyStream, _OnlyAStream, _OnlyATransform])
def test_any_one_hook_gives_every_call_form(kind: type[RunnableBase[str, str]]) -> None:
    runnable = kind()
    assert runnable.invoke("ab") == "ab"
    assert list(runnable.stream("ab")) == ["a", "b"]

    async def both() -> None:
        assert await runnable.ainvoke("ab") == "ab"
        assert [chunk async for chunk in runnable.astream("ab")] == ["a", "b"]

    anyio.run(both)
    anyio.run(both, backend="trio")


def test_misuse_is_refused_by_the_library() -> None:
    class Callback:
        def on_end(self, run: Run) -> None:
            return None

    with pytest.raises(RunnablesError, match="is a class"):
        RunnableLambda(lambda x: x).invoke(1, {"callbacks": [Callback]})  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    with pytest.raises(RunnablesError, match="stop_after_attempt"):
        RunnableLambda(lambda x: x).with_retry(stop_after_attempt=0)


def test_a_stuck_sync_callback_does_not_keep_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "CALLBACK_TIMEOUT", 0.2)
    release = threading.Event()

    class Stuck:
        def on_end(self, run: Run) -> None:
            release.wait(60)  # let go at the end of the test

    try:
        started = time.monotonic()
        assert RunnableLambda(lambda x: x).invoke(1, {"callbacks": [Stuck()]}) == 1
        assert time.monotonic() - started < 30  # not held until the callback returns
    finally:
        release.set()
