# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Lifting functions: `@runnable`, `RunnableLambda(f)` and `RunnableGenerator(f)`.

A lifted function's annotations become the runnable's `In` and `Out`; a generator (sync or
async) streams its items, so its `Out` is the item type; a `config: RunnableConfig` second
parameter is not part of `In`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from typing_extensions import assert_type

from runnables import RunnableConfig, RunnableGenerator, RunnableLambda, runnable


def decorator_bare() -> None:
    @runnable
    def word_count(text: str) -> int:
        return len(text.split())

    @runnable
    async def fetch(url: str) -> bytes:
        return url.encode()

    @runnable
    def tokens(text: str) -> Iterator[str]:
        yield from text.split()

    @runnable
    async def atokens(text: str) -> AsyncIterator[str]:
        for word in text.split():
            yield word

    assert_type(word_count, RunnableLambda[str, int])
    assert_type(fetch, RunnableLambda[str, bytes])
    assert_type(tokens, RunnableLambda[str, str])
    assert_type(atokens, RunnableLambda[str, str])


def decorator_with_config() -> None:
    @runnable
    def with_cfg(x: int, config: RunnableConfig) -> int:
        return x + len(config.get("tags", []))

    @runnable
    async def awith_cfg(x: int, config: RunnableConfig) -> float:
        return x / 2

    @runnable
    def gen_cfg(x: int, config: RunnableConfig) -> Iterator[bool]:
        yield x > 0

    @runnable
    async def agen_cfg(x: int, config: RunnableConfig) -> AsyncIterator[bytes]:
        yield bytes(x)

    assert_type(with_cfg, RunnableLambda[int, int])
    assert_type(awith_cfg, RunnableLambda[int, float])
    assert_type(gen_cfg, RunnableLambda[int, bool])
    assert_type(agen_cfg, RunnableLambda[int, bytes])


def decorator_named() -> None:
    @runnable(name="count")
    def word_count(text: str) -> int:
        return len(text.split())

    @runnable(name="fetch")
    async def fetch(url: str) -> bytes:
        return url.encode()

    @runnable(name="tokens")
    def tokens(text: str) -> Iterator[str]:
        yield from text.split()

    @runnable(name="atokens")
    async def atokens(text: str) -> AsyncIterator[str]:
        yield text

    @runnable(name="cfg")
    def with_cfg(x: int, config: RunnableConfig) -> list[int]:
        return [x]

    @runnable(name="acfg")
    async def awith_cfg(x: int, config: RunnableConfig) -> dict[str, int]:
        return {"x": x}

    assert_type(word_count, RunnableLambda[str, int])
    assert_type(fetch, RunnableLambda[str, bytes])
    assert_type(tokens, RunnableLambda[str, str])
    assert_type(atokens, RunnableLambda[str, str])
    assert_type(with_cfg, RunnableLambda[int, list[int]])
    assert_type(awith_cfg, RunnableLambda[int, dict[str, int]])


def constructor() -> None:
    def length(text: str) -> int:
        return len(text)

    async def alength(text: str) -> int:
        return len(text)

    def chars(text: str) -> Iterator[str]:
        yield from text

    async def achars(text: str) -> AsyncIterator[str]:
        for char in text:
            yield char

    def cfg(x: float, config: RunnableConfig) -> str:
        return str(x)

    assert_type(RunnableLambda(length), RunnableLambda[str, int])
    assert_type(RunnableLambda(alength), RunnableLambda[str, int])
    assert_type(RunnableLambda(chars), RunnableLambda[str, str])
    assert_type(RunnableLambda(achars), RunnableLambda[str, str])
    assert_type(RunnableLambda(cfg), RunnableLambda[float, str])
    assert_type(RunnableLambda(length, name="len"), RunnableLambda[str, int])
    # A sync function with its async twin for async calls.
    assert_type(RunnableLambda(length, alength), RunnableLambda[str, int])
    assert_type(RunnableLambda(chars, achars), RunnableLambda[str, str])
    # The lifted function keeps its own types.
    assert_type(RunnableLambda(length).invoke("abc"), int)


# Not covered: a `lambda` (which has no annotations). mypy infers its parameter from the target
# (`d: RunnableLambda[int, int] = RunnableLambda(lambda x: x * 2)` and `r | (lambda x: x * 2)`
# both check), but pyright does not push the expected type through the overloaded `__init__` /
# `__or__` into the lambda and reports its parameter as unknown; and the explicit
# `RunnableLambda[int, int](lambda x: x * 2)`, which pyright accepts, gives `RunnableLambda[Any,
# Any]` under mypy. Lift annotated `def` functions instead.


def generator() -> None:
    def upper(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            yield chunk.upper()

    async def aupper(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        async for chunk in chunks:
            yield chunk.upper()

    def lengths(chunks: Iterator[str]) -> Iterator[int]:
        for chunk in chunks:
            yield len(chunk)

    assert_type(RunnableGenerator(upper), RunnableGenerator[str, str])
    assert_type(RunnableGenerator(aupper), RunnableGenerator[str, str])
    assert_type(RunnableGenerator(upper, aupper), RunnableGenerator[str, str])
    assert_type(RunnableGenerator(lengths, name="lengths"), RunnableGenerator[str, int])
    assert_type(RunnableGenerator(lengths).invoke("abc"), int)


def negative() -> None:
    def length(text: str) -> int:
        return len(text)

    def upper(chunks: Iterator[str]) -> Iterator[str]:
        yield from chunks

    async def aints(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for chunk in chunks:
            yield chunk

    # The declared types are the function's: not another runnable type.
    wrong_in: RunnableLambda[int, int] = RunnableLambda(length)  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
    wrong_out: RunnableLambda[str, str] = runnable(length)  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
    # A stream transformer's async twin must stream the same types.
    mixed: RunnableGenerator[str, str] = RunnableGenerator(upper, aints)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # Not a function at all.
    not_callable = RunnableLambda(42)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    # Invoking with an input the function does not accept.
    bad_input = RunnableLambda(length).invoke(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
