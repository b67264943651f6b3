"""`RunnableLambda` and `@runnable`: plain, async and generator functions as runnables."""

from __future__ import annotations

import collections.abc
import importlib
import inspect
import typing
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Protocol, SupportsIndex, TypeVar, cast, overload

import attrs

from runnables._core.base import RunnableBase
from runnables._core.config import RunnableConfig
from runnables._core.context import ROOT, RunContext
from runnables._core.interop import iterate_blocking, run_coroutine_blocking
from runnables._core.leaf import (
    aleaf,
    aleaf_in_thread,
    aleaf_iter,
    aleaf_iter_in_threads,
    leaf,
    leaf_iter,
)
from runnables._core.protocol import Runnable
from runnables._core.public import public
from runnables._core.streaming import (
    aaggregate,
    aclose_chunks,
    add_step_note,
    aggregate,
    aone,
)
from runnables._core.types import function_types
from runnables.errors import RunnablesTypeError

__all__ = ["RunnableLambda", "runnable"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I1 = TypeVar("I1")
O1 = TypeVar("O1")
_I = TypeVar("_I", contravariant=True)
_O = TypeVar("_O", covariant=True)

_SYNC, _ASYNC, _GEN, _AGEN = "sync", "async", "generator", "async generator"


class WithConfig(Protocol[_I, _O]):
    """A function of the input and a parameter named `config` (given as a keyword): a
    second parameter of another name is a type error, as it is a `TypeError` at run time."""

    def __call__(self, input: _I, /, *, config: RunnableConfig) -> _O: ...


# What a plain function's return annotation says about its shape: one that returns an iterator
# (or a coroutine) is typed as a streaming (or async) step, so it runs as one.
_DECLARED_KINDS: dict[object, str] = {
    collections.abc.Iterator: _GEN,
    collections.abc.Generator: _GEN,
    collections.abc.AsyncIterator: _AGEN,
    collections.abc.AsyncGenerator: _AGEN,
    collections.abc.Coroutine: _ASYNC,
}


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
    return _declared_kind(target)


def _declared_kind(target: Callable[..., Any]) -> str:
    """The shape a sync function's return annotation declares (`-> Iterator[str]`: a stream)."""
    if "return" not in getattr(target, "__annotations__", {}):
        return _SYNC
    try:
        returns = typing.get_type_hints(target).get("return")
    except Exception:  # an annotation that cannot be resolved here declares nothing
        return _SYNC
    return _DECLARED_KINDS.get(typing.get_origin(returns) or returns, _SYNC)


def accepts_config(func: Callable[..., Any]) -> bool:
    """Whether `func` takes a `config` parameter to receive the run's config; a `TypeError`
    if it has another required parameter besides its input, which no call would give."""
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):  # no signature to read (some builtins)
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if positional and positional[0].name == "config":
        raise RunnablesTypeError(
            f"cannot lift {_described(func)}: its first parameter receives the input, so it "
            "cannot be named 'config'"
        )
    if not positional and not any(p.kind is p.VAR_POSITIONAL for p in parameters):
        raise RunnablesTypeError(
            f"cannot lift {_described(func)}: it takes no positional parameter for the input"
        )
    rest = [p for p in parameters if p not in positional[:1]]
    for p in rest:
        if p.name == "config" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is p.empty or _is_config_annotation(p.annotation):
            raise RunnablesTypeError(
                f"cannot lift {_described(func)}: a lifted function takes its input and, "
                f"optionally, 'config: RunnableConfig'; parameter {p.name!r} would never be "
                "given (rename it 'config' to receive the run's config, or bind it with "
                "functools.partial)"
            )
    return any(p.name == "config" for p in rest)


def _is_config_annotation(annotation: object) -> bool:
    return annotation is RunnableConfig or annotation in ("RunnableConfig", "RunnableConfig | None")


def _described(func: Callable[..., Any]) -> str:
    name = getattr(func, "__qualname__", None) or repr(func)
    try:
        return f"{name}{inspect.signature(func)}"
    except (TypeError, ValueError):
        return str(name)


def function_name(func: Callable[..., Any], default: str) -> str:
    name = getattr(func, "__name__", None)
    return name if isinstance(name, str) and name != "<lambda>" else default


