# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Steps of your own and generic code: a class with `invoke` / `ainvoke` (`SupportsInvoke`)
composes wherever a runnable does; code generic over `Runnable[In, Out]` can batch, map and
wrap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from typing_extensions import assert_type

from runnables import (
    Runnable,
    RunnableBase,
    RunnableBinding,
    RunnableConfig,
    RunnableEach,
    RunnableLambda,
    RunnableParallel,
    RunnableRetry,
    RunnableSequence,
    RunnableWithFallbacks,
    SupportsInvoke,
)

T = TypeVar("T")


class WordCount:
    """Implements only the two call methods."""

    def invoke(self, input: str, config: RunnableConfig | None = None) -> int:
        return len(input.split())

    async def ainvoke(self, input: str, config: RunnableConfig | None = None) -> int:
        return self.invoke(input, config)


def to_len(text: str) -> int:
    return len(text)


def shout(text: str) -> str:
    return text.upper()


def half(n: int) -> float:
    return n / 2


def own_steps_compose() -> None:
    mine = WordCount()
    s = RunnableLambda(shout)
    h = RunnableLambda(half)
    as_protocol: SupportsInvoke[str, int] = mine
    assert_type(s | mine, RunnableSequence[str, int])
    assert_type(mine | h, RunnableSequence[str, float])
    assert_type(s.pipe(mine, h), RunnableSequence[str, float])
    assert_type(RunnableSequence(s, mine, h), RunnableSequence[str, float])
    assert_type(s | {"n": mine}, RunnableSequence[str, dict[str, Any]])
    assert_type(RunnableParallel(n=mine), RunnableParallel[str])
    assert_type(RunnableEach(mine), RunnableEach[str, int])
    assert_type(RunnableLambda(to_len).with_fallbacks([mine]), RunnableWithFallbacks[str, int])
    # Mistyped neighbours are still errors.
    bad_next: object = mine | s  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    bad_prev: object = h | mine  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    bad_fallback = s.with_fallbacks([mine])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    # A class with only `invoke` is not a step (the chain could not call it asynchronously).
    not_a_step: SupportsInvoke[str, int] = object()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class Shout(RunnableBase[str, str]):
    """Subclassing `RunnableBase` gives every method on the object itself."""

    __slots__ = ()

    def _invoke(self, input: str, ctx: object) -> str:
        return input.upper()


def subclasses_are_runnables() -> None:
    r: Runnable[str, str] = Shout()
    assert_type(Shout() | half_len, RunnableSequence[str, float])
    assert_type(Shout().with_retry(), RunnableRetry[str, str])


def half_len(text: str) -> float:
    return len(text) / 2


def per_line(step: Runnable[str, T]) -> Runnable[Sequence[str], list[T]]:
    return step.map()


def generic_code(step: Runnable[str, T], backup: Runnable[str, T], inputs: list[str]) -> None:
    assert_type(step.map(), RunnableEach[str, T])
    assert_type(step.with_retry(stop_after_attempt=2), RunnableRetry[str, T])
    assert_type(step.with_config(tags=["x"]), RunnableBinding[str, T])
    assert_type(step.with_listeners(on_end=print), RunnableBinding[str, T])
    assert_type(step.batch(inputs), Sequence[T])  # a `list` at run time
    assert_type(RunnableEach(step), RunnableEach[str, T])
    assert_type(per_line(RunnableLambda(to_len)), Runnable[Sequence[str], list[int]])
    wrong_key = step.with_config(tags=["x"], max_concurency=2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
