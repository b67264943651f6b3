"""`RunnableRetry`: run again after a failure, with exponential back-off and jitter."""

from __future__ import annotations

import math
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import attrs
from typing_extensions import TypedDict

from runnables._core.base import RunnableBase
from runnables._core.batching import abatch_calls
from runnables._core.public import public
from runnables._core.streaming import ARecorder, Recorder, aone, closing_chunks
from runnables._primitives.catching import check_exception_types
from runnables.errors import RunnablesValueError

if TYPE_CHECKING:
    from runnables._core.context import RunContext

__all__ = ["ExponentialJitterParams", "RunnableRetry"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)

#: Back-off between attempts: INITIAL_WAIT * EXP_BASE**(attempt-1) plus up to JITTER, capped
#: at MAX_WAIT (tenacity's `wait_exponential_jitter`, with shorter defaults).
INITIAL_WAIT = 0.1
MAX_WAIT = 10.0
EXP_BASE = 2.0
JITTER = 0.1


@public
class ExponentialJitterParams(TypedDict, total=False):
    """The back-off of `with_retry(exponential_jitter_params=...)`, in seconds: the wait after
    attempt n is `initial * exp_base ** (n - 1)` plus a random jitter in `[0, jitter]`, at most
    `max`. A key left out keeps its default (`initial` 0.1, `max` 10, `exp_base` 2, `jitter`
    0.1)."""

    initial: float
    max: float
    exp_base: float
    jitter: float


