# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Wrappers and helpers: with_*, map, pick, assign, passthrough, branch, schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

from typing_extensions import assert_type

from runnables import (
    Run,
    Runnable,
    RunnableAssign,
    RunnableBinding,
    RunnableBranch,
    RunnableEach,
    RunnableLambda,
    RunnablePassthrough,
    RunnablePick,
    RunnableRetry,
    RunnableSequence,
    RunnableWithFallbacks,
)
from runnables.schema import Schema


def to_len(text: str) -> int:
    return len(text)


def shout(text: str) -> str:
    return text.upper()


def is_short(text: str) -> bool:
    return len(text) < 3


def with_methods() -> None:
    r = RunnableLambda(to_len)

    def on_end(run: Run) -> None:
        print(run.name)

    assert_type(r.with_config({"tags": ["a"]}), RunnableBinding[str, int])
    assert_type(r.with_config(run_name="n", tags=["a"]), RunnableBinding[str, int])
    assert_type(r.with_config(), RunnableBinding[str, int])
    assert_type(r.with_retry(), RunnableRetry[str, int])
    assert_type(
        r.with_retry(stop_after_attempt=5, retry_if_exception_type=(ValueError,)),
        RunnableRetry[str, int],
    )
    assert_type(r.with_fallbacks([r]), RunnableWithFallbacks[str, int])
    assert_type(
        r.with_fallbacks([RunnableLambda(len)], exceptions_to_handle=(KeyError,)),
        RunnableWithFallbacks[str, int],
    )
    assert_type(r.with_listeners(on_end=on_end), RunnableBinding[str, int])
    assert_type(r.with_listeners(on_start=print, on_error=on_end), RunnableBinding[str, int])
    # Wrappers keep the types, so they compose and call like the original.
    assert_type(r.with_retry().invoke("a"), int)
    assert_type(r.with_config(tags=["x"]) | shout_len, RunnableSequence[str, str])
    assert_type(r.with_fallbacks([r]).with_retry(), RunnableRetry[str, int])

    # A fallback may take a wider input and give a narrower output.
    def anything_len(value: object) -> bool:
        return bool(value)

    assert_type(r.with_fallbacks([RunnableLambda(anything_len)]), RunnableWithFallbacks[str, int])


def shout_len(n: int) -> str:
    return "!" * n


def with_types() -> None:
    r = RunnableLambda(to_len)
    # `with_types` changes the declared types (and so the schemas).
    assert_type(r.with_types(input_type=bytes), RunnableBinding[bytes, int])
    assert_type(r.with_types(output_type=float), RunnableBinding[str, float])
    assert_type(r.with_types(input_type=bytes, output_type=float), RunnableBinding[bytes, float])
    assert_type(r.with_types(), RunnableBinding[str, int])
    # Any type expression, not only a class: unions, `Optional`, generics.
    assert_type(r.with_types(output_type=Optional[int]), RunnableBinding[str, int | None])  # noqa: UP045
    assert_type(r.with_types(output_type=int | str), RunnableBinding[str, int | str])
    assert_type(r.with_types(input_type=list[str]), RunnableBinding[list[str], int])


def map_each() -> None:
    r = RunnableLambda(to_len)
    each = r.map()
    assert_type(each, RunnableEach[str, int])
    assert_type(RunnableEach(r), RunnableEach[str, int])
    assert_type(each.invoke(["a", "bb"]), list[int])
    as_protocol: Runnable[Sequence[str], list[int]] = each
    # Any sequence of inputs: a tuple too.
    assert_type(each.invoke(("a", "b")), list[int])


def dict_helpers() -> None:
    def make(text: str) -> dict[str, Any]:
        return {"text": text}

    def size(d: dict[str, Any]) -> int:
        return len(d)

    r = RunnableLambda(make)
    assert_type(r.pick("text"), RunnableSequence[str, Any])
    assert_type(r.pick(["text", "n"]), RunnableSequence[str, dict[str, Any]])
    assert_type(r.assign(n=size), RunnableSequence[str, dict[str, Any]])
    assert_type(r.assign(n=RunnableLambda(size)), RunnableSequence[str, dict[str, Any]])
    assert_type(RunnablePassthrough.assign(n=size), RunnableAssign)
    assert_type(RunnablePick("text"), RunnablePick)
    assert_type(RunnablePick(["a", "b"]).invoke({"a": 1}), Any)
    assert_type(r | RunnablePassthrough.assign(n=size), RunnableSequence[str, dict[str, Any]])


def passthrough() -> None:
    r = RunnableLambda(to_len)
    p = RunnablePassthrough[int]()
    assert_type(p, RunnablePassthrough[int])
    assert_type(p.invoke(1), int)
    # In a chain, the passthrough takes the type of its neighbour. (As the last step, pyright
    # leaves a bare `RunnablePassthrough()` unsolved, `RunnableSequence[str, Unknown]`, where
    # mypy infers `int` from the left; spell the type there: `RunnablePassthrough[int]()`.)
    assert_type(r | RunnablePassthrough[int](), RunnableSequence[str, int])
    assert_type(r | RunnablePassthrough() | shout_len, RunnableSequence[str, str])
    assert_type(RunnablePassthrough[str]() | r, RunnableSequence[str, int])
    # Alongside other branches.
    assert_type(
        r | {"n": RunnablePassthrough(), "s": shout_len}, RunnableSequence[str, dict[str, Any]]
    )


def branch() -> None:
    short = RunnableLambda(shout)
    branched = RunnableBranch((is_short, short), (RunnableLambda(is_short), shout), shout)
    assert_type(branched, RunnableBranch[str, str])
    assert_type(RunnableBranch((is_short, short), default=short), RunnableBranch[str, str])
    assert_type(branched.invoke("abc"), str)
    assert_type(RunnableLambda(shout) | branched, RunnableSequence[str, str])


def schemas() -> None:
    r = RunnableLambda(to_len)
    assert_type(r.input_schema, Schema[str])
    assert_type(r.output_schema, Schema[int])
    chain = r | shout_len
    assert_type(chain.input_schema, Schema[str])
    assert_type(chain.output_schema, Schema[str])
    assert_type(r.with_types(output_type=float).output_schema, Schema[float])
    assert_type(r.input_schema.validate("x"), str)


def negate(x: int) -> int:
    return -x


def negative() -> None:
    r = RunnableLambda(to_len)
    s = RunnableLambda(shout)
    # A fallback with other types.
    bad_fallback = r.with_fallbacks([s])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    n = RunnableLambda(negate)
    bad_fallback_input = r.with_fallbacks([n])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    # `map()` takes a sequence of its runnable's inputs. (A `str` is itself a `Sequence[str]`.)
    bad_map = r.map().invoke([1, 2])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    # `with_types` declares a type, not a value.
    bad_types = r.with_types(input_type=3)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    # Branches must agree on the output type with the declared one.
    bad_branch: RunnableBranch[str, str] = RunnableBranch((is_short, r), s)  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
    # Schemas are typed after the runnable.
    wrong_schema: Schema[str] = r.output_schema  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    # Listeners get a `Run`.
    bad_listener = r.with_listeners(on_end=shout)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
