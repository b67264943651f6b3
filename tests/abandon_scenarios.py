"""Abandoned streams (api.md §8): one stream form, every way of abandoning it, in a fresh process.

Run as ``python -X dev tests/abandon_scenarios.py FORM BACKEND [WAY ...]`` (BACKEND:
``asyncio`` or ``trio`` for async forms, ``sync`` for sync ones; no WAY: all of them);
`tests/test_abandon.py` does, and checks the result. Each way runs on its own event loop
(`anyio.run`), so one that breaks the loop does not hide the others. Output:

- stdout: ``ok WAY`` for each way that passed its checks, ``FAIL WAY: <first line>`` followed by
  an indented traceback for each that did not (a way with no line at all hung or crashed);
- stderr: a marker line ``--- WAY ---`` before each way and ``--- exit ---`` at the end; anything
  else there was printed by the runtime (warnings, "Task was destroyed but it is pending",
  "Exception ignored in ...", errors logged by the event loop) while that way ran, and fails it.

The exit status is 0 when every way passed. The only warning silenced is trio's advice about an
async generator garbage collected unclosed, and only for generators outside the library (the
user's own nested generators, httpx's), which no library can close: a dropped library stream
closes every generator of the library itself.

The forms are built from user steps that record, in a `Tracker`, when a generator or call starts
and when its ``finally:`` runs, how many calls are executing in threads right now, and how much
work was done. After each way the consumer carries on with other async work for about 0.1 s,
waits for the run to be over (up to QUIET_TIMEOUT: on a loaded machine a thread can wait long
for a CPU), and then requires: every started generator and call has run its ``finally:``, no
user code is still executing (threads included), no task is left behind (asyncio: only the main
task; trio: as many living tasks as when the way started), and no further user work happens
afterwards.
"""

from __future__ import annotations

import faulthandler
import gc
import itertools
import sys
import threading
import time
import traceback
import warnings
from collections import Counter
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterator,
)
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from runnables import (
    RunnableConfig,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
)

if TYPE_CHECKING:
    from openai_server import OpenAIServer
    from runnables.models import OpenAIChatModel

__all__ = [
    "ASYNC_FORMS",
    "ASYNC_WAYS",
    "SYNC_FORMS",
    "SYNC_WAYS",
    "Tracker",
    "settle",
]

#: Seconds between two chunks of a user source (async sleep or thread sleep).
TICK = 0.01
#: Seconds one user call (of a batch or a map) takes.
CALL_TIME = 0.03
#: How many chunks the consumer takes before abandoning the stream.
TAKE = 2
#: Inputs of the batch forms, with at most two running at once: plenty left when abandoned.
BATCH = list(range(20))
BATCH_CONFIG: RunnableConfig = {"max_concurrency": 2}
#: Seconds the run may take to be over once abandoned (threads back, `finally:` blocks run,
#: tasks gone) before a way fails: it normally takes a TICK or two, but on a loaded machine a
#: thread finishing its step, or a task waiting for it, can wait that long for a CPU.
QUIET_TIMEOUT = 5.0
#: A way that takes longer than this fails (async: `fail_after`); a process that hangs for
#: HANG_AFTER seconds in one way dumps every thread's stack to stderr and exits.
WAY_TIMEOUT = 10.0
HANG_AFTER = 20.0


#: Trio's advice when an async generator is garbage collected unclosed, for one outside the library.
FOREIGN_ASYNCGEN_ADVICE = (
    r"Async generator '(?!runnables\.).*' was garbage collected before it had been exhausted"
)


class Boom(Exception):
    """Raised by the consumer's loop body (way "raise") or by a failing user step."""


# ------------------------------------------------------------------------------ user code


