"""LangChain's config helpers (`ensure_config`, `patch_config`, `merge_configs`,
`get_config_list`, `run_in_executor`), typed with `RunnableConfig`.

They behave as LangChain's do, except that a key that is not a `RunnableConfig` key is refused
with a `TypeError` (LangChain moves it into `configurable`), as every config is checked here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from contextvars import copy_context
from functools import partial
from typing import Any, TypeVar, cast

from typing_extensions import ParamSpec

from runnables._core.config import DEFAULT_RECURSION_LIMIT, RunnableConfig, check_config
from runnables._core.context import CURRENT
from runnables.errors import RunnablesValueError

__all__ = ["ensure_config", "get_config_list", "merge_configs", "patch_config", "run_in_executor"]

P = ParamSpec("P")
T = TypeVar("T")

_COPIED = ("tags", "metadata", "callbacks", "configurable")


def _copy(config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` without its None values, its lists and dicts copied (never shared)."""
    return {
        key: (value.copy() if key in _COPIED else value)
        for key, value in config.items()
        if value is not None
    }


def ensure_config(config: RunnableConfig | None = None) -> RunnableConfig:
    """A complete config: `config` over the current run's (inside a lifted function) over the
    defaults (no tags, metadata, callbacks or configurable; `recursion_limit` 25)."""
    if config is not None:
        check_config(config)
    full: dict[str, Any] = {
        "tags": [],
        "metadata": {},
        "callbacks": [],
        "recursion_limit": DEFAULT_RECURSION_LIMIT,
        "configurable": {},
    }
    current = CURRENT.get()
    if current is not None:
        full.update(_copy(current.as_config()))
    if config is not None:
        full.update(_copy(config))
    return cast("RunnableConfig", full)


def patch_config(
    config: RunnableConfig | None,
    *,
    callbacks: list[Any] | None = None,
    recursion_limit: int | None = None,
    max_concurrency: int | None = None,
    run_name: str | None = None,
    configurable: dict[str, Any] | None = None,
) -> RunnableConfig:
    """A complete copy of `config` with the given keys replaced (`configurable` merged in).
    New `callbacks` drop `run_name` and `run_id`, which named the run of the old ones."""
    patched = ensure_config(config)
    if callbacks is not None:
        patched["callbacks"] = callbacks
        patched.pop("run_name", None)
        patched.pop("run_id", None)
    if recursion_limit is not None:
        patched["recursion_limit"] = recursion_limit
    if max_concurrency is not None:
        patched["max_concurrency"] = max_concurrency
    if run_name is not None:
        patched["run_name"] = run_name
    if configurable is not None:
        patched["configurable"] = {**patched.get("configurable", {}), **configurable}
    check_config(patched)
    return patched


def merge_configs(*configs: RunnableConfig | None) -> RunnableConfig:
    """One config from many, later ones winning: tags united (sorted), metadata and
    configurable merged, callbacks concatenated, a non-default `recursion_limit` kept."""
    merged: dict[str, Any] = {}
    for config in (ensure_config(c) for c in configs if c is not None):
        for key, value in config.items():
            if key == "tags":
                merged["tags"] = sorted({*merged.get("tags", []), *cast("list[str]", value)})
            elif key in ("metadata", "configurable"):
                merged[key] = {**merged.get(key, {}), **cast("dict[str, Any]", value)}
            elif key == "callbacks":
                if value:  # no key for no callbacks, as LangChain's None is left out
                    merged["callbacks"] = [*merged.get("callbacks", []), *cast("list[Any]", value)]
            elif key == "recursion_limit":
                if value != DEFAULT_RECURSION_LIMIT:
                    merged["recursion_limit"] = value
            else:
                merged[key] = value or merged.get(key)
    return cast("RunnableConfig", merged)


def get_config_list(
    config: RunnableConfig | Sequence[RunnableConfig] | None, length: int
) -> list[RunnableConfig]:
    """One complete config per input of a batch of `length`: a list of configs must have that
    length; one config is repeated (its `run_id` only for the first, with a `RuntimeWarning`)."""
    if length < 0:
        raise RunnablesValueError(f"length must be >= 0, got {length}")
    if config is not None and not isinstance(config, Mapping):
        configs = list(config)
        if len(configs) != length:
            raise RunnablesValueError(
                f"got {len(configs)} configs for {length} inputs; give one config or one per input"
            )
        return [ensure_config(c) for c in configs]
    if length > 1 and config is not None and config.get("run_id") is not None:
        warnings.warn(
            "a run_id names one run: it is used for the first input of the batch only",
            RuntimeWarning,
            stacklevel=2,
        )
        rest = cast("RunnableConfig", {k: v for k, v in config.items() if k != "run_id"})
        return [ensure_config(config), *(ensure_config(rest) for _ in range(length - 1))]
    return [ensure_config(config) for _ in range(length)]


async def run_in_executor(
    executor_or_config: Executor | RunnableConfig | None,
    func: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`func(*args, **kwargs)` in a worker thread (or on `executor`), awaited without blocking
    the event loop (asyncio or trio); the current run context goes with it, so runnables it
    calls are children of the current run."""
    import anyio.to_thread

    def call() -> T:
        try:
            return func(*args, **kwargs)
        except StopIteration as exc:  # cannot cross a future: it would end the awaiting coroutine
            raise RuntimeError(f"{func!r} raised StopIteration") from exc

    if executor_or_config is None or isinstance(executor_or_config, Mapping):
        return await anyio.to_thread.run_sync(partial(copy_context().run, call))
    future = executor_or_config.submit(copy_context().run, call)
    return await anyio.to_thread.run_sync(future.result)
