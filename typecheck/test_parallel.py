# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""`RunnableParallel`: every branch gets the same input; the output is `dict[str, Any]`."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from runnables import Runnable, RunnableLambda, RunnableParallel, RunnablePassthrough


def to_len(text: str) -> int:
    return len(text)


def shout(text: str) -> str:
    return text.upper()


def negate(n: int) -> int:
    return -n


def anything(value: object) -> str:
    return repr(value)


def parallel() -> None:
    a = RunnableLambda(to_len)
    b = RunnableLambda(shout)

    par = RunnableParallel({"n": a, "loud": b})
    assert_type(par, RunnableParallel[str])
    assert_type(RunnableParallel(n=a, loud=b), RunnableParallel[str])
    assert_type(RunnableParallel({"n": a}, loud=shout), RunnableParallel[str])
    assert_type(
        RunnableParallel(n=a, loud=b, original=RunnablePassthrough()), RunnableParallel[str]
    )
    # A branch may take a wider input.
    assert_type(RunnableParallel(n=a, any=anything), RunnableParallel[str])
    # Nested dicts are parallels too.
    assert_type(RunnableParallel(n=a, inner={"loud": b}), RunnableParallel[str])
    assert_type(par.invoke("abc"), dict[str, Any])
    assert_type(par.batch(["a"]), list[dict[str, Any]])
    as_protocol: Runnable[str, dict[str, Any]] = par


def negative() -> None:
    a = RunnableLambda(to_len)
    b = RunnableLambda(shout)
    par = RunnableParallel(n=a, loud=b)
    # The parallel's input is its branches' input.
    bad_input = par.invoke(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # Its output is a dict, not one branch's output.
    wrong: int = par.invoke("a")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    # Branches must take the same input.
    neg = RunnableLambda(negate)
    bad_branches: RunnableParallel[str] = RunnableParallel(n=a, neg=neg)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