class Tracker:
    """What the user code of one way did (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.opened: Counter[str] = Counter()
        self.finalized: Counter[str] = Counter()
        self.in_flight = 0
        self.work = 0
        self.attempts = 0
        self.async_checks: list[Callable[[], Awaitable[None]]] = []
        self.sync_checks: list[Callable[[], None]] = []

    def open(self, name: str) -> None:
        with self.lock:
            self.opened[name] += 1
            self.work += 1

    def close(self, name: str) -> None:
        with self.lock:
            self.finalized[name] += 1

    def tick(self) -> None:
        with self.lock:
            self.work += 1

    def attempt(self) -> int:
        with self.lock:
            self.attempts += 1
            return self.attempts

    @contextmanager
    def running(self) -> Generator[None, None, None]:
        """Count user code executing (in a thread) while the block runs."""
        with self.lock:
            self.in_flight += 1
        try:
            yield
        finally:
            with self.lock:
                self.in_flight -= 1

    def unclosed(self) -> list[str]:
        """Names of generators and calls that started and have not run their `finally:`."""
        with self.lock:
            return sorted((self.opened - self.finalized).elements())

    def busy(self) -> int:
        with self.lock:
            return self.in_flight

    def done(self) -> int:
        with self.lock:
            return self.work


def asource(t: Tracker, name: str = "asource") -> Callable[[Any], AsyncIterator[int]]:
    """A long async generator (a chunk every TICK seconds)."""

    async def gen(x: Any) -> AsyncIterator[int]:
        t.open(name)
        try:
            for i in range(1000):
                await anyio.sleep(TICK)
                t.tick()
                yield i
        finally:
            t.close(name)

    gen.__name__ = gen.__qualname__ = name
    return gen


def source(t: Tracker, name: str = "source") -> Callable[[Any], Iterator[int]]:
    """A long sync generator (a chunk every TICK seconds, sleeping in its thread)."""

    def gen(x: Any) -> Iterator[int]:
        t.open(name)
        try:
            for i in range(1000):
                with t.running():
                    time.sleep(TICK)
                    t.tick()
                yield i
        finally:
            t.close(name)

    gen.__name__ = gen.__qualname__ = name
    return gen


def arelay(t: Tracker, name: str = "arelay") -> RunnableGenerator[Any, Any]:
    """An async stream transformer passing chunks on."""

    async def relay(chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
        t.open(name)
        try:
            async for chunk in chunks:
                t.tick()
                yield chunk
        finally:
            t.close(name)

    return RunnableGenerator(relay, name=name)


def relay(t: Tracker, name: str = "relay") -> RunnableGenerator[Any, Any]:
    """A sync stream transformer passing chunks on."""

    def relay(chunks: Iterator[Any]) -> Iterator[Any]:
        t.open(name)
        try:
            for chunk in chunks:
                with t.running():
                    t.tick()
                yield chunk
        finally:
            t.close(name)

    return RunnableGenerator(relay, name=name)


def acall(t: Tracker, name: str = "acall") -> Callable[[int], Coroutine[Any, Any, int]]:
    """An async call taking CALL_TIME seconds."""

    async def call(x: int) -> int:
        t.open(name)
        try:
            await anyio.sleep(CALL_TIME)
            t.tick()
            return x
        finally:
            t.close(name)

    call.__name__ = call.__qualname__ = name
    return call


def call(t: Tracker, name: str = "call") -> Callable[[int], int]:
    """A sync call taking CALL_TIME seconds (in a thread)."""

    def call(x: int) -> int:
        t.open(name)
        try:
            with t.running():
                time.sleep(CALL_TIME)
                t.tick()
            return x
        finally:
            t.close(name)

    call.__name__ = call.__qualname__ = name
    return call


async def ainputs(t: Tracker, name: str = "ainputs") -> AsyncIterator[int]:
    """The user's own async input stream (for `atransform`)."""
    t.open(name)
    try:
        for i in range(1000):
            await anyio.sleep(TICK)
            t.tick()
            yield i
    finally:
        t.close(name)


def inputs(t: Tracker, name: str = "inputs") -> Iterator[int]:
    """The user's own sync input stream (for `transform`)."""
    t.open(name)
    try:
        for i in range(1000):
            with t.running():
                time.sleep(TICK)
                t.tick()
            yield i
    finally:
        t.close(name)


