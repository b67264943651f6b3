"""The client side of one cluster job: chunking, submitting, collecting in order, cancelling."""

from __future__ import annotations

import math
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from runnables._core.config import RunnableConfig, check_config
from runnables._core.protocol import Runnable
from runnables._core.runs import Handlers, notify
from runnables.dask._chunk import ChunkPlan, ChunkResult, Failed, run_chunk, run_partition
from runnables.dask._cluster import (
    ClientView,
    FutureView,
    Partitioned,
    SemaphoreView,
    event,
    on_partitions,
    partitions,
    semaphore,
)
from runnables.dask._progress import Progress, default_progress
from runnables.errors import RunnablesTypeError, RunnablesValueError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["Job", "start_job"]

In = TypeVar("In")
Out = TypeVar("Out")

_MAX_CHUNK = 10_000
_LAZY_CHUNK = 100
_CHUNKS_PER_THREAD = 4  # enough chunks that a slow one does not hold the whole job back


class Job(Generic[In, Out]):
    """One call's work on the cluster: its chunk tasks, and what it must undo if abandoned.

    Configs go to the workers without their callbacks (those stay here and are told of the
    worker's runs as each chunk comes back) and without `max_concurrency` (each chunk gets a
    share of it, under a `distributed.Semaphore` that holds the shares: see `ChunkPlan`).
    """

    def __init__(
        self,
        client: Client,
        runnable: Runnable[In, Out],
        config: RunnableConfig | Sequence[RunnableConfig] | None,
        count: int | None,
        *,
        retries: int,
        chunk_size: int | None,
        progress: bool | Progress = False,
    ) -> None:
        if not isinstance(retries, int) or retries < 0:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise RunnablesValueError(f"retries must be a non-negative int, got {retries!r}")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise RunnablesValueError(
                f"chunk_size must be a positive int or None, got {chunk_size!r}"
            )
        configs = _configs(config, count)
        view = cast("ClientView", client)
        self.client = view
        self.threads = max(1, sum(view.nthreads().values()))
        self.handlers = [_handlers(c) for c in configs]
        self.configs: list[RunnableConfig] = [_for_workers(c) for c in configs]
        limit = configs[0].get("max_concurrency") if configs else None
        if any(c.get("max_concurrency") != limit for c in configs):
            raise RunnablesValueError(
                "max_concurrency is one budget for the whole job: give the same value in "
                "every config"
            )
        self.semaphore: SemaphoreView | None = None
        budget = f"runnables-budget-{uuid.uuid4().hex}"
        leases = min(limit or 1, self.threads)
        if limit is not None:
            self.semaphore = semaphore(view, leases, budget)
        self.cancel_event = f"runnables-cancel-{uuid.uuid4().hex}"
        self.plan = ChunkPlan(
            runnable=runnable,
            attempts=retries + 1,
            trace=any(h is not None for h in self.handlers),
            budget=budget if limit is not None else None,
            leases=leases,
            share=(limit or 1) // leases,
            cancel_event=self.cancel_event,
        )
        if chunk_size is None:
            # A chunk shorter than its share of the budget would leave part of it idle.
            spread = self.threads * _CHUNKS_PER_THREAD
            even = _LAZY_CHUNK if count is None else math.ceil(count / spread)
            chunk_size = min(_MAX_CHUNK, max(1, even, self.plan.share if limit else 1))
        self.chunk_size = chunk_size
        self.pending: set[FutureView[ChunkResult]] = set()
        self.total = count
        self.done = 0
        self.progress = _progress(progress)
        if self.progress is not None:
            self.progress.update(0, count)

    def submit(self, start: int, items: list[In]) -> FutureView[ChunkResult]:
        """Send `items` (those from index `start`) to the cluster as one task."""
        configs = (
            self.configs[start : start + len(items)] if len(self.configs) > 1 else self.configs[0]
        )
        future: FutureView[ChunkResult] = self.client.submit(
            run_chunk,
            self.plan,
            items,
            configs,
            pure=False,
            key=f"runnables-chunk-{uuid.uuid4().hex}",
        )
        self.pending.add(future)
        return future

    def submit_all(self, items: Sequence[In]) -> dict[FutureView[ChunkResult], int]:
        """Send every chunk of `items`; map each task to the index of its first item."""
        size = self.chunk_size
        return {self.submit(s, list(items[s : s + size])): s for s in range(0, len(items), size)}

    def collect(
        self, future: FutureView[ChunkResult], start: int, return_exceptions: bool
    ) -> list[Any]:
        """Wait for one chunk, tell the callbacks of its runs, and give its outputs (a failed
        item raises its error unless `return_exceptions`)."""
        result = future.result()
        self.pending.discard(future)
        if result.events is not None:
            for offset, events in enumerate(result.events):
                handlers = self.handlers[start + offset if len(self.handlers) > 1 else 0]
                if handlers is None:
                    continue
                for event in events:
                    if event.kind == "start":
                        notify(handlers.on_start, event.run)
                    elif event.kind == "end":
                        notify(handlers.on_end, event.run)
                    else:
                        notify(handlers.on_error, event.run, event.error)
        outputs = result.outputs
        if self.progress is not None:
            self.done += len(outputs)
            self.progress.update(self.done, self.total)
        for index, output in enumerate(outputs):
            if isinstance(output, Failed):
                if not return_exceptions:
                    raise output.error
                outputs[index] = output.error
        return outputs

    def submit_partitions(self, parts: list[Any]) -> dict[FutureView[ChunkResult], int]:
        """Run each partition of a Dask collection as one task, where Dask computes it; map
        each task to 0 (such a job has one config, so where a chunk starts does not matter)."""
        futures = on_partitions(self.client, run_partition, parts, self.plan, self.configs[0])
        self.pending.update(futures)
        return dict.fromkeys(futures, 0)

    def lazy(self, inputs: Iterable[In] | Partitioned, return_exceptions: bool) -> Iterator[Any]:
        """Outputs of `inputs` in order, keeping a bounded number of chunks on the cluster."""
        chunks = self._submitted_lazily(inputs)
        window = deque(islice(chunks, 2 * self.threads))
        while window:
            # A lazy job has one config, so where a chunk starts does not matter to collect.
            outputs = self.collect(window.popleft(), 0, return_exceptions)
            window.extend(islice(chunks, 1))
            yield from outputs

    def _submitted_lazily(
        self, inputs: Iterable[In] | Partitioned
    ) -> Iterator[FutureView[ChunkResult]]:
        """Each chunk of `inputs` (or each partition), submitted when the next is asked for."""
        parts = partitions(inputs)
        if parts is not None:
            for part in parts:
                yield from self.submit_partitions([part])
            return
        source = iter(cast("Iterable[In]", inputs))
        start = 0
        while items := list(islice(source, self.chunk_size)):
            yield self.submit(start, items)
            start += len(items)

    def close(self) -> None:
        """Stop what is left (queued chunks are cancelled, running ones skip their remaining
        items) and let the callbacks catch up. The job's semaphore is removed from the
        scheduler only when no chunk can still hold a lease of it: an abandoned job's stays
        (a few bytes), since chunks that were running when it was abandoned release theirs
        as they stop. The progress bar is finished whatever happens."""
        try:
            self._stop()
        finally:
            if self.progress is not None:
                self.progress.close()

    def _stop(self) -> None:
        abandoned = bool(self.pending)
        if abandoned:
            self.client.cancel(list(self.pending))
            if self.semaphore is not None:
                event(self.cancel_event, self.client).set()
            self.pending.clear()
        for handlers in {id(h): h for h in self.handlers if h is not None}.values():
            if handlers.dispatcher is not None:
                handlers.dispatcher.wait()
        if self.semaphore is not None and not abandoned:
            self.semaphore.close()


