"""`RunnableLambda` and `@runnable`: plain, async and generator functions as runnables."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import nullcontext
from typing import Any, SupportsIndex, TypeVar, cast, overload

import attrs

from runnables._core.base import RunnableBase
from runnables._core.config import RunnableConfig
from runnables._core.context import ROOT, RunContext, enter, leave
from runnables._core.interop import (
    aiterate_in_threads,
    iterate_blocking,
    run_coroutine_blocking,
    run_in_worker_thread,
)
from runnables._core.streaming import aaggregate, aggregate, closing_chunks
from runnables._core.types import function_types

__all__ = ["RunnableLambda", "runnable"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I1 = TypeVar("I1")
O1 = TypeVar("O1")

_SYNC, _ASYNC, _GEN, _AGEN = "sync", "async", "generator", "async generator"


def function_kind(func: Callable[..., Any]) -> str:
    """Which of the four function shapes `func` has."""
    target = inspect.unwrap(func)
    call = getattr(target, "__call__", None)  # noqa: B004 - callable objects define their kind on __call__
    if not inspect.isfunction(target) and not inspect.ismethod(target) and call is not None:
        target = call
    if inspect.isasyncgenfunction(target):
        return _AGEN
    if inspect.isgeneratorfunction(target):
        return _GEN
    if inspect.iscoroutinefunction(target):
        return _ASYNC
    return _SYNC


def accepts_config(func: Callable[..., Any]) -> bool:
    """Whether `func` takes a `config` parameter to receive the run's config."""
    try:
        return "config" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def function_name(func: Callable[..., Any], default: str) -> str:
    name = getattr(func, "__name__", None)
    return name if isinstance(name, str) and name != "<lambda>" else default