LONG_ANSWER = " ".join(f"word{i}" for i in range(400))


# ------------------------------------------------------------------------------ forms

#: A form makes the stream to abandon (one call, one fresh stream), given the tracker and an
#: exit stack for what must outlive the way (a server); it may add checks to the tracker.
AsyncStream = Callable[[], AsyncIterator[Any]]
SyncStream = Callable[[], Iterator[Any]]
ASYNC_FORMS: dict[str, Callable[[Tracker, ExitStack], AsyncStream]] = {}
SYNC_FORMS: dict[str, Callable[[Tracker, ExitStack], SyncStream]] = {}


def async_form(
    name: str,
) -> Callable[
    [Callable[[Tracker, ExitStack], AsyncStream]], Callable[[Tracker, ExitStack], AsyncStream]
]:
    def register(
        build: Callable[[Tracker, ExitStack], AsyncStream],
    ) -> Callable[[Tracker, ExitStack], AsyncStream]:
        ASYNC_FORMS[name] = build
        return build

    return register


def sync_form(
    name: str,
) -> Callable[
    [Callable[[Tracker, ExitStack], SyncStream]], Callable[[Tracker, ExitStack], SyncStream]
]:
    def register(
        build: Callable[[Tracker, ExitStack], SyncStream],
    ) -> Callable[[Tracker, ExitStack], SyncStream]:
        SYNC_FORMS[name] = build
        return build

    return register


@async_form("astream-sequence")
def _astream_sequence(t: Tracker, stack: ExitStack) -> AsyncStream:
    chain = RunnableLambda(asource(t)) | arelay(t)
    return lambda: chain.astream(0)


@async_form("astream-sequence-sync-steps")
def _astream_sequence_sync_steps(t: Tracker, stack: ExitStack) -> AsyncStream:
    chain = RunnableLambda(source(t)) | relay(t)
    return lambda: chain.astream(0)


@async_form("astream-sequence-parallel")
def _astream_sequence_parallel(t: Tracker, stack: ExitStack) -> AsyncStream:
    async def first(x: int) -> int:
        return x + 1

    parallel = RunnableParallel(a=RunnableLambda(asource(t)), b=RunnableLambda(source(t)))
    chain = RunnableLambda(first) | parallel | arelay(t)
    return lambda: chain.astream(0)


@async_form("parallel-astream")
def _parallel_astream(t: Tracker, stack: ExitStack) -> AsyncStream:
    parallel = RunnableParallel(a=RunnableLambda(asource(t)), b=RunnableLambda(source(t)))
    return lambda: parallel.astream(0)


@async_form("assign-astream")
def _assign_astream(t: Tracker, stack: ExitStack) -> AsyncStream:
    assign = RunnablePassthrough.assign(a=RunnableLambda(asource(t)), b=RunnableLambda(source(t)))
    return lambda: assign.astream({"x": 0})


def _observed_chain(t: Tracker) -> Any:
    def identity(x: Any) -> Any:
        return x

    return RunnableLambda(asource(t)) | arelay(t) | RunnableLambda(identity)


@async_form("astream_events")
def _astream_events(t: Tracker, stack: ExitStack) -> AsyncStream:
    chain = _observed_chain(t)
    return lambda: chain.astream_events(0, version="v2")


@async_form("astream_log")
def _astream_log(t: Tracker, stack: ExitStack) -> AsyncStream:
    chain = _observed_chain(t)
    return lambda: chain.astream_log(0)


@async_form("astream_log-nodiff")
def _astream_log_nodiff(t: Tracker, stack: ExitStack) -> AsyncStream:
    chain = _observed_chain(t)
    return lambda: chain.astream_log(0, diff=False)


@async_form("abatch_as_completed")
def _abatch_as_completed(t: Tracker, stack: ExitStack) -> AsyncStream:
    chain = RunnableLambda(acall(t)) | RunnableLambda(call(t))
    return lambda: chain.abatch_as_completed(BATCH, BATCH_CONFIG)


