"""Lifting functions: `@runnable`, `RunnableLambda`, `RunnableGenerator` (api.md §2)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from runnables import (
    Runnable,
    RunnableConfig,
    RunnableGenerator,
    RunnableLambda,
    RunnableSequence,
    runnable,
)


@runnable
def double(x: int) -> int:
    return x * 2


@runnable(name="fetch")
async def fetch(url: str) -> str:
    await anyio.sleep(0)
    return f"<{url}>"


@runnable
def tokens(text: str) -> Iterator[str]:
    yield from text.split(" ")


@runnable
async def atokens(text: str) -> AsyncIterator[str]:
    for word in text.split(" "):
        await anyio.sleep(0)
        yield word


async def _acollect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


async def _aiter(values: list[Any]) -> AsyncIterator[Any]:
    for value in values:
        yield value


# ----------------------------------------------------------------- sync functions


def test_sync_function_every_sync_method() -> None:
    assert isinstance(double, RunnableLambda)
    assert isinstance(double, Runnable)
    assert double.invoke(3) == 6
    assert double.batch([1, 2, 3]) == [2, 4, 6]
    assert sorted(double.batch_as_completed([1, 2, 3])) == [(0, 2), (1, 4), (2, 6)]
    assert list(double.stream(4)) == [8]
    assert list(double.transform(iter([1, 2, 3]))) == [12]  # input chunks added up first


@pytest.mark.anyio
async def test_sync_function_every_async_method() -> None:
    assert await double.ainvoke(3) == 6
    assert await double.abatch([1, 2, 3]) == [2, 4, 6]
    assert sorted([pair async for pair in double.abatch_as_completed([1, 2, 3])]) == [
        (0, 2),
        (1, 4),
        (2, 6),
    ]
    assert await _acollect(double.astream(4)) == [8]
    assert await _acollect(double.atransform(_aiter([1, 2]))) == [6]


# ----------------------------------------------------------------- async functions


def test_async_function_sync_methods() -> None:
    assert fetch.name == "fetch"
    assert fetch.invoke("a") == "<a>"
    assert fetch.batch(["a", "b"]) == ["<a>", "<b>"]
    assert list(fetch.stream("c")) == ["<c>"]


@pytest.mark.anyio
async def test_async_function_async_methods() -> None:
    assert await fetch.ainvoke("a") == "<a>"
    assert await fetch.abatch(["a", "b"]) == ["<a>", "<b>"]
    assert await _acollect(fetch.astream("c")) == ["<c>"]


# ----------------------------------------------------------------- generators


def test_generator_function_streams_and_invoke_adds_up() -> None:
    assert list(tokens.stream("a b c")) == ["a", "b", "c"]
    assert tokens.invoke("a b c") == "abc"
    assert tokens.batch(["a b", "c d"]) == ["ab", "cd"]


@pytest.mark.anyio
async def test_generator_function_async_methods() -> None:
    assert await _acollect(tokens.astream("a b c")) == ["a", "b", "c"]
    assert await tokens.ainvoke("x y") == "xy"


def test_async_generator_function_sync_methods() -> None:
    assert list(atokens.stream("a b c")) == ["a", "b", "c"]
    assert atokens.invoke("a b c") == "abc"


@pytest.mark.anyio
async def test_async_generator_function_async_methods() -> None:
    assert await _acollect(atokens.astream("a b c")) == ["a", "b", "c"]
    assert await atokens.ainvoke("a b") == "ab"
    assert await atokens.abatch(["a b", "c"]) == ["ab", "c"]


# ----------------------------------------------------------------- names and construction


def test_names() -> None:
    assert double.name == "double"
    assert fetch.name == "fetch"
    assert RunnableLambda(lambda x: x).name == "RunnableLambda"
    assert RunnableLambda(lambda x: x, name="ident").name == "ident"

    @runnable(name="renamed")
    def original(x: int) -> int:
        return x

    assert original.name == "renamed"
    assert original.invoke(5) == 5


def test_runnable_lambda_spelling_equals_decorator() -> None:
    def triple(x: int) -> int:
        return 3 * x

    assert RunnableLambda(triple) == runnable(triple)
    assert RunnableLambda(triple).invoke(2) == 6


def test_func_and_afunc_used_by_their_calls() -> None:
    used: list[str] = []

    def sync_side(x: int) -> int:
        used.append("sync")
        return x + 1

    async def async_side(x: int) -> int:
        used.append("async")
        return x + 100

    both = RunnableLambda(sync_side, async_side)
    assert both.invoke(1) == 2
    assert anyio.run(both.ainvoke, 1) == 101
    assert used == ["sync", "async"]


def test_afunc_must_be_async() -> None:
    with pytest.raises(TypeError, match="afunc"):
        RunnableLambda(lambda x: x, lambda x: x)  # type: ignore[call-overload]


def test_non_callable_rejected() -> None:
    with pytest.raises(TypeError, match="callable"):
        RunnableLambda(42)  # type: ignore[call-overload]


# ----------------------------------------------------------------- config parameter


def test_sync_function_receives_config() -> None:
    seen: list[RunnableConfig] = []

    @runnable
    def spy(x: int, config: RunnableConfig) -> int:
        seen.append(config)
        return x

    spy.invoke(1, {"tags": ["t1"], "metadata": {"m": 1}, "configurable": {"k": "v"}})
    (config,) = seen
    assert "t1" in config["tags"]
    assert config["metadata"] == {"m": 1}
    assert config["configurable"] == {"k": "v"}


@pytest.mark.anyio
async def test_async_function_receives_config() -> None:
    seen: list[RunnableConfig] = []

    @runnable
    async def spy(x: int, config: RunnableConfig) -> int:
        seen.append(config)
        return x

    await spy.ainvoke(1, {"tags": ["a"], "configurable": {"user": "u1"}})
    assert "a" in seen[0]["tags"]
    assert seen[0]["configurable"] == {"user": "u1"}


def test_generator_receives_config_and_bound_config() -> None:
    @runnable
    def spy(x: int, config: RunnableConfig) -> Iterator[str]:
        yield from config["tags"]

    bound = spy.with_config(tags=["bound"])
    assert set(bound.stream(0, {"tags": ["call"]})) == {"bound", "call"}


# ----------------------------------------------------------------- returning runnables


def test_function_returning_runnable_is_invoked_on_same_input() -> None:
    @runnable
    def route(x: int) -> Runnable[int, int]:
        return double if x > 0 else RunnableLambda(lambda y: -y)

    assert route.invoke(5) == 10
    assert route.invoke(-5) == 5
    assert anyio.run(route.ainvoke, 7) == 14


def test_returned_runnable_gets_the_config() -> None:
    @runnable
    def inner(x: int, config: RunnableConfig) -> list[str]:
        return config["tags"]

    @runnable
    def outer(x: int) -> Runnable[int, list[str]]:
        return inner

    assert "t" in outer.invoke(1, {"tags": ["t"]})


def _forever(x: int) -> Any:
    return RunnableLambda(_forever)


def test_recursion_limit_exceeded_raises_recursion_error() -> None:
    loop = RunnableLambda(_forever)
    with pytest.raises(RecursionError, match="recursion_limit of 3"):
        loop.invoke(1, {"recursion_limit": 3})
    with pytest.raises(RecursionError, match="recursion_limit of 25"):
        loop.invoke(1)


@pytest.mark.anyio
async def test_recursion_limit_async() -> None:
    async def aforever(x: int) -> Any:
        return RunnableLambda(aforever)

    with pytest.raises(RecursionError, match="recursion_limit of 4"):
        await RunnableLambda(aforever).ainvoke(1, {"recursion_limit": 4})


def test_recursion_within_limit_succeeds() -> None:
    def countdown(x: int) -> Any:
        return x if x == 0 else (lambda y: y - 1) | RunnableLambda(countdown)

    # Each level adds one; 5 levels deep fits a limit of 6 but not of 3.
    assert RunnableLambda(countdown).invoke(5, {"recursion_limit": 6}) == 0
    with pytest.raises(RecursionError):
        RunnableLambda(countdown).invoke(5, {"recursion_limit": 3})


# ----------------------------------------------------------------- RunnableGenerator


def _upper(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        yield chunk.upper()


async def _aupper(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    async for chunk in chunks:
        yield chunk.upper()


def test_generator_sync_consumes_lazily() -> None:
    pulled: list[str] = []

    def source() -> Iterator[str]:
        for chunk in ["a", "b", "c"]:
            pulled.append(chunk)
            yield chunk

    gen = RunnableGenerator(_upper)
    out = gen.transform(source())
    assert next(out) == "A"
    assert pulled == ["a"]  # only one input chunk consumed for the first output
    assert list(out) == ["B", "C"]
    assert pulled == ["a", "b", "c"]


@pytest.mark.anyio
async def test_generator_async_consumes_lazily() -> None:
    pulled: list[str] = []

    async def source() -> AsyncIterator[str]:
        for chunk in ["a", "b", "c"]:
            pulled.append(chunk)
            yield chunk

    gen = RunnableGenerator(_aupper)
    out = gen.atransform(source())
    assert await out.__anext__() == "A"
    assert pulled == ["a"]
    assert [chunk async for chunk in out] == ["B", "C"]


@pytest.mark.anyio
async def test_sync_generator_under_async_consumes_lazily() -> None:
    pulled: list[str] = []

    async def source() -> AsyncIterator[str]:
        for chunk in ["a", "b", "c"]:
            pulled.append(chunk)
            yield chunk

    out = RunnableGenerator(_upper).atransform(source())
    assert await out.__anext__() == "A"
    assert pulled == ["a"]
    assert [chunk async for chunk in out] == ["B", "C"]


def test_async_generator_under_sync_consumes_lazily() -> None:
    pulled: list[str] = []

    def source() -> Iterator[str]:
        for chunk in ["a", "b", "c"]:
            pulled.append(chunk)
            yield chunk

    out = RunnableGenerator(_aupper).transform(source())
    assert next(out) == "A"
    assert pulled == ["a"]
    assert list(out) == ["B", "C"]


def test_generator_invoke_batch_stream() -> None:
    gen = RunnableGenerator(_upper)
    assert gen.name == "_upper"
    assert RunnableGenerator(_upper, name="up").name == "up"
    assert gen.invoke("ab") == "AB"
    assert gen.batch(["a", "b"]) == ["A", "B"]
    assert list(gen.stream("ab")) == ["AB"]
    agen = RunnableGenerator(_aupper)
    assert agen.name == "_aupper"
    assert agen.invoke("xy") == "XY"


@pytest.mark.anyio
async def test_generator_async_methods() -> None:
    both = RunnableGenerator(_upper, _aupper)
    assert await both.ainvoke("ab") == "AB"
    assert await _acollect(both.astream("q")) == ["Q"]
    assert await RunnableGenerator(_upper).ainvoke("s") == "S"


def test_generator_function_of_iterator_coerces_to_generator_in_chain() -> None:
    chain = tokens | _upper
    assert isinstance(chain, RunnableSequence)
    assert isinstance(chain.steps[1], RunnableGenerator)
    assert list(chain.stream("a b")) == ["A", "B"]


@pytest.mark.anyio
async def test_async_generator_feeding_sync_transformer() -> None:
    # The sync transformer pulls the async stream from a worker thread, one step per call.
    chain = atokens | _upper
    assert await _acollect(chain.astream("a b")) == ["A", "B"]
    assert await _acollect(chain.astream("c d", {"tags": ["t"]})) == ["C", "D"]
    assert await _acollect((RunnableGenerator(_aupper) | _upper).astream("x")) == ["X"]
    assert list(atokens.stream("e f", {"metadata": {"m": 1}})) == ["e", "f"]


@pytest.mark.anyio
async def test_a_generator_that_yields_nothing_has_no_value_to_return() -> None:
    """Invoked, a lifted generator with an empty stream raises naming it (not "input"); its
    stream is simply empty."""

    def nothing(x: int) -> Iterator[int]:
        yield from ()

    async def anothing(x: int) -> AsyncIterator[int]:
        for _ in ():
            yield x

    for step in (RunnableLambda(nothing), RunnableLambda(anothing)):
        with pytest.raises(ValueError, match=r"'a?nothing' streamed no output"):
            step.invoke(1)
        with pytest.raises(ValueError, match=r"'a?nothing' streamed no output"):
            await step.ainvoke(1)
        assert [chunk async for chunk in step.astream(1)] == []

    async def drops(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for _ in chunks:
            continue
        for _ in ():
            yield 0

    chain = RunnableLambda(lambda x: x, name="f") | RunnableGenerator(drops)
    with pytest.raises(ValueError, match=r"'drops' streamed no output"):
        await chain.ainvoke(1)