def start_job(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Sequence[In] | Partitioned,
    config: RunnableConfig | Sequence[RunnableConfig] | None,
    *,
    retries: int,
    chunk_size: int | None,
    progress: bool | Progress,
) -> tuple[Job[In, Out], dict[FutureView[ChunkResult], int]]:
    """A job over all of `inputs` (a sequence, or a Dask bag, dataframe or series), with
    every chunk submitted, each mapped to the index of its first item."""
    parts = partitions(inputs)
    items = list(cast("Sequence[In]", inputs)) if parts is None else []
    count = len(items) if parts is None else None
    job = Job(
        client, runnable, config, count, retries=retries, chunk_size=chunk_size, progress=progress
    )
    try:
        return job, job.submit_all(items) if parts is None else job.submit_partitions(parts)
    except BaseException:
        job.close()
        raise


def _configs(
    config: RunnableConfig | Sequence[RunnableConfig] | None, count: int | None
) -> list[RunnableConfig]:
    if config is None:
        return [{}]
    if isinstance(config, dict):
        check_config(config)
        return [config]
    if count is None:
        raise RunnablesTypeError(
            "give one config for every input, not a sequence, where the number of inputs is "
            "not known ahead (a lazy map, or a Dask bag or dataframe)"
        )
    configs = list(config)
    if len(configs) != count:
        raise RunnablesValueError(
            f"got {len(configs)} configs for {count} inputs; give one config, or one per input"
        )
    for each in configs:
        check_config(each)
    return configs or [{}]


def _progress(progress: bool | Progress) -> Progress | None:
    if progress is True:
        return default_progress()
    if progress is False:
        return None
    if not isinstance(progress, Progress):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RunnablesTypeError(
            "progress must be True, False or an object with update(done, total) and "
            f"close() methods, got {progress!r}"
        )
    return progress


def _handlers(config: RunnableConfig) -> Handlers | None:
    callbacks = config.get("callbacks")
    return Handlers(callbacks) if callbacks else None


def _for_workers(config: RunnableConfig) -> RunnableConfig:
    kept = {k: v for k, v in config.items() if k not in ("callbacks", "max_concurrency")}
    return cast("RunnableConfig", kept)