@public
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
    _plain: bool = attrs.field(eq=False, repr=False, default=False)

    # A function taking `config` gets overloads of its own: mypy fails to infer through a union
    # of a callable and a callback protocol when the call has an expected type.
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: Callable[[I1], Iterator[O1]],
        afunc: Callable[[I1], AsyncIterator[O1]]
        | Callable[[I1, RunnableConfig], AsyncIterator[O1]]
        | None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: WithConfig[I1, Iterator[O1]],
        afunc: Callable[[I1], AsyncIterator[O1]]
        | Callable[[I1, RunnableConfig], AsyncIterator[O1]]
        | None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: Callable[[I1], AsyncIterator[O1]],
        afunc: None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: WithConfig[I1, AsyncIterator[O1]],
        afunc: None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: Callable[[I1], Coroutine[Any, Any, O1]],
        afunc: None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: WithConfig[I1, Coroutine[Any, Any, O1]],
        afunc: None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: Callable[[I1], Runnable[I1, O1]],
        afunc: None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: WithConfig[I1, Runnable[I1, O1]],
        afunc: None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: Callable[[I1], O1],
        afunc: Callable[[I1], Coroutine[Any, Any, O1]]
        | Callable[[I1, RunnableConfig], Coroutine[Any, Any, O1]]
        | None = None,
        *,
        name: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableLambda[I1, O1],
        func: WithConfig[I1, O1],
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
            raise RunnablesTypeError(f"RunnableLambda needs a callable, got {func!r}")
        if afunc is not None and function_kind(afunc) not in (_ASYNC, _AGEN):
            raise RunnablesTypeError(
                f"afunc must be an async function or async generator function, got {afunc!r}"
            )
        kind = function_kind(func)
        wants_config = accepts_config(func)
        self.__attrs_init__(  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
            func,
            afunc,
            name,
            kind,
            function_kind(afunc) if afunc is not None else kind,
            wants_config,
            kind == _SYNC and not wants_config,
        )

    @property
    def name(self) -> str:
        return self.explicit_name or function_name(self.func, "RunnableLambda")

    @property
    def _blocks(self) -> bool:
        return self._akind in (_SYNC, _GEN)

    def _one_chunk(self, sync: bool) -> bool:
        return (self._kind if sync else self._akind) in (_SYNC, _ASYNC)

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

    # -- the hooks: each shape of function reaches its leaf call

    def _kwargs(self, ctx: RunContext) -> dict[str, Any]:
        return {"config": ctx.as_config()} if self._wants_config else _NO_KWARGS

    def _call(self, input: In, ctx: RunContext) -> Out:
        if ctx is ROOT and self._plain:  # the untraced call of a plain function, kept short
            try:
                output: Any = self.func(input)
            except Exception as exc:
                add_step_note(exc, self.name)
                raise
            if isinstance(output, RunnableBase):
                return self._returned(cast("RunnableBase[In, Out]", output), input, ctx)
            return output  # type: ignore[no-any-return]  # (no `cast` call on the hot path)
        return super()._call(input, ctx)

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        kind = self._kind
        if kind == _SYNC:
            output = leaf(ctx, self.func, input, **self._kwargs(ctx))
            if isinstance(output, RunnableBase):
                return self._returned(cast("RunnableBase[In, Out]", output), input, ctx)
            return cast("Out", output)
        if kind == _GEN:
            return aggregate(self._stream(input, ctx), output_of=self.name)
        return run_coroutine_blocking(lambda: self._ainvoke(input, ctx))

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        if self._akind in (_GEN, _AGEN):
            return await aaggregate(self._astream(input, ctx), output_of=self.name)
        output = await self._aoutput(input, ctx)
        if isinstance(output, RunnableBase):
            returned = cast("RunnableBase[In, Out]", output)
            return await returned._acall(input, ctx.deeper(repr(self.name)))
        return cast("Out", output)

    async def _aoutput(self, input: In, ctx: RunContext) -> Any:
        """What the (sync or async, not streaming) function returns, in async calls."""
        if self._akind == _ASYNC:
            return await aleaf(ctx, self.afunc or self.func, input, **self._kwargs(ctx))
        return await aleaf_in_thread(ctx, self.func, input, **self._kwargs(ctx))

    def _returned(self, returned: RunnableBase[In, Out], input: In, ctx: RunContext) -> Out:
        """What a runnable returned by the function gives on the same input."""
        return returned._call(input, ctx.deeper(repr(self.name)))

    def _stream(self, input: In, ctx: RunContext) -> Iterator[Out]:
        kind = self._kind
        if kind == _GEN:
            return leaf_iter(ctx, self.func, input, **self._kwargs(ctx))
        if kind == _SYNC:
            output = leaf(ctx, self.func, input, **self._kwargs(ctx))
            if isinstance(output, RunnableBase):  # streamed, as a router's chosen chain should be
                returned = cast("RunnableBase[In, Out]", output)
                return returned._call_transform(iter((input,)), ctx.deeper(repr(self.name)))
            return iter((cast("Out", output),))
        return iterate_blocking(lambda: self._astream(input, ctx))

    def _astream(self, input: In, ctx: RunContext) -> AsyncIterator[Out]:
        kind = self._akind
        if kind == _AGEN:
            return aleaf_iter(ctx, self.afunc or self.func, input, **self._kwargs(ctx))
        if kind == _GEN:
            return aleaf_iter_in_threads(ctx, self.func, input, **self._kwargs(ctx))
        return _OutputStream(self, input, ctx)


