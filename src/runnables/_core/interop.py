"""Crossing between sync and async code without blocking an event loop."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import Context, copy_context
from typing import Any, TypeVar, cast

import anyio

from runnables._core.loop import event_loop_running_here
from runnables._core.streaming import aclose_chunks, close_chunks
from runnables._core.threads import current_call, run_for, run_in_worker_thread, worker_token

__all__ = [
    "aiter_sync",
    "aiterate_in_threads",
    "atransform_in_thread",
    "iterate_blocking",
    "run_coroutine_blocking",
    "run_in_worker_thread",
]

T = TypeVar("T")
U = TypeVar("U")


def _in_worker_thread() -> bool:
    """Whether this thread is a worker thread of a running event loop, the library's or
    anyio's (so that loop can be reached with `anyio.from_thread` and `worker_token()`)."""
    import anyio.from_thread

    if worker_token() is not None:
        return True
    if threading.current_thread() is threading.main_thread():
        return False
    try:
        anyio.from_thread.check_cancelled()  # reads a thread-local; no trip to the loop
    except anyio.NoEventLoopError:
        return False
    return True


def run_coroutine_blocking(func: Callable[[], Awaitable[T]]) -> T:
    """Run an async callable to completion from sync code and return its result.

    From a worker thread of a running anyio loop it runs on that loop; from a thread that is
    itself running a loop, on a fresh loop in a helper thread; otherwise on a fresh loop here.
    The caller's context variables are visible inside.
    """
    import anyio.from_thread

    context = copy_context()
    _forget_async_library(context)  # else anyio: "Already running asyncio in this thread"

    async def in_context() -> T:
        return await func()

    def run_fresh() -> T:
        return context.run(anyio.run, in_context)

    call = current_call()
    if call is not None:  # on the loop of the call, cancelled with it
        return anyio.from_thread.run(run_for, call, in_context, token=call.token)
    if _in_worker_thread():
        return anyio.from_thread.run(in_context)
    if not event_loop_running_here():
        return run_fresh()
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(run_fresh())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name="runnables-loop")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def _forget_async_library(context: Context) -> None:
    """Clear, in `context`, sniffio's note of the async library running where it was copied
    (code run in it on another loop must find that loop's library)."""
    try:
        import sniffio
    except ModuleNotFoundError:
        return
    context.run(sniffio.current_async_library_cvar.set, None)


