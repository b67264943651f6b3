"""Bugs found by the session-14 hostile review of the streaming core.

Each test is a minimal repro of one confirmed bug, marked `xfail(strict=True)` until the library
is fixed (then the mark goes). The docstring of each says what the contract or LangChain leads a
user to expect and what happens instead.
"""

from __future__ import annotations

from typing import Any

import pytest

from runnables import Runnable, RunnableParallel, RunnablePassthrough

#: Deep enough to need the fresh stacks of `_core/nesting.py` (500 single-key levels).
DEPTH = 500


def _single_key_nest(depth: int) -> Runnable[Any, Any]:
    nest: Runnable[Any, Any] = RunnablePassthrough()
    for _ in range(depth):
        nest = RunnableParallel(x=nest)
    return nest


def _expected(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"x": value}
    return value


@pytest.mark.xfail(
    strict=True, raises=RecursionError, reason="single-key parallels stream on one stack"
)
def test_stream_of_deeply_nested_single_key_parallels() -> None:
    """docs/how-to/parallel.md: "Parallels nest to any depth: every fifty levels the next one
    runs on a fresh thread or task". `invoke` of 500 nested `RunnableParallel(x=...)` works,
    and so does `stream` of 500 nested two-key parallels; `stream` of the single-key ones
    raises `RecursionError` (the one-branch streaming path never hops to a fresh stack)."""
    nest = _single_key_nest(DEPTH)
    assert nest.invoke(1) == _expected(DEPTH)  # holds
    assert list(nest.stream(1)) == [_expected(DEPTH)]


@pytest.mark.xfail(
    strict=True, raises=RecursionError, reason="single-key parallels astream on one stack"
)
@pytest.mark.anyio
async def test_astream_of_deeply_nested_single_key_parallels() -> None:
    """A regression of this session: before a7d8407..main, `astream` of 500 (and 1,000) nested
    `RunnableParallel(x=...)` worked; now it raises `RecursionError`, though the docs promise
    "Parallels nest to any depth" and `ainvoke` of the same runnable works."""
    nest = _single_key_nest(DEPTH)
    assert await nest.ainvoke(1) == _expected(DEPTH)  # holds
    assert [chunk async for chunk in nest.astream(1)] == [_expected(DEPTH)]
