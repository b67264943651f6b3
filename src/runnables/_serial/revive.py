"""Rebuild a value from a document `write` made, refusing anything the allow-list does not
name, anything nested too deep and any number JSON cannot hold exactly."""

from __future__ import annotations

import functools
import json
import os
import types
from collections.abc import Mapping
from typing import Any, cast

from runnables._serial.dump import VERSION
from runnables._serial.errors import LoadError
from runnables._serial.paths import Allowed
from runnables._serial.rules import rule_for

__all__ = ["Reviver", "parse"]

_DEPTH = 200
_DIGITS = 40  # an int with more digits than this is refused


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _DIGITS:
        raise LoadError(f"an integer of {len(text)} digits is too large")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > 100:
        raise LoadError(f"a number of {len(text)} characters is too long")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise LoadError(f"the number {text[:40]} is too large")
    return value


def _parse_constant(text: str) -> Any:
    raise LoadError(f"{text} is not a JSON number")


def parse(text: str | bytes) -> Any:
    """JSON text as data, with its numbers checked."""
    try:
        return json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
        )
    except RecursionError:
        raise LoadError("the JSON is nested too deeply") from None
    except (ValueError, TypeError) as exc:
        if isinstance(exc, LoadError):
            raise
        raise LoadError(f"not valid JSON: {exc}") from exc


def _either(left: Any, right: Any) -> Any:
    return left | right


class Reviver:
    """One load: the allow-list and the secrets it may read."""

    def __init__(
        self, allowed: Allowed, secrets_map: Mapping[str, str], secrets_from_env: bool
    ) -> None:
        self.allowed = allowed
        self.secrets_map = secrets_map
        self.secrets_from_env = secrets_from_env

    def document(self, data: object) -> Any:
        if not isinstance(data, dict) or "runnables" not in data:
            raise LoadError(
                'not a runnables document: expected {"runnables": 1, "value": ...} at the top'
            )
        doc = cast("dict[str, Any]", data)
        version = doc["runnables"]
        if isinstance(version, bool) or version != VERSION:
            raise LoadError(
                f"document format {version!r:.40} is not one this version reads ({VERSION})"
            )
        extra = sorted(set(doc) - {"runnables", "value"})
        if extra or "value" not in doc:
            raise LoadError(
                f'the document needs exactly the keys "runnables" and "value"; got {sorted(doc)}'
            )
        return self.value(doc["value"], "$", 0)

    def value(self, data: object, where: str, depth: int) -> Any:
        if depth > _DEPTH:
            raise LoadError(f"{where}: nested deeper than {_DEPTH} levels")
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        if isinstance(data, list):
            items = cast("list[object]", data)
            return [self.value(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(items)]
        if not isinstance(data, dict):
            raise LoadError(f"{where}: {type(data).__name__} is not JSON data")
        node = cast("dict[str, object]", data)
        kinds = [key for key in node if key.startswith("$")]
        if not kinds:
            return self._dict(node, where, depth)
        if "$class" in kinds:
            return self._object(node, where, depth)
        if len(node) != 1:
            raise LoadError(f"{where}: {kinds[0]!r} must be the only key; got {sorted(node)}")
        kind, body = kinds[0], node[kinds[0]]
        if kind == "$tuple" and isinstance(body, list):
            return tuple(self.value(cast("list[object]", body), where, depth))
        if kind == "$dict" and isinstance(body, dict):
            return self._dict(cast("dict[str, object]", body), where, depth)
        if kind == "$alias" and isinstance(body, list) and body:
            return self._alias(cast("list[object]", body), where, depth)
        if kind == "$union" and isinstance(body, list) and len(cast("list[object]", body)) > 1:
            return self._union(cast("list[object]", body), where, depth)
        if kind == "$ref" and isinstance(body, str):
            return self.allowed.check(body, where)
        if kind == "$secret" and isinstance(body, str):
            return self._secret(body, where)
        known = "$class, $ref, $alias, $union, $tuple, $dict, $secret"
        raise LoadError(f"{where}: unknown kind {kind!r:.60} or wrong body (kinds: {known})")

    def _dict(self, node: dict[str, object], where: str, depth: int) -> dict[str, Any]:
        return {key: self.value(item, f"{where}[{key!r}]", depth + 1) for key, item in node.items()}

    def _alias(self, body: list[object], where: str, depth: int) -> Any:
        origin, *args = self.value(body, where, depth)
        if not isinstance(origin, type) or not args:
            raise LoadError(f"{where}: $alias needs a class and its type arguments")
        try:
            return types.GenericAlias(origin, tuple(args))
        except TypeError as exc:
            raise LoadError(f"{where}: cannot parametrise {origin.__name__}: {exc}") from exc

    def _union(self, body: list[object], where: str, depth: int) -> Any:
        members: list[Any] = self.value(body, where, depth)
        if not all(
            m is None or m is Any or isinstance(m, (type, types.GenericAlias)) for m in members
        ):
            raise LoadError(f"{where}: $union takes types and null")
        return functools.reduce(_either, members)

    def _secret(self, name: str, where: str) -> Any:
        from runnables.models._secret import SecretStr

        if name in self.secrets_map:
            return SecretStr(self.secrets_map[name])
        if self.secrets_from_env and name in os.environ:
            return SecretStr(os.environ[name])
        source = "secrets_map or the environment" if self.secrets_from_env else "secrets_map"
        raise LoadError(
            f"{where}: the secret {name!r} is not in {source}; pass secrets_map={{{name!r}: ...}}"
            + ("" if self.secrets_from_env else " or secrets_from_env=True")
        )

    def _object(self, node: dict[str, object], where: str, depth: int) -> Any:
        path = node["$class"]
        if not isinstance(path, str):
            raise LoadError(f"{where}: $class must be a 'module:qualname' string")
        stray = [key for key in node if key.startswith("$") and key != "$class"]
        if stray:
            raise LoadError(f"{where}: a $class node has field names, not {stray}")
        cls = self.allowed.check(path, where)
        rule = rule_for(cls) if isinstance(cls, type) else None
        if rule is None:
            raise LoadError(f"{where}: {path!r} is not a class runnables can rebuild")
        fields = {
            key: self.value(item, f"{where}.{key}", depth + 1)
            for key, item in node.items()
            if key != "$class"
        }
        try:
            return rule.build(**fields)
        except Exception as exc:
            raise LoadError(f"{where}: cannot build {path}: {type(exc).__name__}: {exc}") from exc
