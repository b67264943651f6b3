"""Run any runnable over many inputs on a Dask cluster (the `dask` extra).

Each function takes the `distributed.Client` of the cluster to use. Inputs travel to the
workers in chunks, with the runnable (pickled by Dask, which falls back to cloudpickle for
functions defined in a script or notebook); outputs come back in input order.
`max_concurrency` stays one budget across every worker, and the client's callbacks are told
of the runs on the workers (starts, ends and errors) as each chunk comes back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import anyio.to_thread

from runnables._core.config import RunnableConfig
from runnables._core.protocol import Runnable
from runnables.dask._cluster import Partitioned, as_completed, partitions
from runnables.dask._job import Job, start_job
from runnables.dask._progress import NotebookProgress, Progress, TerminalProgress
from runnables.errors import RunnablesTypeError

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "NotebookProgress",
    "Progress",
    "TerminalProgress",
    "abatch",
    "batch",
    "batch_as_completed",
    "map",
]

In = TypeVar("In")
Out = TypeVar("Out")


@overload
def batch(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Sequence[In] | Partitioned,
    config: RunnableConfig | Sequence[RunnableConfig] | None = None,
    *,
    return_exceptions: Literal[False] = False,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> list[Out]: ...
@overload
def batch(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Sequence[In] | Partitioned,
    config: RunnableConfig | Sequence[RunnableConfig] | None = None,
    *,
    return_exceptions: bool,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> list[Out | Exception]: ...
def batch(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Sequence[In] | Partitioned,
    config: RunnableConfig | Sequence[RunnableConfig] | None = None,
    *,
    return_exceptions: bool = False,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> list[Out] | list[Out | Exception]:
    """`runnable.batch(inputs, config)` on the cluster: outputs in input order.

    `inputs` may be a Dask bag (its items), dataframe (its rows, as dicts of column to
    value) or series (its values): each partition then runs as one task where Dask computes
    it, and the outputs come back as a list in the collection's order.

    Args:
        client: the cluster to run on.
        config: one config for every input, or one per input.
        return_exceptions: put an item's error in place of its output instead of raising it
            (and stopping the rest).
        retries: how many more times to run an item that raised before giving up on it.
        chunk_size: items per task; by default about four tasks per worker thread.
        progress: True to show items done, rate and time left (a widget in a notebook, a
            bar on stderr elsewhere), or a `Progress` to tell instead.
    """
    job, chunks = start_job(
        client,
        runnable,
        inputs,
        config,
        retries=retries,
        chunk_size=chunk_size,
        progress=progress,
    )
    try:
        return _gather(job, chunks, return_exceptions)
    finally:
        job.close()


@overload
async def abatch(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Sequence[In] | Partitioned,
    config: RunnableConfig | Sequence[RunnableConfig] | None = None,
    *,
    return_exceptions: Literal[False] = False,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> list[Out]: ...
@overload
async def abatch(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Sequence[In] | Partitioned,
    config: RunnableConfig | Sequence[RunnableConfig] | None = None,
    *,
    return_exceptions: bool,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> list[Out | Exception]: ...
async def abatch(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Sequence[In] | Partitioned,
    config: RunnableConfig | Sequence[RunnableConfig] | None = None,
    *,
    return_exceptions: bool = False,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> list[Out] | list[Out | Exception]:
    """`batch` from async code (asyncio or trio) with a synchronous `Client`: it waits on a
    worker thread, and cancelling the caller cancels the job's remaining items. It takes a
    Dask bag, dataframe or series as `batch` does."""
    job, chunks = start_job(
        client,
        runnable,
        inputs,
        config,
        retries=retries,
        chunk_size=chunk_size,
        progress=progress,
    )
    try:
        return await anyio.to_thread.run_sync(
            _gather, job, chunks, return_exceptions, abandon_on_cancel=True
        )
    finally:
        job.close()


def _gather(job: Job[Any, Any], chunks: Mapping[Any, int], return_exceptions: bool) -> list[Any]:
    """Every chunk's outputs, in input order (waiting for each in turn)."""
    outputs: list[Any] = []
    for future, start in chunks.items():
        outputs.extend(job.collect(future, start, return_exceptions))
    return outputs


@overload
def batch_as_completed(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Sequence[In],
    config: RunnableConfig | Sequence[RunnableConfig] | None = None,
    *,
    return_exceptions: Literal[False] = False,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> Iterator[tuple[int, Out]]: ...
@overload
def batch_as_completed(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Sequence[In],
    config: RunnableConfig | Sequence[RunnableConfig] | None = None,
    *,
    return_exceptions: bool,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> Iterator[tuple[int, Out | Exception]]: ...
def batch_as_completed(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Sequence[In],
    config: RunnableConfig | Sequence[RunnableConfig] | None = None,
    *,
    return_exceptions: bool = False,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> Iterator[tuple[int, Out]] | Iterator[tuple[int, Out | Exception]]:
    """Yield `(index, output)` as each chunk of the job finishes; leaving the loop early
    cancels the rest."""
    if partitions(inputs) is not None:
        raise RunnablesTypeError(
            "batch_as_completed yields each output with its input's index, which a Dask "
            "collection does not give ahead: use batch or map for a bag or dataframe"
        )
    job, chunks = start_job(
        client,
        runnable,
        inputs,
        config,
        retries=retries,
        chunk_size=chunk_size,
        progress=progress,
    )
    try:
        for future in as_completed(list(chunks)):
            start = chunks[future]
            for offset, output in enumerate(job.collect(future, start, return_exceptions)):
                yield start + offset, output
    finally:
        job.close()


@overload
def map(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Iterable[In] | Partitioned,
    config: RunnableConfig | None = None,
    *,
    return_exceptions: Literal[False] = False,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> Iterator[Out]: ...
@overload
def map(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Iterable[In] | Partitioned,
    config: RunnableConfig | None = None,
    *,
    return_exceptions: bool,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> Iterator[Out | Exception]: ...
def map(
    client: Client,
    runnable: Runnable[In, Out],
    inputs: Iterable[In] | Partitioned,
    config: RunnableConfig | None = None,
    *,
    return_exceptions: bool = False,
    retries: int = 0,
    chunk_size: int | None = None,
    progress: bool | Progress = False,
) -> Iterator[Out] | Iterator[Out | Exception]:
    """Lazily run over `inputs` (any iterable, even an endless one): chunks are read and sent
    only as the results before them are consumed, a few per worker thread at a time, and
    outputs are yielded in input order. Leaving the loop early cancels the rest. A Dask bag,
    dataframe or series runs partition by partition, as in `batch`."""
    job = Job(
        client, runnable, config, None, retries=retries, chunk_size=chunk_size, progress=progress
    )
    try:
        yield from job.lazy(inputs, return_exceptions)
    finally:
        job.close()