def _at_least_one(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or value < 1:
        raise RunnablesValueError(f"stop_after_attempt must be an int of at least 1, got {value!r}")


def _check_jitter_params(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise RunnablesValueError(
            f"exponential_jitter_params must be a dict with keys initial, max, exp_base, "
            f"jitter; got {value!r:.100}"
        )
    params: Mapping[object, object] = value  # pyright: ignore[reportUnknownVariableType]
    unknown = sorted(
        str(key) for key in params if key not in ExponentialJitterParams.__annotations__
    )
    if unknown:
        raise RunnablesValueError(
            f"exponential_jitter_params has unknown keys {unknown}; the keys are initial, max, "
            "exp_base, jitter"
        )
    for key, number in params.items():
        if (
            isinstance(number, bool)
            or not isinstance(number, (int, float))
            or not math.isfinite(number)
            or number < 0
        ):
            raise RunnablesValueError(
                f"exponential_jitter_params[{key!r}] must be a number of at least 0, got {number!r}"
            )


def _check_predicate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not callable(value):
        raise RunnablesValueError(
            f"retry_if_exception must be a function of the exception returning a bool, "
            f"got {value!r:.100}"
        )


@public
@attrs.frozen
class RunnableRetry(RunnableBase[In, Out]):
    """Retry `bound` on `retry_if_exception_type` up to `stop_after_attempt` attempts in all.

    A stream is retried only while it has yielded nothing. The last error is raised.
    Only `Exception`s are retried (listing `BaseException` retries what `Exception` does):
    interrupts, exits and cancellation always propagate at once, as in `RunnableWithFallbacks`.
    `retry_if_exception`, if given, must also say yes for a failure to be retried (e.g.
    `lambda exc: exc.status == 429`); `exponential_jitter_params` tunes the wait between
    attempts (`ExponentialJitterParams`). A batch retries each input on its own and raises the
    failure of the lowest failing index.
    """

    bound: RunnableBase[In, Out]
    stop_after_attempt: int = attrs.field(default=3, validator=_at_least_one)
    retry_if_exception_type: tuple[type[BaseException], ...] = attrs.field(
        default=(Exception,), validator=check_exception_types
    )
    wait_exponential_jitter: bool = True
    exponential_jitter_params: ExponentialJitterParams | None = attrs.field(
        default=None, validator=_check_jitter_params
    )
    retry_if_exception: Callable[[Exception], bool] | None = attrs.field(
        default=None, validator=_check_predicate
    )

    @property
    def name(self) -> str:
        return self.bound.name

    async def _abatch_each(
        self, items: list[Any], ctxs: list[RunContext], width: int | None, return_exceptions: bool
    ) -> list[Any]:
        # LangChain's rule for a retried batch: the failure of the lowest failing index.
        return await abatch_calls(self._acall, items, ctxs, width, return_exceptions, ordered=True)

    @property
    def run_type(self) -> str:
        return self.bound.run_type

    @property
    def input_type(self) -> Any:
        return self.bound.input_type

    @property
    def output_type(self) -> Any:
        return self.bound.output_type

    # A stream adds no run of its own around its attempts' runs (as LangChain's does not).

    def _call_transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        return self._transform(inputs, ctx)

    def _acall_transform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        return self._atransform(inputs, ctx)

    # The drivers below only call, sleep and yield; `_Attempts` decides.

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        attempts = _Attempts(self, ctx)
        while True:
            try:
                return self.bound._call(input, attempts.context)
            except Exception as exc:
                if not attempts.retry_after(exc):
                    raise
            time.sleep(attempts.wait)

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        attempts = _Attempts(self, ctx)
        while True:
            try:
                return await self.bound._acall(input, attempts.context)
            except Exception as exc:
                if not attempts.retry_after(exc):
                    raise
            await anyio.sleep(attempts.wait)

    # The first attempt streams the input through (recording it); a retry runs on the whole
    # input. A failure of the input itself is not retried.

    def _transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        attempts = _Attempts(self, ctx)
        seen = Recorder(inputs)
        source: Iterator[Any] = seen
        while True:
            chunks = self.bound._call_transform(source, attempts.context)
            try:
                first = next(chunks)
            except StopIteration:
                return
            except Exception as exc:
                if seen.failed is not None or not attempts.retry_after(exc):
                    raise
            else:
                yield first
                yield from chunks
                return
            source = iter((seen.whole(),))
            time.sleep(attempts.wait)

    async def _atransform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        attempts = _Attempts(self, ctx)
        seen = ARecorder(inputs)
        source: AsyncIterator[Any] = seen
        while True:
            async with closing_chunks(
                self.bound._acall_transform(source, attempts.context)
            ) as chunks:
                try:
                    first = await chunks.__anext__()
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    if seen.failed is not None or not attempts.retry_after(exc):
                        raise
                else:
                    yield first
                    async for chunk in chunks:
                        yield chunk
                    return
            source = aone(await seen.whole())
            await anyio.sleep(attempts.wait)


class _Attempts:
    """The retry decisions of one call, without I/O: the context of the current attempt, and
    after a failure whether to try again and how long to wait first."""

    __slots__ = ("_ctx", "_retry", "context", "number", "wait")

    def __init__(self, retry: RunnableRetry[Any, Any], ctx: RunContext) -> None:
        self._retry = retry
        self._ctx = ctx
        self.number = 1
        self.context = ctx
        self.wait = 0.0

    def retry_after(self, exc: Exception) -> bool:
        """Whether attempt `number`, which raised `exc`, is followed by another one."""
        retry = self._retry
        if self.number >= retry.stop_after_attempt or not isinstance(
            exc, retry.retry_if_exception_type
        ):
            return False
        if retry.retry_if_exception is not None and not retry.retry_if_exception(exc):
            return False
        self.wait = (
            _wait(retry.exponential_jitter_params, self.number)
            if retry.wait_exponential_jitter
            else 0.0
        )
        self.number += 1
        # A new run: the id given for this call's run belongs to the first attempt.
        self.context = self._ctx.replace(run_id=None).with_local_tag(f"retry:attempt:{self.number}")
        return True


def _wait(params: ExponentialJitterParams | None, attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
    given = params or ExponentialJitterParams()
    initial = given.get("initial", INITIAL_WAIT)
    cap = given.get("max", MAX_WAIT)
    jitter = random.uniform(0, given.get("jitter", JITTER))
    try:
        wait = initial * given.get("exp_base", EXP_BASE) ** (attempt - 1) + jitter
    except OverflowError:
        return cap
    return min(wait, cap)
