"""The schema rule for each supported kind of type, registered into :data:`REGISTRY`.

Adding a kind means writing one hook and one ``REGISTRY.register`` call below (plus
the matching structuring hook in ``_validate``); nothing else dispatches on types.
"""

from __future__ import annotations

import collections.abc
import datetime
import decimal
import enum
import pathlib
import typing
import uuid
from typing import Any

from runnables.errors import RunnablesTypeError

from ._constraints import Constraint
from ._generate import Builder, JSONSchema, Registry
from ._introspect import (
    ABSENT,
    annotated_parts,
    args_of,
    class_doc,
    class_fields,
    display,
    extra_items,
    is_annotated,
    is_attrs,
    is_dataclass,
    is_enum,
    is_literal,
    is_newtype,
    is_typeddict,
    is_union,
    literal_values,
    origin_is,
    property_title,
    tuple_items,
)

if typing.TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "DECIMAL_PATTERN",
    "LIST_ORIGINS",
    "MAPPING_ORIGINS",
    "REGISTRY",
    "SET_ORIGINS",
    "json_type_of",
]

REGISTRY = Registry()

#: Decimals travel as strings (exact); this is the accepted syntax, finite values only.
DECIMAL_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"

LIST_ORIGINS: tuple[object, ...] = (
    list,
    collections.abc.Sequence,
    collections.abc.MutableSequence,
)
SET_ORIGINS: tuple[object, ...] = (
    set,
    frozenset,
    collections.abc.Set,
    collections.abc.MutableSet,
)
MAPPING_ORIGINS: tuple[object, ...] = (
    dict,
    collections.abc.Mapping,
    collections.abc.MutableMapping,
)

_JSON_TYPES: dict[type[Any], str] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    type(None): "null",
}


def json_type_of(value: object) -> str | None:
    """Return the JSON Schema ``type`` of a literal or enum value, if it has one."""
    return _JSON_TYPES.get(type(value))


def _fixed(schema: JSONSchema) -> Callable[[Builder, Any], JSONSchema]:
    def hook(builder: Builder, tp: object) -> JSONSchema:
        return dict(schema)

    return hook


def _is(expected: object) -> Callable[[object], bool]:
    return lambda tp: tp is expected


# --- leaves -----------------------------------------------------------------------------

_LEAVES: list[tuple[object, JSONSchema]] = [
    (str, {"type": "string"}),
    (int, {"type": "integer"}),
    (float, {"type": "number"}),
    (bool, {"type": "boolean"}),
    (None, {"type": "null"}),
    (type(None), {"type": "null"}),
    (bytes, {"type": "string", "contentEncoding": "base64"}),
    (decimal.Decimal, {"type": "string", "pattern": DECIMAL_PATTERN}),
    (datetime.datetime, {"type": "string", "format": "date-time"}),
    (datetime.date, {"type": "string", "format": "date"}),
    (datetime.time, {"type": "string", "format": "time"}),
    (uuid.UUID, {"type": "string", "format": "uuid"}),
    (pathlib.Path, {"type": "string", "format": "path"}),
    (Any, {}),
    (object, {}),
]
for _tp, _schema in _LEAVES:
    REGISTRY.register(_is(_tp), _fixed(_schema))


def _unbound_typevar(builder: Builder, tp: object) -> JSONSchema:
    raise RunnablesTypeError(
        f"runnables.schema cannot describe the unbound type variable {display(tp)}; "
        "parametrise the generic type"
    )


REGISTRY.register(lambda tp: isinstance(tp, typing.TypeVar), _unbound_typevar)


# --- wrappers ---------------------------------------------------------------------------


def _newtype(builder: Builder, tp: object) -> JSONSchema:
    newtype: Any = tp
    return builder.build(newtype.__supertype__)


def _annotated(builder: Builder, tp: object) -> JSONSchema:
    base, metadata = annotated_parts(tp)
    schema = dict(builder.build(base))
    for item in metadata:
        if isinstance(item, Constraint):
            item.apply(schema)
    return schema


def _union(builder: Builder, tp: object) -> JSONSchema:
    return {"anyOf": [builder.build(arg) for arg in args_of(tp)]}


