# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Dicts of branches and the sources of `Any`: nested dicts checked all the way down; `pick` and
`assign` only on dict outputs, `pick` keeping the values' type; a typed JSON parser; branches
that disagree on their input."""

from __future__ import annotations

from operator import itemgetter
from typing import Any, TypedDict

from typing_extensions import assert_type

from runnables import (
    RunnableBranch,
    RunnableLambda,
    RunnableParallel,
    RunnableSequence,
    RunnableTuple,
)
from runnables.parsers import AttrsOutputParser, JsonOutputParser


def to_len(text: str) -> int:
    return len(text)


def shout(text: str) -> str:
    return text.upper()


def double(n: int) -> int:
    return n * 2


def is_short(text: str) -> bool:
    return len(text) < 3


def labels(text: str) -> dict[str, str]:
    return {"text": text, "loud": text.upper()}


def nested_dicts() -> None:
    s = RunnableLambda(shout)
    assert_type(s | {"n": to_len, "inner": {"loud": shout}}, RunnableSequence[str, dict[str, Any]])
    assert_type(RunnableParallel(n=to_len, inner={"loud": shout}), RunnableParallel[str])
    assert_type(
        RunnableParallel({"n": to_len, "inner": {"deeper": {"loud": shout}}}), RunnableParallel[str]
    )
    # A nested branch that does not take the input is an error, at any depth.
    bad_nested: object = s | {"n": to_len, "inner": {"d": double}}  # type: ignore[dict-item]  # pyright: ignore[reportOperatorIssue]
    bad_deeper: RunnableParallel[str] = RunnableParallel(n=to_len, inner={"a": {"d": double}})  # type: ignore[dict-item]  # pyright: ignore[reportArgumentType]


def pick_and_assign() -> None:
    r = RunnableLambda(labels)
    assert_type(r.pick("loud"), RunnableSequence[str, str])
    assert_type(r.pick(["text", "loud"]), RunnableSequence[str, dict[str, str]])
    assert_type(r.assign(n=RunnableLambda(len)), RunnableSequence[str, dict[str, Any]])
    # Not on a runnable whose output is not a dict.
    n = RunnableLambda(to_len)
    bad_pick: object = n.pick("x")  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    bad_assign: object = n.assign(y=len)  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]


class Movie(TypedDict):
    title: str
    year: int


def typed_json() -> None:
    # `JsonOutputParser` streams partial values, so its output is `Any`; `AttrsOutputParser`
    # parses into a type: an attrs class, a TypedDict, `list[int]`, a union.
    assert_type(JsonOutputParser().invoke("{}"), Any)
    assert_type(AttrsOutputParser(Movie), AttrsOutputParser[Movie])
    assert_type(AttrsOutputParser(list[int]).invoke("[1]"), list[int])
    assert_type(AttrsOutputParser(int | None).invoke("1"), int | None)
    title: int = AttrsOutputParser(Movie).invoke("{}")["title"]  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


def mismatched_branches() -> None:
    a = RunnableLambda(to_len)
    d = RunnableLambda(double)
    # pyright rejects branches that disagree on their input where they are put together.
    # mypy solves the input as the meet of the branches' inputs, `Never` for `str` and `int`,
    # and rejects the result at its first use instead (no input is a `Never`).
    par = RunnableParallel(n=a, d=d)  # pyright: ignore[reportArgumentType]
    par.invoke("a")  # type: ignore[arg-type]
    pair = RunnableTuple(a, d)  # pyright: ignore[reportArgumentType]
    pair.invoke("a")  # type: ignore[arg-type]
    branch = RunnableBranch((is_short, a), d)  # pyright: ignore[reportArgumentType]
    branch.invoke("a")  # type: ignore[arg-type]
    # Declaring the input makes both reject the construction.
    declared: RunnableParallel[str] = RunnableParallel(n=a, d=d)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def itemgetter_branches() -> None:
    # `operator.itemgetter` is typed (by typeshed) as taking anything indexable and returning
    # `Any`: such a branch checks neither its input nor what follows. Prefer `pick`.
    r = RunnableLambda(labels)
    assert_type(r | {"t": itemgetter("text")}, RunnableSequence[str, dict[str, Any]])
    assert_type(r.pick("text"), RunnableSequence[str, str])
