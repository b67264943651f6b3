"""Deep nesting without a deep stack: nested parallels call one another on one stack, so a
few hundred levels would exceed Python's recursion limit. Every `HOP_EVERY` levels the next
one runs on a fresh stack instead (a new thread for sync calls, a new task for async ones),
as LangChain's parallel does at every level."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, copy_context
from typing import Any, TypeVar

import anyio

__all__ = ["HOP_EVERY", "anested", "nested"]

T = TypeVar("T")

#: Nested levels run on one stack before the next one moves to a fresh one. (A level of a
#: multi-branch parallel takes about six frames; a stack of 1,000 frames holds some 150.)
HOP_EVERY = 50

#: Levels nested on the current stack (counted per thread and task, through their contexts;
#: a branch thread inherits its caller's count, which only makes it hop a little early).
_LEVELS: ContextVar[int] = ContextVar("runnables_nested_levels", default=0)


def nested(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)`, counted as one nested level; on a fresh thread if the stack is deep."""
    levels = _LEVELS.get()
    if levels >= HOP_EVERY:
        return _on_fresh_thread(func, *args)
    token = _LEVELS.set(levels + 1)
    try:
        return func(*args)
    finally:
        _LEVELS.reset(token)


async def anested(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    """`await func(*args)`, counted as one nested level; in a fresh task if the stack is deep."""
    levels = _LEVELS.get()
    if levels >= HOP_EVERY:
        return await _in_fresh_task(func, *args)
    token = _LEVELS.set(levels + 1)
    try:
        return await func(*args)
    finally:
        _LEVELS.reset(token)


def _on_fresh_thread(func: Callable[..., T], *args: Any) -> T:
    outcome: list[Any] = []

    def run() -> None:
        _LEVELS.set(0)
        try:
            outcome.append(func(*args))
        except BaseException as exc:  # handed to the waiting caller, raised there as itself
            outcome.append(exc)
            outcome.append(None)

    thread = threading.Thread(target=copy_context().run, args=(run,), name="runnables-nested")
    thread.start()
    thread.join()
    if len(outcome) == 2:
        raise outcome[0]
    result: T = outcome[0]
    return result


async def _in_fresh_task(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    outcome: list[Any] = []

    async def run() -> None:
        _LEVELS.set(0)
        try:
            outcome.append(await func(*args))
        except anyio.get_cancelled_exc_class():
            raise  # the caller's own cancellation: its task group raises it
        except BaseException as exc:  # raised below as itself, not in an exception group
            outcome.append(exc)
            outcome.append(None)

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
    if len(outcome) == 2:
        raise outcome[0]
    result: T = outcome[0]
    return result
