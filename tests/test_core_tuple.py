"""`RunnableTuple`: branches on the same input at once, outputs as a tuple in branch order."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from runnables import RunnableLambda, RunnableParallel, RunnableSequence, RunnableTuple, runnable


@runnable
def word_count(text: str) -> int:
    return len(text.split())


@runnable
def shout(text: str) -> str:
    return text.upper()


@runnable
async def reverse(text: str) -> str:
    await anyio.sleep(0)
    return text[::-1]


class Boom(Exception):
    pass


def fail(text: str) -> str:
    raise Boom(text)


def test_invoke_returns_a_tuple_in_branch_order() -> None:
    pair = RunnableTuple(word_count, shout)
    assert pair.invoke("a b c") == (3, "A B C")
    assert RunnableTuple(shout, word_count, reverse).invoke("ab cd") == ("AB CD", 2, "dc ba")


def test_plain_functions_are_coerced() -> None:
    def length(text: str) -> int:
        return len(text)

    # Typed for runnables only; functions are accepted at run time.
    pair: RunnableTuple[str, Any] = RunnableTuple(length, str.upper)  # type: ignore[call-overload]
    assert pair.invoke("abc") == (3, "ABC")
    assert isinstance(pair.bound, RunnableParallel)
    assert isinstance(pair.branches[0], RunnableLambda)


def test_needs_two_branches() -> None:
    with pytest.raises(ValueError, match="at least two"):
        RunnableTuple(word_count)  # type: ignore[call-overload]


def test_name_types_and_schemas() -> None:
    pair = RunnableTuple(word_count, shout)
    assert pair.name == "RunnableTuple<word_count,shout>"
    assert RunnableTuple(word_count, shout, name="pair").name == "pair"
    assert pair.input_type is str
    assert pair.output_type == tuple[int, str]
    assert pair.bound.name == "RunnableParallel<0,1>"


@pytest.mark.anyio
async def test_ainvoke() -> None:
    triple = RunnableTuple(word_count, shout, reverse)
    assert await triple.ainvoke("ab cd") == (2, "AB CD", "dc ba")


def test_batch() -> None:
    pair = RunnableTuple(word_count, shout)
    assert pair.batch(["a", "b c"]) == [(1, "A"), (2, "B C")]


@pytest.mark.anyio
async def test_abatch() -> None:
    pair = RunnableTuple(word_count, reverse)
    assert await pair.abatch(["ab", "c d"]) == [(1, "ba"), (2, "d c")]


def test_stream_gives_one_chunk() -> None:
    pair = RunnableTuple(word_count, shout)
    assert list(pair.stream("a b")) == [(2, "A B")]


@pytest.mark.anyio
async def test_astream_gives_one_chunk() -> None:
    pair = RunnableTuple(word_count, reverse)
    assert [chunk async for chunk in pair.astream("a b")] == [(2, "b a")]


def test_branches_run_concurrently() -> None:
    # Each branch waits for the other: they return only if they ran at once.
    meeting = threading.Barrier(2, timeout=10)

    def meet_a(text: str) -> str:
        meeting.wait()
        return "a" + text

    def meet_b(text: str) -> str:
        meeting.wait()
        return "b" + text

    pair = RunnableTuple(RunnableLambda(meet_a), RunnableLambda(meet_b))
    assert pair.invoke("x") == ("ax", "bx")


@pytest.mark.anyio
async def test_branches_run_concurrently_async() -> None:
    a_started, b_started = anyio.Event(), anyio.Event()

    async def meet_a(text: str) -> str:
        a_started.set()
        await b_started.wait()
        return "a" + text

    async def meet_b(text: str) -> str:
        b_started.set()
        await a_started.wait()
        return "b" + text

    pair = RunnableTuple(RunnableLambda(meet_a), RunnableLambda(meet_b))
    with anyio.fail_after(10):  # one after the other, the first would wait forever
        assert await pair.ainvoke("x") == ("ax", "bx")


def test_errors_propagate_unchanged() -> None:
    pair = RunnableTuple(word_count, RunnableLambda(fail))
    with pytest.raises(Boom, match="oops"):
        pair.invoke("oops")


@pytest.mark.anyio
async def test_errors_propagate_unchanged_async() -> None:
    pair = RunnableTuple(word_count, RunnableLambda(fail))
    with pytest.raises(Boom, match="oops"):
        await pair.ainvoke("oops")


def test_composition() -> None:
    def combine(pair: tuple[int, str]) -> str:
        count, text = pair
        return f"{count}:{text}"

    chain = RunnableTuple(word_count, shout) | combine
    assert isinstance(chain, RunnableSequence)
    assert chain.invoke("a b") == "2:A B"
    assert chain.batch(["x", "y z"]) == ["1:X", "2:Y Z"]


def test_graph_draws_like_the_parallel() -> None:
    pair = RunnableTuple(word_count, shout)
    names = [node.name for node in pair.get_graph().nodes]
    assert "word_count" in names
    assert "shout" in names
    assert len(pair.get_graph().edges) == len(pair.bound.get_graph().edges)
