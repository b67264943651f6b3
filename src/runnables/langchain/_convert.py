"""Values crossing the bridge: runnables' messages, documents and prompt values to LangChain's
and back, field for field, through lists, tuples and dicts; anything else crosses unchanged.

Fields only LangChain has travel in `additional_kwargs` under their LangChain names
(`invalid_tool_calls` of an AI message, `artifact` of a tool message, `example` of any
message when set) and come back out on the return trip; LangChain's nested token details (`input_token_details`) become flat
`usage_metadata` keys (`"input_token_details.cache_read"`), since ours counts are flat.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any, Union, cast, get_args, get_origin

import langchain_core.documents as lc_documents
import langchain_core.messages as lc
import langchain_core.prompt_values as lc_prompts
from langchain_core.messages.tool import tool_call, tool_call_chunk

from runnables import messages as ours
from runnables import prompts as our_prompts
from runnables.documents import Document
from runnables.errors import RunnablesTypeError

__all__ = ["from_lc", "from_lc_chunk", "lc_type", "text_chunk_fields", "to_lc"]

_LC_CHUNK = lc.AIMessageChunk
_OUR_CHUNK = ours.AIMessageChunk
_OPEN_CHUNK = cast("Callable[[], Any]", ours._OpenChunk)  # pyright: ignore[reportPrivateUsage]


def _with_example(message: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` (a copy of `message`'s `additional_kwargs`), with LangChain's `example` flag
    when it is set (a field of LangChain's before 1.0, an extra one since)."""
    if getattr(message, "example", False):
        extra["example"] = True
    return extra


def _common(message: Any) -> dict[str, Any]:
    return {
        "additional_kwargs": _with_example(message, dict(message.additional_kwargs)),
        "response_metadata": dict(message.response_metadata),
        "name": message.name,
        "id": message.id,
    }


def _flat_usage(usage: Any) -> dict[str, int] | None:
    if usage is None:
        return None
    return cast("dict[str, int]", ours.flat_usage(usage))


def _nested_usage(usage: dict[str, int] | None) -> Any:
    if usage is None:
        return None
    nested: dict[str, Any] = {}
    for key, count in usage.items():
        outer, dot, inner = key.partition(".")
        if dot:
            nested.setdefault(outer, {})[inner] = count
        else:
            nested[key] = count
    return nested


def _our_ai(message: Any, *, chunk: bool) -> ours.AIMessage:
    extra = message.additional_kwargs
    extra = _with_example(message, dict(extra) if extra else {})
    if message.invalid_tool_calls:
        extra["invalid_tool_calls"] = [dict(call) for call in message.invalid_tool_calls]
    common: dict[str, Any] = {
        "additional_kwargs": extra,
        "response_metadata": dict(message.response_metadata),
        "name": message.name,
        "id": message.id,
        "usage_metadata": _flat_usage(message.usage_metadata),
    }
    if chunk and message.tool_call_chunks:
        # The pieces as they came: ours add up into calls as LangChain's do.
        extra.pop("invalid_tool_calls", None)
        pieces = [
            ours.ToolCallChunk(c.get("name"), c.get("args"), c.get("id"), c.get("index"))
            for c in message.tool_call_chunks
        ]
        return ours.AIMessageChunk(message.content, tool_call_chunks=pieces, **common)
    calls = message.tool_calls
    cls = ours.AIMessageChunk if chunk else ours.AIMessage
    return cls(
        message.content,
        tool_calls=[ours.ToolCall(c["name"], dict(c["args"]), c.get("id")) for c in calls]
        if calls
        else [],
        **common,
    )


def _our_tool(message: Any) -> ours.ToolMessage:
    common = _common(message)
    if message.artifact is not None:
        common["additional_kwargs"]["artifact"] = message.artifact
    return ours.ToolMessage(
        message.content, tool_call_id=message.tool_call_id, status=message.status, **common
    )


