"""`RunnableConfig`: the per-call options every runnable accepts, and their checks."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
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


def _is_str_list(value: object) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(item, str) for item in cast("list[object]", value)
    )


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: What each key's value must be, as a test and the words an error uses for it (`None` is
#: as good as no value, except for `recursion_limit`).
_KINDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "tags": (_is_str_list, "a list of str"),
    "metadata": (lambda value: isinstance(value, Mapping), "a dict"),
    "callbacks": (lambda value: isinstance(value, (list, tuple)), "a list of callbacks"),
    "run_name": (lambda value: isinstance(value, str), "a str"),
    "max_concurrency": (_is_count, "a positive int or None"),
    "recursion_limit": (_is_count, "a positive int"),
    "configurable": (lambda value: isinstance(value, Mapping), "a dict"),
    "run_id": (lambda value: isinstance(value, uuid.UUID), "a uuid.UUID"),
}


def check_config(config: Mapping[str, object]) -> None:
    """Raise `TypeError` naming any key that is not a `RunnableConfig` key or whose value is
    of the wrong type (`ValueError` for a limit below 1)."""
    unknown = [key for key in config if key not in CONFIG_KEYS]
    if unknown:
        raise RunnablesTypeError(
            f"unknown RunnableConfig key(s) {sorted(unknown)!r}; expected some of {sorted(CONFIG_KEYS)!r}"
        )
    for key, value in config.items():
        test, kind = _KINDS[key]
        if not test(value) and (value is not None or key == "recursion_limit"):
            raise RunnablesTypeError(
                f"RunnableConfig[{key!r}] must be {kind}, got {type(value).__name__} {value!r:.100}"
            )
    callbacks = config.get("callbacks")
    if callbacks:
        from runnables._core.runs import check_callback

        for callback in cast("list[object]", callbacks):
            check_callback(callback)
    for key in ("max_concurrency", "recursion_limit"):
        limit = config.get(key)
        if limit is not None and cast("int", limit) < 1:
            raise RunnablesValueError(
                f"RunnableConfig[{key!r}] must be a positive int, got {limit!r}"
            )
