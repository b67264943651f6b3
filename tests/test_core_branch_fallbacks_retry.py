"""`RunnableBranch`, `with_fallbacks` and `with_retry`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from runnables import RunnableBranch, RunnableLambda, RunnableRetry, RunnableWithFallbacks


async def _acollect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


def _drain(chunks: Iterator[Any], into: list[Any]) -> None:
    for chunk in chunks:
        into.append(chunk)


async def _adrain(chunks: AsyncIterator[Any], into: list[Any]) -> None:
    async for chunk in chunks:
        into.append(chunk)


# ----------------------------------------------------------------- branch


def _is_neg(x: int) -> bool:
    return x < 0


def _is_zero(x: int) -> bool:
    return x == 0


async def _ais_big(x: int) -> bool:
    return x > 100


BRANCH = RunnableBranch(
    (_is_neg, lambda x: "neg"),
    (_is_zero, lambda x: "zero"),
    (_ais_big, lambda x: "big"),
    lambda x: "pos",
)


def test_branch_first_true_wins_and_default() -> None:
    assert BRANCH.invoke(-1) == "neg"
    assert BRANCH.invoke(0) == "zero"
    assert BRANCH.invoke(1000) == "big"
    assert BRANCH.invoke(5) == "pos"
    assert BRANCH.batch([-1, 0, 5]) == ["neg", "zero", "pos"]
    assert list(BRANCH.stream(0)) == ["zero"]


@pytest.mark.anyio
async def test_branch_async() -> None:
    assert await BRANCH.ainvoke(-3) == "neg"
    assert await BRANCH.ainvoke(500) == "big"
    assert await BRANCH.abatch([0, 1]) == ["zero", "pos"]
    assert await _acollect(BRANCH.astream(7)) == ["pos"]


def test_branch_stops_at_first_true_condition() -> None:
    checked: list[str] = []

    def cond(name: str, result: bool) -> Any:
        def check(x: int) -> bool:
            checked.append(name)
            return result

        return check

    branch = RunnableBranch(
        (cond("one", False), lambda x: 1),
        (cond("two", True), lambda x: 2),
        (cond("three", True), lambda x: 3),
        lambda x: 0,
    )
    assert branch.invoke(0) == 2
    assert checked == ["one", "two"]


def test_branch_streams_chosen_branch() -> None:
    def words(x: str) -> Iterator[str]:
        yield from x.split()

    branch = RunnableBranch((lambda x: True, words), lambda x: "none")
    assert list(branch.stream("a b c")) == ["a", "b", "c"]


def test_branch_needs_default() -> None:
    with pytest.raises(ValueError, match="default"):
        RunnableBranch((_is_neg, lambda x: 1))  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="at least one"):
        RunnableBranch(lambda x: 1)


# ----------------------------------------------------------------- fallbacks


class Boom(Exception):
    pass


def _fail(x: Any) -> Any:
    raise Boom(f"failed on {x!r}")


def test_fallback_used_on_failure() -> None:
    chain = RunnableLambda(_fail).with_fallbacks([RunnableLambda(lambda x: f"fb:{x}")])
    assert isinstance(chain, RunnableWithFallbacks)
    assert chain.invoke(1) == "fb:1"
    assert chain.batch([1, 2]) == ["fb:1", "fb:2"]
    assert list(chain.stream(3)) == ["fb:3"]


@pytest.mark.anyio
async def test_fallback_async() -> None:
    async def afail(x: int) -> int:
        raise Boom("x")

    chain = RunnableLambda(afail).with_fallbacks([RunnableLambda(lambda x: x * 10)])
    assert await chain.ainvoke(2) == 20
    assert await chain.abatch([1]) == [10]
    assert await _acollect(chain.astream(3)) == [30]


def test_fallbacks_tried_in_order_and_not_after_success() -> None:
    calls: list[str] = []

    def attempt(name: str, ok: bool) -> RunnableLambda[int, str]:
        def run(x: int) -> str:
            calls.append(name)
            if not ok:
                raise Boom(name)
            return name

        return RunnableLambda(run)

    chain = attempt("p", False).with_fallbacks(
        [attempt("f1", False), attempt("f2", True), attempt("f3", True)]
    )
    assert chain.invoke(0) == "f2"
    assert calls == ["p", "f1", "f2"]


def test_unhandled_exception_type_propagates() -> None:
    chain = RunnableLambda(_fail).with_fallbacks(
        [RunnableLambda(lambda x: "fb")], exceptions_to_handle=(KeyError,)
    )
    with pytest.raises(Boom):
        chain.invoke(1)


def test_all_fail_raises_first_error() -> None:
    first = RunnableLambda(_fail)

    def other(x: int) -> int:
        raise ValueError("second")

    chain = first.with_fallbacks([RunnableLambda(other)])
    with pytest.raises(Boom, match="failed on 1") as info:
        chain.invoke(1)
    assert any("second" in note for note in info.value.__notes__)


def test_exception_key_passes_the_error() -> None:
    seen: list[Any] = []

    def fallback(d: dict[str, Any]) -> str:
        seen.append(d)
        return "ok"

    chain = RunnableLambda(_fail).with_fallbacks([RunnableLambda(fallback)], exception_key="error")
    assert chain.invoke({"q": 1}) == "ok"
    (got,) = seen
    assert got["q"] == 1
    assert isinstance(got["error"], Boom)


def test_stream_falls_back_only_before_first_chunk() -> None:
    def fail_first(x: int) -> Iterator[int]:
        raise Boom("before")
        yield x

    def fail_later(x: int) -> Iterator[int]:
        yield 1
        raise Boom("after")

    fallback = RunnableLambda(lambda x: 99)
    assert list(RunnableLambda(fail_first).with_fallbacks([fallback]).stream(0)) == [99]
    got: list[int] = []
    with pytest.raises(Boom, match="after"):
        _drain(RunnableLambda(fail_later).with_fallbacks([fallback]).stream(0), got)
    assert got == [1]


def test_empty_stream_is_success() -> None:
    used: list[int] = []

    def empty(x: int) -> Iterator[int]:
        return
        yield x

    def fallback(x: int) -> int:
        used.append(x)
        return x

    assert list(RunnableLambda(empty).with_fallbacks([RunnableLambda(fallback)]).stream(1)) == []
    assert used == []


@pytest.mark.anyio
async def test_astream_falls_back_only_before_first_chunk() -> None:
    async def fail_first(x: int) -> AsyncIterator[int]:
        raise Boom("before")
        yield x

    async def fail_later(x: int) -> AsyncIterator[int]:
        yield 1
        raise Boom("after")

    async def empty(x: int) -> AsyncIterator[int]:
        return
        yield x

    fallback = RunnableLambda(lambda x: 99)
    assert await _acollect(RunnableLambda(fail_first).with_fallbacks([fallback]).astream(0)) == [99]
    got: list[int] = []
    with pytest.raises(Boom, match="after"):
        await _adrain(RunnableLambda(fail_later).with_fallbacks([fallback]).astream(0), got)
    assert got == [1]
    assert await _acollect(RunnableLambda(empty).with_fallbacks([fallback]).astream(0)) == []


def test_fallbacks_name_and_equality() -> None:
    primary = RunnableLambda(_fail)
    fb = RunnableLambda(str)
    assert primary.with_fallbacks([fb]) == primary.with_fallbacks([fb])
    assert primary.with_fallbacks([fb]).name == "_fail"


# ----------------------------------------------------------------- retry


class Flaky:
    """Fails the first `failures` calls with `exc`, then returns its input."""

    def __init__(self, failures: int, exc: type[Exception] = Boom) -> None:
        self.failures = failures
        self.exc = exc
        self.calls = 0

    def __call__(self, x: int) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc(f"attempt {self.calls}")
        return x


def test_retry_until_success() -> None:
    flaky = Flaky(2)
    r = RunnableLambda(flaky).with_retry(stop_after_attempt=3, wait_exponential_jitter=False)
    assert isinstance(r, RunnableRetry)
    assert r.invoke(5) == 5
    assert flaky.calls == 3


def test_retry_gives_up_with_last_error() -> None:
    flaky = Flaky(10)
    r = RunnableLambda(flaky).with_retry(stop_after_attempt=3, wait_exponential_jitter=False)
    with pytest.raises(Boom, match="attempt 3"):
        r.invoke(1)
    assert flaky.calls == 3


def test_retry_only_listed_exception_types() -> None:
    flaky = Flaky(1, exc=ValueError)
    r = RunnableLambda(flaky).with_retry(
        retry_if_exception_type=(KeyError,), wait_exponential_jitter=False
    )
    with pytest.raises(ValueError, match="attempt 1"):
        r.invoke(1)
    assert flaky.calls == 1


def test_retry_batch_retries_each() -> None:
    calls: dict[int, int] = {}

    def fail_once(x: int) -> int:
        calls[x] = calls.get(x, 0) + 1
        if calls[x] == 1:
            raise Boom(str(x))
        return x * 2

    r = RunnableLambda(fail_once).with_retry(wait_exponential_jitter=False)
    assert r.batch([1, 2, 3]) == [2, 4, 6]
    assert calls == {1: 2, 2: 2, 3: 2}


@pytest.mark.anyio
async def test_retry_async() -> None:
    calls = 0

    async def flaky(x: int) -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise Boom("again")
        return x

    r = RunnableLambda(flaky).with_retry(stop_after_attempt=3, wait_exponential_jitter=False)
    assert await r.ainvoke(4) == 4
    assert calls == 3


def test_stream_retried_only_before_first_chunk() -> None:
    calls = 0

    def before(x: int) -> Iterator[int]:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise Boom("before")
        yield x

    r = RunnableLambda(before).with_retry(wait_exponential_jitter=False)
    assert list(r.stream(7)) == [7]
    assert calls == 3

    later_calls = 0

    def after(x: int) -> Iterator[int]:
        nonlocal later_calls
        later_calls += 1
        yield x
        raise Boom("after")

    got: list[int] = []
    with pytest.raises(Boom, match="after"):
        _drain(RunnableLambda(after).with_retry(wait_exponential_jitter=False).stream(1), got)
    assert got == [1]
    assert later_calls == 1


@pytest.mark.anyio
async def test_astream_retried_only_before_first_chunk() -> None:
    calls = 0

    async def before(x: int) -> AsyncIterator[int]:
        nonlocal calls
        calls += 1
        if calls < 2:
            raise Boom("before")
        yield x

    r = RunnableLambda(before).with_retry(wait_exponential_jitter=False)
    assert await _acollect(r.astream(3)) == [3]
    assert calls == 2

    later = 0

    async def after(x: int) -> AsyncIterator[int]:
        nonlocal later
        later += 1
        yield x
        raise Boom("after")

    got: list[int] = []
    with pytest.raises(Boom, match="after"):
        await _adrain(
            RunnableLambda(after).with_retry(wait_exponential_jitter=False).astream(1), got
        )
    assert (got, later) == ([1], 1)


def test_retry_validates_attempts() -> None:
    with pytest.raises(ValueError, match="stop_after_attempt"):
        RunnableLambda(str).with_retry(stop_after_attempt=0)
