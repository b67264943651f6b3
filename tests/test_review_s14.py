"""Bugs found by the session-14 hostile review of the streaming core.

Each test is a minimal repro of one confirmed bug, marked `xfail(strict=True)` until the library
is fixed (then the mark goes). The docstring of each says what the contract or LangChain leads a
user to expect and what happens instead.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from runnables import (
    Runnable,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
)

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


@pytest.mark.anyio
async def test_astream_of_deeply_nested_single_key_parallels() -> None:
    """A regression of this session: before a7d8407..main, `astream` of 500 (and 1,000) nested
    `RunnableParallel(x=...)` worked; now it raises `RecursionError`, though the docs promise
    "Parallels nest to any depth" and `ainvoke` of the same runnable works."""
    nest = _single_key_nest(DEPTH)
    assert await nest.ainvoke(1) == _expected(DEPTH)  # holds
    assert [chunk async for chunk in nest.astream(1)] == [_expected(DEPTH)]


def _words(text: str) -> Iterator[str]:
    for word in text.split():
        yield word + " "


def _same(chunks: Iterator[str]) -> Iterator[str]:
    yield from chunks


def test_sync_parallel_stream_finalized_on_its_own_branch_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An abandoned stream may be finalized by the garbage collector on any thread. This
    session made `stream_events` handle being closed off its consumer's thread ("closed off the
    consumer's thread (the garbage collector), stop without waiting"); the sync stream of a
    parallel does not: when the collector runs on one of the stream's own branch threads, its
    cleanup calls `join()` on that thread and fails with `RuntimeError('cannot join current
    thread')`, reported as an unraisable exception (an error under `-W error`/pytest)."""
    unraisable: list[BaseException | None] = []

    def hook(report: sys.UnraisableHookArgs) -> None:
        unraisable.append(report.exc_value)

    monkeypatch.setattr(sys, "unraisablehook", hook)
    dropped = threading.Event()
    finished = threading.Event()

    def collector(chunks: Iterator[str]) -> Iterator[str]:
        try:
            for chunk in chunks:
                yield chunk
                break
            assert dropped.wait(10)
            gc.collect()  # the collector runs here, on this branch's thread
            yield "after"
        finally:
            finished.set()

    fan = RunnableLambda(_words) | {
        "a": RunnableGenerator(collector),
        "b": RunnableGenerator(_same),
    }
    gc.disable()
    try:
        stream = fan.stream("a b c")
        next(stream)
        cycle: list[object] = [stream]
        cycle.append(cycle)  # only the collector frees it
        del stream, cycle
        dropped.set()
        assert finished.wait(10)
    finally:
        gc.enable()
    assert unraisable == []