@async_form("atransform")
def _atransform(t: Tracker, stack: ExitStack) -> AsyncStream:
    chain = arelay(t, "arelay1") | arelay(t, "arelay2")
    return lambda: chain.atransform(ainputs(t))


def _fake_model() -> Any:
    from runnables.models import FakeListChatModel

    return FakeListChatModel([LONG_ANSWER], sleep=TICK, token_sleep=TICK)


@async_form("chat-model-astream")
def _chat_model_astream(t: Tracker, stack: ExitStack) -> AsyncStream:
    model = _fake_model()
    return lambda: model.astream("hi")


@async_form("prompt-model-parser-astream")
def _prompt_model_parser_astream(t: Tracker, stack: ExitStack) -> AsyncStream:
    from runnables.parsers import StrOutputParser
    from runnables.prompts import ChatPromptTemplate

    chain = ChatPromptTemplate.from_template("tell me about {topic}") | _fake_model()
    chain = chain | StrOutputParser()
    return lambda: chain.astream({"topic": "bears"})


@async_form("each-astream")
def _each_astream(t: Tracker, stack: ExitStack) -> AsyncStream:
    each = RunnableLambda(acall(t)).map()
    return lambda: each.astream(BATCH, BATCH_CONFIG)


def _flaky_asource(t: Tracker) -> Callable[[Any], AsyncIterator[int]]:
    """Fails before its first chunk on odd attempts, then streams like `asource`."""
    stream = asource(t, "flaky")

    async def flaky(x: Any) -> AsyncIterator[int]:
        if t.attempt() % 2:
            t.open("flaky-failing")
            try:
                await anyio.sleep(TICK)
                raise Boom("first attempt fails")
            finally:
                t.close("flaky-failing")
        async for chunk in stream(x):
            yield chunk

    return flaky


@async_form("retry-astream")
def _retry_astream(t: Tracker, stack: ExitStack) -> AsyncStream:
    retrying = RunnableLambda(_flaky_asource(t)).with_retry(
        stop_after_attempt=2, wait_exponential_jitter=False
    )
    return lambda: retrying.astream(0)


@async_form("fallbacks-astream")
def _fallbacks_astream(t: Tracker, stack: ExitStack) -> AsyncStream:
    async def failing(x: Any) -> AsyncIterator[int]:
        t.open("failing")
        try:
            await anyio.sleep(TICK)
            raise Boom("the primary fails")
            yield 0  # an async generator that fails before its first chunk
        finally:
            t.close("failing")

    with_fallbacks = RunnableLambda(failing).with_fallbacks([RunnableLambda(asource(t))])
    return lambda: with_fallbacks.astream(0)


def _openai_model(stack: ExitStack) -> tuple[OpenAIServer, OpenAIChatModel]:
    """An `OpenAIChatModel` against a loopback server streaming a slow, long answer."""
    from openai_server import OpenAIServer, Reply
    from runnables.models import OpenAIChatModel

    server = stack.enter_context(OpenAIServer())
    server.script(*[Reply(LONG_ANSWER, token_delay=TICK)] * 10)
    model = OpenAIChatModel("test-model", base_url=server.base_url, api_key="sk-test", timeout=5)
    return server, model


def _server_problem(server: OpenAIServer) -> str | None:
    if server.answering:
        return (
            f"the server is still streaming {server.answering} answer(s) after the client "
            "abandoned the stream (its connection was not closed)"
        )
    if server.disconnects != len(server.requests):
        return (
            f"{len(server.requests)} request(s) but the server saw the client go away "
            f"{server.disconnects} time(s)"
        )
    return None


@async_form("openai-astream")
def _openai_astream(t: Tracker, stack: ExitStack) -> AsyncStream:
    server, model = _openai_model(stack)

    async def server_saw_the_connection_close() -> None:
        # Writes to a closed connection fail within a token or two (TICK seconds each).
        with anyio.move_on_after(QUIET_TIMEOUT):
            while _server_problem(server):
                await anyio.sleep(0.01)
        problem = _server_problem(server)
        assert problem is None, problem

    t.async_checks.append(server_saw_the_connection_close)
    return lambda: model.astream("hi")


