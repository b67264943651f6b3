"""`RunnableWithFallbacks`: try alternatives in order when a runnable fails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from runnables._core.base import RunnableBase
from runnables._core.public import public
from runnables._core.streaming import aaggregate, add_note, aggregate, aone, closing_chunks
from runnables._primitives.catching import check_exception_types
from runnables._primitives.coerce import coerce_to_runnable
from runnables.errors import RunnablesTypeError

if TYPE_CHECKING:
    from runnables._core.context import RunContext

__all__ = ["RunnableWithFallbacks"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)


def _coerce_all(fallbacks: Iterable[object]) -> tuple[RunnableBase[Any, Any], ...]:
    return tuple(coerce_to_runnable(fallback) for fallback in fallbacks)


@public
@attrs.frozen
class RunnableWithFallbacks(RunnableBase[In, Out]):
    """Run `runnable`; on one of `exceptions_to_handle`, try each fallback in turn.

    Only `Exception`s are handled, as `RunnableRetry` retries only those: listing
    `BaseException` handles what `Exception` does, and `KeyboardInterrupt`, `SystemExit`,
    `GeneratorExit`, cancellation and exception groups holding any of them always propagate
    unchanged, with no fallback tried. With `exception_key`, the input must be a dict (checked
    before the first attempt) and a fallback gets it plus that key set to the previous error.
    If every attempt fails, the first error is raised, noting the fallbacks' errors.
    A stream falls back only while it has yielded nothing (an empty stream is a success).
    """

    runnable: RunnableBase[In, Out]
    fallbacks: tuple[RunnableBase[In, Out], ...] = attrs.field(converter=_coerce_all)
    exceptions_to_handle: tuple[type[BaseException], ...] = attrs.field(
        default=(Exception,), validator=check_exception_types
    )
    exception_key: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(str))
    )

    @property
    def bound(self) -> RunnableBase[In, Out]:
        """The wrapped runnable (`runnable`, LangChain's name), as every wrapper calls it."""
        return self.runnable

    @property
    def name(self) -> str:
        return self.runnable.name

    @property
    def run_type(self) -> str:
        return self.runnable.run_type

    @property
    def input_type(self) -> Any:
        return self.runnable.input_type

    @property
    def output_type(self) -> Any:
        return self.runnable.output_type

    def _attempts(self) -> Iterator[RunnableBase[In, Out]]:
        yield self.runnable
        yield from self.fallbacks

    def _check_input(self, input: object) -> None:
        if self.exception_key is not None and not isinstance(input, Mapping):
            raise RunnablesTypeError(
                f"exception_key={self.exception_key!r} needs a dict input, got {type(input).__name__}"
            )

    def _input_for(self, input: Any, errors: list[Exception]) -> Any:
        if self.exception_key is None or not errors:
            return input
        return {**cast("Mapping[str, Any]", input), self.exception_key: errors[-1]}

    def _give_up(self, errors: list[Exception]) -> Exception:
        first = errors[0]
        for attempt, error in zip(self.fallbacks, errors[1:], strict=False):
            add_note(
                first, f"fallback {attempt.name!r} also failed: {type(error).__name__}: {error}"
            )
        return first

    # Each driver catches `Exception`, never `BaseException`, and re-raises what it does not
    # handle.

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        self._check_input(input)
        errors: list[Exception] = []
        for position, attempt in enumerate(self._attempts()):
            attempt_input = self._input_for(input, errors)
            try:
                return attempt._call(attempt_input, _tag(ctx, position))
            except Exception as exc:
                if not isinstance(exc, self.exceptions_to_handle):
                    raise
                errors.append(exc)
        raise self._give_up(errors)

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        self._check_input(input)
        errors: list[Exception] = []
        for position, attempt in enumerate(self._attempts()):
            attempt_input = self._input_for(input, errors)
            try:
                return await attempt._acall(attempt_input, _tag(ctx, position))
            except Exception as exc:
                if not isinstance(exc, self.exceptions_to_handle):
                    raise
                errors.append(exc)
        raise self._give_up(errors)

    def _transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        input = aggregate(inputs)
        self._check_input(input)
        errors: list[Exception] = []
        for position, attempt in enumerate(self._attempts()):
            source = iter((self._input_for(input, errors),))
            chunks = attempt._call_transform(source, _tag(ctx, position))
            try:
                first = next(chunks)
            except StopIteration:
                return
            except Exception as exc:
                if not isinstance(exc, self.exceptions_to_handle):
                    raise
                errors.append(exc)
                continue
            yield first
            yield from chunks
            return
        raise self._give_up(errors)

    async def _atransform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        input = await aaggregate(inputs)
        self._check_input(input)
        errors: list[Exception] = []
        for position, attempt in enumerate(self._attempts()):
            source = aone(self._input_for(input, errors))
            async with closing_chunks(
                attempt._acall_transform(source, _tag(ctx, position))
            ) as chunks:
                try:
                    first = await chunks.__anext__()
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    if not isinstance(exc, self.exceptions_to_handle):
                        raise
                    errors.append(exc)
                    continue
                yield first
                async for chunk in chunks:
                    yield chunk
                return
        raise self._give_up(errors)


def _tag(ctx: RunContext, position: int) -> RunContext:
    return ctx if position == 0 else ctx.with_local_tag(f"fallback:{position}")
