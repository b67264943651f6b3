"""Decorator forms of the wrappers: `@with_retry(...)` over `@runnable` is `f.with_retry(...)`.

Each `with_*` here takes the method's own arguments and returns a decorator, a frozen value,
that applies the method to any step (a runnable, or an object with `invoke` and `ainvoke`).
Decorators apply bottom-up, so the one nearest the function wraps first:

    @with_retry(stop_after_attempt=2)
    @with_config(tags=["x"])
    @runnable
    def f(text: str) -> int: ...

is `runnable(f).with_config(tags=["x"]).with_retry(stop_after_attempt=2)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

import attrs
from typing_extensions import Never, Unpack

from runnables._core.base import RunnableBase
from runnables._core.config import RunnableConfig, check_config
from runnables._core.public import public

if TYPE_CHECKING:
    from typing_extensions import TypeForm

    from runnables._core.protocol import SupportsInvoke
    from runnables._primitives.binding import Listener, RunnableBinding
    from runnables._primitives.fallbacks import RunnableWithFallbacks
    from runnables._primitives.retry import ExponentialJitterParams, RunnableRetry

__all__ = ["with_config", "with_fallbacks", "with_listeners", "with_retry", "with_types"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I1 = TypeVar("I1")
O1 = TypeVar("O1")


def _step(step: SupportsInvoke[I1, O1]) -> RunnableBase[I1, O1]:
    from runnables._primitives.coerce import coerce_to_runnable

    return cast("RunnableBase[I1, O1]", coerce_to_runnable(step))


@attrs.frozen
class Retrying:
    """The decorator `with_retry(...)` returns."""

    stop_after_attempt: int = 3
    retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,)
    wait_exponential_jitter: bool = True
    exponential_jitter_params: ExponentialJitterParams | None = None
    retry_if_exception: Callable[[Exception], bool] | None = None

    def __call__(self, step: SupportsInvoke[I1, O1]) -> RunnableRetry[I1, O1]:
        return _step(step).with_retry(
            stop_after_attempt=self.stop_after_attempt,
            retry_if_exception_type=self.retry_if_exception_type,
            wait_exponential_jitter=self.wait_exponential_jitter,
            exponential_jitter_params=self.exponential_jitter_params,
            retry_if_exception=self.retry_if_exception,
        )


@public
def with_retry(
    *,
    stop_after_attempt: int = 3,
    retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,),
    wait_exponential_jitter: bool = True,
    exponential_jitter_params: ExponentialJitterParams | None = None,
    retry_if_exception: Callable[[Exception], bool] | None = None,
) -> Retrying:
    """`@with_retry(...)`: the decorator form of `Runnable.with_retry`."""
    return Retrying(
        stop_after_attempt,
        retry_if_exception_type,
        wait_exponential_jitter,
        exponential_jitter_params,
        retry_if_exception,
    )


# A fallback may take a wider input and give a narrower output than the step it backs up, as
# with the method: `In` and `Out` keep their variance, and `__call__` solves the step's own.
@attrs.frozen
class FallingBack(Generic[In, Out]):
    """The decorator `with_fallbacks(...)` returns."""

    fallbacks: tuple[SupportsInvoke[In, Out], ...]
    exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,)
    exception_key: str | None = None

    def __call__(
        self: FallingBack[I1, O1], step: SupportsInvoke[I1, O1]
    ) -> RunnableWithFallbacks[I1, O1]:
        return _step(step).with_fallbacks(
            self.fallbacks,
            exceptions_to_handle=self.exceptions_to_handle,
            exception_key=self.exception_key,
        )


@public
def with_fallbacks(
    *fallbacks: SupportsInvoke[I1, O1],
    exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
    exception_key: str | None = None,
) -> FallingBack[I1, O1]:
    """`@with_fallbacks(backup, ...)`: the decorator form of `Runnable.with_fallbacks` (the
    fallbacks are given one by one, not as a list)."""
    return FallingBack(fallbacks, exceptions_to_handle, exception_key)


@attrs.frozen
class Configured:
    """The decorator `with_config(...)` returns."""

    config: RunnableConfig

    def __call__(self, step: SupportsInvoke[I1, O1]) -> RunnableBinding[I1, O1]:
        return _step(step).with_config(self.config)


@public
def with_config(config: RunnableConfig | None = None, **keys: Unpack[RunnableConfig]) -> Configured:
    """`@with_config(run_name=..., tags=[...])`: the decorator form of `Runnable.with_config`
    (an unknown key is a `TypeError` here, not when the decorator is applied)."""
    merged: RunnableConfig = {**(config or {}), **keys}
    check_config(merged)
    return Configured(merged)


@attrs.frozen
class Listened:
    """The decorator `with_listeners(...)` returns."""

    on_start: Listener | None = None
    on_end: Listener | None = None
    on_error: Listener | None = None

    def __call__(self, step: SupportsInvoke[I1, O1]) -> RunnableBinding[I1, O1]:
        return _step(step).with_listeners(
            on_start=self.on_start, on_end=self.on_end, on_error=self.on_error
        )


@public
def with_listeners(
    *,
    on_start: Listener | None = None,
    on_end: Listener | None = None,
    on_error: Listener | None = None,
) -> Listened:
    """`@with_listeners(on_end=...)`: the decorator form of `Runnable.with_listeners`."""
    return Listened(on_start, on_end, on_error)


def _declared(
    step: SupportsInvoke[Any, Any], input_type: object, output_type: object
) -> RunnableBinding[Any, Any]:
    """What `step.with_types(input_type=..., output_type=...)` gives (`None`: the step's own)."""
    from runnables._primitives.binding import RunnableBinding

    return RunnableBinding(
        bound=_step(step), declared_input_type=input_type, declared_output_type=output_type
    )


# `with_types` declares types in place of the step's own, so the step may have any input
# (`SupportsInvoke[Never, ...]` is every step) and, where an output type is declared, any output.
@attrs.frozen
class DeclaringInput(Generic[I1]):
    """The decorator `with_types(input_type=...)` returns."""

    input_type: object

    def __call__(self, step: SupportsInvoke[Never, O1]) -> RunnableBinding[I1, O1]:
        return _declared(step, self.input_type, None)


@attrs.frozen
class DeclaringOutput(Generic[O1]):
    """The decorator `with_types(output_type=...)` returns."""

    output_type: object

    def __call__(self, step: SupportsInvoke[I1, object]) -> RunnableBinding[I1, O1]:
        return _declared(step, None, self.output_type)


@attrs.frozen
class DeclaringTypes(Generic[I1, O1]):
    """The decorator `with_types(input_type=..., output_type=...)` returns."""

    input_type: object
    output_type: object

    def __call__(self, step: SupportsInvoke[Never, object]) -> RunnableBinding[I1, O1]:
        return _declared(step, self.input_type, self.output_type)


@overload
def with_types(*, input_type: TypeForm[I1]) -> DeclaringInput[I1]: ...
@overload
def with_types(*, output_type: TypeForm[O1]) -> DeclaringOutput[O1]: ...
@overload
def with_types(
    *, input_type: TypeForm[I1], output_type: TypeForm[O1]
) -> DeclaringTypes[I1, O1]: ...
@public
def with_types(*, input_type: object = None, output_type: object = None) -> Any:
    """`@with_types(input_type=..., output_type=...)`: the decorator form of
    `Runnable.with_types` (at least one of the two)."""
    if input_type is None and output_type is None:
        from runnables.errors import RunnablesTypeError

        raise RunnablesTypeError("with_types needs input_type, output_type or both")
    if output_type is None:
        return DeclaringInput[Any](input_type)
    if input_type is None:
        return DeclaringOutput[Any](output_type)
    return DeclaringTypes[Any, Any](input_type, output_type)
