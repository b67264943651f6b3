"""Chat message values exchanged with chat models, prompts and tools."""

from __future__ import annotations

import json
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
    "ToolCallChunk",
    "InvalidToolCall",
    "add_ai_message_chunks",
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
    type: Literal["tool_call"] = attrs.field(
        default="tool_call", kw_only=True, validator=attrs.validators.in_(("tool_call",))
    )
    """Always ``"tool_call"``: the tag LangChain's dict form carries, kept so the shapes match."""

    # Holds a dict, so equality is by value and there is no hash (see BaseMessage).
    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]

    def __repr__(self) -> str:
        """Show the fields that differ from their defaults."""
        return _repr_without_defaults(self)


@attrs.frozen(repr=False)
class ToolCallChunk:
    """A streamed piece of a tool call: chunks of one `index` add up, `args` text concatenated.

    `args` is JSON text, complete only once the last piece has arrived.
    """

    name: str | None = None
    args: str | None = None
    id: str | None = None
    index: int | None = None
    type: Literal["tool_call_chunk"] = attrs.field(
        default="tool_call_chunk",
        kw_only=True,
        validator=attrs.validators.in_(("tool_call_chunk",)),
    )

    def __repr__(self) -> str:
        """Show the fields that differ from their defaults."""
        return _repr_without_defaults(self)


@attrs.frozen(repr=False)
class InvalidToolCall:
    """A tool call whose `args` text is not a JSON object; `error` says what is wrong with it.

    Kept rather than raised, so that a caller can tell the model its call was malformed.
    """

    name: str | None = None
    args: str | None = None
    id: str | None = None
    error: str | None = None
    type: Literal["invalid_tool_call"] = attrs.field(
        default="invalid_tool_call",
        kw_only=True,
        validator=attrs.validators.in_(("invalid_tool_call",)),
    )

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
    invalid_tool_calls: list[InvalidToolCall] = attrs.field(factory=list, kw_only=True)

    def pretty_repr(self) -> str:
        """The base rendering followed by one line per requested tool call."""
        base = super().pretty_repr()
        if not self.tool_calls:
            return base
        calls = [f"  {call.name} ({call.id}): {call.args!r}" for call in self.tool_calls]
        return "\n".join([base, "Tool Calls:", *calls])


#: Keys whose string value is the same in every chunk of a streamed answer (an id, a
#: provider's name): a chunk repeating it adds nothing, as in LangChain's merge.
_NAMING_KEYS = frozenset({"id", "output_version", "model_provider"})


def _join_naming(key: str, parts: list[str]) -> str:
    """The strings `key` took in successive chunks, joined as LangChain adds them: a naming
    key's repeated value, or an `index` that LangChain made (`lc_...`), is kept once."""
    if key not in _NAMING_KEYS and key != "index":
        return "".join(parts)
    total = parts[0]
    for part in parts[1:]:
        if (key == "index" and total.startswith("lc_")) or (key != "index" and part == total):
            continue
        total += part
    return total


def _merge_values(values: Sequence[object], key: str = "") -> object:
    """Merge the values one key took in successive chunks, as adding them pairwise would.

    ``None`` counts as "no value yet"; a run of strings concatenates (but see
    `_join_naming`), a run of mappings merges key by key, and any other value replaces what
    came before it.
    """
    run: list[object] = []
    for value in values:
        if value is None:
            continue
        if run and (
            (isinstance(value, str) and isinstance(run[0], str))
            or (isinstance(value, Mapping) and isinstance(run[0], Mapping))
        ):
            run.append(cast("object", value))
        else:
            run = [value]
    if not run:
        return None
    if isinstance(run[0], str):
        return _join_naming(key, cast("list[str]", run))
    if isinstance(run[0], Mapping):
        return _merge_dicts(*cast("list[Mapping[str, Any]]", run))
    return run[-1]


