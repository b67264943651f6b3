"""The library's worker threads: sync code reached from async code runs there, concurrently up
to anyio's default thread limit, in the caller's context, and a cancelled caller waits for it."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.to_thread
import pytest

from runnables import RunnableLambda, runnable
from runnables._core.threads import _POOL  # pyright: ignore[reportPrivateUsage]

pytestmark = pytest.mark.anyio

REQUEST = contextvars.ContextVar[str]("REQUEST", default="none")


def _workers() -> int:
    return sum(t.name == "runnables worker" for t in threading.enumerate())


class Peak:
    """Counts sync calls in flight and remembers the most at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def __call__(self, x: int) -> int:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.02)
        with self.lock:
            self.now -= 1
        return x


async def test_blocking_calls_run_concurrently_up_to_anyios_thread_limit() -> None:
    limit = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
    barrier = threading.Barrier(limit, timeout=10)

    def meet(x: int) -> int:
        barrier.wait()  # only returns once `limit` calls wait here at the same time
        return x

    with anyio.fail_after(30):
        assert await RunnableLambda(meet).abatch(list(range(limit))) == list(range(limit))
        peak = Peak()
        assert await RunnableLambda(peak).abatch(list(range(limit + 30))) == list(range(limit + 30))
    assert peak.most <= limit
    assert _workers() <= limit


async def test_a_raised_anyio_thread_limit_is_honoured() -> None:
    limiter = anyio.to_thread.current_default_thread_limiter()
    before = limiter.total_tokens
    limiter.total_tokens = before + 8
    try:
        barrier = threading.Barrier(int(before) + 8, timeout=10)

        def meet(x: int) -> int:
            barrier.wait()
            return x

        await anyio.sleep(1.1)  # the pool reads the limit at most once a second
        with anyio.fail_after(30):
            inputs = list(range(int(before) + 8))
            assert await RunnableLambda(meet).abatch(inputs) == inputs
    finally:
        limiter.total_tokens = before


async def test_a_cancelled_caller_waits_for_the_call_and_later_steps_never_run() -> None:
    started = threading.Event()
    release = threading.Event()
    ran: list[str] = []

    def first(x: int) -> int:
        started.set()
        release.wait(10)
        ran.append("first")
        return x

    def second(x: int) -> int:
        ran.append("second")
        return x

    chain = RunnableLambda(first) | RunnableLambda(second)

    async def cancel_when_started(scope: anyio.CancelScope) -> None:
        await anyio.to_thread.run_sync(started.wait, 10)
        scope.cancel()
        await anyio.sleep(0.05)
        assert ran == []  # still waiting for the call, which has not returned
        release.set()

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            with anyio.CancelScope() as scope:
                tg.start_soon(cancel_when_started, scope)
                await chain.ainvoke(1)
            # the call had returned before the cancellation reached this point
            assert ran == ["first"]
    assert ran == ["first"]


async def test_an_exception_comes_back_as_the_same_object() -> None:
    error = ValueError("from the worker")

    def fail(x: int) -> int:
        raise error

    with pytest.raises(ValueError, match="from the worker") as info:
        await RunnableLambda(fail).ainvoke(1)
    assert info.value is error
    assert any(frame.name == "fail" for frame in info.traceback)


async def test_the_callers_context_is_seen_and_not_changed_back() -> None:
    def read(x: int) -> str:
        seen = REQUEST.get()
        REQUEST.set("changed in the worker")
        return seen

    token = REQUEST.set("request-7")
    try:
        assert await RunnableLambda(read).ainvoke(1) == "request-7"
        assert REQUEST.get() == "request-7"
    finally:
        REQUEST.reset(token)


@runnable
async def loop_thread(x: int) -> int:
    return threading.get_ident()


async def test_async_steps_called_from_a_worker_run_on_the_callers_loop() -> None:
    here = threading.get_ident()

    def nested(x: int) -> tuple[int, int]:
        return threading.get_ident(), loop_thread.invoke(x)

    worker, looped = await RunnableLambda(nested).ainvoke(1)
    assert worker != here
    assert looped == here


