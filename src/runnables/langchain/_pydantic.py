"""Our derived schemas as the pydantic models LangChain asks a runnable for.

LangChain builds a runnable's input and output schemas from `InputType` / `OutputType`, which
for a chain starting with a prompt is an open `dict[str, Any]`: no properties, so
`.as_tool()` cannot tell the arguments. `to_langchain` gives it these models instead, whose
JSON Schema is our derived one (`r.input_schema.json_schema()`), and whose fields are the
schema's properties (what LangChain's tools read their arguments from), typed as our type's
fields where pydantic can check those types (else they take any value: the runnable checks its
input itself).
"""

from __future__ import annotations

import copy
import keyword
import typing
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, RootModel, TypeAdapter, create_model

from runnables.langchain._convert import lc_type

__all__ = ["pydantic_model"]


def _replacing(document: dict[str, Any]) -> Any:
    """A `json_schema_extra` hook making a model's JSON Schema `document`, whatever pydantic
    made of its fields."""

    def replace(schema: dict[str, Any]) -> None:
        schema.clear()
        schema.update(copy.deepcopy(document))

    return replace


def _field_names(document: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The properties of an object schema, when each can be a pydantic field of its own."""
    properties: object = document.get("properties")
    if document.get("type") != "object" or not isinstance(properties, dict) or not properties:
        return None
    fields = cast("dict[str, dict[str, Any]]", properties)
    taken = set(dir(BaseModel))
    for name in fields:
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            return None
        if name in taken or name.startswith("model_"):
            return None
    return fields


def _checkable(tp: Any) -> Any:
    """`tp` if pydantic can check values of it, else `Any`."""
    try:
        TypeAdapter(tp)
    except Exception:  # pydantic refuses types it cannot build a validator for, in many ways
        return Any
    return tp


def _field_types(tp: Any) -> dict[str, Any]:
    """The declared types of the fields of a TypedDict, dataclass or attrs class `tp`."""
    try:
        return typing.get_type_hints(tp)
    except Exception:  # not a class with annotations, or ones that do not resolve
        return {}


def pydantic_model(runnable: object, which: str, name: str) -> type[BaseModel] | None:
    """A pydantic model described by `runnable`'s derived `which` schema ("input_schema" or
    "output_schema"), named `name`; None when there is no such schema, or when values cross
    converted (a message is LangChain's there: LangChain's own schema says so better)."""
    try:
        schema: Any = getattr(runnable, which)
        document: dict[str, Any] = schema.json_schema()
    except (AttributeError, TypeError, ValueError):  # no schema, or a type it cannot describe
        return None
    if lc_type(schema.type) is not schema.type:
        return None
    config = ConfigDict(json_schema_extra=_replacing(document), title=name)
    fields = _field_names(document)
    if fields is None:
        root: type[BaseModel] = type(name, (RootModel[Any],), {"model_config": config})
        return root
    required = set(document.get("required", ()))
    types = _field_types(schema.type)
    definitions: dict[str, Any] = {
        field: (_checkable(types.get(field, Any)), Field(... if field in required else None))
        for field in fields
    }
    model: type[BaseModel] = create_model(name, __config__=config, **definitions)
    return model