def iterate_blocking(make: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """Iterate an async iterator from sync code, one chunk at a time, closing it at the end.

    The iterator is advanced by one task of an event loop (the loop of this worker thread,
    or a portal's) for its whole life, so an async generator may hold a cancel scope or a
    task group across its yields; this thread asks it for each chunk in turn (lockstep)."""
    import anyio.from_thread

    if _in_worker_thread():
        yield from _pull(anyio.from_thread.run_sync(_this_loop, token=worker_token()), make)
        return
    with anyio.from_thread.start_blocking_portal() as portal:
        yield from _pull(portal.call(_this_loop), make)


def _this_loop() -> Any:
    from runnables._core.loop import current_loop

    return current_loop()


_GOT_CHUNK, _GOT_END, _GOT_ERROR, _GOT_CLOSED = range(4)


def _pull(loop: Any, make: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """Chunks of `make()`, advanced by a task of `loop`, asked for from this thread."""
    answers: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
    link = _Lockstep(loop)
    context = copy_context()
    _forget_async_library(context)  # copied from this thread: it may name another loop's
    if not loop.call_soon(
        lambda: loop.spawn(lambda: _drive(link, answers, make), "runnables sync view", context)
    ):
        raise RuntimeError("the event loop to run the stream on has ended")
    over = False
    try:
        while True:
            link.ask()
            kind, value = answers.get()
            if kind == _GOT_CHUNK:
                yield value
                continue
            over = True
            if kind == _GOT_ERROR:
                raise value
            return
    finally:
        if not over:
            link.ask(closing=True)
        while answers.get()[0] != _GOT_CLOSED:  # the driver's cleanup has run
            pass


class _Lockstep:
    """The requests of a sync consumer to the task driving its async iterator."""

    __slots__ = ("closing", "loop", "requested", "wakeup")

    def __init__(self, loop: Any) -> None:
        self.loop = loop
        self.requested = False
        self.closing = False
        self.wakeup: Any = None

    def ask(self, *, closing: bool = False) -> None:
        """From the consumer's thread: the next chunk, please (or stop)."""
        if not self.loop.call_soon(lambda: self._requested(closing)):
            raise RuntimeError("the event loop running the stream has ended")

    def _requested(self, closing: bool) -> None:
        self.closing = self.closing or closing
        self.requested = True
        wakeup, self.wakeup = self.wakeup, None
        if wakeup is not None:
            wakeup.wake()

    async def next(self) -> None:
        if not self.requested:
            self.wakeup = self.loop.wakeup()
            await self.wakeup.wait()
        self.requested = False


async def _drive(
    link: _Lockstep,
    answers: queue.SimpleQueue[tuple[int, Any]],
    make: Callable[[], AsyncIterator[Any]],
) -> None:
    """Advance `make()` one chunk per request, in this one task, then close it."""
    chunks: AsyncIterator[Any] | None = None
    try:
        chunks = make()
        while True:
            await link.next()
            if link.closing:
                return
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                answers.put((_GOT_END, None))
                return
            answers.put((_GOT_CHUNK, chunk))
    except BaseException as exc:
        answers.put((_GOT_ERROR, exc))
        if isinstance(exc, anyio.get_cancelled_exc_class()):
            raise
    finally:
        try:
            with anyio.CancelScope(shield=True):
                await aclose_chunks(chunks)
        except Exception as exc:
            answers.put((_GOT_ERROR, exc))
        answers.put((_GOT_CLOSED, None))


async def aiterate_in_threads(chunks: Iterator[T]) -> AsyncIterator[T]:
    """Iterate a sync iterator that may block (user code) from async code: each `next` in a
    worker thread, and `close` too, however the iteration ends. Every step runs in the same
    copy of the caller's context, as a generator stepped in one thread would: what one step
    sets (a context variable, a current span) the next one sees, and the caller does not."""
    done: Any = object()
    run = copy_context().run
    try:
        while (chunk := await run_in_worker_thread(run, next, chunks, done)) is not done:
            yield cast("T", chunk)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await run_in_worker_thread(run, close)


_NEED, _INPUT, _END, _OUTPUT, _GO, _CLOSE, _DONE, _ERROR = range(8)


class _Abandoned(BaseException):
    """Raised inside a transformer's input stream when its consumer has gone away."""


async def atransform_in_thread(
    transform: Callable[[Iterator[T]], Iterator[U]], inputs: AsyncIterator[T]
) -> AsyncIterator[U]:
    """Run a sync stream transformer (user code that may block) on an async input stream, in
    a thread of its own, in lockstep with this generator.

    The thread runs only while this side waits for it. When the transformer wants an input
    chunk, the thread asks for one and this side pulls it from `inputs` (in the consumer's
    task); each output chunk is handed over the same way. Nothing in the thread ever calls
    back into the event loop but to post a message, so cancelling or abandoning the stream
    cannot leave the two sides waiting for each other: closing this generator makes the
    transformer's input end with an exception (or closes it at its `yield`), then waits for
    the thread to finish its cleanup.
    """
    from runnables._core.loop import current_loop

    loop = current_loop()
    post_in, messages = anyio.create_memory_object_stream[tuple[int, Any]](100)
    to_thread: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()

    def deliver(message: tuple[int, Any]) -> None:
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            post_in.send_nowait(message)  # (never full: the two sides take turns)

    def post(kind: int, value: Any = None) -> None:
        loop.call_soon(lambda: deliver((kind, value)))

    def chunks_in() -> Iterator[T]:
        while True:
            post(_NEED)
            kind, value = to_thread.get()
            if kind == _END:
                return
            if kind == _CLOSE:
                raise _Abandoned
            yield value

    def work() -> None:
        try:
            outputs = transform(chunks_in())
            for output in outputs:
                post(_OUTPUT, output)
                if to_thread.get()[0] == _CLOSE:
                    close_chunks(outputs)
                    return
            post(_DONE)
        except _Abandoned:
            pass
        except BaseException as exc:
            post(_ERROR, exc)

    thread = threading.Thread(
        target=copy_context().run, args=(work,), name="runnables-transform", daemon=True
    )
    thread.start()
    running = True
    try:
        with post_in, messages:
            while True:
                kind, value = await messages.receive()
                if kind == _NEED:
                    try:
                        chunk = await inputs.__anext__()
                    except StopAsyncIteration:
                        to_thread.put((_END, None))
                    else:
                        to_thread.put((_INPUT, chunk))
                elif kind == _OUTPUT:
                    yield value
                    to_thread.put((_GO, None))
                elif kind == _DONE:
                    running = False
                    return
                elif kind == _ERROR:
                    running = False
                    raise value
    finally:
        if running:
            to_thread.put((_CLOSE, None))
        with anyio.CancelScope(shield=True):  # its cleanup must run before we go on
            await anyio.to_thread.run_sync(thread.join)


async def aiter_sync(chunks: Iterator[T]) -> AsyncIterator[T]:
    """An async view of a sync iterator, advanced on the event loop itself: only for one
    whose `next` never blocks, or a loop that has nothing else to run (a portal's)."""
    for chunk in chunks:
        yield chunk