async def test_ten_thousand_calls() -> None:
    def add_one(x: int) -> int:
        return x + 1

    inputs = list(range(10_000))
    with anyio.fail_after(120):
        assert await RunnableLambda(add_one).abatch(inputs) == [x + 1 for x in inputs]
    # never more workers than the highest thread limit the pool was given (another test may
    # have raised it for a while)
    assert _workers() <= _POOL._max_workers <= 48  # pyright: ignore[reportPrivateUsage]


async def test_a_sync_generator_is_advanced_in_workers() -> None:
    here = threading.get_ident()
    threads: set[int] = set()

    def numbers(n: int) -> Any:
        for i in range(n):
            threads.add(threading.get_ident())
            yield i

    chunks = [c async for c in RunnableLambda(numbers).astream(5)]
    assert chunks == [0, 1, 2, 3, 4]
    assert here not in threads


async def test_calls_still_waiting_for_a_worker_are_dropped_when_the_caller_is_cancelled() -> None:
    ran: list[int] = []

    def slow(x: int) -> int:
        time.sleep(0.2)
        ran.append(x)
        return x

    limit = _POOL._max_workers  # pyright: ignore[reportPrivateUsage]
    with anyio.fail_after(30):
        with anyio.move_on_after(0.1):
            await RunnableLambda(slow).abatch(list(range(limit + 200)))
        started = len(ran)  # the cancelled batch waited for the calls that had started
        await anyio.sleep(0.5)
    assert started <= limit
    assert len(ran) == started  # none of the queued ones ran later


@runnable
def inner_sync(x: int) -> int:
    time.sleep(0.01)
    return x + 1


@runnable
async def middle(x: int) -> int:
    return await inner_sync.ainvoke(x)


@runnable
def outer(x: int) -> int:
    time.sleep(0.01)
    return middle.invoke(x)


async def test_nested_sync_async_sync_past_the_thread_limit_can_be_cancelled() -> None:
    # Every worker runs `outer`, waiting on the loop for `middle`, whose `inner_sync` waits for
    # a worker: a deadlock (anyio's threads do the same), which a cancellation must end.
    limit = _POOL._max_workers  # pyright: ignore[reportPrivateUsage]
    with anyio.fail_after(60):
        with anyio.move_on_after(2) as scope:
            await outer.abatch(list(range(limit + 20)))
    assert scope.cancelled_caught
    assert await outer.ainvoke(1) == 2  # and the workers are free again


STEP = contextvars.ContextVar[int]("STEP", default=0)


@runnable
def counts_its_steps(x: int) -> Iterator[int]:
    """A sync generator keeping state in a context variable across its `yield`s."""
    for _ in range(x):
        STEP.set(STEP.get() + 1)
        yield STEP.get()


@runnable
def sees_the_request(x: int) -> Iterator[str]:
    for _ in range(x):
        yield REQUEST.get()


async def test_a_sync_generator_reached_from_async_code_keeps_one_context_across_its_steps() -> (
    None
):
    # Each step runs in a worker thread; all of them in the same copy of the caller's context,
    # as when the generator is stepped in one thread (they used to see a fresh copy each).
    assert [chunk async for chunk in counts_its_steps.astream(4)] == [1, 2, 3, 4]
    assert STEP.get() == 0  # the caller's own context is not changed
    assert await counts_its_steps.ainvoke(3) == 6
    events = [e async for e in counts_its_steps.astream_events(2)]
    assert [e["data"]["chunk"] for e in events if e["event"] == "on_chain_stream"] == [1, 2]
    REQUEST.set("req-7")
    assert [chunk async for chunk in sees_the_request.astream(2)] == ["req-7", "req-7"]
    assert [
        chunk async for chunk in (RunnableLambda(lambda x: x) | counts_its_steps).astream(2)
    ] == [
        1,
        2,
    ]