@sync_form("stream-sequence")
def _stream_sequence(t: Tracker, stack: ExitStack) -> SyncStream:
    chain = RunnableLambda(source(t)) | relay(t)
    return lambda: chain.stream(0)


@sync_form("stream-sequence-async-steps")
def _stream_sequence_async_steps(t: Tracker, stack: ExitStack) -> SyncStream:
    chain = RunnableLambda(asource(t)) | arelay(t)
    return lambda: chain.stream(0)


@sync_form("stream-parallel")
def _stream_parallel(t: Tracker, stack: ExitStack) -> SyncStream:
    parallel = RunnableParallel(a=RunnableLambda(source(t, "a")), b=RunnableLambda(source(t, "b")))
    return lambda: parallel.stream(0)


@sync_form("stream_events")
def _stream_events(t: Tracker, stack: ExitStack) -> SyncStream:
    # The sync event stream runs the chain on a producer thread and hands each event out as it
    # happens: leaving it must stop that thread's run at its next event and run its cleanup.
    chain = RunnableLambda(source(t)) | relay(t)
    return lambda: chain.stream_events(0)


@sync_form("batch_as_completed")
def _batch_as_completed(t: Tracker, stack: ExitStack) -> SyncStream:
    runnable = RunnableLambda(call(t))
    return lambda: runnable.batch_as_completed(BATCH, BATCH_CONFIG)


@sync_form("transform")
def _transform(t: Tracker, stack: ExitStack) -> SyncStream:
    chain = relay(t, "relay1") | relay(t, "relay2")
    return lambda: chain.transform(inputs(t))


@sync_form("openai-stream")
def _openai_stream(t: Tracker, stack: ExitStack) -> SyncStream:
    server, model = _openai_model(stack)

    def server_saw_the_connection_close() -> None:
        deadline = time.monotonic() + QUIET_TIMEOUT
        while _server_problem(server) and time.monotonic() < deadline:
            time.sleep(0.01)
        problem = _server_problem(server)
        assert problem is None, problem

    t.sync_checks.append(server_saw_the_connection_close)
    return lambda: model.stream("hi")


# ------------------------------------------------------------------------------ ways (async)


async def _abandon_with_aclose(make: AsyncStream) -> None:
    """The well-behaved baseline: close the stream explicitly after TAKE chunks."""
    stream = make()
    aclose = getattr(stream, "aclose", None)
    assert aclose is not None, f"the stream ({type(stream).__name__}) has no aclose()"
    try:
        got = 0
        async for _ in stream:
            got += 1
            if got == TAKE:
                break
    finally:
        await aclose()


async def _abandon_with_break(make: AsyncStream) -> None:
    got = 0
    async for _ in make():
        got += 1
        if got == TAKE:
            break
    assert got == TAKE, f"the stream ended after {got} chunk(s)"


async def _consume_then_raise(make: AsyncStream) -> None:
    got = 0
    async for _ in make():
        got += 1
        if got == TAKE:
            raise Boom("the consumer fails")


async def _abandon_with_raise(make: AsyncStream) -> None:
    try:
        await _consume_then_raise(make)
    except Boom as exc:
        if str(exc) != "the consumer fails":
            raise AssertionError(f"a different Boom came out: {exc!r}") from exc
    else:
        raise AssertionError("the stream ended before the consumer raised")


async def _abandon_with_deadline(make: AsyncStream) -> None:
    """A deadline (set once the first chunk is in) expires mid-stream."""
    got = 0
    with anyio.move_on_after(WAY_TIMEOUT) as scope:
        async for _ in make():
            got += 1
            if got == 1:
                scope.deadline = anyio.current_time() + 3 * TICK
            await anyio.sleep(TICK / 2)
    assert scope.cancelled_caught, (
        f"the stream ended after {got} chunk(s) and the cancel scope caught no cancellation"
    )


