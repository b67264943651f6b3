"""Turning what may stand in a chain (runnables, functions, dicts of them) into runnables."""

from __future__ import annotations

import collections.abc
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from runnables._core.base import RunnableBase
from runnables.errors import RunnablesTypeError

if TYPE_CHECKING:
    from runnables._core.protocol import SupportsInvoke

__all__ = ["coerce_to_runnable"]

_STREAM_TYPES = (
    collections.abc.Iterator,
    collections.abc.Iterable,
    collections.abc.AsyncIterator,
    collections.abc.AsyncIterable,
)


def coerce_to_runnable(thing: object) -> RunnableBase[Any, Any]:
    """A runnable as is; an object with `invoke` and `ainvoke` wrapped; a dict as a
    `RunnableParallel`; a function as a `RunnableLambda`, or as a `RunnableGenerator` when it is
    a generator function taking an iterator of chunks."""
    if isinstance(thing, RunnableBase):
        return cast("RunnableBase[Any, Any]", thing)
    from runnables._primitives.adapter import Adapted, supports_invoke

    if supports_invoke(thing):
        return Adapted(cast("SupportsInvoke[Any, Any]", thing))
    if isinstance(thing, Mapping):
        from runnables._primitives.parallel import RunnableParallel

        return RunnableParallel(cast("Mapping[str, Any]", thing))
    if callable(thing):
        from runnables._primitives.generator import RunnableGenerator
        from runnables._primitives.lambda_ import RunnableLambda

        function = cast("Callable[..., Any]", thing)
        if _is_stream_transformer(function):
            return RunnableGenerator(function)
        return RunnableLambda(function)
    raise RunnablesTypeError(
        f"cannot use {thing!r} (a {type(thing).__name__}) as a step: expected a runnable, "
        "an object with invoke and ainvoke methods, a function, or a dict of them"
    )


def _is_stream_transformer(func: Callable[..., Any]) -> bool:
    """A generator function (or one declared to return an iterator) whose first parameter is a
    stream of chunks (or is unannotated)."""
    from runnables._primitives.lambda_ import function_kind

    if function_kind(func) not in ("generator", "async generator"):
        return False
    try:
        parameters = list(inspect.signature(func, eval_str=True).parameters.values())
    except (NameError, TypeError, ValueError):
        return True
    if not parameters or parameters[0].annotation is inspect.Parameter.empty:
        return True
    annotation = parameters[0].annotation
    origin = typing.get_origin(annotation) or annotation
    return origin in _STREAM_TYPES
