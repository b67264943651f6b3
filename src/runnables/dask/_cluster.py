"""Typed views of the few `distributed` calls this package makes (distributed ships partly
untyped), so that the rest of the package is checked strictly."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar, cast

from runnables.errors import RunnablesTypeError

__all__ = [
    "ClientView",
    "FutureView",
    "SemaphoreView",
    "Partitioned",
    "as_completed",
    "event",
    "semaphore",
    "worker_semaphore",
]

T = TypeVar("T", covariant=True)


class FutureView(Protocol[T]):
    """A `distributed.Future`: the result of one task."""

    def result(self) -> T: ...


class ClientView(Protocol):
    """A synchronous `distributed.Client`."""

    scheduler: Any
    loop: Any

    def nthreads(self) -> dict[str, int]: ...

    def submit(self, func: Callable[..., Any], *args: Any, pure: bool, key: str) -> Any: ...

    def cancel(self, futures: list[Any]) -> None: ...

    def compute(self, collections: list[Any]) -> list[Any]: ...


class Partitioned(Protocol):
    """A Dask collection cut into partitions: a `dask.bag.Bag`, or a `dask.dataframe`
    `DataFrame` or `Series`."""

    @property
    def npartitions(self) -> int: ...

    def to_delayed(self, optimize_graph: bool = True) -> Any: ...


class SemaphoreView(Protocol):
    """A `distributed.Semaphore`, used as `with semaphore:` on the workers."""

    def __enter__(self) -> object: ...

    def __exit__(self, *exc: object) -> None: ...

    def close(self) -> object: ...


class EventView(Protocol):
    """A `distributed.Event`: a flag every worker and the client can see."""

    def set(self) -> object: ...

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


def semaphore(client: ClientView, max_leases: int, name: str) -> SemaphoreView:
    """The cluster-wide semaphore `name`, registered through `client`'s scheduler."""
    from distributed import Semaphore

    make = cast("Callable[..., SemaphoreView]", Semaphore)
    return make(max_leases=max_leases, name=name, scheduler_rpc=client.scheduler, loop=client.loop)


def worker_semaphore(max_leases: int, name: str) -> SemaphoreView:
    """The cluster-wide semaphore `name`, from inside a task (bound to its worker, so that
    threads the task starts can use it too)."""
    from distributed import Semaphore, get_worker

    worker: Any = get_worker()
    make = cast("Callable[..., SemaphoreView]", Semaphore)
    return make(max_leases=max_leases, name=name, scheduler_rpc=worker.scheduler, loop=worker.loop)


def event(name: str, client: ClientView | None = None) -> EventView:
    """The cluster-wide event `name` (from inside a task: through the worker's own client)."""
    import distributed

    worker_client = cast("Callable[[], object]", distributed.get_client)
    return cast("Callable[..., EventView]", distributed.Event)(
        name, client=client or worker_client()
    )


def as_completed(futures: Iterable[FutureView[T]]) -> Iterator[FutureView[T]]:
    """`futures` in the order they finish."""
    from distributed import as_completed as completed

    return cast("Callable[..., Iterator[FutureView[T]]]", completed)(list(futures))


def partitions(inputs: object) -> list[Any] | None:
    """One `Delayed` per partition of `inputs` if it is a Dask bag, dataframe or series, in
    order; None if it is not a Dask collection. Dask is only looked at if already imported."""
    bag, frame = sys.modules.get("dask.bag"), sys.modules.get("dask.dataframe")
    kinds = tuple(
        kind
        for module, names in ((bag, ("Bag",)), (frame, ("DataFrame", "Series")))
        if module is not None
        for kind in (getattr(module, name) for name in names)
    )
    if kinds and isinstance(inputs, kinds):
        return list(cast("Partitioned", inputs).to_delayed())
    dask = sys.modules.get("dask")
    if dask is not None and dask.is_dask_collection(inputs):
        raise RunnablesTypeError(
            "runnables.dask takes a Dask bag, dataframe or series as inputs, got a Dask "
            f"{type(inputs).__name__!r}: convert it to one of those (or to a list)"
        )
    return None


def on_partitions(
    client: ClientView, func: Callable[..., T], parts: list[Any], *args: Any
) -> list[FutureView[T]]:
    """Futures of `func(part, *args)` for each of the `Delayed` `parts`, on the cluster."""
    delayed: Callable[..., Callable[..., Any]] = importlib.import_module("dask.delayed").delayed
    call = delayed(func, pure=False)
    return client.compute([call(part, *args) for part in parts])
