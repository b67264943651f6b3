# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""The `Runnable[In, Out]` protocol: every library runnable satisfies it; `In` is
contravariant and `Out` covariant."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from runnables import (
    Runnable,
    RunnableAssign,
    RunnableBinding,
    RunnableBranch,
    RunnableEach,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnablePick,
    RunnableRetry,
    RunnableSequence,
    RunnableWithFallbacks,
)


def to_len(text: str) -> int:
    return len(text)


def is_even(x: object) -> bool:
    return hash(x) % 2 == 0


def lengths(chunks: Iterator[str]) -> Iterator[int]:
    for chunk in chunks:
        yield len(chunk)


def every_runnable_is_a_runnable(
    lam: RunnableLambda[str, int],
    gen: RunnableGenerator[str, int],
    seq: RunnableSequence[str, int],
    par: RunnableParallel[str],
    passthrough: RunnablePassthrough[str],
    assign: RunnableAssign,
    pick: RunnablePick,
    branch: RunnableBranch[str, int],
    binding: RunnableBinding[str, int],
    retry: RunnableRetry[str, int],
    fallbacks: RunnableWithFallbacks[str, int],
    each: RunnableEach[str, int],
) -> None:
    r1: Runnable[str, int] = lam
    r2: Runnable[str, int] = gen
    r3: Runnable[str, int] = seq
    r4: Runnable[str, dict[str, Any]] = par
    r5: Runnable[str, str] = passthrough
    r6: Runnable[dict[str, Any], dict[str, Any]] = assign
    r7: Runnable[dict[str, Any], Any] = pick
    r8: Runnable[str, int] = branch
    r9: Runnable[str, int] = binding
    r10: Runnable[str, int] = retry
    r11: Runnable[str, int] = fallbacks
    r12: Runnable[Sequence[str], list[int]] = each
    # Built ones too, not only annotated ones.
    r13: Runnable[str, int] = RunnableLambda(to_len)
    r14: Runnable[str, int] = RunnableGenerator(lengths)
    r15: Runnable[str, int] = RunnableLambda(to_len).with_retry().with_config(tags=["a"])


def variance(wide: Runnable[object, bool], narrow: Runnable[int, int]) -> None:
    # Contravariant in `In`, covariant in `Out`: an object -> bool step may stand where an
    # int -> int | bool one is expected.
    ok: Runnable[int, int | bool] = wide
    also_ok: Runnable[int, int | bool] = RunnableLambda(is_even)
    as_int: Runnable[int, int] = wide  # bool is an int
    # Not the other way round.
    bad: Runnable[object, bool] = narrow  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    bad_in: Runnable[object, int] = narrow  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    bad_out: Runnable[int, bool] = narrow  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


def variance_of_classes(
    lam: RunnableLambda[object, bool], seq: RunnableSequence[object, bool]
) -> None:
    ok: RunnableLambda[int, int] = lam
    ok_seq: RunnableSequence[str, int | None] = seq
    bad: RunnableLambda[object, bool] = RunnableLambda(to_len)  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]


def accepts_protocol(step: Runnable[int, int | bool]) -> None: ...


def protocol_parameters(wide: Runnable[object, bool], lam: RunnableLambda[str, int]) -> None:
    accepts_protocol(wide)
    accepts_protocol(RunnableLambda(is_even))
    accepts_protocol(lam)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def each_is_covariant_in_its_output(each: RunnableEach[str, bool]) -> None:
    # Each call returns a fresh list, so the element type may widen like any output.
    ok: RunnableEach[str, int] = each
    wider_in: RunnableEach[object, bool] = each  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


def covariance_of_existing_values(
    lam: RunnableLambda[str, int], retry: RunnableRetry[str, bool], each: RunnableEach[str, bool]
) -> None:
    # Values already typed, not built in place: nothing is inferred from the annotation.
    loose: Runnable[str, object] = lam
    loose_retry: Runnable[str, int] = retry
    loose_each: RunnableEach[str, int] = each