def _literal(builder: Builder, tp: object) -> JSONSchema:
    values: list[object] = []
    for value in literal_values(tp):
        value = value.value if isinstance(value, enum.Enum) else value
        if json_type_of(value) is None:
            raise RunnablesTypeError(
                f"runnables.schema cannot describe the literal {value!r} in JSON"
            )
        values.append(value)
    schema: JSONSchema = {"const": values[0]} if len(values) == 1 else {"enum": values}
    kinds = {json_type_of(v) for v in values}
    if len(kinds) == 1:
        schema["type"] = kinds.pop()
    return schema


REGISTRY.register(is_newtype, _newtype)
REGISTRY.register(is_annotated, _annotated)
REGISTRY.register(is_union, _union)
REGISTRY.register(is_literal, _literal)


# --- collections ------------------------------------------------------------------------


def _item_schema(builder: Builder, tp: object) -> JSONSchema:
    args = args_of(tp)
    return builder.build(args[0]) if args else {}


def _list(builder: Builder, tp: object) -> JSONSchema:
    return {"type": "array", "items": _item_schema(builder, tp)}


def _set(builder: Builder, tp: object) -> JSONSchema:
    return {"type": "array", "items": _item_schema(builder, tp), "uniqueItems": True}


def _tuple(builder: Builder, tp: object) -> JSONSchema:
    fixed, variadic = tuple_items(tp)
    if variadic is not None:
        return {"type": "array", "items": builder.build(variadic)}
    if not fixed:
        return {"type": "array", "maxItems": 0}
    return {
        "type": "array",
        "prefixItems": [builder.build(arg) for arg in fixed],
        "minItems": len(fixed),
        "maxItems": len(fixed),
    }


def _mapping(builder: Builder, tp: object) -> JSONSchema:
    args = args_of(tp)
    if args and args[0] is not str:
        raise RunnablesTypeError(
            f"runnables.schema supports only str keys in mappings, not {display(tp)}"
        )
    values = builder.build(args[1]) if args else {}
    return {"type": "object", "additionalProperties": values}


REGISTRY.register(lambda tp: origin_is(tp, *LIST_ORIGINS), _list)
REGISTRY.register(lambda tp: origin_is(tp, *SET_ORIGINS), _set)
REGISTRY.register(lambda tp: origin_is(tp, tuple), _tuple)
REGISTRY.register(lambda tp: origin_is(tp, *MAPPING_ORIGINS), _mapping)


# --- named types ------------------------------------------------------------------------


def _describe(schema: JSONSchema, cls: object) -> JSONSchema:
    doc = class_doc(cls) if isinstance(cls, type) else None
    return {"description": doc, **schema} if doc else schema


def _enum(builder: Builder, tp: type[enum.Enum]) -> JSONSchema:
    def body() -> JSONSchema:
        values: list[object] = [member.value for member in tp]
        kinds = {json_type_of(v) for v in values}
        if None in kinds:
            raise RunnablesTypeError(
                f"runnables.schema cannot describe the values of {display(tp)}"
            )
        schema: JSONSchema = {"enum": values}
        if len(kinds) == 1:
            schema["type"] = kinds.pop()
        return _describe(schema, tp)

    return builder.named(tp, tp.__name__, body)


def _default_json(value: object) -> object:
    from ._unstructure import CONVERTER  # late: _unstructure imports this module

    return CONVERTER.unstructure(value)


def _object(builder: Builder, tp: object) -> JSONSchema:
    cls: object = typing.get_origin(tp) or tp

    def body() -> JSONSchema:
        properties: JSONSchema = {}
        required: list[str] = []
        for spec in class_fields(tp):
            prop: JSONSchema = {"title": property_title(spec.name), **builder.build(spec.type)}
            if spec.description is not None:
                prop["description"] = spec.description
            if spec.default is not ABSENT:
                prop["default"] = _default_json(spec.default)
            properties[spec.name] = prop
            if spec.required:
                required.append(spec.name)
        schema: JSONSchema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        extra = extra_items(tp) if is_typeddict(tp) else None
        if extra is None:
            schema["additionalProperties"] = False
        elif extra is not object and extra is not Any:
            schema["additionalProperties"] = builder.build(extra)
        return _describe(schema, cls)

    return builder.named(tp, display(tp), body)


REGISTRY.register(is_enum, _enum)
REGISTRY.register(lambda tp: is_attrs(tp) or is_dataclass(tp) or is_typeddict(tp), _object)
