"""batch / abatch: order, per-input configs, return_exceptions, and the max_concurrency budget."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import pytest

from conftest import Peak
from runnables import RunnableLambda, RunnableParallel, runnable

HOLD = 0.03


def _leaf(peak: Peak, kind: str, hold: float = HOLD) -> RunnableLambda[int, int]:
    """A leaf of the given kind that counts itself in flight for `hold` seconds."""
    if kind == "sync":

        def sync_leaf(x: int) -> int:
            peak.hold_sync(hold)
            return x

        return RunnableLambda(sync_leaf)
    if kind == "async":

        async def async_leaf(x: int) -> int:
            await peak.aenter()
            try:
                await anyio.sleep(hold)
            finally:
                peak.exit()
            return x

        return RunnableLambda(async_leaf)
    if kind == "generator":

        def gen_leaf(x: int) -> Iterator[int]:
            peak.hold_sync(hold)
            yield x

        return RunnableLambda(gen_leaf)

    async def agen_leaf(x: int) -> AsyncIterator[int]:
        await peak.aenter()
        try:
            await anyio.sleep(hold)
        finally:
            peak.exit()
        yield x

    return RunnableLambda(agen_leaf)


KINDS = ["sync", "async", "generator", "async generator"]


# ----------------------------------------------------------------- order and configs


def test_batch_results_in_input_order() -> None:
    def jitter(x: int) -> int:
        time.sleep(random.uniform(0, 0.01))
        return x * x

    xs = list(range(20))
    assert RunnableLambda(jitter).batch(xs) == [x * x for x in xs]
    completed = list(RunnableLambda(jitter).batch_as_completed(xs))
    assert sorted(completed) == [(x, x * x) for x in xs]


@pytest.mark.anyio
async def test_abatch_results_in_input_order() -> None:
    async def jitter(x: int) -> int:
        await anyio.sleep(random.uniform(0, 0.01))
        return x * x

    xs = list(range(20))
    assert await RunnableLambda(jitter).abatch(xs) == [x * x for x in xs]
    pairs = [p async for p in RunnableLambda(jitter).abatch_as_completed(xs)]
    assert sorted(pairs) == [(x, x * x) for x in xs]


@pytest.mark.anyio
async def test_abatch_as_completed_yields_in_completion_order() -> None:
    async def wait(x: float) -> float:
        await anyio.sleep(x)
        return x

    pairs = [p async for p in RunnableLambda(wait).abatch_as_completed([0.2, 0.0, 0.1])]
    assert [index for index, _ in pairs] == [1, 2, 0]


def test_batch_as_completed_yields_in_completion_order() -> None:
    def wait(x: float) -> float:
        time.sleep(x)
        return x

    pairs = list(RunnableLambda(wait).batch_as_completed([0.3, 0.0, 0.15]))
    assert pairs[-1] == (0, 0.3)


def test_empty_batches() -> None:
    r = RunnableLambda(lambda x: x)
    assert r.batch([]) == []
    assert list(r.batch_as_completed([])) == []
    assert anyio.run(r.abatch, []) == []


def test_per_input_configs_reach_each_input() -> None:
    @runnable
    def tag_of(x: int, config: Any) -> str:
        return str(config["tags"][0])

    assert tag_of.batch([1, 2, 3], [{"tags": [f"t{i}"]} for i in range(3)]) == ["t0", "t1", "t2"]
    assert anyio.run(tag_of.abatch, [1, 2], [{"tags": ["a"]}, {"tags": ["b"]}]) == ["a", "b"]


# ----------------------------------------------------------------- return_exceptions


def _fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


def test_batch_return_exceptions() -> None:
    ran: list[int] = []

    def f(x: int) -> int:
        ran.append(x)
        return _fail_on_odd(x)

    out = RunnableLambda(f).batch([0, 1, 2, 3], return_exceptions=True)
    assert out[0] == 0
    assert out[2] == 2
    assert isinstance(out[1], ValueError)
    assert str(out[1]) == "odd 1"
    assert isinstance(out[3], ValueError)
    assert sorted(ran) == [0, 1, 2, 3]
    pairs = dict(RunnableLambda(f).batch_as_completed([0, 1], return_exceptions=True))
    assert isinstance(pairs[1], ValueError)


@pytest.mark.anyio
async def test_abatch_return_exceptions() -> None:
    async def f(x: int) -> int:
        return _fail_on_odd(x)

    out = await RunnableLambda(f).abatch([0, 1, 2, 3], return_exceptions=True)
    assert [o if isinstance(o, int) else type(o) for o in out] == [0, ValueError, 2, ValueError]
    pairs = dict(
        [p async for p in RunnableLambda(f).abatch_as_completed([0, 1], return_exceptions=True)]
    )
    assert pairs[0] == 0
    assert isinstance(pairs[1], ValueError)


def test_batch_without_return_exceptions_raises_the_error() -> None:
    with pytest.raises(ValueError, match="odd 1"):
        RunnableLambda(_fail_on_odd).batch([0, 1, 2])


@pytest.mark.anyio
async def test_abatch_without_return_exceptions_raises_the_error() -> None:
    async def f(x: int) -> int:
        return _fail_on_odd(x)

    with pytest.raises(ValueError, match="odd 1"):
        await RunnableLambda(f).abatch([0, 1, 2])


# ----------------------------------------------------------------- max_concurrency


@pytest.mark.parametrize("kind", KINDS)
def test_batch_max_concurrency_bounds_leaves(
    peak: Peak, kind: str, in_thread: Callable[..., Any]
) -> None:
    peak.together = 2
    leaf = _leaf(peak, kind)
    out = in_thread(lambda: leaf.batch(list(range(10)), {"max_concurrency": 3}))
    assert out == list(range(10))
    assert peak.peak <= 3
    assert peak.peak >= 2  # it did run concurrently
    assert peak.total == 10


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_abatch_max_concurrency_bounds_leaves(peak: Peak, kind: str) -> None:
    peak.together = 2
    leaf = _leaf(peak, kind)
    with anyio.fail_after(20):
        assert await leaf.abatch(list(range(10)), {"max_concurrency": 3}) == list(range(10))
    assert 2 <= peak.peak <= 3


def _four_branches(peak: Peak, kind: str) -> RunnableParallel[int]:
    return RunnableParallel({k: _leaf(peak, kind) for k in "abcd"})


@pytest.mark.parametrize("kind", KINDS)
def test_one_budget_for_batch_over_parallel(
    peak: Peak, kind: str, in_thread: Callable[..., Any]
) -> None:
    peak.together = 2
    par = _four_branches(peak, kind)
    out = in_thread(lambda: par.batch(list(range(4)), {"max_concurrency": 3}))
    assert out == [{k: i for k in "abcd"} for i in range(4)]
    assert peak.total == 16
    assert 2 <= peak.peak <= 3


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_one_budget_for_abatch_over_parallel(peak: Peak, kind: str) -> None:
    peak.together = 2
    par = _four_branches(peak, kind)
    with anyio.fail_after(20):
        out = await par.abatch(list(range(4)), {"max_concurrency": 3})
    assert out == [{k: i for k in "abcd"} for i in range(4)]
    assert peak.total == 16
    assert 2 <= peak.peak <= 3


def test_mixed_sync_and_async_leaves_share_one_budget(
    peak: Peak, in_thread: Callable[..., Any]
) -> None:
    # Sync leaves hold slots from threads, async ones from loops of their own in other
    # threads: still one budget (and no hang on a semaphore bound to another loop).
    peak.together = 2
    par = RunnableParallel({k: _leaf(peak, kind) for k, kind in zip("abcd", KINDS, strict=True)})
    out = in_thread(lambda: par.batch(list(range(4)), {"max_concurrency": 3}))
    assert out == [{k: i for k in "abcd"} for i in range(4)]
    assert 2 <= peak.peak <= 3


@pytest.mark.anyio
async def test_mixed_leaves_share_one_budget_async(peak: Peak) -> None:
    peak.together = 2
    par = RunnableParallel({k: _leaf(peak, kind) for k, kind in zip("abcd", KINDS, strict=True)})
    with anyio.fail_after(20):
        await par.abatch(list(range(4)), {"max_concurrency": 3})
    assert 2 <= peak.peak <= 3


def test_invoke_max_concurrency_bounds_parallel(peak: Peak) -> None:
    peak.together = 2
    par = RunnableParallel({k: _leaf(peak, "sync") for k in "abcdef"})
    par.invoke(1, {"max_concurrency": 2})
    assert peak.peak == 2


def test_map_max_concurrency(peak: Peak) -> None:
    peak.together = 2
    each = _leaf(peak, "sync").map()
    assert each.invoke(list(range(8)), {"max_concurrency": 2}) == list(range(8))
    assert peak.peak == 2


def _nested(peak: Peak, kind: str) -> Any:
    inner = RunnableParallel(x=_leaf(peak, kind), y=_leaf(peak, kind))
    leaf = _leaf(peak, kind)

    def calls_inside(x: int) -> int:
        return leaf.invoke(x) + 1  # a runnable called from inside a leaf

    return RunnableParallel(p=inner, q=inner | (lambda d: d["x"]), r=calls_inside).map()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_nesting_at_max_concurrency_one_does_not_deadlock(
    peak: Peak, kind: str, in_thread: Callable[..., Any]
) -> None:
    chain = _nested(peak, kind)
    out = in_thread(lambda: chain.batch([[1, 2], [3]], {"max_concurrency": 1}), 20)
    assert out[1] == [{"p": {"x": 3, "y": 3}, "q": 3, "r": 4}]
    assert peak.peak == 1


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_nesting_at_max_concurrency_one_does_not_deadlock_async(
    peak: Peak, kind: str
) -> None:
    chain = _nested(peak, kind)
    with anyio.fail_after(20):
        out = await chain.abatch([[1, 2], [3]], {"max_concurrency": 1})
    assert out[0][1] == {"p": {"x": 2, "y": 2}, "q": 2, "r": 3}
    assert peak.peak == 1


def test_stream_with_max_concurrency_one(peak: Peak, in_thread: Callable[..., Any]) -> None:
    chain = (
        _leaf(peak, "generator")
        | _leaf(peak, "generator")
        | {"a": _leaf(peak, "sync"), "b": _leaf(peak, "generator")}
    )
    chunks = in_thread(lambda: list(chain.stream(5, {"max_concurrency": 1})), 20)
    merged: dict[str, int] = {}
    for chunk in chunks:
        merged.update(chunk)
    assert merged == {"a": 5, "b": 5}
    assert peak.peak == 1


# ----------------------------------------------------------------- calls from inside a step
# A function step holds a slot while it runs and lends it to the runnables it calls: they
# share the outer call's budget (the bound holds however deep), and at max_concurrency=1
# they run on the step's slot instead of waiting for it (no deadlock).

CALLS = ["batch with config", "batch", "parallel", "stream"]
NESTED_HOLD = 0.01


def _calling_step(peak: Peak, kind: str, call: str, leaf_kind: str) -> Any:
    """A step of `kind` (sync or async) that calls a 3-item batch, a 3-branch parallel or a
    stream of leaves of `leaf_kind`, and returns their outputs."""
    inner = _leaf(peak, leaf_kind, NESTED_HOLD)
    par = RunnableParallel({k: _leaf(peak, leaf_kind, NESTED_HOLD) for k in "abc"})
    if kind == "sync":

        def sync_step(x: int, config: Any) -> list[int]:
            if call == "batch with config":
                return inner.batch([x] * 3, config)
            if call == "batch":
                return inner.batch([x] * 3)
            if call == "parallel":
                return list(par.invoke(x).values())
            return [chunk for _ in range(3) for chunk in inner.stream(x)]

        return RunnableLambda(sync_step)

    async def async_step(x: int, config: Any) -> list[int]:
        if call == "batch with config":
            return await inner.abatch([x] * 3, config)
        if call == "batch":
            return await inner.abatch([x] * 3)
        if call == "parallel":
            return list((await par.ainvoke(x)).values())
        return [chunk for _ in range(3) async for chunk in inner.astream(x)]

    return RunnableLambda(async_step)


@pytest.mark.parametrize("limit", [1, 2])
@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    ("kind", "leaf_kind"), [("sync", "sync"), ("async", "async"), ("sync", "async")]
)
def test_runnables_called_inside_a_step_share_its_budget(
    peak: Peak, kind: str, leaf_kind: str, call: str, limit: int, in_thread: Callable[..., Any]
) -> None:
    step = _calling_step(peak, kind, call, leaf_kind)
    config: Any = {"max_concurrency": limit}
    assert in_thread(lambda: step.invoke(1, config), 20) == [1, 1, 1]
    assert peak.peak <= limit
    peak.together = limit  # not before: a step that streams three times runs one leaf at a time
    assert in_thread(lambda: step.batch([1, 2, 3], config), 20) == [[x] * 3 for x in (1, 2, 3)]
    assert peak.total == 12
    assert peak.peak == limit  # bounded, and the slots were used


@pytest.mark.anyio
@pytest.mark.parametrize("limit", [1, 2])
@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    ("kind", "leaf_kind"), [("sync", "sync"), ("async", "async"), ("async", "sync")]
)
async def test_runnables_called_inside_a_step_share_its_budget_async(
    peak: Peak, kind: str, leaf_kind: str, call: str, limit: int
) -> None:
    step = _calling_step(peak, kind, call, leaf_kind)
    config: Any = {"max_concurrency": limit}
    with anyio.fail_after(20):
        assert await step.ainvoke(1, config) == [1, 1, 1]
        assert peak.peak <= limit
        peak.together = limit
        assert await step.abatch([1, 2, 3], config) == [[x] * 3 for x in (1, 2, 3)]
    assert peak.total == 12
    assert peak.peak == limit


def test_the_issue_example_batch_inside_a_batched_step(peak: Peak) -> None:
    # Issue #10: a batch inside a step reached 4 concurrent calls under a limit of 2.
    peak.together = 2
    inner = _leaf(peak, "sync", NESTED_HOLD)

    @runnable
    def step(x: int) -> list[int]:
        return inner.batch([x, x, x, x])

    assert step.batch([1, 2], {"max_concurrency": 2}) == [[1] * 4, [2] * 4]
    assert peak.peak == 2


@pytest.mark.parametrize("limit", [1, 2])
def test_steps_nested_three_deep_at_small_limits(
    peak: Peak, limit: int, in_thread: Callable[..., Any]
) -> None:
    leaf = _leaf(peak, "sync", NESTED_HOLD)

    @runnable
    def middle(x: int) -> list[int]:
        return leaf.batch([x, x])

    @runnable
    async def top(x: int) -> list[list[int]]:
        return await middle.abatch([x, x])

    out = in_thread(lambda: top.batch([1, 2, 3], {"max_concurrency": limit}), 20)
    assert out == [[[x, x], [x, x]] for x in (1, 2, 3)]
    assert peak.total == 12
    assert peak.peak == limit


@pytest.mark.anyio
@pytest.mark.parametrize("limit", [1, 2])
async def test_a_streaming_step_lends_its_slot_while_it_streams(peak: Peak, limit: int) -> None:
    inner = _leaf(peak, "async", NESTED_HOLD)

    async def chunks(x: int) -> AsyncIterator[list[int]]:
        for _ in range(2):
            yield await inner.abatch([x, x])

    def sync_chunks(x: int) -> Iterator[list[int]]:
        for _ in range(2):
            yield inner.batch([x, x])

    for step in (RunnableLambda(chunks), RunnableLambda(sync_chunks)):
        with anyio.fail_after(20):
            got = [c async for c in step.astream(1, {"max_concurrency": limit})]
            assert got == [[1, 1], [1, 1]]
            assert await step.abatch([1, 2], {"max_concurrency": limit}) == [[1] * 4, [2] * 4]
    assert peak.total == 24
    assert peak.peak == limit


@pytest.mark.anyio
async def test_cancelling_nested_waiters_loses_no_slot(peak: Peak) -> None:
    # Borrowers and waiters cancelled at every stage: afterwards the budget still has its
    # slots (the next call at max_concurrency=1 neither hangs nor exceeds the bound).
    inner = _leaf(peak, "async", NESTED_HOLD)

    @runnable
    async def step(x: int) -> list[int]:
        return await inner.abatch([x] * 4)

    for delay in (0.0, 0.01, 0.04, 0.07):
        with anyio.move_on_after(delay):
            await step.abatch([1, 2, 3], {"max_concurrency": 2})
    with anyio.fail_after(10):
        assert await step.abatch([1, 2], {"max_concurrency": 1}) == [[1] * 4, [2] * 4]
    assert peak.peak <= 2


@pytest.mark.parametrize("inner_limit", [1, 5])
def test_a_step_may_set_its_own_limit_inside_the_outer_one(
    peak: Peak, inner_limit: int, in_thread: Callable[..., Any]
) -> None:
    # A stricter inner limit is a budget of its own inside the outer one (both bind); a
    # looser one cannot raise the outer bound.
    leaf = _leaf(peak, "sync", NESTED_HOLD)
    per_step = {x: Peak() for x in (1, 2, 3)}

    @runnable
    def step(x: int) -> list[int]:
        def counted(y: int) -> int:
            per_step[x].hold_sync(NESTED_HOLD)
            return leaf.invoke(y)

        return RunnableLambda(counted).batch([x] * 4, {"max_concurrency": inner_limit})

    out = in_thread(lambda: step.batch([1, 2, 3], {"max_concurrency": 2}), 20)
    assert out == [[x] * 4 for x in (1, 2, 3)]
    assert peak.total == 12
    assert peak.peak <= 2
    assert max(p.peak for p in per_step.values()) <= min(inner_limit, 2)
    assert sum(p.total for p in per_step.values()) == 12


IDLE_THREADS_END = """
import threading, time
from runnables import RunnableLambda, RunnableParallel
from runnables._core import threads

threads._IDLE_SECONDS = 0.3
def workers():
    return sum(t.name.startswith("runnables") for t in threading.enumerate())

chain = RunnableLambda(lambda x: x) | RunnableParallel(a=lambda x: x, b=lambda x: -x)
for _ in range(2_000):
    assert chain.invoke(1) == {"a": 1, "b": -1}
assert workers() > 0
deadline = time.monotonic() + 10
while workers() and time.monotonic() < deadline:
    time.sleep(0.05)
print(workers())
"""


def test_the_fan_out_threads_end_once_idle() -> None:
    """A sync parallel's helper threads end once left without work (a stdlib executor kept up
    to 256 of them for good), as the async callers' worker threads do."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", IDLE_THREADS_END], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
