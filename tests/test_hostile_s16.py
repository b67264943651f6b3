"""A hostile user's pass over streams, callbacks and events (issue #9, session 16): each test
here is a failure found by trying to break api.md §8 and §5 through the public API, kept as
its regression test."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from runnables import Run, RunnableLambda, RunnableSequence
from runnables._core import dispatch

# ------------------------------------------------------------------------------ callbacks


class RaisesOnceThenRecords:
    """A callback whose first `on_start` raises `exc` (any exception, even one derived from
    `BaseException` only), and which records everything it is told after that."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.raised = False
        self.seen: list[str] = []

    def on_start(self, run: Run) -> None:
        if not self.raised:
            self.raised = True
            raise self.exc
        self.seen.append(f"start {run.name}")

    def on_end(self, run: Run) -> None:
        self.seen.append(f"end {run.name}")


def _double(x: int) -> int:
    return 2 * x


@pytest.mark.parametrize("exc", [SystemExit(2), KeyboardInterrupt(), GeneratorExit()])
def test_a_sync_callback_raising_a_base_exception_loses_nothing_else(
    exc: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    """It was the end of the callbacks' worker thread: the call waited CALLBACK_TIMEOUT (10 s)
    for it, and every later notification of the call was lost."""
    callback = RaisesOnceThenRecords(exc)
    chain = RunnableLambda(_double) | RunnableLambda(_double)
    started = time.monotonic()
    assert chain.invoke(1, {"callbacks": [callback]}) == 4
    assert time.monotonic() - started < dispatch.CALLBACK_TIMEOUT / 2
    assert callback.seen == [
        "start _double",
        "end _double",
        "start _double",
        "end _double",
        "end RunnableSequence",
    ]
    assert "raised; the run goes on" in caplog.text


class CancelsItself:
    """An async callback whose `on_start` raises `CancelledError` of its own (as awaiting a
    future that someone cancelled does), recording what else it is told."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    async def on_start(self, run: Run) -> None:
        self.seen.append("start")
        raise asyncio.CancelledError

    async def on_stream(self, run: Run, chunk: Any) -> None:
        self.seen.append(chunk)

    async def on_end(self, run: Run) -> None:
        self.seen.append("end")


async def _three(x: int) -> AsyncIterator[int]:
    for i in range(3):
        await anyio.sleep(0)
        yield i


# trio has no public way to make a `Cancelled`: user code cannot raise one of its own.
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_async_callback_raising_cancelled_error_loses_nothing_else(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """It silently ended the task delivering the call's async callbacks: `on_stream` and
    `on_end` were never told, to it or to any other callback of the call."""
    callback = CancelsItself()
    chunks = [c async for c in RunnableLambda(_three).astream(0, {"callbacks": [callback]})]
    assert chunks == [0, 1, 2]
    assert callback.seen == ["start", 0, 1, 2, "end"]
    assert "raised; the run goes on" in caplog.text


def test_an_async_callback_raising_cancelled_error_in_a_sync_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """From sync code the async callback runs on the callbacks' thread, which the
    `CancelledError` ended (the call then waited CALLBACK_TIMEOUT)."""
    callback = CancelsItself()
    started = time.monotonic()
    assert list(RunnableLambda(_three).stream(0, {"callbacks": [callback]})) == [0, 1, 2]
    assert time.monotonic() - started < dispatch.CALLBACK_TIMEOUT / 2
    assert callback.seen == ["start", 0, 1, 2, "end"]
    assert "raised; the run goes on" in caplog.text


# ------------------------------------------------------------------------------ scale


async def _ainc(x: int) -> int:
    return x + 1


def test_a_sync_stream_through_ten_thousand_async_steps() -> None:
    """`stream` of 10,000 async functions in a row nested a generator per step
    (RecursionError), while `astream` and `invoke` of the same chain worked."""
    chain = RunnableSequence(*[RunnableLambda(_ainc)] * 10_000)
    assert list(chain.stream(3)) == [3 + 10_000]


# ------------------------------------------------------------------------------ events vs LangChain
#
# Differences from langchain-core's v2 events that docs/reference/events.md now lists
# ("Differences from LangChain"); they were undocumented. Each test pins both sides, so a
# change in either library shows up here.


def _add_one(x: int) -> int:
    return x + 1


def _big(x: int) -> bool:
    return x > 5


EventShape = tuple[str, str, int, tuple[str, ...]]


def _shape(event: Any) -> EventShape:
    return (event["event"], event["name"], len(event["parent_ids"]), tuple(sorted(event["tags"])))


async def _our_events(chain: Any, input: Any, **filters: Any) -> list[Any]:
    return [event async for event in chain.astream_events(input, version="v2", **filters)]


async def _langchain_events(chain: Any, input: Any, **filters: Any) -> list[Any]:
    """langchain-core's events, on asyncio in a worker thread (this test may run on trio)."""

    async def collect() -> list[Any]:
        return [event async for event in chain.astream_events(input, version="v2", **filters)]

    return await anyio.to_thread.run_sync(lambda: asyncio.run(collect()))


def _branch_in_a_sequence(lib: Any) -> Any:
    branch = lib.RunnableBranch((_big, lib.RunnableLambda(_double)), lib.RunnableLambda(_add_one))
    return lib.RunnableLambda(_add_one) | branch


@pytest.mark.anyio
async def test_a_branch_inside_a_sequence_reports_its_chunks() -> None:
    lc = pytest.importorskip("langchain_core.runnables")
    import runnables

    ours = [_shape(e) for e in await _our_events(_branch_in_a_sequence(runnables), 1)]
    theirs = [_shape(e) for e in await _langchain_events(_branch_in_a_sequence(lc), 1)]
    streamed = ("on_chain_stream", "RunnableBranch", 1, ("seq:step:2",))
    assert streamed in ours
    assert streamed not in theirs
    assert sorted(s for s in ours if s != streamed) == sorted(theirs)


def _tagged_steps(lib: Any) -> Any:
    return lib.RunnableLambda(_add_one) | lib.RunnableLambda(_double).with_config(tags=["kept"])


@pytest.mark.anyio
async def test_filtering_out_the_outermost_run_leaves_each_run_its_own_data() -> None:
    lc = pytest.importorskip("langchain_core.runnables")
    import runnables

    ours = await _our_events(_tagged_steps(runnables), 1, include_tags=["kept"])
    theirs = await _langchain_events(_tagged_steps(lc), 1, include_tags=["kept"])
    assert [_shape(e) for e in ours] == [_shape(e) for e in theirs]
    start, end = ours[0]["data"], ours[-1]["data"]
    # `_double` got 2 (the output of `_add_one`); it is not the outermost run.
    assert "input" not in start
    assert end == {"input": 2, "output": 4}
    # LangChain gives it the outermost run's input, 1, and drops its input at the end.
    assert (theirs[0]["data"], theirs[-1]["data"]) == ({"input": 1}, {"output": 4})


# ------------------------------------------------------------------------------ imports

#: A fresh process: a thread is stopped inside `import asyncio` (the module is in
#: `sys.modules` without its functions yet) while a sync stream with an async callback runs.
_WHILE_ANOTHER_THREAD_IMPORTS_ASYNCIO = textwrap.dedent(
    """
    import sys, threading
    assert "asyncio" not in sys.modules
    from runnables import RunnableLambda

    inside, release = threading.Event(), threading.Event()

    def stop_in_asyncio_init(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.endswith("asyncio/__init__.py"):
            inside.set()
            release.wait(10)

    def import_asyncio():
        sys.settrace(stop_in_asyncio_init)
        import asyncio

    class Told:
        def __init__(self):
            self.seen = []
        def on_start(self, run):
            self.seen.append("start")
        async def on_end(self, run):
            self.seen.append("end")

    def numbers(x):
        yield x
        yield x + 1

    importer = threading.Thread(target=import_asyncio)
    importer.start()
    assert inside.wait(10)
    told = Told()
    chunks = RunnableLambda(numbers).stream(1, {"callbacks": [told]})
    got = [next(chunks)]
    release.set()
    got += list(chunks)
    importer.join()
    assert got == [1, 2], got
    assert told.seen == ["start", "end"], told.seen
    """
)


def test_a_stream_while_another_thread_imports_asyncio() -> None:
    """A sync stream with an async callback, in a program that had not imported asyncio yet,
    failed with AttributeError ("partially initialized module 'asyncio'") when the callbacks'
    thread was importing asyncio at that moment (seen when abandoning such streams)."""
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", _WHILE_ANOTHER_THREAD_IMPORTS_ASYNCIO],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
