"""Errors are re-raised unchanged with a note naming the step; cancellation reaches every
child and leaves nothing behind; closing a stream early closes its generators (api.md §7)."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from typing import Any

import anyio
import pytest

from runnables import RunnableLambda, RunnableParallel, runnable


class StepError(Exception):
    pass


ERRORS: list[StepError] = []


@runnable
def failing_step(x: int) -> int:
    exc = StepError(f"bad {x}")
    ERRORS.append(exc)
    raise exc


@runnable
async def afailing_step(x: int) -> int:
    exc = StepError(f"abad {x}")
    ERRORS.append(exc)
    raise exc


@runnable
def fine(x: int) -> int:
    return x


def _assert_original(exc: BaseException, name: str) -> None:
    assert type(exc) is StepError
    assert exc is ERRORS[-1]  # the same object the step raised
    notes = getattr(exc, "__notes__", [])
    assert any(name in note for note in notes), notes


# ----------------------------------------------------------------- errors


def test_sequence_error_unchanged_with_note() -> None:
    with pytest.raises(StepError) as info:
        (fine | failing_step | fine).invoke(1)
    _assert_original(info.value, "failing_step")
    assert sum("failing_step" in n for n in info.value.__notes__) == 1  # named once


@pytest.mark.anyio
async def test_sequence_error_async() -> None:
    with pytest.raises(StepError) as info:
        await (fine | afailing_step).ainvoke(1)
    _assert_original(info.value, "afailing_step")
    with pytest.raises(StepError) as info:
        await (fine | failing_step).ainvoke(2)
    _assert_original(info.value, "failing_step")


def test_parallel_error_is_original_not_group() -> None:
    with pytest.raises(StepError) as info:
        RunnableParallel(ok=fine, bad=failing_step).invoke(1)
    _assert_original(info.value, "failing_step")


@pytest.mark.anyio
async def test_parallel_error_async_is_original_not_group() -> None:
    async def slow(x: int) -> int:
        await anyio.sleep(1)
        return x

    with anyio.fail_after(5), pytest.raises(StepError) as info:
        await RunnableParallel(ok=slow, bad=afailing_step).ainvoke(1)
    _assert_original(info.value, "afailing_step")
    with pytest.raises(StepError) as info:
        async for _ in RunnableParallel(ok=slow, bad=afailing_step).astream(1):
            pass
    _assert_original(info.value, "afailing_step")


def test_parallel_stream_error() -> None:
    with pytest.raises(StepError) as info:
        list(RunnableParallel(ok=fine, bad=failing_step).stream(1))
    _assert_original(info.value, "failing_step")


def test_batch_error_unchanged() -> None:
    with pytest.raises(StepError) as info:
        (fine | failing_step).batch([1, 2, 3])
    assert type(info.value) is StepError
    assert info.value in ERRORS
    assert any("failing_step" in n for n in info.value.__notes__)
    out = (fine | failing_step).batch([1], return_exceptions=True)
    assert out[0] is ERRORS[-1]


@pytest.mark.anyio
async def test_abatch_error_unchanged() -> None:
    with pytest.raises(StepError) as info:
        await (fine | afailing_step).abatch([1, 2])
    assert info.value in ERRORS
    assert any("afailing_step" in n for n in info.value.__notes__)


INTERRUPTS: dict[str, Callable[[], BaseException]] = {
    "KeyboardInterrupt": KeyboardInterrupt,
    "SystemExit": lambda: SystemExit(3),
}


# Each call gets an event loop of its own: asyncio re-raises an interrupt from a task out of
# the loop itself, which is where a program sees it.
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync step", "async step"])
@pytest.mark.parametrize("interrupt", INTERRUPTS)
@pytest.mark.parametrize("form", ["abatch", "abatch return_exceptions", "parallel", "map"])
def test_an_interrupt_in_a_concurrent_step_is_raised_bare(
    form: str, interrupt: str, is_async: bool, backend: str
) -> None:
    raised: list[BaseException] = []

    def step(x: int) -> int:
        if x == 2:
            raised.append(INTERRUPTS[interrupt]())
            raise raised[-1]
        return x

    async def astep(x: int) -> int:
        await anyio.sleep(0)
        return step(x)

    lifted = RunnableLambda(astep) if is_async else RunnableLambda(step)
    calls: dict[str, Callable[[], Any]] = {
        "abatch": lambda: lifted.abatch([1, 2, 3]),
        "abatch return_exceptions": lambda: lifted.abatch([1, 2, 3], return_exceptions=True),
        "parallel": lambda: RunnableParallel(a=lifted, b=lambda x: x).ainvoke(2),
        "map": lambda: lifted.map().ainvoke([1, 2, 3]),
    }

    seen: list[BaseException] = []

    async def run() -> None:
        try:
            await calls[form]()
        except BaseException as exc:  # what the caller sees, inside the event loop
            seen.append(exc)
            raise

    with pytest.raises(BaseException) as info:  # noqa: PT011
        anyio.run(run, backend=backend)
    assert seen == [raised[0]]
    assert info.value is raised[0]


def test_stream_error_unchanged() -> None:
    def gen(x: int) -> Iterator[int]:
        yield x
        exc = StepError("in stream")
        ERRORS.append(exc)
        raise exc

    got: list[int] = []
    stream = (fine | RunnableLambda(gen) | (lambda c: c)).stream(1)
    with pytest.raises(StepError) as info:
        got.extend(stream)
    _assert_original(info.value, "gen")


@pytest.mark.anyio
async def test_astream_error_unchanged() -> None:
    async def agen(x: int) -> AsyncIterator[int]:
        yield x
        exc = StepError("in astream")
        ERRORS.append(exc)
        raise exc

    with pytest.raises(StepError) as info:
        async for _ in (fine | RunnableLambda(agen)).astream(1):
            pass
    _assert_original(info.value, "agen")


def test_error_in_each_and_sync_over_async() -> None:
    with pytest.raises(StepError) as info:
        afailing_step.invoke(3)
    _assert_original(info.value, "afailing_step")
    with pytest.raises(StepError) as info:
        failing_step.map().invoke([1])
    _assert_original(info.value, "failing_step")


# ----------------------------------------------------------------- cancellation


class Tracker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = 0
        self.finally_ran = 0
        self.resumed = 0
        self.in_flight = 0

    def enter(self) -> None:
        with self.lock:
            self.started += 1
            self.in_flight += 1

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1
            self.finally_ran += 1


def _async_sleeper(tracker: Tracker) -> RunnableLambda[int, int]:
    async def sleeper(x: int) -> int:
        tracker.enter()
        try:
            await anyio.sleep(5)
            tracker.resumed += 1
        finally:
            tracker.leave()
        return x

    return RunnableLambda(sleeper)


def _sync_sleeper(tracker: Tracker) -> RunnableLambda[int, int]:
    def sleeper(x: int) -> int:
        tracker.enter()
        try:
            time.sleep(0.2)
        finally:
            tracker.leave()
        return x

    return RunnableLambda(sleeper)


async def _cancelled_after(
    delay: float, call: Callable[[], Any], *, expect_caught: bool = True
) -> None:
    with anyio.move_on_after(delay) as scope:
        await call()
    if expect_caught:
        assert scope.cancelled_caught


@pytest.mark.anyio
async def test_cancel_ainvoke_cancels_async_child() -> None:
    tracker = Tracker()
    r = fine | _async_sleeper(tracker)
    await _cancelled_after(0.05, lambda: r.ainvoke(1))
    assert (tracker.started, tracker.finally_ran) == (1, 1)
    await anyio.sleep(0.1)
    assert tracker.resumed == 0


@pytest.mark.anyio
async def test_cancel_abatch_cancels_every_child() -> None:
    tracker = Tracker()
    r = _async_sleeper(tracker)
    await _cancelled_after(0.05, lambda: r.abatch([1, 2, 3, 4]))
    assert tracker.started == 4
    assert tracker.finally_ran == 4
    assert tracker.in_flight == 0
    await anyio.sleep(0.1)
    assert tracker.resumed == 0


@pytest.mark.anyio
async def test_cancel_parallel_cancels_every_branch() -> None:
    tracker = Tracker()
    par = RunnableParallel(a=_async_sleeper(tracker), b=_async_sleeper(tracker), c=fine)
    await _cancelled_after(0.05, lambda: par.ainvoke(1))
    assert tracker.started == 2
    assert tracker.finally_ran == 2
    await anyio.sleep(0.1)
    assert tracker.resumed == 0


@pytest.mark.anyio
async def test_cancel_waits_for_sync_children_in_threads() -> None:
    tracker = Tracker()
    par = RunnableParallel(
        a=_sync_sleeper(tracker), b=_sync_sleeper(tracker), c=_async_sleeper(tracker)
    )
    await _cancelled_after(0.05, lambda: par.ainvoke(1))
    # Returned only once every sync child finished: no thread still runs the function.
    assert tracker.in_flight == 0
    assert tracker.finally_ran == tracker.started == 3


@pytest.mark.anyio
async def test_cancel_abatch_waits_for_sync_children() -> None:
    tracker = Tracker()
    # Sync work cannot be interrupted: the call waits for the threads (on trio it may then
    # return normally, as cancellation is only delivered at the next checkpoint).
    await _cancelled_after(
        0.05, lambda: _sync_sleeper(tracker).abatch([1, 2, 3]), expect_caught=False
    )
    assert tracker.started == 3
    assert tracker.in_flight == 0


@pytest.mark.anyio
async def test_cancel_astream_closes_everything() -> None:
    tracker = Tracker()
    closed: list[str] = []

    async def agen(x: int) -> AsyncIterator[int]:
        try:
            yield x
            tracker.enter()
            try:
                await anyio.sleep(5)
                tracker.resumed += 1
            finally:
                tracker.leave()
            yield x + 1
        finally:
            closed.append("agen")

    def relay(chunks: Iterator[int]) -> Iterator[int]:
        try:
            yield from chunks
        finally:
            closed.append("relay")

    got: list[int] = []

    async def consume() -> None:
        async for chunk in (RunnableLambda(agen) | relay).astream(1):
            got.append(chunk)

    await _cancelled_after(0.2, consume)
    assert got == [1]
    assert tracker.finally_ran == 1
    assert sorted(closed) == ["agen", "relay"]
    await anyio.sleep(0.05)
    assert tracker.resumed == 0


@pytest.mark.anyio
async def test_cancel_astream_of_parallel() -> None:
    tracker = Tracker()
    par = RunnableParallel(a=_async_sleeper(tracker), b=_sync_sleeper(tracker))

    async def consume() -> None:
        async for _ in par.astream(1):
            pass

    await _cancelled_after(0.05, consume)
    assert tracker.in_flight == 0
    assert tracker.finally_ran == tracker.started == 2


# ----------------------------------------------------------------- early close


def _tracked_gen(closed: list[str], name: str) -> Callable[[int], Iterator[int]]:
    def gen(x: int) -> Iterator[int]:
        try:
            for i in range(100):
                yield x + i
        finally:
            closed.append(name)

    gen.__name__ = name
    return gen


def _tracked_transform(closed: list[str], name: str) -> Callable[[Iterator[int]], Iterator[int]]:
    def transform(chunks: Iterator[int]) -> Iterator[int]:
        try:
            for chunk in chunks:
                yield chunk * 2
        finally:
            closed.append(name)

    return transform


def test_stream_break_closes_generators() -> None:
    closed: list[str] = []
    chain = RunnableLambda(_tracked_gen(closed, "source")) | _tracked_transform(closed, "t")
    stream = chain.stream(0)
    got = [next(stream), next(stream)]
    stream.close()  # what `for ... break` + dropping the iterator does
    assert got == [0, 2]
    assert sorted(closed) == ["source", "t"]


def test_stream_break_in_for_loop_closes_generators() -> None:
    closed: list[str] = []
    chain = RunnableLambda(_tracked_gen(closed, "source")) | _tracked_transform(closed, "t")
    for chunk in chain.stream(0):
        if chunk >= 4:
            break
    # CPython closes the dropped generator right away (refcount)
    assert sorted(closed) == ["source", "t"]


def test_stream_close_of_async_generator_from_sync() -> None:
    closed: list[str] = []

    async def agen(x: int) -> AsyncIterator[int]:
        try:
            for i in range(100):
                yield i
        finally:
            closed.append("agen")

    stream = RunnableLambda(agen).stream(0)
    assert next(stream) == 0
    stream.close()
    assert closed == ["agen"]


def test_stream_close_of_parallel() -> None:
    closed: list[str] = []
    par = RunnableParallel(a=_tracked_gen(closed, "a"), b=_tracked_gen(closed, "b"))
    stream = par.stream(0)
    next(stream)
    stream.close()
    assert sorted(closed) == ["a", "b"]


@pytest.mark.anyio
async def test_astream_aclose_closes_generators() -> None:
    closed: list[str] = []

    async def agen(x: int) -> AsyncIterator[int]:
        try:
            for i in range(100):
                await anyio.sleep(0)
                yield x + i
        finally:
            closed.append("agen")

    async def atransform(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        try:
            async for chunk in chunks:
                yield chunk * 2
        finally:
            closed.append("atransform")

    chain = RunnableLambda(agen) | atransform | _tracked_transform(closed, "sync_t")
    async with aclosing(chain.astream(0)) as stream:
        async for chunk in stream:
            if chunk >= 8:
                break
    assert sorted(closed) == ["agen", "atransform", "sync_t"]


@pytest.mark.anyio
async def test_astream_aclose_of_sync_generators() -> None:
    closed: list[str] = []
    chain = RunnableLambda(_tracked_gen(closed, "source")) | _tracked_transform(closed, "t")
    async with aclosing(chain.astream(0)) as stream:
        async for _ in stream:
            break
    assert sorted(closed) == ["source", "t"]


@pytest.mark.anyio
async def test_astream_aclose_of_parallel() -> None:
    closed: list[str] = []

    async def agen(x: int) -> AsyncIterator[int]:
        try:
            for i in range(100):
                await anyio.sleep(0)
                yield i
        finally:
            closed.append("agen")

    par = RunnableParallel(a=agen, b=_tracked_gen(closed, "b"))
    with anyio.fail_after(5):
        async with aclosing(par.astream(0)) as stream:
            started: set[str] = set()
            async for chunk in stream:
                started |= chunk.keys()
                if started == {"a", "b"}:  # both branches are mid-stream
                    break
    assert sorted(closed) == ["agen", "b"]


@pytest.mark.anyio
async def test_abatch_as_completed_aclose_cancels_the_rest() -> None:
    tracker = Tracker()
    sleeper = _async_sleeper(tracker)

    async def quick_or_slow(x: int) -> int:
        if x == 0:
            return 0
        return await sleeper.ainvoke(x)

    with anyio.fail_after(5):
        async with aclosing(RunnableLambda(quick_or_slow).abatch_as_completed([0, 1, 2])) as pairs:
            async for pair in pairs:
                assert pair == (0, 0)
                break
    assert tracker.started == 2
    assert tracker.finally_ran == 2
    await anyio.sleep(0.05)
    assert tracker.resumed == 0


@pytest.mark.anyio
async def test_map_astream_aclose() -> None:
    tracker = Tracker()
    sleeper = _async_sleeper(tracker)

    async def quick_or_slow(x: int) -> int:
        return x if x == 0 else await sleeper.ainvoke(x)

    with anyio.fail_after(5):
        async with aclosing(RunnableLambda(quick_or_slow).map().astream([0, 1])) as chunks:
            async for chunk in chunks:
                assert chunk == [0]
                break
    assert tracker.finally_ran == tracker.started == 1
