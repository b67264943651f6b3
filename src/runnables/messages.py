"""Chat message values exchanged with chat models, prompts and tools."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar, cast, get_args, get_origin

import attrs
import cattrs

from runnables.errors import RunnablesTypeError, RunnablesValueError

__all__ = [
    "MessageContent",
    "MessageLike",
    "BaseMessage",
    "HumanMessage",
    "SystemMessage",
    "AIMessage",
    "AIMessageChunk",
    "ToolMessage",
    "ChatMessage",
    "ToolCall",
    "message_to_dict",
    "message_from_dict",
    "messages_to_dict",
    "messages_from_dict",
    "convert_to_message",
    "convert_to_messages",
    "get_buffer_string",
]

MessageContent: TypeAlias = str | list[str | dict[str, Any]]
"""A message body: plain text, or a list of text strings and typed parts such as images."""

_T = TypeVar("_T")


def _repr_without_defaults(obj: attrs.AttrsInstance) -> str:
    """Render an attrs instance showing only fields whose value differs from the default."""
    parts: list[str] = []
    for field in attrs.fields(obj.__class__):
        value: object = getattr(obj, field.name)
        default: object = field.default
        if default is not attrs.NOTHING:
            factory: object = getattr(default, "factory", None)
            if callable(factory):
                default = factory()
            if value == default:
                continue
        parts.append(f"{field.name}={value!r}")
    return f"{obj.__class__.__name__}({', '.join(parts)})"


@attrs.frozen(repr=False)
class ToolCall:
    """A request from a model to run the tool `name` with the keyword arguments `args`."""

    name: str
    args: dict[str, Any]
    id: str | None = None

    # Holds a dict, so equality is by value and there is no hash (see BaseMessage).
    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]

    def __repr__(self) -> str:
        """Show the fields that differ from their defaults."""
        return _repr_without_defaults(self)


@attrs.frozen(repr=False)
class BaseMessage:
    """Common fields of every chat message; instantiate one of the concrete subclasses instead.

    Messages are immutable and compare by value (class and every field), but they
    hold dicts and lists, so they are deliberately unhashable.
    """

    type: ClassVar[str]
    """The kind of message, used as the tag in `messages_to_dict`."""

    content: MessageContent
    additional_kwargs: dict[str, Any] = attrs.field(factory=dict, kw_only=True)
    response_metadata: dict[str, Any] = attrs.field(factory=dict, kw_only=True)
    name: str | None = attrs.field(default=None, kw_only=True)
    id: str | None = attrs.field(default=None, kw_only=True)

    # Subclasses pass ``unsafe_hash=False`` so attrs keeps this instead of generating a hash.
    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]

    def __attrs_pre_init__(self) -> None:
        """Refuse direct instantiation, because a message without a kind cannot be serialised."""
        if not hasattr(self, "type"):
            names = ", ".join(cls.__name__ for cls in _MESSAGE_CLASSES.values())
            msg = f"{self.__class__.__name__} is abstract; use one of {names}"
            raise RunnablesTypeError(msg)

    def __repr__(self) -> str:
        """Show the class and the fields that differ from their defaults."""
        return _repr_without_defaults(self)

    @property
    def text(self) -> str:
        """The textual content: the string itself, or all text parts of a list joined together."""
        if isinstance(self.content, str):
            return self.content
        pieces: list[str] = []
        for part in self.content:
            if isinstance(part, str):
                pieces.append(part)
            elif part.get("type") == "text" and isinstance(part.get("text"), str):
                pieces.append(part["text"])
        return "".join(pieces)

    def pretty_repr(self) -> str:
        """A banner-style, human-readable rendering for printing conversations."""
        kind = self.__class__.__name__.removesuffix("Chunk").removesuffix("Message")
        lines = [f" {kind} Message ".center(80, "=")]
        if self.name is not None:
            lines.append(f"Name: {self.name}")
        lines.extend(["", self.text])
        return "\n".join(lines)

    def pretty_print(self) -> None:
        """Print `pretty_repr()`, for quick inspection in notebooks and scripts."""
        print(self.pretty_repr())


@attrs.frozen(repr=False, unsafe_hash=False)
class HumanMessage(BaseMessage):
    """A message written by the user."""

    type: ClassVar[str] = "human"


@attrs.frozen(repr=False, unsafe_hash=False)
class SystemMessage(BaseMessage):
    """An instruction that primes the model's behaviour, usually first in a conversation."""

    type: ClassVar[str] = "system"


