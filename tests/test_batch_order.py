"""Which failure a batch raises: sync `batch`, and `with_retry(...).batch/abatch`, raise the
failure of the lowest failing index, whatever failed first in time (LangChain's rule), here
with a step that fails at index 3 at once and at index 1 only after a while."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio
import pytest

from runnables import RunnableLambda


class Failed(Exception):
    pass


def stepper(lib: str) -> tuple[Any, threading.Event]:
    """A step failing at 3 at once and at 1 once 3 has failed (so 3 fails first in time)."""
    three_failed = threading.Event()

    def step(x: int) -> int:
        if x == 3:
            three_failed.set()
            raise Failed(3)
        if x == 1:
            three_failed.wait(5)
            raise Failed(1)
        return x

    if lib == "ours":
        return RunnableLambda(step), three_failed
    lc = pytest.importorskip("langchain_core.runnables")
    return lc.RunnableLambda(step), three_failed


async def astepper_fn() -> Any:
    three_failed = anyio.Event()

    async def step(x: int) -> int:
        if x == 3:
            three_failed.set()
            raise Failed(3)
        if x == 1:
            await three_failed.wait()
            raise Failed(1)
        return x

    return step


NO_WAIT: Any = {"stop_after_attempt": 2, "wait_exponential_jitter": False}


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_sync_batch_raises_the_lowest_failing_index(lib: str) -> None:
    step, three_failed = stepper(lib)
    with pytest.raises(Failed) as caught:
        step.batch([0, 1, 2, 3, 4])
    assert caught.value.args == (1,)
    assert three_failed.is_set()


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_retried_sync_batch_raises_the_lowest_failing_index(lib: str) -> None:
    step, _ = stepper(lib)
    with pytest.raises(Failed) as caught:
        step.with_retry(**NO_WAIT).batch([0, 1, 2, 3, 4])
    assert caught.value.args == (1,)


@pytest.mark.anyio
async def test_retried_async_batch_raises_the_lowest_failing_index(anyio_backend: str) -> None:
    step = RunnableLambda(await astepper_fn()).with_retry(**NO_WAIT)
    with pytest.raises(Failed) as caught:
        await step.abatch([0, 1, 2, 3, 4])
    assert caught.value.args == (1,)


@pytest.mark.anyio
async def test_retried_async_batch_like_langchain(anyio_backend: str) -> None:
    lc = pytest.importorskip("langchain_core.runnables")

    async def theirs() -> tuple[Any, ...]:
        step = lc.RunnableLambda(await astepper_fn()).with_retry(**NO_WAIT)
        try:
            await step.abatch([0, 1, 2, 3, 4])
        except Failed as exc:
            return exc.args
        return ()

    assert await anyio.to_thread.run_sync(lambda: asyncio.run(theirs())) == (1,)


def test_sync_batch_still_starts_nothing_after_a_failure() -> None:
    """No new input starts once one has failed (none could fail at a lower index)."""
    started: list[int] = []
    lock = threading.Lock()

    def step(x: int) -> int:
        with lock:
            started.append(x)
        if x == 0:
            raise Failed(0)
        return x

    with pytest.raises(Failed):
        RunnableLambda(step).batch(list(range(100)), {"max_concurrency": 1})
    assert started == [0]


def test_sync_batch_returns_every_failure_in_place() -> None:
    step, _ = stepper("ours")
    results = step.batch([0, 1, 2, 3], return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["int", "Failed", "int", "Failed"]


@pytest.mark.anyio
async def test_plain_async_batch_keeps_failing_fast(anyio_backend: str) -> None:
    """Without retry, `abatch` raises the first failure in time and cancels the rest (as
    `asyncio.gather` raises the first one)."""
    cancelled = anyio.Event()

    async def step(x: int) -> int:
        if x == 3:
            raise Failed(3)
        try:
            await anyio.sleep(10)
        finally:
            if x == 1:
                cancelled.set()
        return x

    with pytest.raises(Failed) as caught:
        await RunnableLambda(step).abatch([0, 1, 2, 3])
    assert caught.value.args == (3,)
    assert cancelled.is_set()
