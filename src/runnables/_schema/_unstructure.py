"""The cattrs converter that turns values into JSON-ready data (the inverse of validation),
and `self_reference`, which explains why a value could not be turned (it contains itself)."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import pathlib
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

import attrs
import cattrs

from ._errors import ROOT, Path
from ._introspect import origin_is
from ._rules import SET_ORIGINS

__all__ = ["CONVERTER", "self_reference"]

CONVERTER = cattrs.Converter()


def _unstructure_items(value: Iterable[object]) -> list[Any]:
    return [CONVERTER.unstructure(item) for item in value]


def _isoformat(value: datetime.date | datetime.time) -> str:
    return value.isoformat()


CONVERTER.register_unstructure_hook(datetime.datetime, _isoformat)
CONVERTER.register_unstructure_hook(datetime.date, _isoformat)
CONVERTER.register_unstructure_hook(datetime.time, _isoformat)
CONVERTER.register_unstructure_hook(bytes, lambda v: base64.b64encode(v).decode("ascii"))
CONVERTER.register_unstructure_hook(decimal.Decimal, str)
CONVERTER.register_unstructure_hook(uuid.UUID, str)
CONVERTER.register_unstructure_hook(pathlib.Path, str)
CONVERTER.register_unstructure_hook_func(
    lambda tp: origin_is(tp, tuple, *SET_ORIGINS), _unstructure_items
)


def _children(value: object) -> Iterator[tuple[int | str, object]]:
    """The parts of a value that unstructuring walks into, with their keys or indices."""
    if isinstance(value, Mapping):
        for key, item in cast("Mapping[object, object]", value).items():
            yield str(key), item
    elif isinstance(value, (list, tuple, set, frozenset)):
        yield from enumerate(cast("Iterable[object]", value))
    elif attrs.has(type(value)):
        for field in attrs.fields(cast("Any", type(value))):
            yield field.name, getattr(value, field.name)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield field.name, getattr(value, field.name)


def self_reference(value: object) -> tuple[Path, Path] | None:
    """Where ``value`` first contains itself: the path of the repeat and of the object it
    repeats (an ancestor), or None. Walks with its own stack, so any depth is fine."""
    walking: dict[int, Path] = {id(value): ROOT}
    stack: list[tuple[Iterator[tuple[int | str, object]], Path, int]] = [
        (_children(value), ROOT, id(value))
    ]
    while stack:
        children, path, key = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            del walking[key]
            continue
        segment, item = child
        here = (path, segment)
        met = walking.get(id(item))
        if met is not None:
            return here, met
        if isinstance(item, (str, bytes, int, float)) or item is None:
            continue
        walking[id(item)] = here
        stack.append((_children(item), here, id(item)))
    return None
