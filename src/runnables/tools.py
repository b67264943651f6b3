"""Tools: functions a model can call, with an argument schema read from the signature.

```python
@tool
def some_tool(x: int, y: str) -> dict:
    '''Some_tool.'''
    return {"x": x, "y": y}

some_tool.invoke({"x": 1, "y": "2"})  # {"x": 1, "y": "2"}
some_tool.invoke({"x": "1", "y": "2"})  # SchemaError: $.x: expected int, got str
```
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import typing
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Annotated, Any, Literal, SupportsIndex, TypeAlias, TypeVar, cast, overload

import attrs
import typing_extensions

from runnables._core.base import RunnableBase
from runnables._core.config import RunnableConfig
from runnables._core.context import RunContext
from runnables._core.interop import run_coroutine_blocking
from runnables._core.leaf import aleaf, aleaf_in_thread, leaf
from runnables._primitives.lambda_ import _resolve  # pyright: ignore[reportPrivateUsage]
from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import ToolCall, ToolMessage
from runnables.schema import Constraint, Description, Schema, json_schema, unstructure

__all__ = ["Tool", "ToolChoice", "ToolLike", "convert_to_openai_tool", "tool", "tool_choice_for"]

Out = TypeVar("Out", covariant=True)
O1 = TypeVar("O1")

_RESERVED = frozenset({"config"})
_ANNOTATED: Any = Annotated  # subscripted with a runtime tuple below


@attrs.frozen
class _Default(Constraint):
    """Shows a parameter's default in the argument schema (if it has a JSON form); validation
    is unaffected."""

    value: Any

    def apply(self, schema: dict[str, Any]) -> None:
        try:
            default = unstructure(self.value)
            json.dumps(default)
        except (TypeError, ValueError):
            return
        schema["default"] = default

    def check(self, value: Any) -> str | None:
        return None


@attrs.frozen
class _Signature:
    """What a tool learns from its function: the argument schema, defaults and shape."""

    schema: Schema[dict[str, Any]]
    defaults: Mapping[str, Any]
    description: str
    output_type: Any
    is_async: bool
    wants_config: bool
    parameters: tuple[str, ...]
    required: tuple[str, ...]


@attrs.frozen(init=False)
class Tool(RunnableBase[dict[str, Any] | str, Out]):
    """A function as a tool: a runnable (run type `"tool"`) taking a dict of its arguments.

    The argument schema (`args_schema`, `args`) comes from the signature: each parameter
    is a property typed by its annotation (`Any` if none), required unless it has a
    default, described by the docstring's Google-style `Args:` section. The description is
    the docstring's first paragraph unless given. A parameter named `config` receives the
    run's config and is not an argument.

    `invoke` validates the arguments (a wrong, missing or unknown argument raises
    `SchemaError` naming it), fills in defaults and calls the function. A plain string is
    accepted for a tool with one argument (or one required argument). A `ToolCall` is
    accepted too: the tool runs on its `args` and answers with a `ToolMessage`.
    """

    func: Callable[..., Any]
    explicit_name: str | None = None
    explicit_description: str | None = None
    _signature: _Signature = attrs.field(eq=False, repr=False, kw_only=True)

    @overload
    def __init__(
        self: Tool[O1],
        func: Callable[..., Coroutine[Any, Any, O1]],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: Tool[O1],
        func: Callable[..., O1],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> None: ...
    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> None:
        if not callable(func):
            raise RunnablesTypeError(f"Tool needs a callable, got {func!r}")
        tool_name = name or getattr(func, "__name__", None)
        if not isinstance(tool_name, str) or tool_name == "<lambda>":
            raise RunnablesTypeError(f"give the tool a name: {func!r} has none")
        check_tool_name(tool_name)
        signature = _read_signature(func, tool_name, description)
        self.__attrs_init__(  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
            func, name, description, signature=signature
        )

    # -- properties

    @property
    def name(self) -> str:
        return self.explicit_name or str(getattr(self.func, "__name__", "Tool"))

    @property
    def description(self) -> str:
        """What the tool does (the docstring's first paragraph unless given)."""
        return self._signature.description

    @property
    def run_type(self) -> str:
        return "tool"

    @property
    def args_schema(self) -> Schema[dict[str, Any]]:
        """The schema of the arguments: an object titled with the tool's name."""
        return self._signature.schema

    @property
    def args(self) -> dict[str, Any]:
        """The JSON Schema `properties` of the arguments."""
        properties: dict[str, Any] = self.args_schema.json_schema().get("properties", {})
        return properties

    @property
    def input_type(self) -> Any:
        return self._signature.schema.type

    @property
    def output_type(self) -> Any:
        return self._signature.output_type

    @property
    def input_schema(self) -> Schema[dict[str, Any] | str]:
        return Schema(self.input_type, self.name)

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        # `@tool` replaces the function by this object under the function's own name, so
        # the function cannot be pickled by reference; pickle this object by that name.
        module = getattr(self.func, "__module__", None)
        qualname = getattr(self.func, "__qualname__", None)
        if module and qualname and _resolve(module, qualname, default=None) is self:
            return _resolve, (module, qualname)
        # The generated argument schema is not picklable: rebuild it from the function.
        return _rebuild, (self.func, self.explicit_name, self.explicit_description)

    # -- calls (a ToolCall in gives a ToolMessage out)

    @overload
    def invoke(self, input: ToolCall, config: RunnableConfig | None = None) -> ToolMessage: ...
    @overload
    def invoke(self, input: dict[str, Any] | str, config: RunnableConfig | None = None) -> Out: ...
    def invoke(self, input: Any, config: RunnableConfig | None = None) -> Any:
        """Run the tool on a dict of arguments (or a string, or a `ToolCall`)."""
        return super().invoke(input, config)

    @overload
    async def ainvoke(
        self, input: ToolCall, config: RunnableConfig | None = None
    ) -> ToolMessage: ...
    @overload
    async def ainvoke(
        self, input: dict[str, Any] | str, config: RunnableConfig | None = None
    ) -> Out: ...
    async def ainvoke(self, input: Any, config: RunnableConfig | None = None) -> Any:
        """Run the tool on a dict of arguments (or a string, or a `ToolCall`), asynchronously."""
        return await super().ainvoke(input, config)

    # A model's `tool_calls` run as a batch: `tool.batch(message.tool_calls)` answers
    # ToolMessages, typed as such (the overloads only narrow the inherited signature).
    @overload
    def batch(
        self,
        inputs: Sequence[dict[str, Any] | str],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[False] = False,
    ) -> list[Out]: ...
    @overload
    def batch(
        self,
        inputs: Sequence[dict[str, Any] | str],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[True],
    ) -> list[Out | Exception]: ...
    @overload
    def batch(
        self,
        inputs: Sequence[dict[str, Any] | str],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool,
    ) -> list[Out | Exception]: ...
    @overload
    def batch(
        self,
        inputs: Sequence[ToolCall],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[False] = False,
    ) -> list[ToolMessage]: ...
    @overload
    def batch(
        self,
        inputs: Sequence[ToolCall],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[True],
    ) -> list[ToolMessage | Exception]: ...
    @overload
    def batch(
        self,
        inputs: Sequence[ToolCall],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool,
    ) -> list[ToolMessage | Exception]: ...
    def batch(
        self,
        inputs: Sequence[Any],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
    ) -> list[Any]:
        """Run the tool on many argument dicts (or `ToolCall`s, answering `ToolMessage`s)."""
        return super().batch(inputs, config, return_exceptions=return_exceptions)

    @overload
    async def abatch(
        self,
        inputs: Sequence[dict[str, Any] | str],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[False] = False,
    ) -> list[Out]: ...
    @overload
    async def abatch(
        self,
        inputs: Sequence[dict[str, Any] | str],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[True],
    ) -> list[Out | Exception]: ...
    @overload
    async def abatch(
        self,
        inputs: Sequence[dict[str, Any] | str],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool,
    ) -> list[Out | Exception]: ...
    @overload
    async def abatch(
        self,
        inputs: Sequence[ToolCall],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[False] = False,
    ) -> list[ToolMessage]: ...
    @overload
    async def abatch(
        self,
        inputs: Sequence[ToolCall],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[True],
    ) -> list[ToolMessage | Exception]: ...
    @overload
    async def abatch(
        self,
        inputs: Sequence[ToolCall],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool,
    ) -> list[ToolMessage | Exception]: ...
    async def abatch(
        self,
        inputs: Sequence[Any],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
    ) -> list[Any]:
        """Run the tool on many argument dicts (or `ToolCall`s), asynchronously."""
        return await super().abatch(inputs, config, return_exceptions=return_exceptions)

    def parse_input(self, input: Mapping[str, Any] | str) -> dict[str, Any]:
        """The keyword arguments for the function: validated, defaults filled in."""
        data: Mapping[str, Any]
        if isinstance(input, str):
            data = {self._string_argument(): input}
        elif isinstance(cast("object", input), Mapping):
            data = input
        else:
            raise RunnablesTypeError(
                f"tool {self.name!r} takes a dict of arguments, a string or a ToolCall, "
                f"got {type(input).__name__}"
            )
        arguments = dict(self.args_schema.validate(data))
        for key, value in self._signature.defaults.items():
            arguments.setdefault(key, value)
        return arguments

    def _string_argument(self) -> str:
        names = self._signature.parameters
        required = self._signature.required
        if len(names) == 1:
            return names[0]
        if len(required) == 1:
            return required[0]
        raise RunnablesValueError(
            f"tool {self.name!r} takes the arguments {list(names)}: give them as a dict, "
            "not a string"
        )

    def _kwargs(self, input: Any, ctx: RunContext) -> tuple[dict[str, Any], ToolCall | None]:
        call = as_tool_call(input)
        kwargs = self.parse_input(call.args if call is not None else input)
        if self._signature.wants_config:
            kwargs["config"] = ctx.as_config()
        return kwargs, call

    def _answer(self, output: Any, call: ToolCall | None) -> Any:
        if call is None:
            return output
        return ToolMessage(_content_of(output), tool_call_id=call.id or "", name=self.name)

    def _invoke(self, input: dict[str, Any] | str, ctx: RunContext) -> Out:
        if self._signature.is_async:
            return run_coroutine_blocking(lambda: self._ainvoke(input, ctx))
        kwargs, call = self._kwargs(input, ctx)
        return cast("Out", self._answer(leaf(ctx, self.func, **kwargs), call))

    async def _ainvoke(self, input: dict[str, Any] | str, ctx: RunContext) -> Out:
        kwargs, call = self._kwargs(input, ctx)
        if self._signature.is_async:
            output = await aleaf(ctx, self.func, **kwargs)
        else:
            output = await aleaf_in_thread(ctx, self.func, **kwargs)
        return cast("Out", self._answer(output, call))


def _rebuild(func: Callable[..., Any], name: str | None, description: str | None) -> Tool[Any]:
    return Tool(func, name=name, description=description)


def as_tool_call(input: object) -> ToolCall | None:
    """`input` as a `ToolCall` if it is one (or a tool call's dict), else None."""
    if isinstance(input, ToolCall):
        return input
    if isinstance(input, Mapping):
        mapping = cast("Mapping[str, Any]", input)
        if mapping.get("type") != "tool_call" or "args" not in mapping:
            return None
        return ToolCall(str(mapping.get("name", "")), dict(mapping["args"]), mapping.get("id"))
    return None


# --------------------------------------------------------------------------- signatures

_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Returns?|Yields?|Raises|Examples?|Notes?|"
    r"Attributes|See Also|Warnings?|Todo)\s*:\s*$"
)
_ARG_LINE = re.compile(r"^(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")


