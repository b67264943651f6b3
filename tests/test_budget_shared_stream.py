"""One leaf stream feeding several `RunnableGenerator` consumers (the branches of a parallel
that streams its input) stays inside the call's `max_concurrency` budget: the stream's own code
and every consumer's code take turns on the slots, never more at once than the limit, with no
deadlock (however the consumers call runnables, stop early, fail or are cancelled)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing, closing
from typing import Any

import anyio
import pytest

from conftest import Peak
from runnables import Runnable, RunnableGenerator, RunnableLambda, RunnableParallel
from runnables._core.budget import Budget
from runnables._core.context import CURRENT

HOLD = 0.001
COUNT = 12


def _branch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "runnables-parallel-branch"]


def _seen(budgets: list[Budget]) -> None:
    context = CURRENT.get()
    if context is not None and context.budget is not None:
        budgets.append(context.budget)


def _whole(budgets: list[Budget]) -> None:
    """Every slot of every budget seen has been given back."""
    for budget in budgets:
        assert repr(budget) == f"Budget(limit={budget.limit}, free={budget.limit}, waiting=0)"


def _source(peak: Peak, kind: str) -> Runnable[int, int]:
    if kind == "sync":

        def source(n: int) -> Iterator[int]:
            for i in range(COUNT):
                peak.hold_sync(HOLD)
                yield i * n

        return RunnableLambda(source)

    async def asource(n: int) -> AsyncIterator[int]:
        for i in range(COUNT):
            peak.enter()
            try:
                await anyio.sleep(HOLD)
            finally:
                peak.exit()
            yield i * n

    return RunnableLambda(asource)


def _relay(
    peak: Peak, kind: str, factor: int, budgets: list[Budget], inner: Runnable[int, int] | None
) -> RunnableGenerator[int, int]:
    """A consumer holding the peak for each chunk (or calling `inner` on it, which does)."""
    if kind == "sync":

        def relay(chunks: Iterator[int]) -> Iterator[int]:
            _seen(budgets)
            for chunk in chunks:
                if inner is None:
                    peak.hold_sync(HOLD)
                    yield chunk * factor
                else:
                    yield inner.invoke(chunk) * factor

        return RunnableGenerator(relay)

    async def arelay(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        _seen(budgets)
        async for chunk in chunks:
            if inner is None:
                peak.enter()
                try:
                    await anyio.sleep(HOLD)
                finally:
                    peak.exit()
                yield chunk * factor
            else:
                yield await inner.ainvoke(chunk) * factor

    return RunnableGenerator(arelay)


def _inner(peak: Peak) -> Runnable[int, int]:
    def inner(x: int) -> int:
        peak.hold_sync(HOLD)
        return x

    return RunnableLambda(inner)


def _chain(
    peak: Peak, kind: str, branches: int, budgets: list[Budget], *, calls: bool = False
) -> Runnable[int, dict[str, int]]:
    inner = _inner(peak) if calls else None
    consumers = {f"b{k}": _relay(peak, kind, k + 1, budgets, inner) for k in range(branches)}
    return _source(peak, kind) | RunnableParallel(consumers)


def _by_key(chunks: list[dict[str, int]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for chunk in chunks:
        for key, value in chunk.items():
            out.setdefault(key, []).append(value)
    return out


def _expected(branches: int) -> dict[str, list[int]]:
    return {f"b{k}": [i * (k + 1) for i in range(COUNT)] for k in range(branches)}


LIMITS = [1, 2, 3]
BRANCHES = [1, 2, 3]


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("branches", BRANCHES)
def test_stream_into_consumer_branches_stays_in_budget(
    peak: Peak, in_thread: Callable[..., Any], branches: int, limit: int
) -> None:
    budgets: list[Budget] = []
    chain = _chain(peak, "sync", branches, budgets)
    unlimited = _by_key(list(chain.stream(1)))
    assert unlimited == _expected(branches)
    assert peak.peak <= 1 + branches
    peak.peak = 0
    chunks = in_thread(lambda: list(chain.stream(1, {"max_concurrency": limit})), 20)
    assert _by_key(chunks) == unlimited
    assert peak.peak <= limit
    assert budgets
    _whole(budgets)
    assert peak.current == 0


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("branches", BRANCHES)
async def test_astream_into_consumer_branches_stays_in_budget(
    peak: Peak, kind: str, branches: int, limit: int
) -> None:
    budgets: list[Budget] = []
    chain = _chain(peak, kind, branches, budgets)
    with anyio.fail_after(20):
        unlimited = _by_key([chunk async for chunk in chain.astream(1)])
        assert unlimited == _expected(branches)
        peak.peak = 0
        limited = [chunk async for chunk in chain.astream(1, {"max_concurrency": limit})]
    assert _by_key(limited) == unlimited
    assert peak.peak <= limit
    assert budgets
    _whole(budgets)


def test_consumers_calling_runnables_at_one(peak: Peak, in_thread: Callable[..., Any]) -> None:
    budgets: list[Budget] = []
    chain = _chain(peak, "sync", 2, budgets, calls=True)
    chunks = in_thread(lambda: list(chain.stream(1, {"max_concurrency": 1})), 10)
    assert _by_key(chunks) == _expected(2)
    assert peak.peak == 1
    _whole(budgets)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_aconsumers_calling_runnables_at_one(peak: Peak, kind: str) -> None:
    budgets: list[Budget] = []
    chain = _chain(peak, kind, 2, budgets, calls=True)
    with anyio.fail_after(10):
        chunks = [chunk async for chunk in chain.astream(1, {"max_concurrency": 1})]
    assert _by_key(chunks) == _expected(2)
    assert peak.peak == 1
    _whole(budgets)


def test_breaking_early_at_one_leaves_nothing_behind(
    peak: Peak, in_thread: Callable[..., Any]
) -> None:
    budgets: list[Budget] = []
    chain = _chain(peak, "sync", 2, budgets)

    def first() -> dict[str, int]:
        with closing(chain.stream(1, {"max_concurrency": 1})) as chunks:
            for chunk in chunks:
                return chunk
        raise AssertionError

    assert in_thread(first, 10) in ({"b0": 0}, {"b1": 0})
    assert not _branch_threads()
    assert peak.current == 0
    _whole(budgets)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_abreaking_early_at_one_leaves_nothing_behind(peak: Peak, kind: str) -> None:
    budgets: list[Budget] = []
    chain = _chain(peak, kind, 2, budgets)
    with anyio.fail_after(10):
        async with aclosing(chain.astream(1, {"max_concurrency": 1})) as chunks:
            async for chunk in chunks:
                assert chunk in ({"b0": 0}, {"b1": 0})
                break
    assert peak.current == 0
    _whole(budgets)


def _failing(peak: Peak, kind: str) -> RunnableGenerator[int, int]:
    if kind == "sync":

        def fail(chunks: Iterator[int]) -> Iterator[int]:
            for chunk in chunks:
                peak.hold_sync(HOLD)
                if chunk == 3:
                    raise ValueError("branch failed at 3")
                yield chunk

        return RunnableGenerator(fail)

    async def afail(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for chunk in chunks:
            peak.enter()
            peak.exit()
            if chunk == 3:
                raise ValueError("branch failed at 3")
            yield chunk

    return RunnableGenerator(afail)


def test_a_failing_branch_at_one(peak: Peak, in_thread: Callable[..., Any]) -> None:
    budgets: list[Budget] = []
    chain = _source(peak, "sync") | RunnableParallel(
        {"ok": _relay(peak, "sync", 1, budgets, None), "bad": _failing(peak, "sync")}
    )

    def run() -> None:
        with pytest.raises(ValueError, match="branch failed at 3"):
            list(chain.stream(1, {"max_concurrency": 1}))

    in_thread(run, 10)
    assert peak.peak == 1
    assert not _branch_threads()
    _whole(budgets)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_failing_abranch_at_one(peak: Peak, kind: str) -> None:
    budgets: list[Budget] = []
    chain = _source(peak, kind) | RunnableParallel(
        {"ok": _relay(peak, kind, 1, budgets, None), "bad": _failing(peak, kind)}
    )
    with anyio.fail_after(10), pytest.raises(ValueError, match="branch failed at 3"):
        _ = [chunk async for chunk in chain.astream(1, {"max_concurrency": 1})]
    assert peak.peak == 1
    _whole(budgets)


@pytest.mark.anyio
async def test_cancelling_consumer_branches_at_one(peak: Peak) -> None:
    budgets: list[Budget] = []
    started = anyio.Event()

    async def stall(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for chunk in chunks:
            started.set()
            await anyio.sleep_forever()
            yield chunk

    chain = _source(peak, "async") | RunnableParallel(
        {"ok": _relay(peak, "async", 1, budgets, None), "stall": RunnableGenerator(stall)}
    )
    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:

            async def consume() -> None:
                async for _ in chain.astream(1, {"max_concurrency": 1}):
                    pass

            group.start_soon(consume)
            await started.wait()
            group.cancel_scope.cancel()
    assert peak.current == 0
    _whole(budgets)


def _chained(peak: Peak, kind: str, budgets: list[Budget]) -> Runnable[int, Any]:
    """Two chains of a stream and its consumer side by side, below a consumer whose stream
    slots they all may see."""
    return (
        _source(peak, kind)
        | RunnableGenerator(_passing)
        | RunnableParallel(
            {
                "a": _relay(peak, kind, 1, budgets, None),
                "b": _relay(peak, kind, 2, budgets, None) | _relay(peak, kind, 1, budgets, None),
            }
        )
    )


def _passing(chunks: Iterator[int]) -> Iterator[int]:
    yield from chunks


def test_consumer_chains_side_by_side_at_one(peak: Peak, in_thread: Callable[..., Any]) -> None:
    budgets: list[Budget] = []
    chain = _chained(peak, "sync", budgets)
    chunks = in_thread(lambda: list(chain.stream(1, {"max_concurrency": 1})), 20)
    out = _by_key(chunks)
    assert out == {"a": list(range(COUNT)), "b": [2 * i for i in range(COUNT)]}
    assert peak.peak == 1
    _whole(budgets)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_aconsumer_chains_side_by_side_at_one(peak: Peak, kind: str) -> None:
    budgets: list[Budget] = []
    chain = _chained(peak, kind, budgets)
    with anyio.fail_after(20):
        chunks = [chunk async for chunk in chain.astream(1, {"max_concurrency": 1})]
    out = _by_key(chunks)
    assert out == {"a": list(range(COUNT)), "b": [2 * i for i in range(COUNT)]}
    assert peak.peak == 1
    _whole(budgets)