def _merge_dicts(*dicts: Mapping[str, Any]) -> dict[str, Any]:
    """Merge streamed metadata in one pass: see `_merge_values` for how one key's values merge."""
    present = [mapping for mapping in dicts if mapping]
    if len(present) <= 1:
        return dict(present[0]) if present else {}
    values: dict[str, list[object]] = {}
    for mapping in present:
        for key, value in mapping.items():
            values.setdefault(key, []).append(value)
    return {
        key: items[0] if len(items) == 1 else _merge_values(items, key)
        for key, items in values.items()
    }


def _merge_contents(contents: Sequence[MessageContent]) -> MessageContent:
    """Join streamed contents in one pass: strings concatenate, and once a list of parts
    appears every later non-empty string becomes a part of its own."""
    if all(isinstance(content, str) for content in contents):
        return "".join(cast("Sequence[str]", contents))
    text: list[str] = []
    parts: list[str | dict[str, Any]] | None = None
    for content in contents:
        if parts is None:
            if isinstance(content, str):
                text.append(content)
                continue
            whole = "".join(text)
            parts = [whole] if whole else []
            parts.extend(content)
        elif isinstance(content, str):
            if content:
                parts.append(content)
        else:
            parts.extend(content)
    return "".join(text) if parts is None else parts


def _merge_usage(usages: Sequence[dict[str, int] | None]) -> dict[str, int] | None:
    """Add token counts key by key, since each chunk reports its own share of the usage."""
    total: dict[str, int] | None = None
    for usage in usages:
        if usage is None:
            continue
        if total is None:
            total = dict(usage)
            continue
        for key, count in usage.items():
            total[key] = total.get(key, 0) + count
    return total


def _first(values: Iterable[_T | None]) -> _T | None:
    """The first value that is not ``None``."""
    return next((value for value in values if value is not None), None)


class _CallPieces:
    """One tool call being put together from its chunks; strings are joined once at the end."""

    __slots__ = ("args", "id", "index", "name")

    def __init__(self, chunk: ToolCallChunk) -> None:
        self.name: list[str] | None = None if chunk.name is None else [chunk.name]
        self.args: list[str] | None = None if chunk.args is None else [chunk.args]
        self.id = chunk.id
        self.index = chunk.index

    def takes(self, chunk: ToolCallChunk) -> bool:
        """Whether `chunk` continues this call: the same index, and no conflicting id."""
        return (
            chunk.index is not None
            and chunk.index == self.index
            and (not self.id or not chunk.id or self.id == chunk.id)
        )

    def add(self, chunk: ToolCallChunk) -> None:
        if chunk.name is not None:
            self.name = [chunk.name] if self.name is None else [*self.name, chunk.name]
        if chunk.args is not None:
            if self.args is None:
                self.args = [chunk.args]
            else:
                self.args.append(chunk.args)
        if not self.id and chunk.id is not None:
            self.id = chunk.id

    def chunk(self) -> ToolCallChunk:
        return ToolCallChunk(
            name=None if self.name is None else "".join(self.name),
            args=None if self.args is None else "".join(self.args),
            id=self.id,
            index=self.index,
        )


def _merge_call_chunks(lists: Sequence[list[ToolCallChunk]]) -> list[ToolCallChunk]:
    """Add up tool call chunks: a chunk joins the earlier one of the same index (and a
    consistent id), its `name` and `args` text appended; a chunk without an index stands alone."""
    calls: list[_CallPieces] = []
    by_index: dict[int, list[_CallPieces]] = {}
    for chunks in lists:
        for chunk in chunks:
            if chunk.index is not None:
                match = next((c for c in by_index.get(chunk.index, ()) if c.takes(chunk)), None)
                if match is not None:
                    match.add(chunk)
                    continue
            pieces = _CallPieces(chunk)
            calls.append(pieces)
            if chunk.index is not None:
                by_index.setdefault(chunk.index, []).append(pieces)
    return [pieces.chunk() for pieces in calls]


def _parse_args(text: str | None) -> dict[str, Any] | str:
    """The arguments a tool call's JSON text holds, or why they are not a JSON object."""
    if not text:
        return {}
    # Only an object ends in "}", and text still being streamed rarely does: refuse the
    # rest without scanning it all.
    if not text.rstrip().endswith("}"):
        return "the arguments are not a complete JSON object"
    try:
        args: object = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return f"the arguments are not JSON: {exc}"
    return cast("dict[str, Any]", args)


