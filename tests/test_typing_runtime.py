"""What the typed forms of issue #11 do at run time: the programs the checkers now accept run
as typed, and the ones they now reject would have failed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from runnables import RunnableEach, RunnableLambda, runnable


def to_len(text: str) -> int:
    return len(text)


def double(n: int) -> int:
    return n * 2


async def ato_len(text: str) -> int:
    return len(text)


def words(text: str) -> Iterator[str]:
    yield from text.split()


# -- item 8: right programs that were rejected


def test_with_types_takes_a_union_or_optional() -> None:
    r = RunnableLambda(to_len)
    assert r.with_types(output_type=Optional[int]).output_schema.json_schema()["anyOf"] == [  # noqa: UP045
        {"type": "integer"},
        {"type": "null"},
    ]
    assert r.with_types(input_type=int | str).input_schema.validate(3) == 3


def test_pipe_lifts_functions_like_or() -> None:
    shout = RunnableLambda(str.upper)
    assert shout.pipe(to_len).invoke("abc") == 3
    assert shout.pipe(ato_len).invoke("abc") == 3
    assert shout.pipe(words).invoke("a b") == "AB"
    assert shout.pipe(to_len, double).invoke("abc") == 6


def test_each_returns_a_fresh_list_per_call() -> None:
    each: RunnableEach[str, int] = RunnableLambda(to_len).map()
    first = each.invoke(["a"])
    first.append(99)
    assert each.invoke(["a"]) == [1]


class Steps:
    @runnable
    def size(text: str) -> int:  # no `self`: a runnable is not a method
        return len(text)


def test_runnable_in_a_class_needs_no_staticmethod() -> None:
    assert Steps.size.invoke("ab") == 2
    assert Steps().size.invoke("abc") == 3
