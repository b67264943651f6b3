"""Write a value as JSON-ready data: attrs values by their fields, functions and classes by
import path, secrets by the name of the environment variable that holds them."""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from typing import Any

from runnables._serial.errors import DumpError
from runnables._serial.paths import importable, path_of
from runnables._serial.rules import SECRETS, fields_of
from runnables.models._secret import SecretStr

__all__ = ["VERSION", "write"]

VERSION = 1
_DEPTH = 200
_CALLABLES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)


def write(value: object) -> dict[str, Any]:
    """The document for `value`: ``{"runnables": 1, "value": ...}``."""
    return {"runnables": VERSION, "value": _write(value, "$", 0)}


def _write(value: object, where: str, depth: int) -> Any:
    if depth > _DEPTH:
        raise DumpError(f"{where}: nested deeper than {_DEPTH} levels")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DumpError(f"{where}: {value} cannot be written (JSON has no such number)")
        return value
    if isinstance(value, list):
        return [_write(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    if isinstance(value, tuple):
        items = [_write(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
        return {"$tuple": items}
    if isinstance(value, Mapping):
        return _write_dict(value, where, depth)  # pyright: ignore[reportUnknownArgumentType]
    if value is Any:
        return {"$ref": "typing:Any"}
    if isinstance(value, types.GenericAlias):
        return _write_alias(value, where, depth)
    if typing.get_origin(value) in (typing.Union, types.UnionType):
        return _write_union(value, where, depth)
    if isinstance(value, _CALLABLES):
        return _write_ref(value, where)
    path = importable(value)
    if path is not None:  # a function made a runnable by a decorator, imported whole
        return {"$ref": path}
    fields = fields_of(value)
    if fields is None:
        kind = type(value).__qualname__
        if callable(value):
            raise DumpError(
                f"{where}: cannot write the callable {value!r:.100} ({kind}): only functions "
                "and classes defined at the top level of a module can be written"
            )
        raise DumpError(
            f"{where}: cannot write a {kind} ({value!r:.100}): not a value runnables knows how to rebuild"
        )
    return _write_object(value, fields, where, depth)


def _write_dict(value: Mapping[Any, Any], where: str, depth: int) -> Any:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise DumpError(f"{where}: dict key {key!r:.100} is not a string")
        out[key] = _write(item, f"{where}[{key!r}]", depth + 1)
    return {"$dict": out} if any(key.startswith("$") for key in out) else out


def _write_alias(value: types.GenericAlias, where: str, depth: int) -> Any:
    """A parametrised class (`list[str]`, `dict[str, Any]`) as the class and its arguments."""
    parts = [value.__origin__, *value.__args__]
    return {"$alias": [_write(part, f"{where}[{i}]", depth + 1) for i, part in enumerate(parts)]}


def _write_union(value: object, where: str, depth: int) -> Any:
    """A union (`int | None`, `Optional[str]`) as its members, `None` for `NoneType`."""
    members = [None if arg is type(None) else arg for arg in typing.get_args(value)]
    return {"$union": [_write(arg, f"{where}[{i}]", depth + 1) for i, arg in enumerate(members)]}


def _write_ref(value: object, where: str) -> dict[str, str]:
    path = importable(value)
    if path is not None:
        return {"$ref": path}
    found = path_of(value) or repr(value)
    if "<lambda>" in found:
        why = "a lambda has no name to import it by; define it with def at module level"
    elif "<locals>" in found:
        why = "it is defined inside a function; move it to module level"
    else:
        why = "it cannot be imported again by that name"
    raise DumpError(f"{where}: cannot write {found}: {why}")


def _write_object(value: object, fields: dict[str, Any], where: str, depth: int) -> Any:
    cls = type(value)
    path = importable(cls)
    if path is None:
        raise DumpError(
            f"{where}: cannot write a {cls.__qualname__}: its class cannot be imported again "
            "by name (define it at module level)"
        )
    out: dict[str, Any] = {"$class": path}
    for name, item in fields.items():
        at = f"{where}.{name}"
        if isinstance(item, SecretStr):
            secret = SECRETS.get((path, name))
            if secret is None:
                raise DumpError(f"{at}: a secret cannot be written, and none is known to name it")
            out[name] = {"$secret": secret}
        else:
            out[name] = _write(item, at, depth + 1)
    return out
