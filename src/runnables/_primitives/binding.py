"""`RunnableBinding`: a runnable with bound config, listeners or declared types."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from runnables._core.base import RunnableBase, schema_title
from runnables._core.config import RunnableConfig
from runnables._core.public import public

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.runs import Run
    from runnables.schema import Schema

__all__ = ["Listeners", "RunnableBinding"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I2 = TypeVar("I2")
O2 = TypeVar("O2")


@attrs.frozen
class Listeners:
    """The `with_listeners` callbacks, called with the bound runnable's own `Run` only."""

    on_start: Callable[[Run], object] | None = None
    on_end: Callable[[Run], object] | None = None
    on_error: Callable[[Run], object] | None = None


class _ListenerCallback:
    """Per-call adapter from run notifications to `Listeners`, for the first run it sees.
    Listeners get the run as LangChain's do: its inputs and outputs in LangChain's shapes
    (`runnables.tracing._shapes`)."""

    run_inline = True  # the library's own observer: called in place, in order

    __slots__ = ("listeners", "run_id")

    def __init__(self, listeners: Listeners) -> None:
        self.listeners = listeners
        self.run_id: object = None

    def on_start(self, run: Run) -> None:
        from runnables.tracing._shapes import langchain_run

        if self.run_id is None:
            self.run_id = run.id
            if self.listeners.on_start is not None:
                self.listeners.on_start(langchain_run(run))

    def on_end(self, run: Run) -> None:
        from runnables.tracing._shapes import langchain_run

        if run.id == self.run_id and self.listeners.on_end is not None:
            self.listeners.on_end(langchain_run(run))

    def on_error(self, run: Run, error: BaseException) -> None:
        from runnables.tracing._shapes import langchain_run

        if run.id == self.run_id and self.listeners.on_error is not None:
            self.listeners.on_error(langchain_run(run))


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

        return Schema(self.input_type, schema_title(self.name, "Input"))

    @property
    def output_schema(self: RunnableBinding[Any, O2]) -> Schema[O2]:
        if self.declared_output_type is None and self.config.get("run_name") is None:
            return self.bound.output_schema
        from runnables.schema import Schema

        return Schema(self.output_type, schema_title(self.name, "Output"))

    @property
    def run_type(self) -> str:
        return self.bound.run_type

    def _batch_context(self, ctx: RunContext) -> RunContext:
        return ctx.merged(self.config, call=False)

    def _context(self, ctx: RunContext) -> RunContext:
        ctx = ctx.merged(self.config, call=False)
        if self.listeners is not None:
            ctx = ctx.replace(callbacks=(*ctx.callbacks, _ListenerCallback(self.listeners)))
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
