"""Custom events: a running step reports a named payload of its own (progress, an
intermediate result) to the call's callbacks and event streams, as `on_custom_event`."""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Awaitable
from functools import partial
from typing import TYPE_CHECKING, Any

from runnables._core.context import CURRENT, ROOT
from runnables._core.dispatch import is_async_method
from runnables._core.public import public
from runnables.errors import RunnablesError

if TYPE_CHECKING:
    from types import FrameType

    from runnables._core.config import RunnableConfig
    from runnables._core.context import RunContext

__all__ = ["CustomEventError", "adispatch_custom_event", "dispatch_custom_event"]

_log = logging.getLogger("runnables")


@public
class CustomEventError(RunnablesError, RuntimeError):
    """A custom event was dispatched outside a running step (LangChain raises `RuntimeError`
    there too)."""


@public
def dispatch_custom_event(name: str, data: Any, *, config: RunnableConfig | None = None) -> None:
    """Report `data` as the custom event `name` of the step whose code is running.

    Callbacks with `on_custom_event` and `astream_events` (as `on_custom_event`) receive it,
    attributed to the calling step's run; with nobody listening it costs next to nothing.
    `config` is accepted as LangChain's is, but not needed: the running step is found without
    it, in threads and tasks the step started with its context too.

    Raises:
        CustomEventError: called outside a running step.
    """
    ctx = _calling_context(config, "dispatch_custom_event")
    if ctx is None:
        return
    for pending in _deliver(ctx, name, data):
        from runnables._core.interop import run_coroutine_blocking

        run_coroutine_blocking(partial(_await, pending))


@public
async def adispatch_custom_event(
    name: str, data: Any, *, config: RunnableConfig | None = None
) -> None:
    """`dispatch_custom_event` from async code (an async callback is awaited in place only if
    it asked to run inline; others are delivered as their other notifications are)."""
    ctx = _calling_context(config, "adispatch_custom_event")
    if ctx is None:
        return
    for pending in _deliver(ctx, name, data):
        await pending


async def _await(awaitable: Awaitable[object]) -> object:
    return await awaitable


def _calling_context(config: RunnableConfig | None, what: str) -> RunContext | None:
    """The context of the running step, when someone listens; None when nobody does."""
    ctx = CURRENT.get()
    if config is not None:
        ctx = (ctx or ROOT).merged(config, call=True)
    if ctx is None:
        # An untraced call publishes no context to its steps' code (it keeps the plain call
        # short), so only the stack tells whether a step's code is running.
        if _inside_a_step():
            return None
    elif not ctx.callbacks:
        return None
    elif ctx.parent_run is not None:
        return ctx
    raise CustomEventError(
        f"{what} was called outside a running step: call it from the code of a runnable "
        "(a lifted function, a generator, a tool) while it runs, e.g. during invoke or "
        "astream_events"
    )


def _inside_a_step() -> bool:
    """Whether the library's code is below this call on the stack (so a step's code runs)."""
    frame: FrameType | None = sys._getframe(2)  # pyright: ignore[reportPrivateUsage]
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("runnables.") and module != __name__:
            return True
        frame = frame.f_back
    return False


def _deliver(ctx: RunContext, name: str, data: Any) -> list[Awaitable[object]]:
    """Tell the callbacks of `ctx` that define `on_custom_event`: the library's own observers
    in place (what they return to await is returned), users' through the call's dispatcher."""
    run = ctx.parent_run
    assert run is not None  # checked by `_calling_context`
    tags = list(ctx.tags)
    metadata = dict(ctx.metadata)
    pending: list[Awaitable[object]] = []
    queued_sync: list[partial[object]] = []
    queued_async: list[partial[object]] = []
    for callback in ctx.callbacks:
        method = getattr(callback, "on_custom_event", None)
        if method is None:
            continue
        if getattr(callback, "run_inline", False):
            try:
                result = method(name, data, run_id=run.id, tags=tags, metadata=metadata)
            except Exception:
                _log.exception("callback %r raised; the run goes on", method)
                continue
            if result is not None and inspect.isawaitable(result):
                pending.append(result)
            continue
        call = partial(method, run_id=run.id, tags=tags, metadata=metadata)
        (queued_async if is_async_method(method) else queued_sync).append(call)
    dispatcher = ctx.handlers.dispatcher
    if dispatcher is not None and (queued_sync or queued_async):
        dispatcher.post(tuple(queued_sync), tuple(queued_async), (name, data))
    return pending
