"""`RunnableSequence`: composition, flattening, every method, and lazy streaming (api.md §3)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from runnables import (
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnableSequence,
    runnable,
)


@runnable
def add_one(x: int) -> int:
    return x + 1


@runnable
def double(x: int) -> int:
    return x * 2


@runnable
async def square(x: int) -> int:
    await anyio.sleep(0)
    return x * x


def minus_three(x: int) -> int:
    return x - 3


async def _acollect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


async def _aiter(values: list[Any]) -> AsyncIterator[Any]:
    for value in values:
        yield value


# ----------------------------------------------------------------- building


def test_pipe_spellings_are_equal_values() -> None:
    by_or = add_one | double | square
    by_pipe = add_one.pipe(double, square)
    by_init = RunnableSequence(add_one, double, square)
    assert isinstance(by_or, RunnableSequence)
    assert by_or == by_pipe == by_init
    assert hash(by_or) == hash(by_init)
    assert by_or.steps == (add_one, double, square)
    assert by_or.invoke(2) == 36  # ((2+1)*2)**2


def test_nested_sequences_flatten() -> None:
    left = add_one | double
    right = square | add_one
    nested = RunnableSequence(left, right)
    assert nested.steps == (add_one, double, square, add_one)
    assert (left | right).steps == nested.steps
    assert ((add_one | double) | square) == (add_one | (double | square))
    assert RunnableSequence(RunnableSequence(add_one), double).steps == (add_one, double)


def test_functions_coerced_on_both_sides() -> None:
    right = add_one | minus_three
    left = minus_three | add_one
    assert isinstance(right.steps[1], RunnableLambda)
    assert isinstance(left.steps[0], RunnableLambda)
    assert right.invoke(10) == 8
    assert left.invoke(10) == 8
    assert (add_one | (lambda x: x * 10)).invoke(1) == 20


def test_dict_coerced_on_both_sides() -> None:
    right = add_one | {"a": double, "b": minus_three}
    left = {"a": double, "b": add_one} | RunnableLambda(lambda d: d["a"] + d["b"])
    assert isinstance(right.steps[1], RunnableParallel)
    assert isinstance(left.steps[0], RunnableParallel)
    assert right.invoke(4) == {"a": 10, "b": 2}
    assert left.invoke(4) == 13


def test_bad_step_is_type_error() -> None:
    with pytest.raises(TypeError, match="cannot use 42"):
        add_one | 42  # type: ignore[operator]
    with pytest.raises(ValueError, match="at least one step"):
        RunnableSequence()


def test_name() -> None:
    assert (add_one | double).name == "RunnableSequence"
    assert RunnableSequence(add_one, double, name="calc").name == "calc"


# ----------------------------------------------------------------- every method

CHAIN = add_one | double | square  # mixes sync and async steps


def test_sync_methods() -> None:
    assert CHAIN.invoke(1) == 16
    assert CHAIN.batch([0, 1, 2]) == [4, 16, 36]
    assert sorted(CHAIN.batch_as_completed([0, 1, 2])) == [(0, 4), (1, 16), (2, 36)]
    assert list(CHAIN.stream(1)) == [16]
    assert list(CHAIN.transform(iter([1, 1]))) == [36]  # chunks 1+1 added up first


@pytest.mark.anyio
async def test_async_methods() -> None:
    assert await CHAIN.ainvoke(1) == 16
    assert await CHAIN.abatch([0, 1, 2]) == [4, 16, 36]
    assert sorted([p async for p in CHAIN.abatch_as_completed([0, 1, 2])]) == [
        (0, 4),
        (1, 16),
        (2, 36),
    ]
    assert await _acollect(CHAIN.astream(1)) == [16]
    assert await _acollect(CHAIN.atransform(_aiter([1, 1]))) == [36]


# ----------------------------------------------------------------- streaming laziness


class Progress:
    def __init__(self) -> None:
        self.produced = 0


def _source(progress: Progress, n: int) -> RunnableLambda[int, int]:
    def source(start: int) -> Iterator[int]:
        for i in range(n):
            progress.produced = i + 1
            yield start + i

    return RunnableLambda(source)


def _asource(progress: Progress, n: int) -> RunnableLambda[int, int]:
    async def source(start: int) -> AsyncIterator[int]:
        for i in range(n):
            progress.produced = i + 1
            await anyio.sleep(0)
            yield start + i

    return RunnableLambda(source)


def plus_ten(chunks: Iterator[int]) -> Iterator[int]:
    for chunk in chunks:
        yield chunk + 10


def times_two(chunks: Iterator[int]) -> Iterator[int]:
    for chunk in chunks:
        yield chunk * 2


async def aplus_ten(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
    async for chunk in chunks:
        yield chunk + 10


def test_stream_of_generator_steps_is_lazy() -> None:
    progress = Progress()
    chain = _source(progress, 5) | plus_ten | RunnableGenerator(times_two)
    chunks = chain.stream(0)
    assert next(chunks) == 20
    assert progress.produced == 1  # the source has not produced its last chunk yet
    assert list(chunks) == [22, 24, 26, 28]
    assert progress.produced == 5


def test_plain_function_step_waits_for_whole_input() -> None:
    progress = Progress()
    seen: list[int] = []

    def whole(total: int) -> int:
        seen.append(total)
        return total

    chain = _source(progress, 4) | whole | plus_ten
    chunks = chain.stream(1)
    assert next(chunks) == 1 + 2 + 3 + 4 + 10
    assert progress.produced == 4
    assert seen == [10]  # it got the input added up, once
    assert list(chunks) == []


@pytest.mark.anyio
async def test_astream_of_generator_steps_is_lazy() -> None:
    progress = Progress()
    chain = _asource(progress, 5) | aplus_ten | RunnableGenerator(times_two)
    chunks = chain.astream(0)
    assert await chunks.__anext__() == 20
    assert progress.produced < 5
    assert await _acollect(chunks) == [22, 24, 26, 28]


@pytest.mark.anyio
async def test_astream_of_sync_generator_steps_is_lazy() -> None:
    progress = Progress()
    chain = _source(progress, 5) | plus_ten
    chunks = chain.astream(0)
    assert await chunks.__anext__() == 10
    assert progress.produced < 5
    assert await _acollect(chunks) == [11, 12, 13, 14]


@pytest.mark.anyio
async def test_astream_plain_function_waits() -> None:
    progress = Progress()
    chain = _asource(progress, 3) | (lambda total: total * 100) | aplus_ten
    chunks = chain.astream(1)
    assert await chunks.__anext__() == (1 + 2 + 3) * 100 + 10
    assert progress.produced == 3
    assert await _acollect(chunks) == []


def test_stream_sync_over_async_source_is_lazy() -> None:
    progress = Progress()
    chain = _asource(progress, 5) | plus_ten
    chunks = chain.stream(0)
    assert next(chunks) == 10
    assert progress.produced < 5
    assert list(chunks) == [11, 12, 13, 14]


def test_transform_is_lazy_in_its_input() -> None:
    pulled: list[int] = []

    def feed() -> Iterator[int]:
        for i in range(3):
            pulled.append(i)
            yield i

    chain = RunnableGenerator(plus_ten) | times_two
    out = chain.transform(feed())
    assert next(out) == 20
    assert pulled == [0]
    assert list(out) == [22, 24]