@attrs.frozen(repr=False, unsafe_hash=False)
class AIMessage(BaseMessage):
    """A message produced by a model, possibly requesting tool calls."""

    type: ClassVar[str] = "ai"

    tool_calls: list[ToolCall] = attrs.field(factory=list, kw_only=True)
    usage_metadata: dict[str, int] | None = attrs.field(default=None, kw_only=True)

    def pretty_repr(self) -> str:
        """The base rendering followed by one line per requested tool call."""
        base = super().pretty_repr()
        if not self.tool_calls:
            return base
        calls = [f"  {call.name} ({call.id}): {call.args!r}" for call in self.tool_calls]
        return "\n".join([base, "Tool Calls:", *calls])


def _merge_dicts(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """Merge streamed metadata: strings concatenate, dicts merge, otherwise the right value wins.

    ``None`` counts as "no value yet", so it never overwrites an existing value.
    """
    merged = dict(left)
    for key, new in right.items():
        old: object = merged.get(key)
        if old is None:
            merged[key] = new
        elif new is None:
            continue
        elif isinstance(old, str) and isinstance(new, str):
            merged[key] = old + new
        elif isinstance(old, Mapping) and isinstance(new, Mapping):
            merged[key] = _merge_dicts(
                cast("Mapping[str, Any]", old), cast("Mapping[str, Any]", new)
            )
        else:
            merged[key] = new
    return merged


def _merge_content(left: MessageContent, right: MessageContent) -> MessageContent:
    """Join two streamed contents; strings concatenate, and a string meeting a list joins it."""
    if isinstance(left, str) and isinstance(right, str):
        return left + right
    left_parts = ([left] if left else []) if isinstance(left, str) else left
    right_parts = ([right] if right else []) if isinstance(right, str) else right
    return [*left_parts, *right_parts]


def _merge_usage(
    left: dict[str, int] | None, right: dict[str, int] | None
) -> dict[str, int] | None:
    """Add token counts key by key, since each chunk reports its own share of the usage."""
    if left is None:
        return right
    if right is None:
        return left
    total = dict(left)
    for key, count in right.items():
        total[key] = total.get(key, 0) + count
    return total


def _first(left: _T | None, right: _T | None) -> _T | None:
    """The first value that is not ``None``."""
    return left if left is not None else right


@attrs.frozen(repr=False, unsafe_hash=False)
class AIMessageChunk(AIMessage):
    """A piece of a streamed AI message; add chunks with ``+`` to assemble the whole message.

    ``sum(chunks[1:], chunks[0])`` folds a whole stream.
    """

    type: ClassVar[str] = "AIMessageChunk"

    def __add__(self, other: AIMessageChunk) -> AIMessageChunk:
        """Combine this chunk with the chunk that followed it in the stream."""
        checked = cast("object", other)
        if not isinstance(checked, AIMessageChunk):
            msg = f"can only add AIMessageChunk to AIMessageChunk, not {checked.__class__.__name__}"
            raise RunnablesTypeError(msg)
        return AIMessageChunk(
            _merge_content(self.content, checked.content),
            additional_kwargs=_merge_dicts(self.additional_kwargs, checked.additional_kwargs),
            response_metadata=_merge_dicts(self.response_metadata, checked.response_metadata),
            name=_first(self.name, checked.name),
            id=_first(self.id, checked.id),
            tool_calls=[*self.tool_calls, *checked.tool_calls],
            usage_metadata=_merge_usage(self.usage_metadata, checked.usage_metadata),
        )

    def to_message(self) -> AIMessage:
        """The equivalent complete `AIMessage`, for storing once streaming has finished."""
        return AIMessage(
            self.content,
            additional_kwargs=self.additional_kwargs,
            response_metadata=self.response_metadata,
            name=self.name,
            id=self.id,
            tool_calls=self.tool_calls,
            usage_metadata=self.usage_metadata,
        )


@attrs.frozen(repr=False, unsafe_hash=False)
class ToolMessage(BaseMessage):
    """The result of running a tool, linked to the request by `tool_call_id`."""

    type: ClassVar[str] = "tool"

    tool_call_id: str = attrs.field(kw_only=True)
    status: Literal["success", "error"] = attrs.field(default="success", kw_only=True)


@attrs.frozen(repr=False, unsafe_hash=False)
class ChatMessage(BaseMessage):
    """A message with an arbitrary, caller-chosen `role`."""

    type: ClassVar[str] = "chat"

    role: str = attrs.field(kw_only=True)


_MESSAGE_CLASSES: dict[str, type[BaseMessage]] = {
    cls.type: cls
    for cls in (HumanMessage, SystemMessage, AIMessage, AIMessageChunk, ToolMessage, ChatMessage)
}


# --------------------------------------------------------------------------- serialisation


class _InvalidValue(TypeError):
    """A value of the wrong shape; its message is reported verbatim by `_format_error`."""


def _type_name(value: object) -> str:
    """The class name of ``value``, for error messages."""
    return value.__class__.__name__


def _check_str(value: object, _: object) -> str:
    """Accept only real strings, instead of cattrs' default ``str(value)`` coercion."""
    if not isinstance(value, str):
        msg = f"expected a string, got {_type_name(value)}"
        raise _InvalidValue(msg)
    return value


def _check_int(value: object, _: object) -> int:
    """Accept only real integers (not bools or numeric strings)."""
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"expected an integer, got {_type_name(value)}"
        raise _InvalidValue(msg)
    return value


_LITERAL: object = Literal


def _is_literal(tp: object) -> bool:
    """Whether ``tp`` is a ``Literal[...]`` type."""
    return get_origin(tp) is _LITERAL


def _check_literal(value: object, expected: object) -> object:
    """Accept only one of the values a ``Literal[...]`` field allows."""
    allowed: tuple[object, ...] = get_args(expected)
    if value not in allowed:
        msg = f"expected one of {', '.join(map(repr, allowed))}, got {value!r}"
        raise _InvalidValue(msg)
    return value


def _check_str_keys(value: object) -> dict[str, Any]:
    """Copy a mapping after checking that every key is a string."""
    if not isinstance(value, Mapping):
        msg = f"expected a mapping, got {_type_name(value)}"
        raise _InvalidValue(msg)
    result: dict[str, Any] = {}
    for key, item in cast("Mapping[object, object]", value).items():
        if not isinstance(key, str):
            msg = f"expected string keys, got {_type_name(key)}"
            raise _InvalidValue(msg)
        result[key] = item
    return result


def _check_dict(value: object, _: object) -> dict[str, Any]:
    """Structure hook for ``dict[str, Any]`` fields."""
    return _check_str_keys(value)


def _check_content(value: object, _: object = None) -> MessageContent:
    """Accept a string, or a list of strings and dict parts."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        msg = f"expected a string or a list of parts, got {_type_name(value)}"
        raise _InvalidValue(msg)
    parts: list[str | dict[str, Any]] = []
    for index, part in enumerate(cast("list[object]", value)):
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            parts.append(_check_str_keys(cast("object", part)))
        else:
            msg = f"expected content part {index} to be a string or dict, got {_type_name(part)}"
            raise _InvalidValue(msg)
    return parts


_converter = cattrs.Converter(forbid_extra_keys=True)
"""The single converter that (un)structures every message class, validating strictly."""
_converter.register_structure_hook(str, _check_str)
_converter.register_structure_hook(int, _check_int)
_converter.register_structure_hook_func(lambda tp: tp == dict[str, Any], _check_dict)
_converter.register_structure_hook_func(lambda tp: tp == MessageContent, _check_content)
_converter.register_structure_hook_func(_is_literal, _check_literal)


def _format_error(exc: BaseException, expected: type | None) -> str:
    """Describe one leaf validation error, preferring our own messages over cattrs' generic ones."""
    if isinstance(exc, _InvalidValue):
        return str(exc)
    return cattrs.v.format_exception(exc, expected)


def _structure(data: object, cls: type[_T], where: str) -> _T:
    """Build ``cls`` from plain data, turning validation failures into one readable ValueError."""
    if not isinstance(data, Mapping):
        msg = f"{where}: expected a mapping of fields, got {_type_name(data)}"
        raise RunnablesTypeError(msg)
    try:
        return _converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        problems = "; ".join(cattrs.transform_error(exc, where, _format_error))
        msg = f"invalid {cls.__name__} data: {problems}"
        raise RunnablesValueError(msg) from exc


def message_to_dict(message: BaseMessage) -> dict[str, Any]:
    """Serialise one message as ``{"type": ..., "data": {...fields...}}`` of plain values."""
    if _MESSAGE_CLASSES.get(message.type) is not message.__class__:
        known = ", ".join(cls.__name__ for cls in _MESSAGE_CLASSES.values())
        msg = f"cannot serialise {_type_name(message)}: only {known} are supported"
        raise RunnablesTypeError(msg)
    data: dict[str, Any] = _converter.unstructure(message)
    return {"type": message.type, "data": data}


def messages_to_dict(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Serialise messages to JSON-friendly dicts, for storing conversation history."""
    return [message_to_dict(message) for message in messages]


def _message_from_dict(value: object, where: str) -> BaseMessage:
    """Rebuild one message, reporting problems relative to ``where``."""
    if not isinstance(value, Mapping):
        msg = f"{where}: expected a mapping with 'type' and 'data', got {_type_name(value)}"
        raise RunnablesTypeError(msg)
    entry = cast("Mapping[object, object]", value)
    if set(entry) != {"type", "data"}:
        keys = ", ".join(sorted(map(repr, entry)))
        msg = f"{where}: expected exactly the keys 'type' and 'data', got {keys}"
        raise RunnablesValueError(msg)
    kind = entry["type"]
    cls = _MESSAGE_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(map(repr, _MESSAGE_CLASSES))
        msg = f"{where}.type: unknown message type {kind!r}; known types: {known}"
        raise RunnablesValueError(msg)
    return _structure(entry["data"], cls, f"{where}.data")


def message_from_dict(value: Mapping[str, Any]) -> BaseMessage:
    """Rebuild a message from `message_to_dict` output, validating every field."""
    return _message_from_dict(value, "$")


def messages_from_dict(values: Iterable[Mapping[str, Any]]) -> list[BaseMessage]:
    """Rebuild messages from `messages_to_dict` output, validating every field."""
    return [_message_from_dict(value, f"$[{index}]") for index, value in enumerate(values)]


# --------------------------------------------------------------------------- coercion

MessageLike: TypeAlias = BaseMessage | str | tuple[str, MessageContent] | Mapping[str, Any]
"""Anything `convert_to_message` accepts: a message, a string, a ``(role, content)`` pair or a dict."""

_ROLES: dict[str, type[BaseMessage]] = {
    "human": HumanMessage,
    "user": HumanMessage,
    "ai": AIMessage,
    "assistant": AIMessage,
    "system": SystemMessage,
    "tool": ToolMessage,
}


def _class_for_role(role: object) -> type[BaseMessage]:
    """Map a role name to its message class, rejecting unknown roles."""
    cls = _ROLES.get(role) if isinstance(role, str) else None
    if cls is None:
        msg = f"unknown message role {role!r}; allowed roles: {', '.join(map(repr, _ROLES))}"
        raise RunnablesValueError(msg)
    return cls


def _from_pair(value: tuple[object, ...]) -> BaseMessage:
    """Convert a ``(role, content)`` pair."""
    if len(value) != 2:
        msg = f"a message tuple must be (role, content), got {len(value)} items"
        raise RunnablesValueError(msg)
    role, content = value
    cls = _class_for_role(role)
    if cls is ToolMessage:
        msg = (
            "a ('tool', content) pair cannot carry a tool_call_id; "
            "use ToolMessage(...) or a dict with 'tool_call_id'"
        )
        raise RunnablesValueError(msg)
    try:
        checked = _check_content(content)
    except _InvalidValue as exc:
        msg = f"invalid content for role {role!r}: {exc}"
        raise RunnablesTypeError(msg) from None
    # Every class reachable here has content as its only required field.
    return cls(checked)


def _from_mapping(value: Mapping[object, object]) -> BaseMessage:
    """Convert a ``{"role": ..., "content": ..., **fields}`` dict."""
    fields = dict(value)
    if "role" not in fields:
        keys = ", ".join(sorted(map(repr, fields)))
        msg = f"a message dict needs a 'role' key, got keys {keys}"
        raise RunnablesValueError(msg)
    cls = _class_for_role(fields.pop("role"))
    calls = fields.get("tool_calls")
    if isinstance(calls, list):
        # Allow ready-made ToolCall objects alongside their plain-dict form.
        fields["tool_calls"] = [
            _converter.unstructure(call) if isinstance(call, ToolCall) else call
            for call in cast("list[object]", calls)
        ]
    return _structure(fields, cls, "$")


def _convert_one(value: object) -> BaseMessage:
    """Runtime-checked body of `convert_to_message`."""
    if isinstance(value, BaseMessage):
        return value
    if isinstance(value, str):
        return HumanMessage(value)
    if isinstance(value, tuple):
        return _from_pair(cast("tuple[object, ...]", value))
    if isinstance(value, Mapping):
        return _from_mapping(cast("Mapping[object, object]", value))
    msg = (
        f"cannot convert {_type_name(value)} to a message; expected a BaseMessage, a str, "
        "a (role, content) tuple or a dict with 'role' and 'content'"
    )
    raise RunnablesTypeError(msg)


def convert_to_message(value: MessageLike) -> BaseMessage:
    """Coerce one message-like value to a message; strings become human messages."""
    return _convert_one(value)


def convert_to_messages(value: MessageLike | Sequence[MessageLike]) -> list[BaseMessage]:
    """Coerce a message-like value, or a sequence of them, to a list of messages.

    A single message, string or dict gives a one-element list. Any tuple or list is
    treated as a *sequence* of message-likes, so wrap a lone ``(role, content)``
    pair in a list: ``convert_to_messages([("ai", "hi")])``.
    """
    items: object = value
    if isinstance(items, Sequence) and not isinstance(items, str):
        return [_convert_one(item) for item in cast("Sequence[object]", items)]
    return [_convert_one(items)]


def get_buffer_string(
    messages: Sequence[BaseMessage], human_prefix: str = "Human", ai_prefix: str = "AI"
) -> str:
    """Render a conversation as ``Role: text`` lines, for feeding chat history to text-only LLMs."""
    labels: dict[type[BaseMessage], str] = {
        HumanMessage: human_prefix,
        AIMessage: ai_prefix,
        SystemMessage: "System",
        ToolMessage: "Tool",
    }
    lines: list[str] = []
    for message in messages:
        if isinstance(message, ChatMessage):
            label = message.role
        else:
            label = next(
                (text for cls, text in labels.items() if isinstance(message, cls)), message.type
            )
        lines.append(f"{label}: {message.text}")
    return "\n".join(lines)


# The list utilities build on the classes above, so they are imported last.
from runnables._message_utils import (  # noqa: E402
    HasMessages,
    MessagesInput,
    MessageTypes,
    TokenCounter,
    convert_to_openai_messages,
    filter_messages,
    merge_message_runs,
    trim_messages,
)

__all__ += [
    "HasMessages",
    "MessageTypes",
    "MessagesInput",
    "TokenCounter",
    "convert_to_openai_messages",
    "filter_messages",
    "merge_message_runs",
    "trim_messages",
]
