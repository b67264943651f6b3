"""A small JSON Schema check for structured output given as a schema dict: the keywords a
model's answer most often gets wrong (`type`, `required`, `properties`, `items`, `enum`,
`anyOf`/`oneOf`), each failure named by its path. Other keywords are not checked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

__all__ = ["json_problems"]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def _fits_type(value: object, name: str) -> bool:
    kinds = _TYPES.get(name)
    if kinds is None:  # a type name this check does not know: not judged
        return True
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, kinds)


def _json_type(value: object) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _fits_type(value, name):
            return name
    return type(value).__name__


def json_problems(value: object, schema: Mapping[str, Any], path: str = "$") -> list[str]:
    """Where `value` does not fit `schema`: one `"$.path: what"` line per failure."""
    declared = schema.get("type")
    if declared is not None:
        names = [declared] if isinstance(declared, str) else list(cast("list[str]", declared))
        if not any(_fits_type(value, name) for name in names):
            return [f"{path}: expected {' or '.join(names)}, got {_json_type(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: expected one of {schema['enum']!r}, got {value!r:.80}"]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            fits = [not json_problems(value, o, path) for o in cast("list[Any]", options)]
            if not any(fits):
                return [f"{path}: fits none of the {key} options"]
    problems: list[str] = []
    if isinstance(value, dict):
        data = cast("dict[str, Any]", value)
        required = schema.get("required", [])
        problems.extend(
            f"{path}: missing required key {key!r}" for key in required if key not in data
        )
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            for key, part in cast("Mapping[str, Any]", properties).items():
                if key in data and isinstance(part, Mapping):
                    sub = cast("Mapping[str, Any]", part)
                    problems.extend(json_problems(data[key], sub, f"{path}.{key}"))
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for index, item in enumerate(cast("list[Any]", value)):
                problems.extend(
                    json_problems(item, cast("Mapping[str, Any]", items), f"{path}[{index}]")
                )
    return problems
