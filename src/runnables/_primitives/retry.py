"""`RunnableRetry`: run again after a failure, with exponential back-off and jitter."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import attrs

from runnables._core.base import RunnableBase
from runnables._core.streaming import aaggregate, aggregate, aone, closing_chunks

if TYPE_CHECKING:
    from runnables._core.context import RunContext

__all__ = ["RunnableRetry"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)

#: Back-off between attempts: INITIAL_WAIT * 2**(attempt-1), capped at MAX_WAIT, plus up to JITTER.
INITIAL_WAIT = 0.1
MAX_WAIT = 10.0
JITTER = 0.1


@attrs.frozen
class RunnableRetry(RunnableBase[In, Out]):
    """Retry `bound` on `retry_if_exception_type` up to `stop_after_attempt` attempts in all.

    A stream is retried only while it has yielded nothing. The last error is raised.
    """

    bound: RunnableBase[In, Out]
    stop_after_attempt: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,)
    wait_exponential_jitter: bool = True

    @property
    def name(self) -> str:
        return self.bound.name

    @property
    def run_type(self) -> str:
        return self.bound.run_type

    @property
    def input_type(self) -> Any:
        return self.bound.input_type

    @property
    def output_type(self) -> Any:
        return self.bound.output_type

    def _wait(self, attempt: int) -> float:
        if not self.wait_exponential_jitter:
            return 0.0
        return min(MAX_WAIT, INITIAL_WAIT * 2.0 ** (attempt - 1)) + random.uniform(0, JITTER)

    def _should_retry(self, exc: BaseException, attempt: int) -> bool:
        return attempt < self.stop_after_attempt and isinstance(exc, self.retry_if_exception_type)

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        attempt = 1
        while True:
            try:
                return self.bound._call(input, _tag(ctx, attempt))
            except Exception as exc:
                if not self._should_retry(exc, attempt):
                    raise
            time.sleep(self._wait(attempt))
            attempt += 1

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        attempt = 1
        while True:
            try:
                return await self.bound._acall(input, _tag(ctx, attempt))
            except Exception as exc:
                if not self._should_retry(exc, attempt):
                    raise
            await anyio.sleep(self._wait(attempt))
            attempt += 1

    def _transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        input = aggregate(inputs)
        attempt = 1
        while True:
            chunks = self.bound._call_transform(iter((input,)), _tag(ctx, attempt))
            try:
                first = next(chunks)
            except StopIteration:
                return
            except Exception as exc:
                if not self._should_retry(exc, attempt):
                    raise
                time.sleep(self._wait(attempt))
                attempt += 1
                continue
            yield first
            yield from chunks
            return

    async def _atransform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        input = await aaggregate(inputs)
        attempt = 1
        while True:
            source = aone(input)
            async with closing_chunks(
                self.bound._acall_transform(source, _tag(ctx, attempt))
            ) as chunks:
                try:
                    first = await chunks.__anext__()
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    if not self._should_retry(exc, attempt):
                        raise
                else:
                    yield first
                    async for chunk in chunks:
                        yield chunk
                    return
            await anyio.sleep(self._wait(attempt))
            attempt += 1


def _tag(ctx: RunContext, attempt: int) -> RunContext:
    return ctx if attempt == 1 else ctx.with_local_tag(f"retry:attempt:{attempt}")
