"""Running one call per input of a batch, with LangChain's rule for which failure is raised.

Sync batches raise the failure of the lowest failing index, whatever failed first in time:
indices are handed out in order, so once one has failed no new one is started (none could
fail lower), and the running ones are waited for. Async batches cancel the rest at the first
failure (as `asyncio.gather` does) unless `ordered`, which applies the sync rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from runnables._core.concurrency import afan_out, fan_out

if TYPE_CHECKING:
    from runnables._core.context import RunContext

__all__ = ["abatch_calls", "batch_calls"]


def batch_calls(
    call: Callable[[Any, RunContext], Any],
    items: Sequence[Any],
    ctxs: Sequence[RunContext],
    width: int,
    return_exceptions: bool,
) -> list[Any]:
    """`call(item, ctx)` for each item on threads, outputs in input order (with
    `return_exceptions`, a failure in place of its output)."""
    results: list[Any] = [None] * len(items)
    failures: list[tuple[int, Exception]] = []

    def run_one(index: int) -> None:
        try:
            results[index] = call(items[index], ctxs[index])
        except Exception as exc:
            if not return_exceptions:
                failures.append((index, exc))
                raise
            results[index] = exc

    try:
        fan_out(run_one, len(items), width)
    except Exception:
        if not failures:
            raise
    else:
        return results
    raise min(failures, key=_index)[1]


async def abatch_calls(
    acall: Callable[[Any, RunContext], Awaitable[Any]],
    items: Sequence[Any],
    ctxs: Sequence[RunContext],
    width: int | None,
    return_exceptions: bool,
    *,
    ordered: bool = False,
) -> list[Any]:
    """`await acall(item, ctx)` for each item as tasks, outputs in input order."""
    results: list[Any] = [None] * len(items)
    failures: list[tuple[int, Exception]] = []
    keep_going = return_exceptions or ordered

    async def run_one(index: int) -> None:
        if failures:  # ordered: a lower index has failed, nothing above it can matter
            return
        try:
            results[index] = await acall(items[index], ctxs[index])
        except Exception as exc:
            if not keep_going:
                raise
            if return_exceptions:
                results[index] = exc
            else:
                failures.append((index, exc))

    await afan_out(run_one, len(items), width)
    if failures:
        raise min(failures, key=_index)[1]
    return results


def _index(failure: tuple[int, Exception]) -> int:
    return failure[0]
