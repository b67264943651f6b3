"""`as_tool()`: a runnable as a `Tool`, its arguments read from its input type."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs
import typing_extensions

from runnables.errors import RunnablesTypeError

if TYPE_CHECKING:
    from runnables._core.base import RunnableBase
    from runnables.tools import Tool

__all__ = ["runnable_as_tool"]

Out = TypeVar("Out")

#: The one argument of a tool whose runnable takes something other than an object (LangChain's).
SINGLE = "__arg1"


class _Absent:
    """The default of an optional argument the caller left out: not passed on."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()
_FACTORY: type = type(attrs.Factory(object))  # attrs types `Factory` as what it makes


def _fields(kind: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """`(types, defaults)` of the fields of a TypedDict, attrs class or dataclass, else None."""
    if typing_extensions.is_typeddict(kind):
        # Marks in string annotations are missed by `__required_keys__`: read them here.
        required: set[str] = set(getattr(kind, "__required_keys__", ()))
        types: dict[str, Any] = {}
        for key, hint in typing.get_type_hints(kind, include_extras=True).items():
            origin = typing.get_origin(hint)
            if origin in (typing_extensions.NotRequired, typing_extensions.Required):
                if origin is typing_extensions.NotRequired:
                    required.discard(key)
                else:
                    required.add(key)
                hint = typing.get_args(hint)[0]
            types[key] = hint
        return types, {key: _ABSENT for key in types if key not in required}
    if not isinstance(kind, type):
        return None
    if attrs.has(kind):
        hints = typing.get_type_hints(kind)
        defaults: dict[str, Any] = {}
        for field in attrs.fields(kind):
            if field.default is not attrs.NOTHING:
                factory = isinstance(field.default, _FACTORY)
                defaults[field.name] = _ABSENT if factory else field.default
        return {f.name: hints.get(f.name, Any) for f in attrs.fields(kind) if f.init}, defaults
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        defaults = {}
        fields = dataclasses.fields(kind)
        for field in fields:
            if field.default is not dataclasses.MISSING:
                defaults[field.name] = field.default
            elif field.default_factory is not dataclasses.MISSING:
                defaults[field.name] = _ABSENT
        return {f.name: hints.get(f.name, Any) for f in fields if f.init}, defaults
    return None


def _is_plain_dict(kind: Any) -> bool:
    return kind is dict or typing.get_origin(kind) in (dict, Mapping, typing.Mapping)


def _instance_of(kind: Any) -> Callable[[dict[str, Any]], Any]:
    def build(kwargs: dict[str, Any]) -> Any:
        return kind(**kwargs)

    return build


def _single(kwargs: dict[str, Any]) -> Any:
    return kwargs[SINGLE]


def _schema_fields(
    runnable: RunnableBase[Any, Any],
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The fields of the type a dict-taking runnable's input schema derives (a prompt's, or a
    chain's that starts with one), if it has named fields."""
    schema_type = runnable.input_schema.type
    if _is_plain_dict(schema_type):
        return None
    return _fields(schema_type)


def runnable_as_tool(
    runnable: RunnableBase[Any, Out],
    args_schema: type | None,
    name: str | None,
    description: str | None,
    arg_types: Mapping[str, Any] | None,
) -> Tool[Out]:
    """A `Tool` calling `runnable`: on the dict of its arguments (arguments from `args_schema`,
    `arg_types` or a TypedDict input), on an instance of an attrs/dataclass input type, or
    on its one argument `__arg1` for any other input."""
    from runnables.tools import Tool

    input_type = runnable.input_type
    build: Callable[[dict[str, Any]], Any] = dict
    if args_schema is not None:
        found = _fields(args_schema)
        if found is None:
            raise RunnablesTypeError(
                f"as_tool: args_schema must be a TypedDict, attrs class or dataclass, got "
                f"{args_schema!r}"
            )
        types, defaults = found
    elif arg_types is not None:
        types, defaults = dict(arg_types), {}
    elif (found := _fields(input_type)) is not None:
        types, defaults = found
        if not typing_extensions.is_typeddict(input_type):
            build = _instance_of(input_type)
    elif _is_plain_dict(input_type) and (found := _schema_fields(runnable)) is not None:
        types, defaults = found  # the keys its schema knows (a prompt's variables), as a dict
    elif _is_plain_dict(input_type):
        raise RunnablesTypeError(
            f"as_tool: {runnable.name} takes a dict of unknown keys; give arg_types={{...}} "
            "(each argument's type) or args_schema=<a TypedDict>"
        )
    else:
        types, defaults = {SINGLE: input_type}, {}
        build = _single

    def call(**kwargs: Any) -> Any:
        given = {key: value for key, value in kwargs.items() if value is not _ABSENT}
        return runnable.invoke(build(given))

    try:
        parameters = [
            inspect.Parameter(
                key,
                inspect.Parameter.KEYWORD_ONLY,
                default=defaults.get(key, inspect.Parameter.empty),
                annotation=tp,
            )
            for key, tp in types.items()
        ]
    except ValueError as exc:
        raise RunnablesTypeError(f"as_tool: argument names must be identifiers ({exc})") from exc
    tool_name = name or runnable.name
    call.__name__ = call.__qualname__ = tool_name
    call.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    call.__annotations__ = {**types, "return": runnable.output_type}
    func = getattr(runnable, "func", None)
    call.__doc__ = getattr(func, "__doc__", None) if description is None else None
    return cast("Tool[Out]", Tool(call, name=tool_name, description=description))
