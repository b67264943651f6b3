"""`Stream`: what the public async stream methods return, so that a stream dropped unfinished
is closed by the library rather than left to the event loop's garbage collection hooks.

The chunks come from a chain of async generators. Dropped after a plain `break`, those would
be closed by the loop's finalizer hooks, which on trio also prints a warning for each. A
`Stream` notices it is dropped (`__del__`) and schedules the closing of its generator on its
event loop while it still holds it, so the generators are closed promptly, in order, and
never seen unfinished by the garbage collector.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Generic, TypeVar

from runnables._core.loop import LoopHandle, current_loop
from runnables._core.streaming import aclose_chunks

_log = logging.getLogger("runnables")

__all__ = ["Stream"]

T = TypeVar("T")


class Stream(AsyncIterator[T], Generic[T]):
    """An async iterator over `chunks` (an async generator) that closes it when dropped."""

    __slots__ = ("_chunks", "_loop", "_over")

    def __init__(self, chunks: AsyncIterator[T]) -> None:
        self._chunks = chunks
        self._loop: LoopHandle | None = None
        self._over = False

    def __aiter__(self) -> Stream[T]:
        return self

    async def __anext__(self) -> T:
        if self._loop is None:
            self._loop = current_loop()
        try:
            return await self._chunks.__anext__()
        except BaseException:
            self._over = True  # finished, or failed: the generator is closed already
            raise

    async def aclose(self) -> None:
        """Close the stream now, running its cleanup."""
        self._over = True
        await aclose_chunks(self._chunks)

    def __del__(self) -> None:
        loop = self._loop
        if self._over or loop is None:  # over, or never started: nothing to close
            return
        closer = _closer(self._chunks)
        with contextlib.suppress(StopIteration):  # to its `yield`: the loop's hooks hold it too
            closer.asend(None).send(None)
        _closing[id(self._chunks)] = closer
        loop.call_soon(lambda: loop.spawn(lambda: _close(closer), name="runnables stream cleanup"))


#: The closers of dropped streams not yet closed (the loop's hooks keep only weak references;
#: one whose loop has already ended stays here: collecting it could only fail to close it).
_closing: dict[int, AsyncGenerator[None, None]] = {}


async def _closer(chunks: Any) -> AsyncGenerator[None, None]:
    """Holds a dropped stream until it is closed: by `_close`, or, if the event loop ends
    first (`asyncio.run` or `trio.run` returning right after a `break`), by the loop's own
    closing of the async generators still open, so that its runs still end."""
    try:
        yield
    finally:
        try:
            await aclose_chunks(chunks)
        finally:
            _closing.pop(id(chunks), None)


async def _close(closer: AsyncGenerator[None, None]) -> None:
    """Close a dropped stream (in a task nobody awaits: nothing may escape)."""
    try:
        await closer.aclose()
    except Exception:
        _log.exception("closing a dropped stream raised")
