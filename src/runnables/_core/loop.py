"""The only place that knows which event loop is running: asyncio or trio.

Two things anyio does not offer are needed by the core: waking a task of a given event loop
from any thread without blocking (budget slots are handed over across threads and loops), and
starting a task that the current task does not own (the producers behind a stream handed to a
user, which must survive the consumer leaving at any point; see `fan_in`).
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

__all__ = ["LoopHandle", "Wakeup", "current_loop", "event_loop_running_here"]

_detached: set[Any] = set()  # asyncio keeps only weak references to running tasks


class LoopHandle:
    """The running event loop, as something other threads can schedule callbacks on."""

    __slots__ = ("_asyncio_loop", "_trio_token")

    def __init__(self, asyncio_loop: Any = None, trio_token: Any = None) -> None:
        self._asyncio_loop = asyncio_loop
        self._trio_token = trio_token

    def key(self) -> object:
        """What identifies this event loop (equal for two handles on the same loop)."""
        return self._asyncio_loop if self._asyncio_loop is not None else self._trio_token

    def is_current(self) -> bool:
        """Whether this is the loop running in the calling thread."""
        if self._asyncio_loop is not None:
            return _running_asyncio_loop() is self._asyncio_loop
        if not _in_trio_run():
            return False
        return sys.modules["trio"].lowlevel.current_trio_token() is self._trio_token

    def call_soon(self, callback: Callable[[], object]) -> bool:
        """Run `callback` soon on this loop, from any thread; False if the loop has ended."""
        try:
            if self._asyncio_loop is not None:
                self._asyncio_loop.call_soon_threadsafe(callback)
            else:
                self._trio_token.run_sync_soon(callback)
        except RuntimeError:  # asyncio: the loop is closed; trio: RunFinishedError
            return False
        return True

    def cancel_pending(self) -> bool:
        """Whether the calling task of this loop has been asked to cancel: tells a genuine
        cancellation from a cancellation exception that user code raised of its own accord
        (asyncio lets any code raise `CancelledError`; trio has no public constructor for
        `Cancelled`, so there every one is genuine, as on Python 3.10's asyncio, which cannot
        tell)."""
        if self._asyncio_loop is None:
            return True
        task = sys.modules["asyncio"].current_task()
        cancelling = getattr(task, "cancelling", None)
        return cancelling is None or bool(cancelling())

    def wakeup(self) -> Wakeup:
        """A one-shot wakeup for the calling task, on this loop (see `Wakeup`)."""
        if self._asyncio_loop is not None:
            return _AsyncioWakeup(self._asyncio_loop)
        return _TrioWakeup()

    def spawn(
        self,
        run: Callable[[], Coroutine[Any, Any, None]],
        name: str,
        context: contextvars.Context | None = None,
    ) -> bool:
        """Start `run()` in a task of this loop that no caller's task group owns, in
        `context` (default: a copy of the caller's). `run` must handle every exception but
        cancellation itself (trio treats a system task that raises as a crash); it is
        cancelled when the loop ends. False if the loop is ending and takes no new task."""
        if context is None:
            context = contextvars.copy_context()
        try:
            if self._asyncio_loop is not None:
                coroutine = run()
                try:
                    task = context.run(self._asyncio_loop.create_task, coroutine, name=name)
                except RuntimeError:
                    coroutine.close()
                    raise
                _detached.add(task)
                task.add_done_callback(_detached.discard)
            else:
                trio = sys.modules["trio"]
                trio.lowlevel.spawn_system_task(run, name=name, context=context)
        except RuntimeError:  # the loop is closed, or trio's system nursery is
            return False
        return True


def _running_asyncio_loop() -> Any:
    """The asyncio loop running in this thread, if any. Not imported, asyncio runs no loop;
    nor does it while another thread is still importing it (then `sys.modules` holds it
    without its functions yet: reading them would raise AttributeError)."""
    get_running_loop = getattr(sys.modules.get("asyncio"), "_get_running_loop", None)
    return None if get_running_loop is None else get_running_loop()


def _in_trio_run() -> bool:
    """Whether trio runs in this thread (the same care as `_running_asyncio_loop`)."""
    in_trio_run = getattr(getattr(sys.modules.get("trio"), "lowlevel", None), "in_trio_run", None)
    return in_trio_run is not None and bool(in_trio_run())


def event_loop_running_here() -> bool:
    """Whether an asyncio or trio event loop runs in this thread."""
    return _running_asyncio_loop() is not None or _in_trio_run()


def current_loop() -> LoopHandle:
    """The event loop running in this thread (asyncio or trio)."""
    loop = _running_asyncio_loop()
    if loop is not None:
        return LoopHandle(asyncio_loop=loop)
    if _in_trio_run():
        return LoopHandle(trio_token=sys.modules["trio"].lowlevel.current_trio_token())
    raise RuntimeError("no asyncio or trio event loop is running in this thread")


class Wakeup:
    """The cheapest way for the task that made it to wait until other code running on the
    same event loop thread wakes it (the native future or trio's own rescheduling, without
    anyio's per-call backend lookups). `wait` is cancellable; `wake` before `wait` makes
    `wait` return at once; a wakeup is used once."""

    __slots__ = ()

    def wait(self) -> Awaitable[None]:
        raise NotImplementedError

    def wake(self) -> None:
        raise NotImplementedError


class _AsyncioWakeup(Wakeup):
    __slots__ = ("_future",)

    def __init__(self, loop: Any) -> None:
        self._future = loop.create_future()

    def wait(self) -> Awaitable[None]:
        future: Awaitable[None] = self._future  # awaited as it is: no coroutine of its own
        return future

    def wake(self) -> None:
        if not self._future.done():
            self._future.set_result(None)


class _TrioWakeup(Wakeup):
    __slots__ = ("_task", "_woken")

    def __init__(self) -> None:
        self._task: Any = None
        self._woken = False

    async def wait(self) -> None:
        if self._woken:
            return
        trio = sys.modules["trio"]
        self._task = trio.lowlevel.current_task()

        def abort(_: object) -> object:
            self._task = None
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)

    def wake(self) -> None:
        self._woken = True
        task, self._task = self._task, None
        if task is not None:
            sys.modules["trio"].lowlevel.reschedule(task)
