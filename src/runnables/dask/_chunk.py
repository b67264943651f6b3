"""The worker side: run one chunk of items and hand back outputs, failures and run events.

This module is pickled by reference into every chunk task, so it imports only what a worker
needs; it never touches the client's callbacks, which cannot travel.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.to_thread
import attrs

from runnables._core.config import RunnableConfig
from runnables._core.protocol import Runnable
from runnables._core.runs import Run
from runnables.dask._cluster import event, worker_semaphore

__all__ = ["ChunkResult", "Failed", "RunEvent", "run_chunk", "run_partition"]

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
    """What every chunk of one job shares: the step, its retries and the cluster-wide budget.

    With a budget, `budget` names a `distributed.Semaphore` of `leases` leases: a chunk runs
    while it holds one, with `share` of the job's `max_concurrency` as its own (leases x
    share never exceeds it). `cancel_event` names the `distributed.Event` the client sets to
    stop the items such chunks have not started.
    """

    runnable: Runnable[Any, Any]
    attempts: int
    trace: bool
    budget: str | None
    leases: int
    share: int
    cancel_event: str


def run_chunk(
    plan: ChunkPlan, items: Sequence[Any], configs: RunnableConfig | list[RunnableConfig]
) -> ChunkResult:
    """Run `items` on this worker (a Dask task), with one config for all or one per item."""
    collectors = [_Collector() for _ in items] if plan.trace else None
    if collectors is not None:
        each = [configs] * len(items) if isinstance(configs, dict) else configs
        configs = [
            {**config, "callbacks": [collector]}
            for config, collector in zip(each, collectors, strict=True)
        ]
    if plan.budget is None:
        outputs = _run(plan, items, configs)
    else:
        share: RunnableConfig = {"max_concurrency": plan.share}
        configs = (
            {**configs, **share}
            if isinstance(configs, dict)
            else [{**config, **share} for config in configs]
        )
        outputs = _run_budgeted(plan, plan.budget, items, configs)
    events = [c.events for c in collectors] if collectors is not None else None
    return ChunkResult(outputs, events)


def run_partition(partition: Any, plan: ChunkPlan, config: RunnableConfig) -> ChunkResult:
    """Run the items of one partition of a Dask collection (a Dask task): a bag's items, a
    dataframe's rows as dicts of column to value (the index is left out), a series' values."""
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(partition, pandas.DataFrame):
        items: list[Any] = partition.to_dict(orient="records")
    elif pandas is not None and isinstance(partition, pandas.Series):
        items = partition.tolist()
    else:
        items = list(partition)
    return run_chunk(plan, items, config)


def _pick(
    configs: RunnableConfig | list[RunnableConfig], todo: list[int]
) -> RunnableConfig | list[RunnableConfig]:
    return configs if isinstance(configs, dict) else [configs[i] for i in todo]


class _Attempts:
    """Which items are still to run, and what each gave: the retry decisions, without I/O."""

    def __init__(self, count: int) -> None:
        self.results: list[Any] = [None] * count
        self.pending = list(range(count))

    def record(self, outputs: Sequence[Any]) -> None:
        for index, output in zip(self.pending, outputs, strict=True):
            self.results[index] = output
        self.pending = [i for i in self.pending if isinstance(self.results[i], Exception)]

    def outputs(self) -> list[Any]:
        for index in self.pending:
            self.results[index] = Failed(self.results[index])
        return self.results


def _run(
    plan: ChunkPlan, items: Sequence[Any], configs: RunnableConfig | list[RunnableConfig]
) -> list[Any]:
    """The step's own `batch` runs the chunk; items that raised are run again."""
    attempts = _Attempts(len(items))
    for _ in range(plan.attempts):
        todo = attempts.pending
        if not todo:
            break
        attempts.record(
            plan.runnable.batch(
                [items[i] for i in todo], _pick(configs, todo), return_exceptions=True
            )
        )
    return attempts.outputs()


async def _arun(
    plan: ChunkPlan, items: Sequence[Any], configs: RunnableConfig | list[RunnableConfig]
) -> list[Any]:
    """`_run`, async: the step's own `abatch` runs the chunk."""
    attempts = _Attempts(len(items))
    for _ in range(plan.attempts):
        todo = attempts.pending
        if not todo:
            break
        attempts.record(
            await plan.runnable.abatch(
                [items[i] for i in todo], _pick(configs, todo), return_exceptions=True
            )
        )
    return attempts.outputs()


def _run_budgeted(
    plan: ChunkPlan,
    budget: str,
    items: Sequence[Any],
    configs: RunnableConfig | list[RunnableConfig],
) -> list[Any]:
    """Run the chunk holding one lease of the job's budget; the client's cancel flag, watched
    meanwhile, cancels the items not yet started (the library's own cancellation)."""
    cancel = event(plan.cancel_event)
    skipped = [Failed(_Cancelled("the job was cancelled before this item ran"))] * len(items)
    with worker_semaphore(plan.leases, budget):
        if cancel.is_set():
            return skipped

        async def until_cancelled() -> list[Any]:
            # Sync steps run on anyio's worker threads: let the whole share run at once.
            limiter = anyio.to_thread.current_default_thread_limiter()
            limiter.total_tokens = max(limiter.total_tokens, plan.share + 1)
            outputs = skipped
            async with anyio.create_task_group() as tasks:

                async def watch() -> None:
                    while not await anyio.to_thread.run_sync(
                        cancel.wait, _CANCEL_CHECK_SECONDS, abandon_on_cancel=True
                    ):
                        pass
                    tasks.cancel_scope.cancel()

                tasks.start_soon(watch)
                outputs = await _arun(plan, items, configs)
                tasks.cancel_scope.cancel()
            return outputs

        return anyio.run(until_cancelled)


class _Cancelled(Exception):
    """An item skipped because its job was cancelled (never reaches the user)."""
