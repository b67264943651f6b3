"""The worker side: run one chunk of items and hand back outputs, failures and run events.

This module is pickled by reference into every chunk task, so it imports only what a worker
needs; it never touches the client's callbacks, which cannot travel.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs

from runnables._core.config import RunnableConfig
from runnables._core.protocol import Runnable
from runnables._core.runs import Run
from runnables.dask._cluster import event, worker_semaphore

__all__ = ["ChunkResult", "Failed", "RunEvent", "run_chunk"]

_CANCEL_CHECK_SECONDS = 0.2


@attrs.frozen
class Failed:
    """An item that raised after its last attempt (kept apart from outputs that are exceptions)."""

    error: Exception


@attrs.frozen
class RunEvent:
    """A run start, end or error seen on a worker, replayed to the client's callbacks."""

    kind: str
    run: Run
    error: BaseException | None = None


@attrs.frozen
class ChunkResult:
    """One chunk's outputs (a `Failed` where an item raised), in input order, and its events."""

    outputs: list[Any]
    events: list[list[RunEvent]] | None


class _Collector:
    """A callback that keeps every start, end and error of one item's runs on this worker."""

    run_inline = True  # called in place: it only appends

    def __init__(self) -> None:
        self.events: list[RunEvent] = []

    def on_start(self, run: Run) -> None:
        self.events.append(RunEvent("start", run))

    def on_end(self, run: Run) -> None:
        self.events.append(RunEvent("end", run))

    def on_error(self, run: Run, exc: BaseException) -> None:
        self.events.append(RunEvent("error", run, exc))


@attrs.frozen
class ChunkPlan:
    """What every chunk of one job shares: the step, retries and the cluster-wide handles.

    `budget` names the `distributed.Semaphore` holding the job's `max_concurrency` (None when
    it has none); `cancel_event` names the `distributed.Event` the client sets to stop
    remaining items.
    """

    runnable: Runnable[Any, Any]
    attempts: int
    trace: bool
    budget: str | None
    limit: int
    cancel_event: str


def run_chunk(
    plan: ChunkPlan, items: Sequence[Any], configs: Sequence[RunnableConfig]
) -> ChunkResult:
    """Run `items` with their `configs` on this worker (a Dask task)."""
    collectors = [_Collector() for _ in items] if plan.trace else None
    if collectors is not None:
        configs = [
            {**config, "callbacks": [collector]}
            for config, collector in zip(configs, collectors, strict=True)
        ]
    if plan.budget is None:
        outputs = _run_unbounded(plan, items, configs)
    else:
        outputs = _run_leased(plan, items, configs)
    events = [c.events for c in collectors] if collectors is not None else None
    return ChunkResult(outputs, events)


def _run_unbounded(
    plan: ChunkPlan, items: Sequence[Any], configs: Sequence[RunnableConfig]
) -> list[Any]:
    """No cluster budget: the step's own `batch` runs the chunk, failures are run again."""
    results: list[Any] = list(plan.runnable.batch(items, list(configs), return_exceptions=True))
    pending: list[int] = [i for i, out in enumerate(results) if isinstance(out, Exception)]
    for _ in range(plan.attempts - 1):
        if not pending:
            break
        again = plan.runnable.batch(
            [items[i] for i in pending], [configs[i] for i in pending], return_exceptions=True
        )
        for index, out in zip(pending, again, strict=True):
            results[index] = out
        pending = [i for i in pending if isinstance(results[i], Exception)]
    for index in pending:
        results[index] = Failed(results[index])
    return results


def _run_leased(
    plan: ChunkPlan, items: Sequence[Any], configs: Sequence[RunnableConfig]
) -> list[Any]:
    """A cluster budget: each item runs while it holds one lease of the job's semaphore, and
    runs its own leaf calls one at a time, so no more leaf calls run across the cluster than
    the budget allows."""
    assert plan.budget is not None
    cancel = event(plan.cancel_event)
    semaphore = worker_semaphore(plan.limit, plan.budget)
    # The flag is read at most every _CANCEL_CHECK_SECONDS per chunk (it costs a round trip
    # to the scheduler), and once seen set, every remaining item of the chunk is skipped.
    checked = [-math.inf]
    cancelled = [False]
    runnable = plan.runnable

    def stopped() -> bool:
        now = time.monotonic()
        if not cancelled[0] and now - checked[0] > _CANCEL_CHECK_SECONDS:
            checked[0] = now
            cancelled[0] = cancel.is_set()
        return cancelled[0]

    def one(index: int) -> Any:
        config: RunnableConfig = {**configs[index], "max_concurrency": 1}
        error: Exception | None = None
        for _ in range(plan.attempts):
            with semaphore:
                if stopped():
                    return Failed(_Cancelled("the job was cancelled before this item ran"))
                try:
                    return runnable.invoke(items[index], config)
                except Exception as exc:
                    error = exc
        assert error is not None
        return Failed(error)

    with ThreadPoolExecutor(max_workers=min(plan.limit, len(items))) as pool:
        return list(pool.map(one, range(len(items))))


class _Cancelled(Exception):
    """An item skipped because its job was cancelled (never reaches the user)."""
