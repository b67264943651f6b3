"""`RunnableBinding`: a runnable with bound config, listeners or declared types."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar, Union, cast

import attrs

from runnables._core.base import RunnableBase
from runnables._core.config import RunnableConfig
from runnables._core.public import public
from runnables._core.runs import Run

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables.schema import Schema

__all__ = [
    "AsyncListener",
    "AsyncListenerWithConfig",
    "Listener",
    "ListenerWithConfig",
    "Listeners",
    "RunnableBinding",
]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I2 = TypeVar("I2")
O2 = TypeVar("O2")


class ListenerWithConfig(Protocol):
    """A listener that also takes the call's config, as a parameter named `config` (LangChain's
    rule: a listener with a `config` parameter gets it, as a keyword)."""

    def __call__(self, run: Run, /, *, config: RunnableConfig) -> object: ...


class AsyncListenerWithConfig(Protocol):
    """An async listener that also takes the call's config (see `ListenerWithConfig`)."""

    def __call__(self, run: Run, /, *, config: RunnableConfig) -> Awaitable[object]: ...


Listener: TypeAlias = Union[Callable[[Run], object], ListenerWithConfig]  # noqa: UP007
"""What `with_listeners` takes: a function of the `Run`, or of the `Run` and `config`."""

AsyncListener: TypeAlias = Union[Callable[[Run], Awaitable[object]], AsyncListenerWithConfig]  # noqa: UP007
"""What `with_alisteners` takes: an async function of the `Run`, or of the `Run` and `config`."""


def _takes_config(listener: Callable[..., object] | None) -> bool:
    if listener is None:
        return False
    try:
        return "config" in inspect.signature(listener).parameters
    except (TypeError, ValueError):  # no signature to read (some builtins)
        return False


@attrs.frozen
class Listeners:
    """The `with_listeners` callbacks, called with the bound runnable's own `Run` only (and
    the call's config, for those with a `config` parameter). What one returns to await (an
    async listener) is awaited before the run goes on."""

    on_start: Listener | None = None
    on_end: Listener | None = None
    on_error: Listener | None = None
    #: Which of the three take `config`, worked out once.
    with_config: tuple[bool, bool, bool] = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(lambda self: _which_take_config(self), takes_self=True),
    )


def _which_take_config(listeners: Listeners) -> tuple[bool, bool, bool]:
    return (
        _takes_config(listeners.on_start),
        _takes_config(listeners.on_end),
        _takes_config(listeners.on_error),
    )


class _ListenerCallback:
    """Per-call adapter from run notifications to `Listeners`, for the first run it sees.
    Listeners get the run as LangChain's do: its inputs and outputs in LangChain's shapes
    (`runnables.tracing._shapes`). What a listener returns is returned, so that an async
    listener is awaited in place, in order."""

    run_inline = True  # the library's own observer: called in place, in order

    __slots__ = ("ctx", "listeners", "run_id")

    def __init__(self, listeners: Listeners, ctx: RunContext) -> None:
        self.listeners = listeners
        self.ctx = ctx  # the call's, for listeners that take its config
        self.run_id: object = None

    def _tell(self, listener: Listener | None, with_config: bool, run: Run) -> object:
        from runnables.tracing._shapes import langchain_run

        if listener is None:
            return None
        call = cast("Callable[..., object]", listener)  # the kind checked by `with_config`
        if with_config:
            told = call(langchain_run(run), config=self.ctx.as_config())
        else:
            told = call(langchain_run(run))
        if inspect.isawaitable(told):
            return _bounded(told, listener)
        return told

    def on_start(self, run: Run) -> object:
        if self.run_id is not None:
            return None
        self.run_id = run.id
        return self._tell(self.listeners.on_start, self.listeners.with_config[0], run)

    def on_end(self, run: Run) -> object:
        if run.id != self.run_id:
            return None
        return self._tell(self.listeners.on_end, self.listeners.with_config[1], run)

    def on_error(self, run: Run, error: BaseException) -> object:
        if run.id != self.run_id:
            return None
        return self._tell(self.listeners.on_error, self.listeners.with_config[2], run)


async def _bounded(told: Awaitable[object], listener: object) -> None:
    """Await an async listener, cancelling it (logged) past `CALLBACK_TIMEOUT`: a listener
    awaited in place may slow its run down, not hold it forever."""
    import anyio

    from runnables._core import dispatch

    with anyio.move_on_after(dispatch.CALLBACK_TIMEOUT) as scope:
        await told
    if scope.cancelled_caught:
        logging.getLogger("runnables").error(
            "listener %r took more than %s s and was cancelled; the run goes on",
            listener,
            dispatch.CALLBACK_TIMEOUT,
        )


@public
@attrs.frozen
class RunnableBinding(RunnableBase[In, Out]):
    """`bound` with config merged under each call's, optional listeners, and optionally other
    declared types. It adds no run of its own: `run_name` renames the bound runnable's run."""

    bound: RunnableBase[Any, Any]
    config: RunnableConfig = attrs.field(factory=lambda: RunnableConfig())
    listeners: Listeners | None = None
    declared_input_type: Any = None
    declared_output_type: Any = None

    @property
    def name(self) -> str:
        return self.config.get("run_name") or self.bound.name

    @property
    def input_type(self) -> Any:
        return (
            self.bound.input_type if self.declared_input_type is None else self.declared_input_type
        )

    @property
    def output_type(self) -> Any:
        return (
            self.bound.output_type
            if self.declared_output_type is None
            else self.declared_output_type
        )

    @property
    def input_schema(self: RunnableBinding[I2, Any]) -> Schema[I2]:
        if self.declared_input_type is None and self.config.get("run_name") is None:
            return self.bound.input_schema
        from runnables.schema import Schema

        return Schema(self.input_type, f"{self.name}Input")

    @property
    def output_schema(self: RunnableBinding[Any, O2]) -> Schema[O2]:
        if self.declared_output_type is None and self.config.get("run_name") is None:
            return self.bound.output_schema
        from runnables.schema import Schema

        return Schema(self.output_type, f"{self.name}Output")

    @property
    def run_type(self) -> str:
        return self.bound.run_type

    def _batch_context(self, ctx: RunContext) -> RunContext:
        return ctx.merged(self.config, call=False)

    def _context(self, ctx: RunContext) -> RunContext:
        ctx = ctx.merged(self.config, call=False)
        if self.listeners is not None:
            ctx = ctx.replace(callbacks=(*ctx.callbacks, _ListenerCallback(self.listeners, ctx)))
        return ctx

    def _call(self, input: In, ctx: RunContext) -> Out:
        return self.bound._call(input, self._context(ctx))  # type: ignore[no-any-return]

    async def _acall(self, input: In, ctx: RunContext) -> Out:
        return await self.bound._acall(input, self._context(ctx))  # type: ignore[no-any-return]

    def _call_transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        return self.bound._call_transform(inputs, self._context(ctx))

    def _acall_transform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        return self.bound._acall_transform(inputs, self._context(ctx))

    _invoke = _call
    _ainvoke = _acall
    _transform = _call_transform
    _atransform = _acall_transform