def _parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The first paragraph and the Google-style `Args:` descriptions of a docstring."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    first: list[str] = []
    for line in lines:
        if _SECTION.match(line) or (not line.strip() and first):
            break
        if line.strip():
            first.append(line.strip())
    descriptions: dict[str, str] = {}
    in_args = False
    current: str | None = None
    indent: int | None = None
    for line in lines:
        section = _SECTION.match(line)
        if section:
            in_args = section.group(1) in ("Args", "Arguments", "Parameters", "Params")
            current, indent = None, None
            continue
        if not in_args or not line.strip():
            continue
        this_indent = len(line) - len(line.lstrip())
        if indent is None:
            indent = this_indent
        if this_indent == 0:
            in_args, current = False, None
            continue
        match = _ARG_LINE.match(line.strip()) if this_indent <= indent else None
        if match:
            arg = str(match.group(1)).lstrip("*")
            descriptions[arg] = str(match.group(3)).strip()
            current = arg
        elif current is not None:
            descriptions[current] = f"{descriptions[current]} {line.strip()}".strip()
    return " ".join(first), descriptions


def _annotated_description(annotation: object) -> str | None:
    """The description an `Annotated[T, "text"]` or `Annotated[T, Doc("text")]` annotation
    gives its parameter (the first, as LangChain reads it), else None."""
    if typing.get_origin(annotation) is not Annotated:
        return None
    for extra in typing.get_args(annotation)[1:]:
        if isinstance(extra, str):
            return extra
        if isinstance(documentation := getattr(extra, "documentation", None), str):
            return documentation
    return None


