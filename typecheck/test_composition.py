# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Composition: `a | b`, functions and dicts on either side, `pipe`, `RunnableSequence(...)`.

`Runnable[A, B] | Runnable[B, C]` is a `RunnableSequence[A, C]`; a step whose input type does
not accept the previous step's output is rejected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from typing_extensions import assert_type

from runnables import (
    Runnable,
    RunnableLambda,
    RunnableParallel,
    RunnableSequence,
    runnable,
)


def to_len(text: str) -> int:
    return len(text)


def double(x: int) -> int:
    return x * 2


def to_float(x: int) -> float:
    return x / 2


def to_str(x: object) -> str:
    return str(x)


def pipe_runnables() -> None:
    a = RunnableLambda(to_len)
    b = RunnableLambda(double)
    c = RunnableLambda(to_float)

    assert_type(a | b, RunnableSequence[str, int])
    assert_type(a | b | c, RunnableSequence[str, float])
    assert_type((a | b) | c, RunnableSequence[str, float])
    assert_type(a | (b | c), RunnableSequence[str, float])
    # A step taking a wider input than the previous output.
    assert_type(c | RunnableLambda(to_str), RunnableSequence[int, str])
    # A sequence is a runnable like any other.
    seq: Runnable[str, float] = a | b | c
    assert_type(seq.invoke("abc"), float)