@attrs.frozen(init=False)
class RunnableLambda(RunnableBase[In, Out]):
    """A function as a runnable: sync, async, generator (streams) or async generator.

    Give both `func` and `afunc` to use `afunc` in async calls. A function may take a
    `config` parameter to receive the run's config, and may return a runnable, which is then
    invoked on the same input (counting against `recursion_limit`).
    """

    func: Callable[..., Any]
    afunc: Callable[..., Any] | None = None
    explicit_name: str | None = None
    _kind: str = attrs.field(eq=False, repr=False, default=_SYNC)
    _akind: str = attrs.field(eq=False, repr=False, default=_SYNC)
    _wants_config: bool = attrs.field(eq=False, repr=False, default=False)

    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: Callable[[I1], Iterator[O1]] | Callable[[I1, RunnableConfig], Iterator[O1]],
        afunc: Callable[[I1], AsyncIterator[O1]]
        | Callable[[I1, RunnableConfig], AsyncIterator[O1]]
        | None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: Callable[[I1], AsyncIterator[O1]] | Callable[[I1, RunnableConfig], AsyncIterator[O1]],
        afunc: None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: Callable[[I1], Coroutine[Any, Any, O1]]
        | Callable[[I1, RunnableConfig], Coroutine[Any, Any, O1]],
        afunc: None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: Callable[[I1], RunnableBase[I1, O1]]
        | Callable[[I1, RunnableConfig], RunnableBase[I1, O1]],
        afunc: None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: Callable[[I1], O1] | Callable[[I1, RunnableConfig], O1],
        afunc: Callable[[I1], Coroutine[Any, Any, O1]]
        | Callable[[I1, RunnableConfig], Coroutine[Any, Any, O1]]
        | None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    def __init__(
        self,
        func: Callable[..., Any],
        afunc: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        if not callable(func):
            raise TypeError(f"RunnableLambda needs a callable, got {func!r}")
        if afunc is not None and function_kind(afunc) not in (_ASYNC, _AGEN):
            raise TypeError(
                f"afunc must be an async function or async generator function, got {afunc!r}"
            )
        kind = function_kind(func)
        self.__attrs_init__(  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
            func,
            afunc,
            name,
            kind,
            function_kind(afunc) if afunc is not None else kind,
            accepts_config(func),
        )

    @property
    def name(self) -> str:
        return self.explicit_name or function_name(self.func, "RunnableLambda")

    @property
    def input_type(self) -> Any:
        return self._types()[0]

    @property
    def output_type(self) -> Any:
        return self._types()[1]

    def _types(self) -> tuple[Any, Any]:
        return function_types(self.func, streams=self._kind in (_GEN, _AGEN))

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        # `@runnable` replaces the function by this object under the function's own name, so
        # the function cannot be pickled by reference; pickle this object by that name instead.
        module, qualname = (
            getattr(self.func, "__module__", None),
            getattr(self.func, "__qualname__", None),
        )
        if module and qualname and _resolve(module, qualname, default=None) is self:
            return _resolve, (module, qualname)
        return super().__reduce_ex__(protocol)

    # -- calling the user's function

    def _args(self, input: Any, ctx: RunContext) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if self._wants_config:
            return (input,), {"config": ctx.as_config()}
        return (input,), {}

    def _call_sync(self, input: In, ctx: RunContext) -> Any:
        if ctx is ROOT and not self._wants_config:
            return self.func(input)
        args, kwargs = self._args(input, ctx)
        token = enter(ctx)
        try:
            if ctx.budget is None:
                return self.func(*args, **kwargs)
            with ctx.budget.slot():
                return self.func(*args, **kwargs)
        finally:
            leave(token)

    async def _call_async(self, input: In, ctx: RunContext) -> Any:
        func = self.afunc or self.func
        args, kwargs = self._args(input, ctx)
        token = enter(ctx)
        try:
            budget = ctx.budget
            if budget is None:
                return await func(*args, **kwargs)
            if not budget.try_acquire():
                await budget.acquire()
            try:
                return await func(*args, **kwargs)
            finally:
                budget.release_async()
        finally:
            leave(token)

    def _iterate_sync(self, input: In, ctx: RunContext) -> Iterator[Any]:
        if ctx is ROOT and not self._wants_config:
            yield from self.func(input)
            return
        args, kwargs = self._args(input, ctx)
        with ctx.budget.slot() if ctx.budget is not None else nullcontext():
            token = enter(ctx)
            try:
                chunks = self.func(*args, **kwargs)
            finally:
                leave(token)
            yield from _in_context(chunks, ctx)

    async def _iterate_async(self, input: In, ctx: RunContext) -> AsyncIterator[Any]:
        func = self.afunc or self.func
        args, kwargs = self._args(input, ctx)
        budget = ctx.budget
        if budget is not None:
            await budget.acquire()
        try:
            token = enter(ctx)
            try:
                source = func(*args, **kwargs)
            finally:
                leave(token)
            async with (
                closing_chunks(source) as chunks,
                closing_chunks(ain_context(chunks, ctx)) as steps,
            ):
                async for chunk in steps:
                    yield chunk
        finally:
            if budget is not None:
                budget.release_async()

    def _returned(self, output: Any, input: In, ctx: RunContext) -> Out:
        if isinstance(output, RunnableBase):
            returned = cast("RunnableBase[In, Out]", output)
            return returned._call(input, ctx.deeper(repr(self.name)))
        return cast("Out", output)

    async def _areturned(self, output: Any, input: In, ctx: RunContext) -> Out:
        if isinstance(output, RunnableBase):
            returned = cast("RunnableBase[In, Out]", output)
            return await returned._acall(input, ctx.deeper(repr(self.name)))
        return cast("Out", output)

    # -- the hooks

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        kind = self._kind
        if kind == _SYNC:
            return self._returned(self._call_sync(input, ctx), input, ctx)
        if kind == _GEN:
            output: Out = aggregate(self._iterate_sync(input, ctx))
            return output
        return run_coroutine_blocking(lambda: self._ainvoke(input, ctx))

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        kind = self._akind
        if kind == _ASYNC:
            output = await self._call_async(input, ctx)
            if isinstance(output, RunnableBase):
                return await self._areturned(output, input, ctx)
            return cast("Out", output)
        if kind == _AGEN:
            return await aaggregate(self._iterate_async(input, ctx))
        if kind == _GEN:
            return await aaggregate(self._astream(input, ctx))
        return await self._areturned(await self._call_in_thread(input, ctx), input, ctx)

    async def _call_in_thread(self, input: In, ctx: RunContext) -> Any:
        budget = ctx.budget
        if budget is None:
            return await run_in_worker_thread(self._call_sync, input, ctx.without_budget())
        await budget.acquire()
        try:
            return await run_in_worker_thread(self._call_sync, input, ctx.without_budget())
        finally:
            budget.release_async()

    def _stream(self, input: In, ctx: RunContext) -> Iterator[Out]:
        kind = self._kind
        if kind == _GEN:
            yield from self._iterate_sync(input, ctx)
        elif kind == _SYNC:
            yield self._invoke(input, ctx)
        else:
            yield from iterate_blocking(lambda: self._astream(input, ctx))

    async def _astream(self, input: In, ctx: RunContext) -> AsyncIterator[Out]:
        kind = self._akind
        if kind == _AGEN:
            async with closing_chunks(self._iterate_async(input, ctx)) as chunks:
                async for chunk in chunks:
                    yield chunk
        elif kind == _GEN:
            # The generator runs in worker threads without the budget, so hold its slot here.
            budget = ctx.budget
            if budget is not None:
                await budget.acquire()
            try:
                async with closing_chunks(
                    aiterate_in_threads(self._iterate_sync(input, ctx.without_budget()))
                ) as chunks:
                    async for chunk in chunks:
                        yield chunk
            finally:
                if budget is not None:
                    budget.release_async()
        else:
            yield await self._ainvoke(input, ctx)


def _resolve(module: str, qualname: str, default: object = NotImplemented) -> Any:
    """The object named `module.qualname` (for unpickling decorated functions)."""
    try:
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        if default is NotImplemented:
            raise
        return default
    return target


def _in_context(chunks: Iterator[Any], ctx: RunContext) -> Iterator[Any]:
    """Advance a generator with `ctx` published, so nested calls inside it are child runs."""
    while True:
        token = enter(ctx)
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        finally:
            leave(token)
        yield chunk


async def ain_context(chunks: AsyncIterator[Any], ctx: RunContext) -> AsyncIterator[Any]:
    """`_in_context` for an async generator: `ctx` is published around each step only, so the
    stream may be advanced from different tasks (e.g. from sync code through a portal)."""
    while True:
        token = enter(ctx)
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return
        finally:
            leave(token)
        yield chunk


@overload
def runnable(func: Callable[[I1], Iterator[O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: Callable[[I1, RunnableConfig], Iterator[O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: Callable[[I1], AsyncIterator[O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: Callable[[I1, RunnableConfig], AsyncIterator[O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: Callable[[I1], Coroutine[Any, Any, O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(
    func: Callable[[I1, RunnableConfig], Coroutine[Any, Any, O1]],
) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: Callable[[I1], O1]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: Callable[[I1, RunnableConfig], O1]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(*, name: str) -> _Decorator: ...
def runnable(func: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Lift a function into a `RunnableLambda`; use bare or as `@runnable(name=...)`."""
    if func is None:
        return _Decorator(name)
    return RunnableLambda(func, name=name)


@attrs.frozen
class _Decorator:
    """`@runnable(name=...)`: remembers the options until it gets the function."""

    name: str | None

    @overload
    def __call__(self, func: Callable[[I1], Iterator[O1]]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(
        self, func: Callable[[I1, RunnableConfig], Iterator[O1]]
    ) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: Callable[[I1], AsyncIterator[O1]]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(
        self, func: Callable[[I1, RunnableConfig], AsyncIterator[O1]]
    ) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: Callable[[I1], Coroutine[Any, Any, O1]]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(
        self, func: Callable[[I1, RunnableConfig], Coroutine[Any, Any, O1]]
    ) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: Callable[[I1], O1]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: Callable[[I1, RunnableConfig], O1]) -> RunnableLambda[I1, O1]: ...
    def __call__(self, func: Callable[..., Any]) -> Any:
        return RunnableLambda(func, name=self.name)