_FROM_LC: dict[type[Any], Callable[[Any], Any]] = {
    lc.HumanMessage: lambda m: ours.HumanMessage(m.content, **_common(m)),
    lc.SystemMessage: lambda m: ours.SystemMessage(m.content, **_common(m)),
    lc.ChatMessage: lambda m: ours.ChatMessage(m.content, role=m.role, **_common(m)),
    lc.AIMessage: lambda m: _our_ai(m, chunk=False),
    lc.AIMessageChunk: lambda m: _our_ai(m, chunk=True),
    lc.ToolMessage: _our_tool,
    lc_documents.Document: lambda d: Document(d.page_content, dict(d.metadata), id=d.id),
    lc_prompts.StringPromptValue: lambda p: our_prompts.StringPromptValue(p.text),
    lc_prompts.ChatPromptValue: lambda p: our_prompts.ChatPromptValue(
        [from_lc(m) for m in p.messages]
    ),
}


def _lc_common(message: ours.BaseMessage, moved: str | None = None) -> dict[str, Any]:
    extra = dict(message.additional_kwargs)
    if moved is not None:
        extra.pop(moved, None)
    common: dict[str, Any] = {
        "content": message.content,
        "additional_kwargs": extra,
        "response_metadata": dict(message.response_metadata),
        "name": message.name,
        "id": message.id,
    }
    if extra.pop("example", False):
        common["example"] = True
    return common


def _lc_ai(message: ours.AIMessage) -> Any:
    common = _lc_common(message, "invalid_tool_calls")
    invalid: list[Any] = message.additional_kwargs.get("invalid_tool_calls", [])
    usage = _nested_usage(message.usage_metadata)
    if isinstance(message, ours.AIMessageChunk):
        invalid = []  # LangChain works them out from the pieces
        chunks = [
            tool_call_chunk(name=c.name, args=c.args, id=c.id, index=c.index)
            for c in message.tool_call_chunks
        ]
        return lc.AIMessageChunk(
            **common, tool_call_chunks=chunks, invalid_tool_calls=invalid, usage_metadata=usage
        )
    calls = [tool_call(name=c.name, args=c.args, id=c.id) for c in message.tool_calls]
    return lc.AIMessage(
        **common, tool_calls=calls, invalid_tool_calls=invalid, usage_metadata=usage
    )


_TO_LC: dict[type[Any], Callable[[Any], Any]] = {
    ours.HumanMessage: lambda m: lc.HumanMessage(**_lc_common(m)),
    ours.SystemMessage: lambda m: lc.SystemMessage(**_lc_common(m)),
    ours.ChatMessage: lambda m: lc.ChatMessage(role=m.role, **_lc_common(m)),
    ours.AIMessage: _lc_ai,
    ours.AIMessageChunk: _lc_ai,
    ours.ToolMessage: lambda m: lc.ToolMessage(
        tool_call_id=m.tool_call_id,
        status=m.status,
        artifact=m.additional_kwargs.get("artifact"),
        **_lc_common(m, "artifact"),
    ),
    Document: lambda d: lc_documents.Document(
        page_content=d.page_content, metadata=dict(d.metadata), id=d.id
    ),
    our_prompts.StringPromptValue: lambda p: lc_prompts.StringPromptValue(text=p.text),
    our_prompts.ChatPromptValue: lambda p: lc_prompts.ChatPromptValue(
        messages=[to_lc(m) for m in p.messages]
    ),
}


def _convert(value: Any, table: dict[type[Any], Callable[[Any], Any]], side: str) -> Any:
    kind: type[Any] = type(cast("object", value))
    convert = table.get(kind)
    if convert is not None:
        return convert(value)
    if kind is str:
        return value
    if kind is list:
        return [_convert(item, table, side) for item in cast("list[Any]", value)]
    if kind is tuple:
        return tuple(_convert(item, table, side) for item in cast("tuple[Any, ...]", value))
    if kind is dict:
        return {k: _convert(v, table, side) for k, v in cast("dict[Any, Any]", value).items()}
    for base in kind.__mro__[1:]:  # a subclass of one that crosses
        convert = table.get(base)
        if convert is not None:
            return convert(value)
    if isinstance(value, (lc.BaseMessage, ours.BaseMessage)):
        raise RunnablesTypeError(
            f"{kind.__name__} has no counterpart {side}; the messages that cross are human, "
            "system, ai (and ai chunks), tool and chat messages"
        )
    return value


