"""`python -m runnables serve package.module:name`: load a runnable and serve it with uvicorn."""

from __future__ import annotations

import copy
import importlib
import sys
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from runnables._core.base import RunnableBase

from ._routes import create_app

__all__ = ["load_target", "serve_target"]


def load_target(target: str) -> RunnableBase[Any, Any]:
    """Import ``package.module:name`` and return it, refusing anything that is not a runnable."""
    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"expected package.module:name, got {target!r}")
    module = importlib.import_module(module_name)
    value: object = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ValueError(f"{module_name!r} has no attribute {attribute!r}") from None
    if not isinstance(value, RunnableBase):
        raise TypeError(f"{target} is a {type(value).__name__}, not a runnable")
    return value  # pyright: ignore[reportUnknownVariableType]


def serve_target(
    target: str, *, host: str, port: int, path: str = "", access_log: bool = True
) -> int:
    """Serve ``target`` until interrupted; the library's log lines go where uvicorn's do."""
    try:
        runnable = load_target(target)
    except (ImportError, ValueError, TypeError) as error:
        print(f"python -m runnables serve: {error}", file=sys.stderr)
        return 2
    log_config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["runnables"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    uvicorn.run(
        create_app(runnable, path=path),
        host=host,
        port=port,
        log_config=log_config,
        access_log=access_log,
    )
    return 0
