# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""`with_retry` options: `exponential_jitter_params` is a closed TypedDict (a misspelled key or
a string value is rejected), `retry_if_exception` a predicate of the exception; the retried
runnable keeps its types."""

from __future__ import annotations

from typing_extensions import assert_type

from runnables import RunnableLambda, RunnableRetry, with_retry


def count(text: str) -> int:
    return len(text)


def is_timeout(exc: Exception) -> bool:
    return isinstance(exc, TimeoutError)


def cases() -> None:
    step = RunnableLambda(count)
    retried = step.with_retry(
        exponential_jitter_params={"initial": 0.5, "max": 5, "exp_base": 3, "jitter": 0.1},
        retry_if_exception=is_timeout,
    )
    assert_type(retried, RunnableRetry[str, int])
    assert_type(
        with_retry(retry_if_exception=lambda exc: "429" in str(exc))(step), RunnableRetry[str, int]
    )
    bad_key = step.with_retry(exponential_jitter_params={"maximum": 5})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    bad_value = step.with_retry(exponential_jitter_params={"max": "5"})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    bad_predicate = step.with_retry(retry_if_exception=lambda: True)  # type: ignore[arg-type, misc]  # pyright: ignore[reportArgumentType]