def _calls_of(
    chunks: Sequence[ToolCallChunk],
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """The tool calls of added-up chunks: those whose args parse, and those whose args do not."""
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for chunk in chunks:
        args = _parse_args(chunk.args)
        if isinstance(args, str):
            invalid.append(InvalidToolCall(chunk.name, chunk.args, chunk.id, args))
        else:
            calls.append(ToolCall(chunk.name or "", args, chunk.id))
    return calls, invalid


def _chunks_of(
    calls: Sequence[ToolCall], invalid: Sequence[InvalidToolCall]
) -> list[ToolCallChunk]:
    """Complete tool calls as chunks (without an index, so that they never merge)."""
    return [ToolCallChunk(call.name, json.dumps(call.args), call.id) for call in calls] + [
        ToolCallChunk(call.name, call.args, call.id) for call in invalid
    ]


@attrs.frozen(repr=False, unsafe_hash=False)
class AIMessageChunk(AIMessage):
    """A piece of a streamed AI message; add chunks with ``+`` to assemble the whole message.

    `tool_call_chunks` are the source of a chunk's tool calls: `tool_calls` holds those whose
    args text is a complete JSON object, `invalid_tool_calls` the rest (still streaming, or
    malformed). A chunk built from `tool_calls` alone gets matching `tool_call_chunks`.
    ``chunk + [more, chunks]`` or `add_ai_message_chunks` adds a whole stream in linear time.
    """

    type: ClassVar[str] = "AIMessageChunk"

    tool_call_chunks: list[ToolCallChunk] = attrs.field(factory=list, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.tool_call_chunks:
            calls, invalid = _calls_of(self.tool_call_chunks)
            object.__setattr__(self, "tool_calls", calls)
            object.__setattr__(self, "invalid_tool_calls", invalid)
        elif self.tool_calls or self.invalid_tool_calls:
            chunks = _chunks_of(self.tool_calls, self.invalid_tool_calls)
            object.__setattr__(self, "tool_call_chunks", chunks)

    #: `chunk + [more, chunks]` adds a whole stream in one pass (the core's totals use it).
    _adds_chunk_lists: ClassVar[bool] = True

    def __add__(self, other: AIMessageChunk | Sequence[AIMessageChunk]) -> AIMessageChunk:
        """Combine this chunk with the chunk (or the chunks) that followed it in the stream."""
        checked = cast("object", other)
        if isinstance(checked, AIMessageChunk):
            return _add_two(self, checked)
        if isinstance(checked, (list, tuple)):
            return add_ai_message_chunks(self, *cast("Sequence[AIMessageChunk]", checked))
        msg = f"can only add AIMessageChunk to AIMessageChunk, not {checked.__class__.__name__}"
        raise RunnablesTypeError(msg)

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
            invalid_tool_calls=self.invalid_tool_calls,
        )


def _add_two(left: AIMessageChunk, right: AIMessageChunk) -> AIMessageChunk:
    """`add_ai_message_chunks` of two chunks, spelled out: it runs for every streamed chunk."""
    content = (
        left.content + right.content
        if isinstance(left.content, str) and isinstance(right.content, str)
        else _merge_contents((left.content, right.content))
    )
    calls = (
        _merge_call_chunks((left.tool_call_chunks, right.tool_call_chunks))
        if left.tool_call_chunks or right.tool_call_chunks
        else []
    )
    return AIMessageChunk(
        content,
        additional_kwargs=_merge_dicts(left.additional_kwargs, right.additional_kwargs),
        response_metadata=_merge_dicts(left.response_metadata, right.response_metadata),
        name=left.name if left.name is not None else right.name,
        id=left.id if left.id is not None else right.id,
        tool_call_chunks=calls,
        usage_metadata=_merge_usage((left.usage_metadata, right.usage_metadata)),
    )


def add_ai_message_chunks(first: AIMessageChunk, *others: AIMessageChunk) -> AIMessageChunk:
    """Add up a stream of chunks in one pass (time linear in their total size), as ``+``
    applied left to right would."""
    chunks = (first, *others)
    for position, chunk in enumerate(chunks):
        if not isinstance(cast("object", chunk), AIMessageChunk):
            msg = (
                "can only add AIMessageChunk to AIMessageChunk, "
                f"not {chunk.__class__.__name__} (item {position})"
            )
            raise RunnablesTypeError(msg)
    if not others:
        return first
    return AIMessageChunk(
        _merge_contents([chunk.content for chunk in chunks]),
        additional_kwargs=_merge_dicts(*(chunk.additional_kwargs for chunk in chunks)),
        response_metadata=_merge_dicts(*(chunk.response_metadata for chunk in chunks)),
        name=_first(chunk.name for chunk in chunks),
        id=_first(chunk.id for chunk in chunks),
        tool_call_chunks=_merge_call_chunks([chunk.tool_call_chunks for chunk in chunks]),
        usage_metadata=_merge_usage([chunk.usage_metadata for chunk in chunks]),
    )


class _OpenChunk(AIMessage):  # pyright: ignore[reportUnusedClass]  # used by runnables.langchain
    """`AIMessageChunk`'s very layout (same base, same added slot) without the frozen guard,
    for a bridge's per-chunk path: a chunk without tool calls has nothing for `__init__` to
    check or derive, so one of these is made empty (`_OpenChunk()`), every field stored as is,
    and then its `__class__` set to `AIMessageChunk` (about three times cheaper than the
    constructor; streaming makes one chunk per token). Both `__setattr__` and `__delattr__`
    must be object's for the stores to take the interpreter's fast path for slots."""

    __slots__ = ("tool_call_chunks",)
    __init__ = object.__init__  # pyright: ignore[reportAssignmentType]
    __setattr__ = object.__setattr__
    __delattr__ = object.__delattr__


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
    return _structure(_from_langchain_form(entry["data"], cls), cls, f"{where}.data")


def _from_langchain_form(data: object, cls: type[BaseMessage]) -> object:
    """LangChain's form of a message's data, read as ours: its `type` repeated inside the data,
    `example=False`, a tool message's `artifact` (kept in `additional_kwargs`, as the
    LangChain bridge does) and nested token details (flattened to `"input_token_details.x"`)."""
    if not isinstance(data, Mapping):
        return data
    fields = dict(cast("Mapping[str, object]", data))
    if "type" in fields and fields["type"] in (cls.type, _LANGCHAIN_CHUNK_TYPES.get(cls.type)):
        del fields["type"]
    if fields.get("example") is False:
        del fields["example"]
    if cls is ToolMessage and "artifact" in fields:
        artifact = fields.pop("artifact")
        extra = fields.get("additional_kwargs")
        if artifact is not None and isinstance(extra, Mapping):
            fields["additional_kwargs"] = {
                **cast("Mapping[str, object]", extra),
                "artifact": artifact,
            }
    usage = fields.get("usage_metadata")
    if isinstance(usage, Mapping):
        fields["usage_metadata"] = flat_usage(cast("Mapping[str, object]", usage))
    return fields


def flat_usage(usage: Mapping[str, object]) -> dict[str, object]:
    """LangChain's nested token counts (`{"input_token_details": {"cache_read": 1}}`) as
    `usage_metadata` holds them: `{"input_token_details.cache_read": 1}`."""
    flat: dict[str, object] = {}
    for key, value in usage.items():
        if isinstance(value, Mapping):
            for inner, count in cast("Mapping[str, object]", value).items():
                flat[f"{key}.{inner}"] = count
        else:
            flat[key] = value
    return flat


#: The `type` LangChain writes inside a chunk's data.
_LANGCHAIN_CHUNK_TYPES = {"ai": "AIMessageChunk"}


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
    for key, kind in (("tool_calls", ToolCall), ("invalid_tool_calls", InvalidToolCall)):
        calls = fields.get(key)
        if isinstance(calls, list):
            # Allow ready-made call objects alongside their plain-dict form.
            fields[key] = [
                _converter.unstructure(call) if isinstance(call, kind) else call
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
