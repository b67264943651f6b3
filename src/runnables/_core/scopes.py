"""User code run inside its run's code scopes (see `CodeScope`): what callbacks publish to it,
as OpenTelemetry's current span.

A leaf wraps its user code with these only when a callback of its context offers scopes
(`ctx.handlers.code_scopes`), so calls that no such callback observes pay nothing per step.
Each scope is entered and left around every call and every step of a stream, in the task or
thread running that step: a stream advanced from several tasks, or closed early, leaves
nothing published anywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from runnables._core.runs import CodeScope
from runnables._core.streaming import aclose_chunks, close_chunks

if TYPE_CHECKING:
    from runnables._core.context import RunContext

__all__ = ["ascoped", "ascoped_chunks", "scoped", "scoped_chunks", "scopes_of"]

T = TypeVar("T")


def _enter(scopes: tuple[CodeScope, ...]) -> list[Any]:
    return [scope.enter() for scope in scopes]


def _leave(scopes: tuple[CodeScope, ...], tokens: list[Any]) -> None:
    for scope, token in zip(reversed(scopes), reversed(tokens), strict=True):
        scope.leave(token)


def scopes_of(ctx: RunContext) -> tuple[CodeScope, ...]:
    """What the callbacks of `ctx` publish to the code of its run (`ctx.parent_run`)."""
    run = ctx.parent_run
    if run is None:
        return ()
    return tuple(filter(None, [offer(run) for offer in ctx.handlers.code_scopes]))


def scoped(scopes: tuple[CodeScope, ...], func: Callable[..., T]) -> Callable[..., T]:
    """`func`, called inside `scopes`."""

    def call(*args: Any, **kwargs: Any) -> T:
        tokens = _enter(scopes)
        try:
            return func(*args, **kwargs)
        finally:
            _leave(scopes, tokens)

    return call


def ascoped(
    scopes: tuple[CodeScope, ...], func: Callable[..., Awaitable[T]]
) -> Callable[..., Awaitable[T]]:
    """Async `func`, awaited inside `scopes`."""

    async def call(*args: Any, **kwargs: Any) -> T:
        tokens = _enter(scopes)
        try:
            return await func(*args, **kwargs)
        finally:
            _leave(scopes, tokens)

    return call


def scoped_chunks(
    scopes: tuple[CodeScope, ...], func: Callable[..., Iterator[T]]
) -> Callable[..., Iterator[T]]:
    """`func` making a sync stream: made, stepped and closed inside `scopes`."""
    make = scoped(scopes, func)
    return lambda *args, **kwargs: _ScopedChunks(scopes, make(*args, **kwargs))


def ascoped_chunks(
    scopes: tuple[CodeScope, ...], func: Callable[..., AsyncIterator[T]]
) -> Callable[..., AsyncIterator[T]]:
    """`func` making an async stream: made, stepped and closed inside `scopes`."""
    make = scoped(scopes, func)
    return lambda *args, **kwargs: _AScopedChunks(scopes, make(*args, **kwargs))


class _ScopedChunks(Iterator[T]):
    __slots__ = ("_chunks", "_scopes")

    def __init__(self, scopes: tuple[CodeScope, ...], chunks: Iterator[T]) -> None:
        self._scopes = scopes
        self._chunks = chunks

    def __next__(self) -> T:
        tokens = _enter(self._scopes)
        try:
            return next(self._chunks)
        finally:
            _leave(self._scopes, tokens)

    def close(self) -> None:
        tokens = _enter(self._scopes)
        try:
            close_chunks(self._chunks)
        finally:
            _leave(self._scopes, tokens)


class _AScopedChunks(AsyncIterator[T]):
    __slots__ = ("_chunks", "_scopes")

    def __init__(self, scopes: tuple[CodeScope, ...], chunks: AsyncIterator[T]) -> None:
        self._scopes = scopes
        self._chunks = chunks

    async def __anext__(self) -> T:
        tokens = _enter(self._scopes)
        try:
            return await self._chunks.__anext__()
        finally:
            _leave(self._scopes, tokens)

    async def aclose(self) -> None:
        tokens = _enter(self._scopes)
        try:
            await aclose_chunks(self._chunks)
        finally:
            _leave(self._scopes, tokens)
