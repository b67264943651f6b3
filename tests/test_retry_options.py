"""`with_retry` options as LangChain spells them (`exponential_jitter_params`) and the
predicate form `retry_if_exception`, which LangChain does not have."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from runnables import RunnableLambda, RunnableRetry, with_retry
from runnables._primitives import retry as retry_module
from runnables.errors import RunnablesValueError


class Status(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def failing(statuses: list[int]) -> tuple[RunnableLambda[int, int], list[int]]:
    """A step failing with each status in turn, then succeeding; and its attempt log."""
    attempts: list[int] = []

    def step(x: int) -> int:
        attempts.append(x)
        if len(attempts) <= len(statuses):
            raise Status(statuses[len(attempts) - 1])
        return x

    return RunnableLambda(step), attempts


def is_rate_limit(exc: Exception) -> bool:
    return isinstance(exc, Status) and exc.status == 429


NO_WAIT = {"wait_exponential_jitter": False}


def test_predicate_retries_what_it_accepts() -> None:
    step, attempts = failing([429, 429])
    retried = step.with_retry(retry_if_exception=is_rate_limit, **NO_WAIT)
    assert retried.invoke(1) == 1
    assert len(attempts) == 3


def test_predicate_refusal_raises_at_once() -> None:
    step, attempts = failing([500, 429])
    retried = step.with_retry(retry_if_exception=is_rate_limit, **NO_WAIT)
    with pytest.raises(Status) as caught:
        retried.invoke(1)
    assert caught.value.status == 500
    assert len(attempts) == 1


def test_predicate_and_type_must_both_accept() -> None:
    step, attempts = failing([429])
    retried = step.with_retry(
        retry_if_exception_type=(KeyError,), retry_if_exception=lambda exc: True, **NO_WAIT
    )
    with pytest.raises(Status):
        retried.invoke(1)
    assert len(attempts) == 1


def test_a_raising_predicate_is_not_swallowed() -> None:
    step, _ = failing([429])

    def broken(exc: Exception) -> bool:
        raise LookupError("predicate bug")

    with pytest.raises(LookupError, match="predicate bug") as caught:
        step.with_retry(retry_if_exception=broken, **NO_WAIT).invoke(1)
    assert isinstance(caught.value.__context__, Status)


@pytest.mark.anyio
async def test_predicate_async_and_streams(anyio_backend: str) -> None:
    step, _ = failing([429])
    retried = step.with_retry(retry_if_exception=is_rate_limit, **NO_WAIT)
    assert await retried.ainvoke(2) == 2
    step, _ = failing([429])
    retried = step.with_retry(retry_if_exception=is_rate_limit, **NO_WAIT)
    assert [chunk async for chunk in retried.astream(3)] == [3]
    assert list(failing([429])[0].with_retry(retry_if_exception=is_rate_limit).stream(4)) == [4]


def test_decorator_takes_the_options() -> None:
    calls: list[int] = []

    @with_retry(retry_if_exception=is_rate_limit, exponential_jitter_params={"initial": 0.0})
    def step(x: int) -> int:
        calls.append(x)
        if len(calls) < 2:
            raise Status(429)
        return x

    assert isinstance(step, RunnableRetry)
    assert step.invoke(5) == 5
    assert step.exponential_jitter_params == {"initial": 0.0}


# ------------------------------------------------------------------------------ back-off


def test_waits_follow_the_params(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    class Clock:
        @staticmethod
        def sleep(seconds: float) -> None:
            waits.append(seconds)

    monkeypatch.setattr(retry_module, "time", Clock)
    step, _ = failing([1, 1, 1])
    params: Any = {"initial": 1.0, "exp_base": 3.0, "max": 5.0, "jitter": 0.0}
    assert step.with_retry(stop_after_attempt=4, exponential_jitter_params=params).invoke(1) == 1
    assert waits == [1.0, 3.0, 5.0]  # 1, 3, 9 capped at 5


def test_wait_formula() -> None:
    wait = retry_module._wait  # pyright: ignore[reportPrivateUsage]
    assert wait({"initial": 2.0, "jitter": 0.0}, 1) == 2.0
    assert wait({"initial": 2.0, "jitter": 0.0}, 3) == 8.0
    assert wait({"initial": 1.0, "jitter": 0.0, "max": 60.0}, 10_000) == 60.0  # overflow
    assert 0.1 <= wait(None, 1) <= 0.2  # defaults: initial 0.1, jitter up to 0.1
    assert 1.0 <= wait({"initial": 1.0, "jitter": 0.5}, 1) <= 1.5
    assert wait({"initial": 1.0, "jitter": 3.0, "max": 2.0}, 1) <= 2.0  # the cap covers jitter


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"initial": 1, "maximum": 2}, "unknown keys \\['maximum'\\]"),
        ({"jitter": -1}, "jitter.*at least 0"),
        ({"initial": "1"}, "initial.*at least 0"),
        ({"max": float("nan")}, "max.*at least 0"),
        ([("initial", 1)], "must be a dict"),
    ],
)
def test_bad_params_are_refused(params: Any, message: str) -> None:
    with pytest.raises(RunnablesValueError, match=message):
        RunnableLambda(abs).with_retry(exponential_jitter_params=params)


def test_a_predicate_must_be_callable() -> None:
    with pytest.raises(RunnablesValueError, match="retry_if_exception must be a function"):
        RunnableLambda(abs).with_retry(retry_if_exception=True)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# -------------------------------------------------------------------------- against LangChain


def test_langchain_takes_the_same_params() -> None:
    lc = pytest.importorskip("langchain_core.runnables")
    # `initial` at tenacity's default (another value warns, deprecated there); `max` 0: no wait.
    params: Any = {"initial": 1.0, "max": 0.0, "exp_base": 2.0, "jitter": 0.0}
    for lib in ("ours", "lc"):
        step, attempts = failing([500, 500])
        wrapped = step if lib == "ours" else lc.RunnableLambda(step.func)
        retried = wrapped.with_retry(stop_after_attempt=3, exponential_jitter_params=params)
        assert retried.invoke(7) == 7, lib
        assert len(attempts) == 3, lib


@pytest.mark.anyio
async def test_async_attempts_match_langchain(anyio_backend: str) -> None:
    lc = pytest.importorskip("langchain_core.runnables")
    params: Any = {"max": 0.0, "jitter": 0.0}

    def build(lib: str) -> tuple[Any, list[int]]:
        attempts: list[int] = []

        def step(x: int) -> int:
            attempts.append(x)
            raise Status(x)

        wrapped = (RunnableLambda if lib == "ours" else lc.RunnableLambda)(step)
        return wrapped.with_retry(stop_after_attempt=4, exponential_jitter_params=params), attempts

    mine, mine_attempts = build("ours")
    with pytest.raises(Status):
        await mine.ainvoke(1)
    theirs, their_attempts = build("lc")

    async def run_theirs() -> None:
        with pytest.raises(Status):
            await theirs.ainvoke(1)

    await anyio.to_thread.run_sync(lambda: asyncio.run(run_theirs()))
    assert mine_attempts == their_attempts == [1, 1, 1, 1]
