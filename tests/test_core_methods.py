"""Every public method of every primitive agrees with `invoke`, sync and async."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from runnables import (
    RunnableBase,
    RunnableBranch,
    RunnableEach,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnablePick,
    RunnableSequence,
    runnable,
)


@runnable
def inc(x: int) -> int:
    return x + 1


@runnable
async def ainc(x: int) -> int:
    return x + 1


@runnable
def upto(x: int) -> Iterator[int]:
    yield from range(x)


@runnable
async def aupto(x: int) -> AsyncIterator[int]:
    for i in range(x):
        yield i


def _double_each(chunks: Iterator[int]) -> Iterator[int]:
    for chunk in chunks:
        yield chunk * 2


def _fail(x: Any) -> Any:
    raise RuntimeError("primary down")


def _to_dict(x: int) -> dict[str, int]:
    return {"x": x}


CASES: list[tuple[str, RunnableBase[Any, Any], Any, Any]] = [
    ("lambda", inc, 1, 2),
    ("async lambda", ainc, 1, 2),
    ("generator lambda", upto, 4, 6),
    ("async generator lambda", aupto, 4, 6),
    ("RunnableGenerator", RunnableGenerator(_double_each), 3, 6),
    ("sequence", RunnableSequence(inc, upto, _double_each), 3, 12),
    (
        "parallel",
        RunnableParallel(a=inc, b=upto, c={"d": ainc}),
        3,
        {"a": 4, "b": 3, "c": {"d": 4}},
    ),
    ("passthrough", RunnablePassthrough(), 5, 5),
    ("assign", RunnablePassthrough.assign(y=lambda d: d["x"] * 10), {"x": 2}, {"x": 2, "y": 20}),
    ("pick", RunnablePick("x"), {"x": 1, "y": 2}, 1),
    ("pick many", RunnablePick(["x"]), {"x": 1, "y": 2}, {"x": 1}),
    ("branch", RunnableBranch((lambda x: x > 2, upto), inc), 4, 6),
    ("fallbacks", RunnableLambda(_fail).with_fallbacks([upto]), 3, 3),
    ("retry", upto.with_retry(wait_exponential_jitter=False), 3, 3),
    ("each", RunnableEach(inc), [1, 2, 3], [2, 3, 4]),
    ("with_config", upto.with_config(tags=["t"]), 3, 3),
    ("with_listeners", aupto.with_listeners(on_end=lambda run: None), 3, 3),
    ("with_types", inc.with_types(input_type=int, output_type=int), 1, 2),
    (
        "dict chain",
        inc | _to_dict | RunnablePassthrough.assign(z=lambda d: -d["x"]),
        1,
        {"x": 2, "z": -2},
    ),
]

IDS = [case[0] for case in CASES]


def _add(total: Any, chunk: Any) -> Any:
    if isinstance(total, dict) and isinstance(chunk, dict):
        merged = dict(total)
        for key, value in chunk.items():
            merged[key] = _add(merged[key], value) if key in merged else value
        return merged
    return total + chunk


def _total(chunks: list[Any]) -> Any:
    assert chunks, "expected at least one chunk"
    total = chunks[0]
    for chunk in chunks[1:]:
        total = _add(total, chunk)
    return total


async def _aone(value: Any) -> AsyncIterator[Any]:
    yield value


@pytest.mark.parametrize(("name", "r", "x", "expected"), CASES, ids=IDS)
def test_sync_methods(name: str, r: RunnableBase[Any, Any], x: Any, expected: Any) -> None:
    assert r.invoke(x) == expected
    assert r.batch([x, x]) == [expected, expected]
    assert sorted(r.batch_as_completed([x, x]), key=lambda p: p[0]) == [
        (0, expected),
        (1, expected),
    ]
    assert _total(list(r.stream(x))) == expected
    assert _total(list(r.transform(iter([x])))) == expected


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "r", "x", "expected"), CASES, ids=IDS)
async def test_async_methods(name: str, r: RunnableBase[Any, Any], x: Any, expected: Any) -> None:
    assert await r.ainvoke(x) == expected
    assert await r.abatch([x, x]) == [expected, expected]
    pairs = [pair async for pair in r.abatch_as_completed([x, x])]
    assert sorted(pairs, key=lambda p: p[0]) == [(0, expected), (1, expected)]
    assert _total([chunk async for chunk in r.astream(x)]) == expected
    assert _total([chunk async for chunk in r.atransform(_aone(x))]) == expected
