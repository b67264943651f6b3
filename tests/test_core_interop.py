"""Sync/async interop: sync calls of async functions anywhere, async calls of sync functions
in worker threads without blocking the loop."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import anyio.to_thread
import pytest

from runnables import RunnableLambda, RunnableParallel, runnable


@runnable
async def ahalf(x: int) -> float:
    await anyio.sleep(0.001)
    return x / 2


@runnable
async def acount(n: int) -> AsyncIterator[int]:
    for i in range(n):
        await anyio.sleep(0)
        yield i


def test_sync_invoke_of_async_function_plain() -> None:
    assert ahalf.invoke(4) == 2
    assert ahalf.batch([2, 4]) == [1, 2]
    assert list(acount.stream(3)) == [0, 1, 2]
    assert (ahalf | (lambda x: x + 1)).invoke(4) == 3


@pytest.mark.anyio
async def test_sync_invoke_inside_running_event_loop() -> None:
    # A plain sync call from inside a running loop (asyncio or trio) must still work.
    assert ahalf.invoke(8) == 4
    assert ahalf.batch([2]) == [1]
    assert list(acount.stream(2)) == [0, 1]
    assert RunnableParallel(a=ahalf, b=lambda x: x).invoke(2) == {"a": 1, "b": 2}


def test_sync_invoke_from_worker_thread(in_thread: Callable[..., Any]) -> None:
    assert in_thread(lambda: ahalf.invoke(10)) == 5
    assert in_thread(lambda: list(acount.stream(3))) == [0, 1, 2]


@pytest.mark.anyio
async def test_sync_invoke_from_anyio_worker_thread() -> None:
    with anyio.fail_after(10):
        assert await anyio.to_thread.run_sync(ahalf.invoke, 6) == 3
        assert await anyio.to_thread.run_sync(lambda: list(acount.stream(2))) == [0, 1]


@pytest.mark.anyio
async def test_sync_invoke_from_thread_started_inside_loop(in_thread: Callable[..., Any]) -> None:
    assert in_thread(lambda: ahalf.invoke(2)) == 1


@pytest.mark.anyio
async def test_ainvoke_of_sync_function_runs_in_worker_thread() -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def blocking(x: int) -> int:
        threads.append(threading.get_ident())
        time.sleep(0.2)
        return x + 1

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        assert await RunnableLambda(blocking).ainvoke(1) == 2
        tg.cancel_scope.cancel()
    assert threads
    assert threads[0] != loop_thread
    assert ticks >= 5  # the loop kept running while the function slept


@pytest.mark.anyio
async def test_astream_of_sync_generator_does_not_block_loop() -> None:
    loop_thread = threading.get_ident()
    threads: set[int] = set()

    def slow_gen(n: int) -> Iterator[int]:
        for i in range(n):
            threads.add(threading.get_ident())
            time.sleep(0.05)
            yield i

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        chunks = [c async for c in RunnableLambda(slow_gen).astream(4)]
        tg.cancel_scope.cancel()
    assert chunks == [0, 1, 2, 3]
    assert loop_thread not in threads
    assert ticks >= 5


@pytest.mark.anyio
async def test_abatch_of_sync_functions_runs_concurrently_in_threads() -> None:
    barrier = threading.Barrier(3, timeout=5)

    def meet(x: int) -> int:
        barrier.wait()
        return x

    with anyio.fail_after(10):
        assert await RunnableLambda(meet).abatch([1, 2, 3]) == [1, 2, 3]


@pytest.mark.anyio
async def test_sync_batch_of_async_leaves_inside_running_loop() -> None:
    # The batch's worker threads inherit the loop's context; each must still run the async
    # function on a loop of its own.
    assert ahalf.batch([2, 4, 6, 8]) == [1, 2, 3, 4]
    assert ahalf.map().invoke([2, 4, 6]) == [1, 2, 3]
