"""`RunnableParallel`: mapping/kwargs construction, dict coercion, nesting, concurrency."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from runnables import RunnableLambda, RunnableParallel, RunnableSequence, runnable


@runnable
def add_one(x: int) -> int:
    return x + 1


@runnable
def double(x: int) -> int:
    return x * 2


@runnable
async def negate(x: int) -> int:
    await anyio.sleep(0)
    return -x


@runnable
def count_up(x: int) -> Iterator[int]:
    yield from range(x)


async def _acollect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


def _added(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for chunk in chunks:
        for key, value in chunk.items():
            total[key] = total[key] + value if key in total else value
    return total


def test_mapping_and_kwargs_are_equal() -> None:
    by_map = RunnableParallel({"a": add_one, "b": double})
    by_kwargs = RunnableParallel(a=add_one, b=double)
    assert by_map == by_kwargs
    assert hash(by_map) == hash(by_kwargs)
    assert by_map.invoke(3) == {"a": 4, "b": 6}
    assert RunnableParallel({"a": add_one}, b=double).invoke(1) == {"a": 2, "b": 2}


def test_dict_coercion_and_nested_dicts() -> None:
    chain = add_one | {"plain": double, "nested": {"neg": negate, "same": lambda x: x}}
    assert isinstance(chain, RunnableSequence)
    assert chain.invoke(1) == {"plain": 4, "nested": {"neg": -2, "same": 2}}
    left = {"x": add_one, "y": double} | RunnableLambda(lambda d: d["x"] * d["y"])
    assert left.invoke(3) == 24


def test_name_and_empty() -> None:
    assert RunnableParallel(a=add_one, b=double).name == "RunnableParallel<a,b>"
    with pytest.raises(ValueError, match="at least one branch"):
        RunnableParallel()


PAR = RunnableParallel(a=add_one, b=double, c=negate)


def test_sync_methods() -> None:
    assert PAR.invoke(2) == {"a": 3, "b": 4, "c": -2}
    assert PAR.batch([1, 2]) == [{"a": 2, "b": 2, "c": -1}, {"a": 3, "b": 4, "c": -2}]
    assert dict(PAR.batch_as_completed([1, 2])) == {
        0: {"a": 2, "b": 2, "c": -1},
        1: {"a": 3, "b": 4, "c": -2},
    }
    chunks = list(PAR.stream(2))
    assert sorted(chunks, key=lambda c: next(iter(c))) == [{"a": 3}, {"b": 4}, {"c": -2}]
    assert list(PAR.transform(iter([1, 1]))) != []


@pytest.mark.anyio
async def test_async_methods() -> None:
    assert await PAR.ainvoke(2) == {"a": 3, "b": 4, "c": -2}
    assert await PAR.abatch([1, 2]) == [{"a": 2, "b": 2, "c": -1}, {"a": 3, "b": 4, "c": -2}]
    assert dict([p async for p in PAR.abatch_as_completed([1, 2])]) == {
        0: {"a": 2, "b": 2, "c": -1},
        1: {"a": 3, "b": 4, "c": -2},
    }
    assert _added(await _acollect(PAR.astream(2))) == {"a": 3, "b": 4, "c": -2}


def test_stream_passes_branch_chunks_on() -> None:
    par = RunnableParallel(n=count_up, d=double)
    chunks = list(par.stream(4))
    assert [c["n"] for c in chunks if "n" in c] == [0, 1, 2, 3]
    assert [c for c in chunks if "d" in c] == [{"d": 8}]
    assert _added(chunks) == par.invoke(4) == {"n": 6, "d": 8}


@pytest.mark.anyio
async def test_astream_passes_branch_chunks_on() -> None:
    par = RunnableParallel(n=count_up, d=negate)
    chunks = await _acollect(par.astream(3))
    assert [c["n"] for c in chunks if "n" in c] == [0, 1, 2]
    assert _added(chunks) == await par.ainvoke(3) == {"n": 3, "d": -3}


def test_sync_branches_run_concurrently_on_threads() -> None:
    barrier = threading.Barrier(3, timeout=5)
    threads: set[int] = set()

    def meet(x: int) -> int:
        threads.add(threading.get_ident())
        barrier.wait()  # breaks (and raises) unless all three run at once
        return x

    par = RunnableParallel(a=meet, b=meet, c=meet)
    assert par.invoke(1) == {"a": 1, "b": 1, "c": 1}
    assert len(threads) == 3


@pytest.mark.anyio
async def test_async_branches_run_concurrently_as_tasks() -> None:
    first, second = anyio.Event(), anyio.Event()

    async def a(x: int) -> str:
        first.set()
        await second.wait()
        return "a"

    async def b(x: int) -> str:
        second.set()
        await first.wait()
        return "b"

    with anyio.fail_after(5):
        assert await RunnableParallel(a=a, b=b).ainvoke(0) == {"a": "a", "b": "b"}


def test_sync_stream_branches_concurrent() -> None:
    barrier = threading.Barrier(2, timeout=5)

    def gen(x: int) -> Iterator[int]:
        barrier.wait()
        yield x

    chunks = list(RunnableParallel(a=gen, b=gen).stream(7))
    assert sorted(chunks, key=lambda c: next(iter(c))) == [{"a": 7}, {"b": 7}]
