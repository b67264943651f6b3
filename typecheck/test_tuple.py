# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""`RunnableTuple`: every branch gets the same input; the output keeps each branch's type."""

from __future__ import annotations

from typing_extensions import assert_type

from runnables import RunnableLambda, RunnableSequence, RunnableTuple


def word_count(text: str) -> int:
    return len(text.split())


def shout(text: str) -> str:
    return text.upper()


def anything(value: object) -> str:
    return repr(value)


def double(n: int) -> int:
    return n * 2


def combine(pair: tuple[int, str]) -> str:
    return f"{pair[0]}:{pair[1]}"


def wrong_combine(pair: tuple[str, str]) -> str:
    return pair[0] + pair[1]


def tuples() -> None:
    count = RunnableLambda(word_count)
    loud = RunnableLambda(shout)

    assert_type(RunnableTuple(count, loud), RunnableTuple[str, tuple[int, str]])
    assert_type(RunnableTuple(count, loud, count), RunnableTuple[str, tuple[int, str, int]])
    assert_type(
        RunnableTuple(count, loud, count, loud, count, loud),
        RunnableTuple[str, tuple[int, str, int, str, int, str]],
    )
    assert_type(RunnableTuple(count, loud).invoke("a b"), tuple[int, str])
    # A branch may take a wider input.
    assert_type(RunnableTuple(count, RunnableLambda(anything)), RunnableTuple[str, tuple[int, str]])


def composition() -> None:
    pair = RunnableTuple(RunnableLambda(word_count), RunnableLambda(shout))
    assert_type(pair | combine, RunnableSequence[str, str])
    assert_type(pair | RunnableLambda(combine), RunnableSequence[str, str])


def rejected() -> None:
    pair = RunnableTuple(RunnableLambda(word_count), RunnableLambda(shout))
    wrong = RunnableLambda(wrong_combine)
    # The next step must take `tuple[int, str]`.
    bad_next: object = pair | wrong  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    # Every branch must take the tuple's input.
    count = RunnableLambda(word_count)
    twice = RunnableLambda(double)
    bad_branch: RunnableTuple[str, tuple[int, int]] = RunnableTuple(count, twice)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