class _OutputStream(AsyncIterator[Any]):
    """The async stream of a function that returns one value: that value, or, when it is a
    runnable, that runnable's stream on the same input. (A class: see `awaited`.)"""

    __slots__ = ("_ctx", "_input", "_lambda", "_returned")

    def __init__(self, owner: RunnableLambda[Any, Any], input: Any, ctx: RunContext) -> None:
        self._lambda: RunnableLambda[Any, Any] | None = owner
        self._input = input
        self._ctx = ctx
        self._returned: AsyncIterator[Any] | None = None

    def __aiter__(self) -> _OutputStream:
        return self

    async def __anext__(self) -> Any:
        returned = self._returned
        if returned is None:
            owner, self._lambda = self._lambda, None
            if owner is None:
                raise StopAsyncIteration
            output = await owner._aoutput(self._input, self._ctx)  # pyright: ignore[reportPrivateUsage]
            if not isinstance(output, RunnableBase):
                return output
            chosen = cast("RunnableBase[Any, Any]", output)
            depth = self._ctx.deeper(repr(owner.name))
            returned = chosen._acall_transform(aone(self._input), depth)  # pyright: ignore[reportPrivateUsage]
            self._returned = returned
        return await returned.__anext__()

    async def aclose(self) -> None:
        if self._returned is not None:
            await aclose_chunks(self._returned)


_NO_KWARGS: dict[str, Any] = {}


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


@overload
def runnable(func: Callable[[I1], Iterator[O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: WithConfig[I1, Iterator[O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: Callable[[I1], AsyncIterator[O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: WithConfig[I1, AsyncIterator[O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: Callable[[I1], Coroutine[Any, Any, O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(
    func: WithConfig[I1, Coroutine[Any, Any, O1]],
) -> RunnableLambda[I1, O1]: ...
# A router: the runnable it returns is invoked on the same input, so the step gives what
# that runnable gives.
@overload
def runnable(func: Callable[[I1], Runnable[I1, O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: WithConfig[I1, Runnable[I1, O1]]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: Callable[[I1], O1]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(func: WithConfig[I1, O1]) -> RunnableLambda[I1, O1]: ...
@overload
def runnable(*, name: str) -> _Decorator: ...
@public
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
    def __call__(self, func: WithConfig[I1, Iterator[O1]]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: Callable[[I1], AsyncIterator[O1]]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: WithConfig[I1, AsyncIterator[O1]]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: Callable[[I1], Coroutine[Any, Any, O1]]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: WithConfig[I1, Coroutine[Any, Any, O1]]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: Callable[[I1], Runnable[I1, O1]]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: WithConfig[I1, Runnable[I1, O1]]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: Callable[[I1], O1]) -> RunnableLambda[I1, O1]: ...
    @overload
    def __call__(self, func: WithConfig[I1, O1]) -> RunnableLambda[I1, O1]: ...
    def __call__(self, func: Callable[..., Any]) -> Any:
        return RunnableLambda(func, name=self.name)
