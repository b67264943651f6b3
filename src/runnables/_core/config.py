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


#: The type each key's value must have, and the words an error uses for it (`None` is as
#: good as no value, except for `recursion_limit`).
_KINDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "tags": ((list, tuple), "a list of str"),
    "metadata": ((dict, Mapping), "a dict"),
    "callbacks": ((list, tuple), "a list of callbacks"),
    "run_name": (str, "a str"),
    "max_concurrency": (int, "a positive int or None"),
    "recursion_limit": (int, "a positive int"),
    "configurable": ((dict, Mapping), "a dict"),
    "run_id": (uuid.UUID, "a uuid.UUID"),
}


def _wrong(key: str, value: object) -> RunnablesTypeError:
    return RunnablesTypeError(
        f"RunnableConfig[{key!r}] must be {_KINDS[key][1]}, got {type(value).__name__} "
        f"{value!r:.100}"
    )


def check_config(config: Mapping[str, object]) -> None:
    """Raise `TypeError` naming any key that is not a `RunnableConfig` key or whose value is
    of the wrong type (`ValueError` for a limit below 1)."""
    given = type(config)  # (a dict is checked first: `isinstance` with an ABC costs more)
    if given is not dict and not isinstance(cast("object", config), Mapping):
        # an untyped caller's mistake
        raise RunnablesTypeError(
            f"a config must be a RunnableConfig dict, got {type(config).__name__} {config!r:.60}"
        )
    for key, value in config.items():
        kind = _KINDS.get(key)
        if kind is None:
            unknown = sorted(key for key in config if key not in CONFIG_KEYS)
            raise RunnablesTypeError(
                f"unknown RunnableConfig key(s) {unknown!r}; expected some of "
                f"{sorted(CONFIG_KEYS)!r}"
            )
        if not isinstance(value, kind[0]) and (value is not None or key == "recursion_limit"):
            raise _wrong(key, value)
    tags = config.get("tags")
    if tags:
        for tag in cast("list[object]", tags):
            if not isinstance(tag, str):
                raise _wrong("tags", tags)
    callbacks = config.get("callbacks")
    if callbacks:
        from runnables._core.runs import check_callback

        for callback in cast("list[object]", callbacks):
            check_callback(callback)
    if "max_concurrency" in config:
        _check_limit("max_concurrency", config["max_concurrency"])
    if "recursion_limit" in config:
        _check_limit("recursion_limit", config["recursion_limit"])


def _check_limit(key: str, limit: object) -> None:
    if isinstance(limit, bool):
        raise _wrong(key, limit)
    if limit is not None and cast("int", limit) < 1:
        raise RunnablesValueError(f"RunnableConfig[{key!r}] must be a positive int, got {limit!r}")