async def _abandon_with_cancel(make: AsyncStream) -> None:
    """The consumer cancels its scope after TAKE chunks: the stream is cancelled inside
    `__anext__` (the loop body does not await after cancelling)."""
    got = 0
    with anyio.CancelScope() as scope:
        async for _ in make():
            got += 1
            if got == TAKE:
                scope.cancel()
    assert scope.cancelled_caught, (
        f"the stream ended after {got} chunk(s) and the cancel scope caught no cancellation"
    )


async def _abandon_with_gc(make: AsyncStream) -> None:
    """Take TAKE chunks by hand, then drop the stream and collect garbage."""
    stream = make()
    chunks = aiter(stream)
    for _ in range(TAKE):
        await anext(chunks)
    del chunks, stream
    gc.collect()


ASYNC_WAYS: dict[str, Callable[[AsyncStream], Awaitable[None]]] = {
    "aclose": _abandon_with_aclose,
    "break": _abandon_with_break,
    "raise": _abandon_with_raise,
    "deadline": _abandon_with_deadline,
    "cancel": _abandon_with_cancel,
    "gc": _abandon_with_gc,
}


# ------------------------------------------------------------------------------ ways (sync)


def _abandon_sync_with_close(make: SyncStream) -> None:
    stream = make()
    close = getattr(stream, "close", None)
    assert close is not None, f"the stream ({type(stream).__name__}) has no close()"
    try:
        for _ in itertools.islice(stream, TAKE):
            pass
    finally:
        close()


def _abandon_sync_with_break(make: SyncStream) -> None:
    got = 0
    for _ in make():
        got += 1
        if got == TAKE:
            break
    assert got == TAKE, f"the stream ended after {got} chunk(s)"
    gc.collect()


def _consume_sync_then_raise(make: SyncStream) -> None:
    for got, _ in enumerate(make(), 1):
        if got == TAKE:
            raise Boom("the consumer fails")


def _abandon_sync_with_raise(make: SyncStream) -> None:
    try:
        _consume_sync_then_raise(make)
    except Boom as exc:
        if str(exc) != "the consumer fails":
            raise AssertionError(f"a different Boom came out: {exc!r}") from exc
    else:
        raise AssertionError("the stream ended before the consumer raised")
    gc.collect()


def _abandon_sync_with_gc(make: SyncStream) -> None:
    stream = make()
    chunks = iter(stream)
    for _ in range(TAKE):
        next(chunks)
    del chunks, stream
    gc.collect()


SYNC_WAYS: dict[str, Callable[[SyncStream], None]] = {
    "close": _abandon_sync_with_close,
    "break": _abandon_sync_with_break,
    "raise": _abandon_sync_with_raise,
    "gc": _abandon_sync_with_gc,
}


# ------------------------------------------------------------------------------ checks


def living_tasks(backend: str) -> int:
    """Tasks alive in the running event loop of `backend` ("asyncio" or "trio")."""
    if backend == "trio":
        import trio

        return trio.lowlevel.current_statistics().tasks_living
    import asyncio

    return len(asyncio.all_tasks())


