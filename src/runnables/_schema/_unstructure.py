"""The cattrs converter that turns values into JSON-ready data (the inverse of validation)."""

from __future__ import annotations

import base64
import datetime
import decimal
import pathlib
import uuid
from collections.abc import Iterable
from typing import Any

import cattrs

from ._introspect import origin_is
from ._rules import SET_ORIGINS

__all__ = ["CONVERTER"]

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
