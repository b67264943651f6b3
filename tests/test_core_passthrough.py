"""`RunnablePassthrough`, `.assign` / `RunnableAssign`, `.pick` / `RunnablePick`."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from runnables import (
    RunnableAssign,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnablePick,
    RunnableSequence,
    runnable,
)


async def _acollect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


async def _aiter(values: list[Any]) -> AsyncIterator[Any]:
    for value in values:
        yield value


P = RunnablePassthrough()


def test_passthrough_sync_methods() -> None:
    assert P.invoke({"a": 1}) == {"a": 1}
    assert P.batch([1, "x", None]) == [1, "x", None]
    assert sorted(P.batch_as_completed([3, 4])) == [(0, 3), (1, 4)]
    assert list(P.stream("abc")) == ["abc"]
    assert list(P.transform(iter(["a", "b", "c"]))) == ["a", "b", "c"]
    assert RunnablePassthrough() == P
    assert hash(P) == hash(RunnablePassthrough())
    assert P.name == "RunnablePassthrough"


@pytest.mark.anyio
async def test_passthrough_async_methods() -> None:
    assert await P.ainvoke(5) == 5
    assert await P.abatch([1, 2]) == [1, 2]
    assert sorted([p async for p in P.abatch_as_completed([1, 2])]) == [(0, 1), (1, 2)]
    assert await _acollect(P.astream(9)) == [9]
    assert await _acollect(P.atransform(_aiter([1, 2, 3]))) == [1, 2, 3]


def test_passthrough_transform_is_lazy() -> None:
    pulled: list[int] = []

    def feed() -> Iterator[int]:
        for i in range(3):
            pulled.append(i)
            yield i

    out = P.transform(feed())
    assert next(out) == 0
    assert pulled == [0]


def test_passthrough_in_parallel() -> None:
    par = RunnableParallel(orig=RunnablePassthrough(), plus=lambda x: x + 1)
    assert par.invoke(1) == {"orig": 1, "plus": 2}


# ----------------------------------------------------------------- assign


def _total(d: dict[str, Any]) -> int:
    return int(d["a"] + d["b"])


ASSIGN = RunnablePassthrough.assign(total=_total, neg=lambda d: -d["a"])


def test_assign_invoke_and_spellings() -> None:
    assert isinstance(ASSIGN, RunnableAssign)
    assert ASSIGN.invoke({"a": 1, "b": 2}) == {"a": 1, "b": 2, "total": 3, "neg": -1}
    chained = RunnableLambda(lambda x: {"a": x, "b": x}).assign(total=_total)
    assert isinstance(chained, RunnableSequence)
    assert chained.invoke(4) == {"a": 4, "b": 4, "total": 8}
    assert ASSIGN.name == "RunnableAssign<total,neg>"
    assert RunnablePassthrough.assign(total=_total) == RunnablePassthrough.assign(total=_total)


def test_assign_every_method() -> None:
    x = {"a": 1, "b": 2}
    expected = {"a": 1, "b": 2, "total": 3, "neg": -1}
    assert ASSIGN.batch([x, x]) == [expected, expected]
    chunks = list(ASSIGN.stream(x))
    assert chunks[0] == {"a": 1, "b": 2}  # the input passes on before the new keys
    merged: dict[str, Any] = {}
    for chunk in chunks:
        merged.update(chunk)
    assert merged == expected


@pytest.mark.anyio
async def test_assign_async() -> None:
    x = {"a": 1, "b": 2}
    expected = {"a": 1, "b": 2, "total": 3, "neg": -1}
    assert await ASSIGN.ainvoke(x) == expected
    assert await ASSIGN.abatch([x]) == [expected]
    chunks = await _acollect(ASSIGN.astream(x))
    assert chunks[0] == x
    merged: dict[str, Any] = {}
    for chunk in chunks:
        merged.update(chunk)
    assert merged == expected


def test_assign_computes_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=5)

    def wait_a(d: dict[str, Any]) -> str:
        barrier.wait()
        return "a"

    def wait_b(d: dict[str, Any]) -> str:
        barrier.wait()
        return "b"

    assert RunnablePassthrough.assign(x=wait_a, y=wait_b).invoke({}) == {"x": "a", "y": "b"}


def test_assign_needs_dict() -> None:
    with pytest.raises(TypeError, match="needs a dict input"):
        ASSIGN.invoke(3)  # type: ignore[arg-type]


def test_assign_overrides_existing_key() -> None:
    assert RunnablePassthrough.assign(a=lambda d: 99).invoke({"a": 1}) == {"a": 99}


# ----------------------------------------------------------------- pick


@runnable
def make(x: int) -> dict[str, int]:
    return {"a": x, "b": x + 1, "c": x + 2}


def test_pick_one_and_many() -> None:
    assert make.pick("b").invoke(1) == 2
    assert make.pick(["a", "c"]).invoke(1) == {"a": 1, "c": 3}
    assert RunnablePick("a").invoke({"a": 5}) == 5
    assert RunnablePick(["a", "zz"]).invoke({"a": 5, "b": 6}) == {"a": 5}
    assert RunnablePick(["a", "b"]) == RunnablePick(("a", "b"))
    assert RunnablePick("a").name == "RunnablePick<a>"


def test_pick_missing_key_names_it() -> None:
    with pytest.raises(KeyError, match="'zz'"):
        RunnablePick("zz").invoke({"a": 1})


@pytest.mark.anyio
async def test_pick_async_and_stream() -> None:
    assert await make.pick("c").ainvoke(0) == 2
    assert await make.pick(["a"]).abatch([1, 2]) == [{"a": 1}, {"a": 2}]
    assert await _acollect(make.pick("a").astream(7)) == [7]
    assert list(make.pick(["a", "b"]).stream(7)) == [{"a": 7, "b": 8}]


def test_pick_on_streaming_dicts() -> None:
    def words(x: int) -> Iterator[str]:
        yield "he"
        yield "llo"

    # A parallel streams {key: chunk} parts; the pick passes on the picked key's chunks.
    chain = RunnableParallel(text=words, other=lambda x: x) | RunnablePick("text")
    assert list(chain.stream(0)) == ["he", "llo"]
    assert chain.invoke(0) == "hello"
    assert list(
        (RunnableParallel(text=words, other=lambda x: x) | RunnablePick(["other"])).stream(5)
    ) == [{"other": 5}]


@pytest.mark.anyio
async def test_assign_sees_async_branches() -> None:
    async def slow(d: dict[str, Any]) -> int:
        await anyio.sleep(0.01)
        return 1

    assert await RunnablePassthrough.assign(s=slow).ainvoke({"q": 0}) == {"q": 0, "s": 1}
