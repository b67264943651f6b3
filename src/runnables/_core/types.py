"""The input and output types of functions, read from their annotations (for schemas)."""

from __future__ import annotations

import collections.abc
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

__all__ = ["function_types"]

_CHUNK_CONTAINERS = (
    collections.abc.Iterator,
    collections.abc.Iterable,
    collections.abc.Generator,
    collections.abc.AsyncIterator,
    collections.abc.AsyncIterable,
    collections.abc.AsyncGenerator,
)


def _chunk_type(annotation: Any) -> Any:
    """`X` for `Iterator[X]`, `AsyncIterator[X]`, `Generator[X, ...]` and kin, else Any."""
    if typing.get_origin(annotation) in _CHUNK_CONTAINERS:
        args = typing.get_args(annotation)
        return args[0] if args else Any
    return Any


@functools.lru_cache(maxsize=1024)
def function_types(
    func: Callable[..., Any], *, streams: bool = False, transforms: bool = False
) -> tuple[Any, Any]:
    """`(input, output)` types of `func` from its annotations, `Any` where there are none.

    `streams`: the return annotation is a stream of output chunks; `transforms`: the first
    parameter is a stream of input chunks too.
    """
    try:
        hints = typing.get_type_hints(func)
        parameters = [
            p
            for p in inspect.signature(func).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "config"
        ]
    except (NameError, TypeError, ValueError):
        return Any, Any
    input_type: Any = hints.get(parameters[0].name, Any) if parameters else Any
    output_type: Any = hints.get("return", Any)
    if transforms:
        input_type = _chunk_type(input_type)
    if streams or transforms:
        output_type = _chunk_type(output_type)
    return input_type, output_type