def from_lc(value: Any) -> Any:
    """`value` with LangChain's messages, documents and prompt values replaced by ours."""
    return _convert(value, _FROM_LC, "in runnables")


def text_chunk_fields(value: Any) -> Mapping[str, Any] | None:
    """The fields of `value` if it is a LangChain chunk of text with no tool calls (what almost
    every streamed token is), else None. Read from its `__dict__`, where pydantic keeps them:
    an attribute read of a pydantic model takes a slow path (it has a `__getattr__`)."""
    if type(value) is not _LC_CHUNK:
        return None
    fields: Mapping[str, Any] = value.__dict__
    if fields["tool_call_chunks"] or fields["tool_calls"] or fields["invalid_tool_calls"]:
        return None
    return fields


def from_lc_chunk(value: Any) -> Any:
    """`from_lc` of one streamed chunk, with a shortcut for the chunk of text almost every
    streamed token is: LangChain has checked its fields already, so ours is filled in as is
    (see `messages._OpenChunk`; its dicts copied, as ours must not share them)."""
    fields = text_chunk_fields(value)
    if fields is None or value.__pydantic_extra__:  # (extra: LangChain's `example`, ...)
        return from_lc(value)
    extra = fields["additional_kwargs"]
    metadata = fields["response_metadata"]
    usage = fields["usage_metadata"]
    chunk: Any = _OPEN_CHUNK()  # every field stored, then made an AIMessageChunk
    chunk.content = fields["content"]
    chunk.additional_kwargs = dict(extra) if extra else {}
    chunk.response_metadata = dict(metadata) if metadata else {}
    chunk.name = fields["name"]
    chunk.id = fields["id"]
    chunk.tool_calls = []
    chunk.usage_metadata = None if usage is None else _flat_usage(usage)
    chunk.invalid_tool_calls = []
    chunk.tool_call_chunks = []
    chunk.__class__ = _OUR_CHUNK
    return chunk


def to_lc(value: Any) -> Any:
    """`value` with our messages, documents and prompt values replaced by LangChain's."""
    return _convert(value, _TO_LC, "in LangChain")


#: Our value classes and the LangChain classes they cross as.
_LC_TYPES: dict[Any, Any] = {
    ours.BaseMessage: lc.BaseMessage,
    ours.HumanMessage: lc.HumanMessage,
    ours.SystemMessage: lc.SystemMessage,
    ours.ChatMessage: lc.ChatMessage,
    ours.AIMessage: lc.AIMessage,
    ours.AIMessageChunk: lc.AIMessageChunk,
    ours.ToolMessage: lc.ToolMessage,
    Document: lc_documents.Document,
    our_prompts.StringPromptValue: lc_prompts.StringPromptValue,
    our_prompts.ChatPromptValue: lc_prompts.ChatPromptValue,
}


def lc_type(tp: Any) -> Any:
    """The type LangChain sees for values of our type `tp` once converted (`list[Document]`:
    `list[langchain Document]`); `tp` itself where nothing in it converts."""
    try:
        mapped = _LC_TYPES.get(tp)
    except TypeError:  # an unhashable type form
        return tp
    if mapped is not None:
        return mapped
    args = get_args(tp)
    if not args:
        return tp
    converted = tuple(lc_type(arg) for arg in args)
    if converted == args:
        return tp
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return Union[converted]  # noqa: UP007 - built from a tuple at run time
    try:
        return origin[converted]
    except TypeError:  # a form that cannot be rebuilt: left as it is
        return tp
