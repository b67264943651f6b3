"""Control flow against hostile exceptions and nested calls (issue #10).

Fallbacks and retries never turn an interrupt, an exit or a cancellation into a result,
whatever they were told to handle; and runnables called from inside a function step share
the step's `max_concurrency` budget without deadlocking.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest
import trio

from conftest import Peak
from runnables import RunnableGenerator, RunnableLambda
from runnables.errors import RunnablesTypeError
from runnables.messages import AIMessageChunk
from runnables.models import FakeListChatModel

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

# ----------------------------------------------------------------- hostile exceptions

HOSTILE: dict[str, Callable[[], BaseException]] = {
    "KeyboardInterrupt": KeyboardInterrupt,
    "SystemExit": lambda: SystemExit(3),
    "GeneratorExit": GeneratorExit,
    "asyncio.CancelledError": asyncio.CancelledError,
    # trio.Cancelled has no public constructor; this is how trio makes one.
    "trio.Cancelled": lambda: trio.Cancelled._create(),  # type: ignore[attr-defined]
    "group of KeyboardInterrupt": lambda: BaseExceptionGroup("g", [KeyboardInterrupt()]),
    "group of CancelledError": lambda: BaseExceptionGroup(
        "g", [ValueError("v"), asyncio.CancelledError()]
    ),
}


class Hostile:
    """A primary that raises a fresh hostile exception, and a fallback that counts its calls."""

    def __init__(self, make: Callable[[], BaseException], is_async: bool) -> None:
        self.raised: list[BaseException] = []
        self.fallback_calls = 0

        def fail_sync(x: int) -> int:
            exc = make()
            self.raised.append(exc)
            raise exc

        async def fail_async(x: int) -> int:
            return fail_sync(x)

        def fallback(x: int) -> int:
            self.fallback_calls += 1
            return -1

        self.bare: RunnableLambda[int, int] = RunnableLambda(fail_async if is_async else fail_sync)
        self.wrapped = self.bare.with_fallbacks(
            [RunnableLambda(fallback)], exceptions_to_handle=(BaseException,)
        )
        self.retried = self.bare.with_retry(
            retry_if_exception_type=(BaseException,), wait_exponential_jitter=False
        )


def _outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except BaseException as exc:
        return _describe(exc)
    return "returned"


def _describe(exc: BaseException) -> str:
    # A group's members once each: how many concurrent calls had raised before the first
    # failure cancelled the rest depends on timing, not on the wrapper under test.
    if isinstance(exc, BaseExceptionGroup):
        inner = ", ".join(dict.fromkeys(_describe(e) for e in exc.exceptions))  # pyright: ignore
        return f"{type(exc).__name__}({inner})"
    return type(exc).__name__


async def _collect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


SYNC_FORMS: dict[str, Callable[[Any], object]] = {
    "invoke": lambda r: r.invoke(1),
    "batch": lambda r: r.batch([1, 2]),
    "batch_as_completed": lambda r: list(r.batch_as_completed([1, 2])),
    "stream": lambda r: list(r.stream(1)),
    "transform": lambda r: list(r.transform(iter([1]))),
    "stream_events": lambda r: list(r.stream_events(1)),
}

ASYNC_FORMS: dict[str, Callable[[Any], Awaitable[object]]] = {
    "ainvoke": lambda r: r.ainvoke(1),
    "abatch": lambda r: r.abatch([1, 2]),
    "abatch_as_completed": lambda r: _collect(r.abatch_as_completed([1, 2])),
    "astream": lambda r: _collect(r.astream(1)),
    "astream_events": lambda r: _collect(r.astream_events(1)),
    "astream_log": lambda r: _collect(r.astream_log(1)),
}

# The forms that hand the primary's exception straight back (no task group in between).
DIRECT = {"invoke", "stream", "transform", "ainvoke", "astream"}


def _assert_untouched(hostile: Hostile, form: str) -> None:
    assert hostile.fallback_calls == 0
    for exc in hostile.raised:
        notes = getattr(exc, "__notes__", [])
        assert not [n for n in notes if "fallback" in n], notes


@pytest.mark.parametrize("is_async", [False, True], ids=["sync step", "async step"])
@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("form", SYNC_FORMS)
def test_fallbacks_let_hostile_exceptions_through_sync(
    form: str, name: str, is_async: bool
) -> None:
    hostile = Hostile(HOSTILE[name], is_async)
    call = SYNC_FORMS[form]
    expected = _outcome(lambda: call(hostile.bare))
    assert _outcome(lambda: call(hostile.wrapped)) == expected
    _assert_untouched(hostile, form)
    if form in DIRECT:
        with pytest.raises(BaseException) as info:  # noqa: PT011
            call(hostile.wrapped)
        assert info.value is hostile.raised[-1]


async def _run(call: Callable[[Any], Awaitable[object]], runnable: Any) -> None:
    await call(runnable)


# Each call gets an event loop of its own, driven from here: asyncio re-raises an interrupt or
# exit from a task out of the loop itself, which is where a program would see it.
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync step", "async step"])
@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("form", ASYNC_FORMS)
def test_fallbacks_let_hostile_exceptions_through_async(
    form: str, name: str, is_async: bool, backend: str
) -> None:
    if name == "GeneratorExit" and not is_async and backend == "asyncio":
        pytest.skip("asyncio cannot take a GeneratorExit from a worker thread into a coroutine")
    hostile = Hostile(HOSTILE[name], is_async)
    call = ASYNC_FORMS[form]
    expected = _outcome(lambda: anyio.run(_run, call, hostile.bare, backend=backend))
    assert _outcome(lambda: anyio.run(_run, call, hostile.wrapped, backend=backend)) == expected
    _assert_untouched(hostile, form)
    if form in DIRECT:
        with pytest.raises(BaseException) as info:  # noqa: PT011
            anyio.run(_run, call, hostile.wrapped, backend=backend)
        assert info.value is hostile.raised[-1]


@pytest.mark.parametrize("name", HOSTILE)
def test_retry_lets_hostile_exceptions_through(name: str) -> None:
    hostile = Hostile(HOSTILE[name], is_async=False)
    with pytest.raises(BaseException) as info:  # noqa: PT011
        hostile.retried.invoke(1)
    assert hostile.raised == [info.value]
    assert _outcome(lambda: list(hostile.retried.stream(1))) == _describe(info.value)
    assert len(hostile.raised) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("form", ASYNC_FORMS)
async def test_real_cancellation_never_falls_back(form: str) -> None:
    started = anyio.Event()
    fallback_calls: list[int] = []

    async def hang(x: int) -> int:
        started.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    def fallback(x: int) -> int:
        fallback_calls.append(x)
        return -1

    chain = RunnableLambda(hang).with_fallbacks(
        [RunnableLambda(fallback)], exceptions_to_handle=(BaseException,)
    )
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def consume() -> None:
                await ASYNC_FORMS[form](chain)

            tg.start_soon(consume)
            await started.wait()
            tg.cancel_scope.cancel()
    assert tg.cancel_scope.cancel_called
    assert fallback_calls == []


def test_real_interrupt_never_retried_or_falls_back() -> None:
    # The same from a sync caller: a KeyboardInterrupt raised into a step is not handled.
    calls: list[str] = []

    def primary(x: int) -> int:
        calls.append("primary")
        raise KeyboardInterrupt

    chain = (
        RunnableLambda(primary)
        .with_retry(retry_if_exception_type=(BaseException,), wait_exponential_jitter=False)
        .with_fallbacks([RunnableLambda(lambda x: 0)], exceptions_to_handle=(BaseException,))
    )
    with pytest.raises(KeyboardInterrupt):
        chain.invoke(1)
    assert calls == ["primary"]


def test_base_exception_still_handles_exceptions() -> None:
    def fail(x: int) -> int:
        raise ValueError("plain failure")

    chain = RunnableLambda(fail).with_fallbacks(
        [RunnableLambda(lambda x: x + 1)], exceptions_to_handle=(BaseException,)
    )
    assert chain.invoke(1) == 2
    assert list(chain.stream(1)) == [2]

    def fail_in_group(x: int) -> int:
        raise ExceptionGroup("g", [ValueError("in a group")])

    grouped = RunnableLambda(fail_in_group).with_fallbacks(
        [RunnableLambda(lambda x: 0)], exceptions_to_handle=(BaseException,)
    )
    assert grouped.invoke(1) == 0


# ----------------------------------------------------------------- bad configuration


@pytest.mark.parametrize("bad", [("ValueError",), (ValueError, 3), ValueError, [ValueError]])
def test_exception_types_must_be_a_tuple_of_exception_classes(bad: Any) -> None:
    step = RunnableLambda(lambda x: x)
    with pytest.raises(RunnablesTypeError, match="exceptions_to_handle must be a tuple"):
        step.with_fallbacks([step], exceptions_to_handle=bad)
    with pytest.raises(RunnablesTypeError, match="retry_if_exception_type must be a tuple"):
        step.with_retry(retry_if_exception_type=bad)


def test_exception_key_must_be_a_string() -> None:
    step = RunnableLambda(lambda x: x)
    with pytest.raises(TypeError, match="exception_key"):
        step.with_fallbacks([step], exception_key=3)  # type: ignore[arg-type]


def test_exception_key_refuses_a_non_dict_input_before_running_anything() -> None:
    calls: list[object] = []

    def primary(x: object) -> object:
        calls.append(x)
        raise ValueError("primary failed")

    chain = RunnableLambda(primary).with_fallbacks(
        [RunnableLambda(calls.append)], exception_key="error"
    )
    with pytest.raises(
        RunnablesTypeError, match="exception_key='error' needs a dict input, got int"
    ):
        chain.invoke(1)
    with pytest.raises(RunnablesTypeError, match="needs a dict input, got int"):
        list(chain.stream(1))
    with pytest.raises(RunnablesTypeError, match="needs a dict input, got str"):
        anyio.run(chain.ainvoke, "text")
    assert calls == []


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("form", ASYNC_FORMS)
def test_a_step_raising_the_cancellation_class_itself_loses_no_result(
    form: str, backend: str
) -> None:
    """Nobody cancelled the call: the step raised the loop's cancellation exception itself. A
    task group must not take it for its own cancellation and finish with a result missing."""

    async def stray(x: int) -> int:
        if x == 1:
            if backend == "asyncio":
                raise asyncio.CancelledError
            raise trio.Cancelled._create()  # pyright: ignore[reportPrivateUsage]
        return x

    async def main() -> object:
        return await ASYNC_FORMS[form](RunnableLambda(stray))

    with pytest.raises(BaseException) as info:  # noqa: PT011
        anyio.run(main, backend=backend)
    assert type(info.value).__name__ in ("CancelledError", "Cancelled")


# ----------------------------------------------------------------- RunnableGenerator's budget
# Given a whole input (invoke, batch, its own stream), a RunnableGenerator's transform function
# is a leaf: it holds a slot of the call's budget and lends it to the runnables it calls.

GEN_HOLD = 0.03


def _counting_leaf(peak: Peak) -> RunnableLambda[int, int]:
    def leaf(x: int) -> int:
        peak.hold_sync(GEN_HOLD)
        return x

    return RunnableLambda(leaf)


def _fanning_generator(peak: Peak, kind: str, fan_out: int) -> RunnableGenerator[int, int]:
    """A generator that holds itself in flight, then calls a `fan_out`-item batch of leaves."""
    inner = _counting_leaf(peak)
    if kind == "sync":

        def fan(chunks: Iterator[int]) -> Iterator[int]:
            for x in chunks:
                peak.hold_sync(GEN_HOLD)
                yield sum(inner.batch([x] * fan_out))

        return RunnableGenerator(fan)

    async def afan(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for x in chunks:
            peak.enter()
            try:
                await anyio.sleep(GEN_HOLD)
            finally:
                peak.exit()
            yield sum(await inner.abatch([x] * fan_out))

    return RunnableGenerator(afan)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_generator_and_what_it_calls_stay_within_the_budget(
    peak: Peak, kind: str, in_thread: Callable[..., Any]
) -> None:
    gen = _fanning_generator(peak, kind, 3)
    out = in_thread(lambda: gen.batch([1, 2, 3, 4, 5], {"max_concurrency": 2}), 20)
    assert out == [3, 6, 9, 12, 15]
    assert peak.total == 5 * (1 + 3)
    assert peak.peak <= 2


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_generator_and_what_it_calls_stay_within_the_budget_async(
    peak: Peak, kind: str
) -> None:
    gen = _fanning_generator(peak, kind, 3)
    with anyio.fail_after(20):
        out = await gen.abatch([1, 2, 3, 4], {"max_concurrency": 2})
    assert out == [3, 6, 9, 12]
    assert peak.peak <= 2


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_generator_calling_runnables_does_not_deadlock_at_one(
    peak: Peak, kind: str, in_thread: Callable[..., Any]
) -> None:
    gen = _fanning_generator(peak, kind, 2)
    config: Any = {"max_concurrency": 1}
    assert in_thread(lambda: gen.batch([1, 2], config), 20) == [2, 4]
    assert in_thread(lambda: list(gen.stream(3, config)), 20) == [6]
    assert peak.peak == 1


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_generator_calling_runnables_does_not_deadlock_at_one_async(
    peak: Peak, kind: str
) -> None:
    gen = _fanning_generator(peak, kind, 2)
    with anyio.fail_after(20):
        assert await gen.abatch([1, 2], {"max_concurrency": 1}) == [2, 4]
        assert [chunk async for chunk in gen.astream(3, {"max_concurrency": 1})] == [6]
    assert peak.peak == 1


def test_a_generator_fed_by_a_streaming_model_does_not_deadlock_at_one(
    in_thread: Callable[..., Any],
) -> None:
    def shout(chunks: Iterator[AIMessageChunk]) -> Iterator[str]:
        for chunk in chunks:
            yield chunk.text.upper()

    chain = FakeListChatModel(["a b c"]) | RunnableGenerator(shout)
    config: Any = {"max_concurrency": 1}
    assert "".join(in_thread(lambda: list(chain.stream("x", config)), 20)) == "A B C"
    assert in_thread(lambda: chain.batch(["x", "y"], config), 20) == ["A B C", "A B C"]
