# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Lifting rules: a second parameter must be `config`; a function declared to return an iterator
streams; a router is typed by what its runnable gives; generic functions; `functools.partial`."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from typing_extensions import assert_type

from runnables import (
    Runnable,
    RunnableConfig,
    RunnableLambda,
    RunnableSequence,
    runnable,
)

T = TypeVar("T")


def to_len(text: str) -> int:
    return len(text)


def tap(value: T) -> T:
    return value


def with_config(text: str, config: RunnableConfig) -> int:
    return len(text)


def keyword_config(text: str, *, config: RunnableConfig) -> int:
    return len(text)


def optional_config(text: str, config: RunnableConfig | None = None) -> int:
    return len(text)


def misnamed_config(text: str, cfg: RunnableConfig) -> int:
    return len(text)


def extra_options(text: str, options: Mapping[str, Any]) -> int:
    return len(text)


def config_parameter() -> None:
    # The second parameter is given by keyword, so it must be named `config`.
    assert_type(runnable(with_config), RunnableLambda[str, int])
    assert_type(runnable(keyword_config), RunnableLambda[str, int])
    assert_type(runnable(optional_config), RunnableLambda[str, int])
    assert_type(RunnableLambda(with_config), RunnableLambda[str, int])
    assert_type(runnable(name="n")(with_config), RunnableLambda[str, int])
    # Any other name, or another parameter, would never be given: rejected (and a TypeError
    # at run time).
    bad_name: object = runnable(misnamed_config)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]
    bad_extra: object = runnable(extra_options)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]
    bad_ctor: object = RunnableLambda(misnamed_config)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]


def returns_an_iterator(text: str) -> Iterator[str]:
    return iter(text.split())  # not a generator function: it returns one


def iterator_functions() -> None:
    # Typed as a streaming step; it runs as one (`invoke` adds the chunks up).
    assert_type(runnable(returns_an_iterator), RunnableLambda[str, str])
    assert_type(runnable(returns_an_iterator).invoke("a b"), str)


def choose(text: str) -> Runnable[str, int]:
    return RunnableLambda(to_len)


# Declare a router's return as `Runnable[...]`: returning `RunnableLambda[...]` with a
# `config` parameter, mypy finds several overloads through `RunnableConfig`'s `Any` values and
# gives `RunnableLambda[Any, Any]`.
def choose_with_config(text: str, config: RunnableConfig) -> Runnable[str, int]:
    return RunnableLambda(to_len)


def routers() -> None:
    # A function returning a runnable: that runnable is invoked on the same input.
    assert_type(runnable(choose), RunnableLambda[str, int])
    assert_type(runnable(choose_with_config), RunnableLambda[str, int])
    # (`assert_type(RunnableLambda(choose), ...)` trips mypy's overload inference under an
    # expected type; an annotated variable and the call's result check.)
    routed: RunnableLambda[str, int] = RunnableLambda(choose)
    assert_type(RunnableLambda(choose).invoke("a"), int)
    assert_type(RunnableLambda(str.upper) | choose, RunnableSequence[str, int])
    assert_type(RunnableLambda(str.upper).pipe(choose), RunnableSequence[str, int])
    assert_type(choose | RunnableLambda(float), RunnableSequence[str, float])
    routed_len: int = runnable(choose).invoke("a")
    bad_route: Runnable[str, int] = runnable(choose).invoke("a")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


def generic_functions() -> None:
    # Where the input type is known, a generic function takes it.
    assert_type(RunnableLambda(to_len) | tap, RunnableSequence[str, int])
    # Alone, give the lifted value a type (mypy cannot keep a lifted value generic).
    tap_int: RunnableLambda[int, int] = runnable(tap)
    tap_any: Runnable[str, str] = RunnableLambda(tap)
    assert_type(tap_int.invoke(3), int)


def add(x: int, y: int) -> int:
    return x + y


def partials() -> None:
    # mypy types a `partial` as `(*Any, **Any) -> int`, pyright as `(x: int) -> int`: give the
    # lifted value its input type.
    add_one: RunnableLambda[int, int] = runnable(functools.partial(add, y=1))
    assert_type(add_one.invoke(1), int)