def pipe_functions() -> None:
    a = RunnableLambda(to_len)

    async def ahalf(x: int) -> float:
        return x / 2

    def digits(x: int) -> Iterator[str]:
        yield from str(x)

    async def adigits(x: int) -> AsyncIterator[str]:
        for d in str(x):
            yield d

    def upper(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            yield chunk.upper()

    async def aupper(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        async for chunk in chunks:
            yield chunk.upper()

    # A plain function on the right.
    assert_type(a | double, RunnableSequence[str, int])
    assert_type(a | to_str, RunnableSequence[str, str])
    assert_type(a | ahalf, RunnableSequence[str, float])
    assert_type(a | digits, RunnableSequence[str, str])
    assert_type(a | adigits, RunnableSequence[str, str])
    # A stream transformer (Iterator[In] -> Iterator[Out]) on the right.
    assert_type(a | to_str | upper, RunnableSequence[str, str])
    assert_type(a | to_str | aupper, RunnableSequence[str, str])
    # A plain function on the left.
    b = RunnableLambda(double)
    assert_type(to_len | b, RunnableSequence[str, int])
    assert_type(ahalf | RunnableLambda(to_str), RunnableSequence[int, str])
    assert_type(digits | RunnableLambda(to_len), RunnableSequence[int, int])
    assert_type(adigits | RunnableLambda(to_len), RunnableSequence[int, int])
    # Lifted and piped.
    assert_type(runnable(to_len) | double | to_float, RunnableSequence[str, float])


async def ato_len(text: str) -> int:
    return len(text)


def words(text: str) -> Iterator[str]:
    yield from text.split()


def pipe_functions_like_or() -> None:
    a = RunnableLambda(to_str)
    b = RunnableLambda(double)
    # `pipe` takes a plain function wherever `|` does.
    assert_type(a.pipe(to_len), RunnableSequence[object, int])
    assert_type(a.pipe(ato_len), RunnableSequence[object, int])
    assert_type(a.pipe(words), RunnableSequence[object, str])
    assert_type(a.pipe(to_len, double), RunnableSequence[object, int])
    assert_type(a.pipe(to_len, b, to_float), RunnableSequence[object, float])
    assert_type(a.pipe(a, to_len), RunnableSequence[object, int])
    # A function that does not take the previous output is rejected.
    bad_one: object = a.pipe(double)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]
    bad_two: object = a.pipe(to_len, to_len)  # type: ignore[misc]  # pyright: ignore[reportArgumentType]


def pipe_method_and_constructor() -> None:
    a = RunnableLambda(to_len)
    b = RunnableLambda(double)
    c = RunnableLambda(to_float)
    d = RunnableLambda(to_str)

    assert_type(a.pipe(b), RunnableSequence[str, int])
    assert_type(a.pipe(b, c), RunnableSequence[str, float])
    assert_type(a.pipe(b, c, d), RunnableSequence[str, str])
    assert_type(RunnableSequence(a), RunnableSequence[str, int])
    assert_type(RunnableSequence(a, b), RunnableSequence[str, int])
    assert_type(RunnableSequence(a, b, c), RunnableSequence[str, float])
    assert_type(RunnableSequence(a, b, b, c), RunnableSequence[str, float])
    assert_type(RunnableSequence(a, b, b, c, d), RunnableSequence[str, str])
    assert_type(RunnableSequence(a, b, c, name="chain"), RunnableSequence[str, float])


def long_chain() -> None:
    a = RunnableLambda(to_len)
    b = RunnableLambda(double)
    c = RunnableLambda(to_float)
    d = RunnableLambda(to_str)
    chain = a | b | b | b | b | b | b | c | d | a
    assert_type(chain, RunnableSequence[str, int])
    assert_type(chain.invoke("x"), int)


def nested_sequences() -> None:
    a = RunnableLambda(to_len)
    b = RunnableLambda(double)
    c = RunnableLambda(to_float)
    inner = a | b
    outer = inner | (b | c)
    assert_type(outer, RunnableSequence[str, float])
    assert_type(RunnableSequence(inner, b | c), RunnableSequence[str, float])
    assert_type(inner.pipe(b | c), RunnableSequence[str, float])


def dict_coercion() -> None:
    a = RunnableLambda(to_len)
    b = RunnableLambda(double)
    c = RunnableLambda(to_float)

    def total(values: dict[str, Any]) -> float:
        return float(sum(values.values()))

    # A dict on the right runs its branches on the previous output: a parallel step.
    assert_type(a | {"x": b, "y": c}, RunnableSequence[str, dict[str, Any]])
    assert_type(a | {"x": b, "y": double}, RunnableSequence[str, dict[str, Any]])
    # A dict on the left takes the input of its branches. (Its values must have one type under
    # mypy, which infers a dict display on the left of `|` without context: `{"x": a, "y":
    # to_len}` becomes `dict[str, object]`, which no `__ror__` accepts. pyright accepts it.)
    assert_type({"x": a, "y": a} | RunnableLambda(total), RunnableSequence[str, float])
    assert_type({"x": b} | RunnableLambda(total), RunnableSequence[int, float])
    # Explicit parallels.
    assert_type(a | RunnableParallel({"x": b, "y": c}), RunnableSequence[str, dict[str, Any]])
    assert_type(RunnableParallel({"x": a}) | total, RunnableSequence[str, float])


def negative() -> None:
    a = RunnableLambda(to_len)
    b = RunnableLambda(double)
    s = RunnableLambda(to_str)

    def shout(text: str) -> str:
        return text.upper()

    # int -> str | int -> int: `double` cannot take a `str`.
    bad: object = s | b  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    # A plain function on the right that does not take the previous output.
    bad_fn: object = a | shout  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    # A plain function on the left whose output the runnable does not take.
    bad_left: object = shout | b  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    # The same mismatch through `pipe` and the constructor (mypy says it cannot solve the step
    # type variable, under the `misc` code).
    bad_pipe: object = a.pipe(b, RunnableLambda(shout))  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
    bad_ctor: object = RunnableSequence(a, RunnableLambda(shout))  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
    # A dict branch that does not take the previous output (mypy checks the branch against the
    # expected `Runnable[int, Any]` and reports the argument).
    bad_dict: object = a | {"x": RunnableLambda(shout)}  # type: ignore[arg-type]  # pyright: ignore[reportOperatorIssue]
    # The output type is kept: the chain does not produce a `str`.
    wrong_out: RunnableSequence[str, str] = a | b  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
