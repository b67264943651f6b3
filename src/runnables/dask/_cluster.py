"""Typed views of the few `distributed` calls this package makes (distributed ships partly
untyped), so that the rest of the package is checked strictly."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar, cast

__all__ = [
    "ClientView",
    "FutureView",
    "SemaphoreView",
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
