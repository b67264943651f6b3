"""`RunnableConfig`: the per-call options every runnable accepts, and their checks."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from typing_extensions import TypedDict

from runnables._core.public import public
from runnables.errors import RunnablesTypeError, RunnablesValueError

if TYPE_CHECKING:
    from runnables._core.runs import Callback

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_RECURSION_LIMIT",
    "RunnableConfig",
    "check_config",
]

DEFAULT_RECURSION_LIMIT = 25


@public
class RunnableConfig(TypedDict, total=False):
    """Options for one call; tags, metadata, callbacks and configurable reach every child run."""

    tags: list[str]
    metadata: dict[str, Any]
    callbacks: list[Callback]
    run_name: str
    max_concurrency: int | None
    recursion_limit: int
    configurable: dict[str, Any]
    run_id: uuid.UUID


CONFIG_KEYS = frozenset(RunnableConfig.__annotations__)


def check_config(config: Mapping[str, object]) -> None:
    """Raise `TypeError` naming any key that is not a `RunnableConfig` key."""
    unknown = [key for key in config if key not in CONFIG_KEYS]
    if unknown:
        raise RunnablesTypeError(
            f"unknown RunnableConfig key(s) {sorted(unknown)!r}; expected some of {sorted(CONFIG_KEYS)!r}"
        )
    callbacks = config.get("callbacks")
    if callbacks:
        from runnables._core.runs import check_callback

        if not isinstance(callbacks, (list, tuple)):
            raise RunnablesTypeError(
                f"callbacks must be a list of callbacks, got {callbacks!r:.100}"
            )
        for callback in cast("list[object]", callbacks):
            check_callback(callback)
    max_concurrency = config.get("max_concurrency")
    if max_concurrency is not None and (
        not isinstance(max_concurrency, int) or max_concurrency < 1
    ):
        raise RunnablesValueError(
            f"max_concurrency must be a positive int or None, got {max_concurrency!r}"
        )
    limit = config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)
    if not isinstance(limit, int) or limit < 1:
        raise RunnablesValueError(f"recursion_limit must be a positive int, got {limit!r}")
