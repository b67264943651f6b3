"""A function that returns a runnable (a router) streams the runnable it chose, in every
stream form, traced or not, and stays bounded by `recursion_limit`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from runnables import Runnable, RunnableLambda, runnable
from runnables.models import FakeListChatModel
from runnables.parsers import StrOutputParser


def _words(text: str) -> Iterator[str]:
    for word in text.split():
        yield word + " "


async def _awords(text: str) -> AsyncIterator[str]:
    for word in text.split():
        yield word + " "


def _upper_each(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        yield chunk.upper()


def _route(text: str) -> Runnable[str, str]:
    return RunnableLambda(_words)


async def _aroute(text: str) -> Runnable[str, str]:
    return RunnableLambda(_awords)


def _forever(x: int) -> Any:
    return RunnableLambda(_forever)


class _Runs:
    """A callback that records which runs started, so that a stream is traced."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def on_start(self, run: Any) -> None:
        self.names.append(run.name)


@pytest.mark.parametrize("route", [_route, _aroute])
@pytest.mark.anyio
async def test_a_router_streams_in_async_forms(route: Any) -> None:
    router = RunnableLambda(route)
    assert [chunk async for chunk in router.astream("a b c")] == ["a ", "b ", "c "]
    assert await router.ainvoke("a b c") == "a b c "


def test_a_router_before_a_streaming_step_streams_into_it() -> None:
    """In a sequence, a router's output is not added up before the next step gets it."""
    chain = RunnableLambda(_route) | _upper_each
    assert list(chain.stream("a b c")) == ["A ", "B ", "C "]
    assert chain.invoke("a b c") == "A B C "


@pytest.mark.anyio
async def test_a_router_before_a_streaming_step_streams_into_it_async() -> None:
    chain = (lambda text: text) | RunnableLambda(_route) | _upper_each
    assert [chunk async for chunk in chain.astream("a b c")] == ["A ", "B ", "C "]


def test_a_routed_model_streams_its_tokens() -> None:
    """The LangChain routing pattern: a function picks a chain per input; a model's tokens
    still reach the reader one by one."""
    model = FakeListChatModel(responses=["one two"])

    def pick(question: str) -> Runnable[str, str]:
        return model | StrOutputParser()

    chain = RunnableLambda(pick) | (lambda text: text) | RunnableLambda(pick)
    assert list(RunnableLambda(pick).stream("q")) == ["one", " ", "two"]
    assert list(chain.stream("q")) == ["one", " ", "two"]


def test_a_traced_router_streams_and_shows_the_chosen_runnable_as_a_child() -> None:
    runs = _Runs()
    router = RunnableLambda(_route)
    assert list(router.stream("a b", {"callbacks": [runs]})) == ["a ", "b "]
    assert runs.names == ["_route", "_words"]
    events = list(router.stream_events("a b"))
    streams = [e["data"]["chunk"] for e in events if e["event"] == "on_chain_stream"]
    assert streams == ["a ", "a ", "b ", "b "]  # the child's chunk, then the router's
    ends = {e["name"]: e for e in events if e["event"] == "on_chain_end"}
    assert ends["_route"]["data"]["output"] == "a b "
    assert ends["_words"]["parent_ids"] == [ends["_route"]["run_id"]]


@pytest.mark.anyio
async def test_a_traced_router_streams_async() -> None:
    runs = _Runs()
    router = RunnableLambda(_aroute)
    chunks = [chunk async for chunk in router.astream("a b", {"callbacks": [runs]})]
    assert chunks == ["a ", "b "]
    assert runs.names == ["_aroute", "_awords"]


def test_a_streamed_router_keeps_the_recursion_limit() -> None:
    with pytest.raises(RecursionError, match="recursion_limit of 3"):
        list(RunnableLambda(_forever).stream(1, {"recursion_limit": 3}))


@pytest.mark.anyio
async def test_a_streamed_router_keeps_the_recursion_limit_async() -> None:
    with pytest.raises(RecursionError, match="recursion_limit of 4"):
        async for _ in RunnableLambda(_forever).astream(1, {"recursion_limit": 4}):
            pass


def test_breaking_out_of_a_routed_stream_closes_the_chosen_stream() -> None:
    closed: list[int] = []

    def long(x: int) -> Iterator[int]:
        pulled = 0
        try:
            for _ in range(1_000):
                pulled += 1
                yield x
        finally:
            closed.append(pulled)

    router = RunnableLambda(lambda x: RunnableLambda(long))
    stream = router.stream(1)
    assert next(stream) == 1
    stream.close()  # type: ignore[attr-defined]
    assert closed == [1]


@pytest.mark.anyio
async def test_breaking_out_of_a_routed_async_stream_closes_the_chosen_stream() -> None:
    closed: list[int] = []

    async def long(x: int) -> AsyncIterator[int]:
        pulled = 0
        try:
            for _ in range(1_000):
                pulled += 1
                yield x
        finally:
            closed.append(pulled)

    @runnable
    async def router(x: int) -> Runnable[int, int]:
        return RunnableLambda(long)

    stream = router.astream(1)
    assert await stream.__anext__() == 1
    await stream.aclose()  # type: ignore[attr-defined]
    assert closed == [1]


def test_a_router_that_fails_names_itself() -> None:
    def broken(text: str) -> Runnable[str, str]:
        raise KeyError(text)

    with pytest.raises(KeyError) as caught:
        list((RunnableLambda(broken) | _upper_each).stream("x"))
    assert any("broken" in note for note in getattr(caught.value, "__notes__", []))
