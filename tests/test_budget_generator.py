"""A `RunnableGenerator` fed chunk by chunk in a streamed chain runs inside the call's
`max_concurrency` budget: its code borrows the slot of the paused leaf stream feeding it, and
the runnables it calls borrow from it in turn (never two leaf calls at once at
max_concurrency=1, and no deadlock)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing, closing
from typing import Any

import anyio
import pytest

from conftest import Peak, Recorder
from runnables import RunnableGenerator, RunnableLambda, RunnableParallel, RunnablePassthrough
from runnables._core.budget import Budget
from runnables._core.context import CURRENT

HOLD = 0.005
CHUNKS = [1, 2, 3]


def _model(peak: Peak, kind: str) -> RunnableLambda[int, int]:
    """A streaming leaf (standing for a model): in flight while it makes each chunk."""
    if kind == "sync":

        def sync_model(n: int) -> Iterator[int]:
            for chunk in CHUNKS:
                peak.hold_sync(HOLD)
                yield chunk * n

        return RunnableLambda(sync_model)

    async def async_model(n: int) -> AsyncIterator[int]:
        for chunk in CHUNKS:
            peak.enter()
            try:
                await anyio.sleep(HOLD)
            finally:
                peak.exit()
            yield chunk * n

    return RunnableLambda(async_model)


def _inner(peak: Peak) -> RunnableLambda[int, int]:
    def inner(x: int) -> int:
        peak.hold_sync(HOLD)
        return x

    return RunnableLambda(inner)


def _generator(peak: Peak, kind: str, budgets: list[Budget | None]) -> RunnableGenerator[int, int]:
    """Calls a 3-item batch of leaves for each input chunk (at once, were it not bounded)."""
    inner = _inner(peak)

    def seen() -> None:
        context = CURRENT.get()
        budgets.append(None if context is None else context.budget)

    if kind == "sync":

        def per_chunk(chunks: Iterator[int]) -> Iterator[int]:
            seen()
            for chunk in chunks:
                yield sum(inner.batch([chunk] * 3))
            seen()

        return RunnableGenerator(per_chunk)

    async def aper_chunk(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        seen()
        async for chunk in chunks:
            yield sum(await inner.abatch([chunk] * 3))
        seen()

    return RunnableGenerator(aper_chunk)


def _config(traced: bool) -> Any:
    return {"max_concurrency": 1, "callbacks": [Recorder()]} if traced else {"max_concurrency": 1}


def _whole(budgets: list[Budget | None]) -> None:
    assert budgets
    for budget in budgets:
        assert budget is not None
        assert repr(budget) == f"Budget(limit={budget.limit}, free={budget.limit}, waiting=0)"


KINDS = [("sync", "sync"), ("sync", "async"), ("async", "sync"), ("async", "async")]


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize(("model_kind", "gen_kind"), KINDS)
def test_stream_model_into_generator_at_one(
    peak: Peak, in_thread: Callable[..., Any], model_kind: str, gen_kind: str, traced: bool
) -> None:
    budgets: list[Budget | None] = []
    chain = _model(peak, model_kind) | _generator(peak, gen_kind, budgets)
    chunks = in_thread(lambda: list(chain.stream(10, _config(traced))), 20)
    assert chunks == [30, 60, 90]
    assert peak.peak == 1
    assert peak.total == 3 + 9
    _whole(budgets)


@pytest.mark.anyio
@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize(("model_kind", "gen_kind"), KINDS)
async def test_astream_model_into_generator_at_one(
    peak: Peak, model_kind: str, gen_kind: str, traced: bool
) -> None:
    budgets: list[Budget | None] = []
    chain = _model(peak, model_kind) | _generator(peak, gen_kind, budgets)
    with anyio.fail_after(20):
        chunks = [chunk async for chunk in chain.astream(10, _config(traced))]
    assert chunks == [30, 60, 90]
    assert peak.peak == 1
    assert peak.total == 3 + 9
    _whole(budgets)


@pytest.mark.anyio
async def test_two_models_then_two_generators_at_one(peak: Peak) -> None:
    budgets: list[Budget | None] = []
    chain = (
        _model(peak, "async")
        | _generator(peak, "async", budgets)
        | _generator(peak, "sync", budgets)
    )
    with anyio.fail_after(20):
        chunks = [chunk async for chunk in chain.astream(1, {"max_concurrency": 1})]
    assert chunks == [9, 18, 27]
    assert peak.peak == 1
    _whole(budgets)


@pytest.mark.parametrize("traced", [False, True])
def test_generators_streaming_inner_streams_at_one(
    peak: Peak, in_thread: Callable[..., Any], traced: bool
) -> None:
    """Streams opening while a generator waits for its input leave it its slot."""
    budgets: list[Budget | None] = []
    inner = _model(peak, "sync")

    def streams(chunks: Iterator[int]) -> Iterator[int]:
        for chunk in chunks:
            yield sum(inner.stream(chunk))

    chain = (
        _model(peak, "sync")
        | RunnableGenerator(streams)
        | RunnableGenerator(streams)
        | _generator(peak, "sync", budgets)
    )
    chunks = in_thread(lambda: list(chain.stream(1, _config(traced))), 20)
    assert chunks == [108, 216, 324]
    assert peak.peak == 1
    _whole(budgets)


@pytest.mark.anyio
@pytest.mark.parametrize("traced", [False, True])
async def test_agenerators_streaming_inner_streams_at_one(peak: Peak, traced: bool) -> None:
    budgets: list[Budget | None] = []
    inner = _model(peak, "async")

    async def streams(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for chunk in chunks:
            yield sum([x async for x in inner.astream(chunk)])

    chain = (
        _model(peak, "async")
        | RunnableGenerator(streams)
        | RunnableGenerator(streams)
        | _generator(peak, "async", budgets)
    )
    with anyio.fail_after(20):
        chunks = [chunk async for chunk in chain.astream(1, _config(traced))]
    assert chunks == [108, 216, 324]
    assert peak.peak == 1
    _whole(budgets)


@pytest.mark.anyio
@pytest.mark.parametrize("gen_kind", ["sync", "async"])
async def test_a_generator_fed_by_a_passthrough(peak: Peak, gen_kind: str) -> None:
    budgets: list[Budget | None] = []
    chain = RunnablePassthrough[int]() | _generator(peak, gen_kind, budgets)
    with anyio.fail_after(20):
        chunks = [chunk async for chunk in chain.astream(2, {"max_concurrency": 1})]
    assert chunks == [6]
    assert peak.peak == 1
    _whole(budgets)


@pytest.mark.parametrize("gen_kind", ["sync", "async"])
def test_a_generator_fed_by_a_parallel(
    peak: Peak, in_thread: Callable[..., Any], gen_kind: str
) -> None:
    budgets: list[Budget | None] = []
    parallel = RunnableParallel({"a": _model(peak, "sync"), "b": _model(peak, "sync")})
    chain = (
        parallel | RunnableLambda(lambda d: sum(d.values())) | _generator(peak, gen_kind, budgets)
    )
    assert in_thread(lambda: list(chain.stream(1, {"max_concurrency": 1})), 20) == [36]
    _whole(budgets)


@pytest.mark.anyio
@pytest.mark.parametrize("gen_kind", ["sync", "async"])
async def test_a_generator_fed_by_a_streaming_parallel(peak: Peak, gen_kind: str) -> None:
    seen: list[dict[str, int]] = []

    def keys(chunks: Iterator[dict[str, int]]) -> Iterator[int]:
        for chunk in chunks:
            seen.append(chunk)
            yield _inner(peak).invoke(len(chunk))

    async def akeys(chunks: AsyncIterator[dict[str, int]]) -> AsyncIterator[int]:
        async for chunk in chunks:
            seen.append(chunk)
            yield await _inner(peak).ainvoke(len(chunk))

    parallel = RunnableParallel({"a": _model(peak, "async"), "b": _model(peak, "async")})
    chain = parallel | RunnableGenerator(keys if gen_kind == "sync" else akeys)
    with anyio.fail_after(20):
        chunks = [chunk async for chunk in chain.astream(1, {"max_concurrency": 1})]
    assert chunks == [1] * 6
    assert sorted(next(iter(chunk.items())) for chunk in seen) == sorted(
        (key, n) for key in "ab" for n in CHUNKS
    )


def test_breaking_early_gives_every_slot_back(peak: Peak, in_thread: Callable[..., Any]) -> None:
    budgets: list[Budget | None] = []
    chain = _model(peak, "sync") | _generator(peak, "sync", budgets)

    def first() -> int:
        with closing(chain.stream(1, {"max_concurrency": 1})) as chunks:
            for chunk in chunks:
                return chunk
        raise AssertionError

    assert in_thread(first, 20) == 3
    assert len(budgets) == 1
    _whole(budgets)
    assert peak.current == 0


@pytest.mark.anyio
@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize("gen_kind", ["sync", "async"])
async def test_abreaking_early_gives_every_slot_back(
    peak: Peak, gen_kind: str, traced: bool
) -> None:
    budgets: list[Budget | None] = []
    chain = _model(peak, "async") | _generator(peak, gen_kind, budgets)
    with anyio.fail_after(20):
        async with aclosing(chain.astream(1, _config(traced))) as chunks:
            async for chunk in chunks:
                assert chunk == 3
                break
    _whole(budgets)


@pytest.mark.anyio
@pytest.mark.parametrize("where", ["generator", "inner", "model"])
async def test_cancelling_gives_every_slot_back(peak: Peak, where: str) -> None:
    budgets: list[Budget | None] = []
    started = anyio.Event()

    async def stall(x: int) -> int:
        started.set()
        await anyio.sleep_forever()
        return x

    async def model(n: int) -> AsyncIterator[int]:
        yield n
        if where == "model":
            await stall(n)
        yield n

    async def per_chunk(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        budgets.append(CURRENT.get().budget)  # type: ignore[union-attr]
        async for chunk in chunks:
            if where == "inner":
                await RunnableLambda(stall).abatch([chunk, chunk])
            elif where == "generator":
                await stall(chunk)
            yield chunk

    chain = RunnableLambda(model) | RunnableGenerator(per_chunk)
    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:

            async def consume() -> None:
                async for _ in chain.astream(1, {"max_concurrency": 1}):
                    pass

            group.start_soon(consume)
            await started.wait()
            group.cancel_scope.cancel()
    _whole(budgets)
