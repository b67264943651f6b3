"""Laws of composition checked on random chains (see strategies.py)."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator
from typing import Any

import anyio
from hypothesis import given, settings

from runnables import RunnableBase, RunnablePassthrough, RunnableSequence
from strategies import backends, chains, input_lists, inputs

SETTINGS = settings(max_examples=50, deadline=None)


def _stream_total(r: RunnableBase[int, int], x: int) -> int:
    chunks = list(r.stream(x))
    assert chunks, "a stream of an int chain yields at least one chunk"
    return sum(chunks)


async def _astream_total(chunks: AsyncIterator[int]) -> int:
    return sum([chunk async for chunk in chunks])


@SETTINGS
@given(chains, chains, chains, inputs)
def test_sequence_is_associative(a: Any, b: Any, c: Any, x: int) -> None:
    left = (a | b) | c
    right = a | (b | c)
    assert left == right
    assert hash(left) == hash(right)
    assert isinstance(left, RunnableSequence)
    assert all(not isinstance(step, RunnableSequence) for step in left.steps)
    assert left.invoke(x) == right.invoke(x) == c.invoke(b.invoke(a.invoke(x)))


@SETTINGS
@given(chains, inputs)
def test_passthrough_is_identity(r: Any, x: int) -> None:
    p = RunnablePassthrough()
    expected = r.invoke(x)
    assert (p | r).invoke(x) == expected
    assert (r | p).invoke(x) == expected
    assert _stream_total(p | r, x) == expected
    assert _stream_total(r | p, x) == expected
    assert p.invoke(x) == x


@SETTINGS
@given(chains, input_lists)
def test_batch_is_map_of_invoke(r: Any, xs: list[int]) -> None:
    assert r.batch(xs) == [r.invoke(x) for x in xs]
    assert sorted(r.batch_as_completed(xs)) == list(enumerate(r.batch(xs)))


@SETTINGS
@given(chains, inputs)
def test_stream_adds_up_to_invoke(r: Any, x: int) -> None:
    assert _stream_total(r, x) == r.invoke(x)


@SETTINGS
@given(chains, input_lists, backends)
def test_abatch_equals_batch(r: Any, xs: list[int], backend: str) -> None:
    assert anyio.run(r.abatch, xs, backend=backend) == r.batch(xs)


@SETTINGS
@given(chains, inputs, backends)
def test_async_calls_agree_with_sync(r: Any, x: int, backend: str) -> None:
    async def both() -> tuple[int, int]:
        return await r.ainvoke(x), await _astream_total(r.astream(x))

    expected = r.invoke(x)
    assert anyio.run(both, backend=backend) == (expected, expected)


@SETTINGS
@given(chains, chains, inputs)
def test_equality_hash_and_pickle_round_trip(a: Any, b: Any, x: int) -> None:
    chain = a | b
    again = pickle.loads(pickle.dumps(chain))
    assert again == chain
    assert hash(again) == hash(chain)
    assert again.invoke(x) == chain.invoke(x)
    assert (a | b) == chain  # built alike, equal
    assert pickle.loads(pickle.dumps(a)) == a