def _read_signature(func: Callable[..., Any], name: str, description: str | None) -> _Signature:
    target = inspect.unwrap(func)
    if inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target):
        raise RunnablesTypeError(f"tool {name!r}: generator functions cannot be tools")
    call = getattr(target, "__call__", None)  # noqa: B004 - callable objects
    if not inspect.isfunction(target) and not inspect.ismethod(target) and call is not None:
        is_async = inspect.iscoroutinefunction(call)
    else:
        is_async = inspect.iscoroutinefunction(target)
    signature = inspect.signature(func)
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception:
        hints = {}
    summary, arg_docs = _parse_docstring(inspect.getdoc(func))
    fields: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    wants_config = False
    for param in signature.parameters.values():
        if param.name in _RESERVED:
            wants_config = True
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise RunnablesTypeError(
                f"tool {name!r}: *{param.name} is not supported; tools take named arguments"
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise RunnablesTypeError(
                f"tool {name!r}: positional-only parameter {param.name!r} is not supported"
            )
        annotation: Any = hints.get(param.name, Any)
        extras: list[Any] = []
        described = _annotated_description(annotation) or arg_docs.get(param.name)
        if described:
            extras.append(Description(described))
        if param.default is not param.empty:
            extras.append(_Default(param.default))
            defaults[param.name] = param.default
        field: Any = _ANNOTATED[tuple([annotation, *extras])] if extras else annotation
        fields[param.name] = (
            typing_extensions.NotRequired[field] if param.default is not param.empty else field
        )
    make: Any = typing_extensions.TypedDict  # the functional form, with a runtime name
    typeddict: Any = make(name, fields)
    text = summary if description is None else description
    if text:
        typeddict.__doc__ = text
    else:
        typeddict.__doc__ = None
    output_type: Any = hints.get("return", Any)
    return _Signature(
        schema=Schema[dict[str, Any]](typeddict, name),
        defaults=defaults,
        description=text,
        output_type=output_type,
        is_async=is_async,
        wants_config=wants_config,
        parameters=tuple(fields),
        required=tuple(name for name in fields if name not in defaults),
    )


# --------------------------------------------------------------------------- the decorator


@attrs.frozen
class _ToolDecorator:
    """`@tool("name")` / `@tool(name=..., description=...)`: the options, awaiting the function."""

    name: str | None = None
    description: str | None = None

    @overload
    def __call__(self, func: Callable[..., Coroutine[Any, Any, O1]]) -> Tool[O1]: ...
    @overload
    def __call__(self, func: Callable[..., O1]) -> Tool[O1]: ...
    def __call__(self, func: Callable[..., Any]) -> Tool[Any]:
        return Tool(func, name=self.name, description=self.description)


@overload
def tool(func: Callable[..., Coroutine[Any, Any, O1]], /) -> Tool[O1]: ...
@overload
def tool(func: Callable[..., O1], /) -> Tool[O1]: ...
@overload
def tool(name: str, /, *, description: str | None = None) -> _ToolDecorator: ...
@overload
def tool(*, name: str | None = None, description: str | None = None) -> _ToolDecorator: ...
def tool(
    func_or_name: Callable[..., Any] | str | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Tool[Any] | _ToolDecorator:
    """Make a function a `Tool`: `@tool`, `@tool("name")` or `@tool(name=..., description=...)`."""
    if isinstance(func_or_name, str):
        return _ToolDecorator(func_or_name, description)
    if func_or_name is None:
        return _ToolDecorator(name, description)
    return Tool(func_or_name, name=name, description=description)


# --------------------------------------------------------------------------- tools for models

ToolLike: TypeAlias = Tool[Any] | Callable[..., Any] | type | Mapping[str, Any]
"""What `bind_tools` accepts: a `Tool`, a plain function, an attrs class, dataclass or
TypedDict (its fields are the arguments), or a dict (an OpenAI tool, or a JSON Schema with a
``"title"``)."""

ToolChoice: TypeAlias = str | bool | Mapping[str, Any] | None
"""Which tool a model must call, as LangChain spells it: a tool's name, ``"auto"``,
``"none"``, ``"required"`` (or ``"any"``), ``True`` (the only tool), an OpenAI
``tool_choice`` dict, or None/False for the model's own choice."""

#: Schema keywords whose value is a map of names to schemas.
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
#: Schema keywords whose value is a schema or a list of schemas.
_SCHEMA_PARTS = ("items", "additionalProperties", "not", "anyOf", "oneOf", "allOf", "prefixItems")


def _without_titles(node: object) -> Any:
    """A copy of a JSON Schema without its ``"title"`` annotations (models need none; property
    names called "title" are kept)."""
    if isinstance(node, list):
        return [_without_titles(item) for item in cast("list[object]", node)]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in cast("dict[str, Any]", node).items():
        if key == "title" and isinstance(value, str):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            result[key] = {
                name: _without_titles(part) for name, part in cast("dict[str, Any]", value).items()
            }
        elif key in _SCHEMA_PARTS:
            result[key] = _without_titles(value)
        else:
            result[key] = value
    return result


#: The tool names model providers accept (OpenAI's rule; others' are the same or looser).
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def check_tool_name(name: str) -> None:
    """A `ValueError` if providers would refuse `name` as a tool's name."""
    if not _TOOL_NAME.fullmatch(name):
        raise RunnablesValueError(
            f"tool name {name!r} would be refused by model providers: use 1 to 64 letters, "
            "digits, '_' or '-' (no spaces), e.g. name="
            f"{re.sub(r'[^a-zA-Z0-9_-]+', '_', name)[:64].strip('_') or 'my_tool'!r}"
        )


def _function(name: str, description: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    check_tool_name(name)
    function: dict[str, Any] = {"name": name}
    if description:
        function["description"] = description
    top = {key: value for key, value in parameters.items() if key != "description"}
    function["parameters"] = _without_titles(top)
    return {"type": "function", "function": function}


def _is_class_schema(value: object) -> bool:
    if not isinstance(value, type):
        return False
    kind: type[Any] = value
    return attrs.has(kind) or dataclasses.is_dataclass(kind) or typing_extensions.is_typeddict(kind)


def _from_dict(value: Mapping[str, Any], where: str) -> dict[str, Any]:
    if value.get("type") == "function" and isinstance(value.get("function"), Mapping):
        function = cast("Mapping[str, Any]", value["function"])
        if not isinstance(function.get("name"), str):
            raise RunnablesValueError(f"{where}: an OpenAI tool needs function.name, a string")
        check_tool_name(function["name"])
        return {"type": "function", "function": dict(function)}
    if isinstance(value.get("name"), str) and isinstance(value.get("parameters"), Mapping):
        check_tool_name(value["name"])
        return {"type": "function", "function": dict(value)}
    title = value.get("title")
    if not isinstance(title, str) or not title:
        raise RunnablesValueError(
            f"{where}: a JSON Schema tool needs a 'title' (the tool's name); got keys "
            f"{sorted(map(str, value))}"
        )
    parameters = {key: item for key, item in value.items() if key not in ("title", "description")}
    description = value.get("description")
    return _function(title, description if isinstance(description, str) else "", parameters)


def convert_to_openai_tool(value: ToolLike, *, where: str = "tool") -> dict[str, Any]:
    """The OpenAI tool form of `value`: ``{"type": "function", "function": {"name",
    "description", "parameters"}}``, its parameters a JSON Schema from the project's deriver.

    Raises:
        RunnablesTypeError: `value` is none of the kinds of `ToolLike` (`where` says which).
    """
    checked = cast("object", value)
    if isinstance(checked, Tool):
        tool_ = cast("Tool[Any]", checked)
        return _function(tool_.name, tool_.description, tool_.args_schema.json_schema())
    if isinstance(checked, Mapping):
        return _from_dict(cast("Mapping[str, Any]", checked), where)
    if _is_class_schema(checked):
        schema = json_schema(checked)
        description = schema.pop("description", "")
        name = getattr(checked, "__name__", "")
        return _function(name, description if isinstance(description, str) else "", schema)
    if callable(checked) and not isinstance(checked, type):
        return convert_to_openai_tool(Tool(checked), where=where)
    raise RunnablesTypeError(
        f"{where}: cannot use {type(checked).__name__} {checked!r:.80} as a tool; give a Tool, "
        "a function, an attrs class, a dataclass, a TypedDict or a dict"
    )


_CHOICES = {"auto": "auto", "none": "none", "required": "required", "any": "required"}


def tool_choice_for(choice: ToolChoice, names: Sequence[str]) -> str | dict[str, Any] | None:
    """The OpenAI ``tool_choice`` for LangChain's spelling `choice` among tools `names`.

    Raises:
        RunnablesValueError: `choice` names no tool of `names`, or is True with several tools.
    """
    if choice is None or choice is False:
        return None
    if choice is True:
        if len(names) != 1:
            raise RunnablesValueError(
                f"tool_choice=True needs exactly one tool, got {len(names)}: {list(names)}"
            )
        return _named_choice(names[0])
    if isinstance(choice, str):
        if choice in _CHOICES:
            return _CHOICES[choice]
        if choice not in names:
            raise RunnablesValueError(
                f"tool_choice {choice!r} is not one of the bound tools {list(names)} "
                f"nor one of {list(_CHOICES)}"
            )
        return _named_choice(choice)
    if isinstance(cast("object", choice), Mapping):
        return dict(choice)
    raise RunnablesTypeError(
        f"tool_choice must be a tool name, {', '.join(map(repr, _CHOICES))}, a bool or a dict; "
        f"got {type(choice).__name__}"
    )


def _named_choice(name: str) -> dict[str, Any]:
    choice: dict[str, Any] = {"type": "function", "function": {"name": name}}
    return choice


def _content_of(output: object) -> str:
    """A tool's result as the text a model reads: itself if it is text, else its JSON (attrs
    values, dataclasses and the like through the library's converter, as LangChain sends
    dicts and lists), else its `str`."""
    if isinstance(output, str):
        return output
    from runnables.schema import unstructure

    try:
        return json.dumps(unstructure(output), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(output)