async def _other_async_work() -> None:
    """What a consumer does next: the loop, tasks, cancel scopes, threads and the library
    must all still work."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(anyio.sleep, 0.01)
        tg.start_soon(anyio.sleep, 0.02)
    with anyio.move_on_after(0.01) as scope:
        await anyio.sleep(1)
    assert scope.cancelled_caught
    await anyio.to_thread.run_sync(time.sleep, 0.001)

    async def probe_source(x: int) -> AsyncIterator[int]:
        yield x
        yield x + 1

    assert [chunk async for chunk in RunnableLambda(probe_source).astream(1)] == [1, 2]


async def settle(t: Tracker, backend: str, tasks_before: int) -> None:
    """After abandoning: carry on for about 0.1 s, then require that the run is over (waiting
    for it up to QUIET_TIMEOUT) and that no task is left behind (`tasks_before`:
    `living_tasks(backend)` before the stream)."""
    await anyio.sleep(0.05)
    await _other_async_work()
    await anyio.sleep(0.05)
    deadline = time.monotonic() + QUIET_TIMEOUT
    while time.monotonic() < deadline and (
        t.unclosed() or t.busy() or living_tasks(backend) != tasks_before
    ):
        await anyio.sleep(0.005)
    unclosed = t.unclosed()
    assert not unclosed, f"user generators/calls whose finally: has not run: {unclosed}"
    assert t.busy() == 0, f"{t.busy()} user call(s) still running in threads"
    for check in t.async_checks:
        await check()
    tasks = living_tasks(backend)
    assert tasks == tasks_before, f"{tasks} tasks alive, {tasks_before} before: tasks left behind"
    work = t.done()
    await anyio.sleep(3 * TICK)
    assert t.done() == work, f"user work went on after abandoning ({t.done() - work} more steps)"


def settle_sync(t: Tracker) -> None:
    """After abandoning a sync stream: cleanup has run now, threads are done soon after."""
    unclosed = t.unclosed()
    assert not unclosed, f"user generators/calls whose finally: has not run: {unclosed}"
    deadline = time.monotonic() + QUIET_TIMEOUT
    while t.busy() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert t.busy() == 0, f"{t.busy()} user call(s) still running in threads"
    for check in t.sync_checks:
        check()
    work = t.done()
    time.sleep(3 * TICK)
    assert t.done() == work, f"user work went on after abandoning ({t.done() - work} more steps)"


# ------------------------------------------------------------------------------ driver


async def _run_async_way(form: str, backend: str, way: str) -> None:
    if backend == "asyncio":
        import asyncio

        # -X dev turns on asyncio's debug mode, which logs every step slower than 0.1 s; on a
        # busy machine that is noise, not a leak.
        asyncio.get_running_loop().slow_callback_duration = 60.0
    tasks_before = living_tasks(backend)
    t = Tracker()
    with ExitStack() as stack:
        make = ASYNC_FORMS[form](t, stack)
        with anyio.fail_after(WAY_TIMEOUT):
            await ASYNC_WAYS[way](make)
            await settle(t, backend, tasks_before)


def _run_sync_way(form: str, way: str) -> None:
    t = Tracker()
    with ExitStack() as stack:
        make = SYNC_FORMS[form](t, stack)
        SYNC_WAYS[way](make)
        settle_sync(t)


def describe(exc: BaseException) -> str:
    """`Type: first line of the message`, with the leaves of exception groups."""
    lines = str(exc).splitlines()
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    subs: tuple[BaseException, ...] | None = getattr(exc, "exceptions", None)
    if subs:
        text += " [" + "; ".join(describe(sub) for sub in subs) + "]"
    return text


def main(form: str, backend: str, *only: str) -> int:
    warnings.filterwarnings("ignore", message=FOREIGN_ASYNCGEN_ADVICE, category=ResourceWarning)
    ways: list[str] = list(only or (SYNC_WAYS if backend == "sync" else ASYNC_WAYS))
    failed = 0
    for way in ways:
        print(f"--- {way} ---", file=sys.stderr, flush=True)
        faulthandler.dump_traceback_later(HANG_AFTER, exit=True)
        try:
            if backend == "sync":
                _run_sync_way(form, way)
            else:
                anyio.run(_run_async_way, form, backend, way, backend=backend)
        except BaseException as exc:
            failed += 1
            details = "".join(traceback.format_exception(exc))
            print(f"FAIL {way}: {describe(exc)}", flush=True)
            print("    " + details.replace("\n", "\n    ").rstrip(), flush=True)
        else:
            print(f"ok {way}", flush=True)
        finally:
            faulthandler.cancel_dump_traceback_later()
            gc.collect()  # what this way left for the garbage collector shows up under it
    print("--- exit ---", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
