"""`FanIn`: the one way the library runs producers concurrently and hands what they make to a
consumer (parallel streams, `abatch_as_completed`, event streams and run logs).

Why not an async generator around a task group: a generator that yields from inside a task
group makes the consumer's frame own that group's cancel scope across every `yield`. A
consumer that stops early without `aclosing()` (a plain `break`) leaves the generator to be
closed later by the garbage collector, in another task, which exits the cancel scope in a
task other than the one that entered it: a crash on asyncio, a corrupted scheduler on trio.

So the producers run in a task of their own that the consumer does not own (started through
`LoopHandle.spawn`); their task group lives entirely inside it. The consumer holds an
ordinary object whose `__anext__` only receives from a bounded memory stream (so a slow
consumer slows the producers down). The producers live exactly as long as the stream:
exhausting it waits for them; `aclose()` cancels them and waits for their cleanup (shielded,
so it also completes when the consumer is being cancelled); dropping the object unfinished
cancels them from a callback on their event loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from runnables._core.loop import LoopHandle, current_loop

__all__ = ["FanIn", "Producer", "deliver"]

T = TypeVar("T")

Producer = Callable[[MemoryObjectSendStream[T]], Awaitable[None]]
"""Sends its items into the stream it is given, with `deliver`."""


async def deliver(send: MemoryObjectSendStream[T], item: T) -> None:
    """Send `item`, waiting only when the buffer is full (no checkpoint while there is room:
    items keep the order in which things happened, and a scheduler round trip per item would
    dominate the cost); nothing happens if the consumer has gone (the producers are being
    cancelled)."""
    try:
        send.send_nowait(item)
    except anyio.WouldBlock:
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await send.send(item)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass


class FanIn(AsyncIterator[T], Generic[T]):
    """The items of `producers`, run concurrently, in the order they are sent.

    Started by the first `__anext__` (so creating one needs no event loop). The first
    exception a producer raises cancels the others and is raised to the consumer as itself,
    once every producer has stopped.
    """

    __slots__ = ("_buffer", "_closed", "_loop", "_producers", "_receive", "_run")

    def __init__(self, producers: Sequence[Producer[T]], *, buffer: int) -> None:
        self._producers = producers
        self._buffer = buffer
        self._receive: MemoryObjectReceiveStream[T] | None = None
        self._loop: LoopHandle | None = None
        self._run: _Run[T] | None = None
        self._closed = False

    def __aiter__(self) -> FanIn[T]:
        return self

    async def __anext__(self) -> T:
        receive = self._receive
        if receive is None:
            if self._closed:
                raise StopAsyncIteration
            receive = self._start()
        try:
            # What is ready is taken without a checkpoint (a scheduler round trip per item
            # would dominate the cost); the consumer waits only when nothing is.
            return receive.receive_nowait()
        except anyio.WouldBlock:
            try:
                return await receive.receive()
            except anyio.EndOfStream:
                pass
            except anyio.ClosedResourceError:
                raise StopAsyncIteration from None
        except anyio.EndOfStream:
            pass
        except anyio.ClosedResourceError:
            raise StopAsyncIteration from None
        self._closed = True
        receive.close()
        run = self._run
        assert run is not None
        await run.wait_done()
        if run.error is not None:
            raise run.error
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop the producers (cancelling them) and wait until their cleanup has run."""
        if self._closed:
            return
        self._closed = True
        run, receive = self._run, self._receive
        if run is None or receive is None:
            return
        run.scope.cancel()
        receive.close()
        await run.wait_done()

    def __del__(self) -> None:
        if self._closed or self._receive is None:
            return
        self._closed = True
        assert self._loop is not None
        assert self._run is not None
        # Not cancelled right here: a finalizer may run in any thread, at any point of the
        # event loop's own work.
        scope, receive = self._run.scope, self._receive
        if not self._loop.call_soon(lambda: _abandon(scope, receive)):
            receive.close()  # the loop has ended: nothing runs any more

    def _start(self) -> MemoryObjectReceiveStream[T]:
        send, receive = anyio.create_memory_object_stream[T](self._buffer)
        self._receive = receive
        # The producers' task refers to `_Run`, never to this object, so that dropping this
        # object is seen (and stops them).
        run = self._run = _Run(self._producers)
        self._loop = current_loop()
        self._loop.spawn(lambda: run.run(send), name="runnables stream producers")
        return receive


class _Run(Generic[T]):
    """The producers' side of a `FanIn`: their task's cancel scope, first error and end."""

    __slots__ = ("done", "error", "producers", "scope")

    def __init__(self, producers: Sequence[Producer[T]]) -> None:
        self.producers = producers
        self.scope = anyio.CancelScope()
        self.done = anyio.Event()
        self.error: BaseException | None = None

    async def run(self, send: MemoryObjectSendStream[T]) -> None:
        try:
            with send, self.scope:
                producers = self.producers
                if len(producers) == 1:
                    await self._produce(producers[0], send, None)
                else:
                    async with anyio.create_task_group() as tg:
                        for produce in producers:
                            tg.start_soon(self._produce, produce, send.clone(), tg.cancel_scope)
        finally:
            self.done.set()

    async def _produce(
        self,
        produce: Producer[T],
        send: MemoryObjectSendStream[T],
        siblings: anyio.CancelScope | None,
    ) -> None:
        try:
            with send:
                await produce(send)
        except BaseException as exc:
            if isinstance(exc, anyio.get_cancelled_exc_class()):
                raise
            # Everything else goes to the consumer: a task that nobody awaits must not raise.
            if self.error is None:
                self.error = exc
            if siblings is not None:
                siblings.cancel()

    async def wait_done(self) -> None:
        """Wait for the producers to have stopped (also while the caller is being cancelled)."""
        if self.done.is_set():
            return
        with anyio.CancelScope(shield=True):
            await self.done.wait()


def _abandon(scope: anyio.CancelScope, receive: MemoryObjectReceiveStream[Any]) -> None:
    scope.cancel()
    receive.close()
