# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Decorator forms of the wrappers: `@with_retry(...)`, `@with_fallbacks(...)`,
`@with_config(...)`, `@with_listeners(...)`, `@with_types(...)` over `@runnable` keep the
function's types, like the methods they stand for; they stack, bottom-up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from typing_extensions import assert_type

from runnables import (
    Run,
    RunnableBinding,
    RunnableLambda,
    RunnableRetry,
    RunnableSequence,
    RunnableWithFallbacks,
    runnable,
    with_config,
    with_fallbacks,
    with_listeners,
    with_retry,
    with_types,
)


def on_end(run: Run) -> None:
    print(run.name)


@runnable
def backup(text: str) -> int:
    return 0


@runnable
def anything_false(value: object) -> bool:
    return False


@with_retry(stop_after_attempt=3, retry_if_exception_type=(TimeoutError,))
@runnable
def fetch(text: str) -> int:
    return len(text)


@with_fallbacks(backup, anything_false)
@runnable
async def afetch(text: str) -> int:
    return len(text)


@with_config(run_name="tokens", tags=["t"])
@runnable
def tokens(text: str) -> Iterator[str]:
    yield from text.split()


@with_listeners(on_end=on_end)
@runnable
async def atokens(text: str) -> AsyncIterator[str]:
    yield text


@with_retry(stop_after_attempt=2)
@with_fallbacks(backup)
@with_config(tags=["inner"])
@runnable
def stacked(text: str) -> int:
    return len(text)


@with_types(input_type=bytes)
@runnable
def declared_input(text: str) -> int:
    return len(text)


@with_types(output_type=float | None)
@runnable
def declared_output(text: str) -> int:
    return len(text)


@with_types(input_type=bytes, output_type=float)
@runnable
def declared_both(text: str) -> int:
    return len(text)


def decorated() -> None:
    assert_type(fetch, RunnableRetry[str, int])
    assert_type(afetch, RunnableWithFallbacks[str, int])
    assert_type(tokens, RunnableBinding[str, str])
    assert_type(atokens, RunnableBinding[str, str])
    # Bottom-up: the config is bound first, then the fallbacks, then the retry.
    assert_type(stacked, RunnableRetry[str, int])
    assert_type(declared_input, RunnableBinding[bytes, int])
    assert_type(declared_output, RunnableBinding[str, float | None])
    assert_type(declared_both, RunnableBinding[bytes, float])
    # Decorated steps compose like any other.
    assert_type(fetch | anything_false, RunnableSequence[str, bool])
    assert_type(fetch.invoke("a"), int)


def shout(text: str) -> str:
    return text.upper()


def as_values() -> None:
    # A decorator is a value, applied like a function.
    retry_twice = with_retry(stop_after_attempt=2)
    assert_type(retry_twice(RunnableLambda(shout)), RunnableRetry[str, str])


def negative() -> None:
    s = RunnableLambda(shout)
    # A fallback of other types.
    bad_fallback = with_fallbacks(backup)(s)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # Unknown config keys.
    bad_key = with_config(tags=["a"], max_concurency=2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    # A listener gets a `Run`.
    bad_listener = with_listeners(on_end=shout)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # The decorators take a step, not a plain function (put `@runnable` under them).
    bad_plain: object = with_retry()(shout)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # A declared type is a type.
    bad_type = with_types(input_type=3)  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
