"""LangServe's JSON form of values: messages, documents and prompt values tagged with their kind.

LangServe clients decode a JSON object whose ``"type"`` names a well-known LangChain class
(``"ai"``, ``"human"``, ``"AIMessageChunk"``, ``"Document"``, ``"ChatPromptValueConcrete"``,
...) into that class, and send such objects as input. :func:`encode` writes our values in
that form and :func:`decode` reads it back, so both sides keep the kind of every value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from runnables._schema._unstructure import CONVERTER
from runnables.documents import Document
from runnables.messages import BaseMessage, message_from_dict
from runnables.prompts import ChatPromptValue, StringPromptValue
from runnables.schema import validate

__all__ = ["FILTERS", "DecodeError", "decode", "dumps", "encode"]

#: The event filters ``stream_log`` and ``stream_events`` take, in their keyword order.
FILTERS = (
    "include_names",
    "include_types",
    "include_tags",
    "exclude_names",
    "exclude_types",
    "exclude_tags",
)

_MESSAGE_KINDS = frozenset({"ai", "human", "system", "tool", "chat", "AIMessageChunk"})

#: Fields LangChain adds to a message that ours do not have, with the values that mean "unset".
_LANGCHAIN_ONLY: Mapping[str, object] = {
    "example": False,
    "invalid_tool_calls": [],
    "tool_call_chunks": [],
    "chunk_position": None,
}

_converter = CONVERTER.copy()


def _encode_message(message: BaseMessage) -> dict[str, Any]:
    data: dict[str, Any] = CONVERTER.unstructure(message)
    data["type"] = message.type
    return data


def _encode_document(document: Document) -> dict[str, Any]:
    data: dict[str, Any] = CONVERTER.unstructure(document)
    data["type"] = "Document"
    return data


def _encode_chat_prompt(value: ChatPromptValue) -> dict[str, Any]:
    return {
        "messages": [_encode_message(message) for message in value.messages],
        "type": "ChatPromptValueConcrete",
    }


def _is_message(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseMessage)


_converter.register_unstructure_hook_func(_is_message, _encode_message)
_converter.register_unstructure_hook(Document, _encode_document)
_converter.register_unstructure_hook(
    StringPromptValue, lambda value: {"text": value.text, "type": "StringPromptValue"}
)
_converter.register_unstructure_hook(ChatPromptValue, _encode_chat_prompt)


def encode(value: object) -> Any:
    """Turn ``value`` into JSON-ready data, tagging messages, documents and prompt values."""
    return _converter.unstructure(value)


def dumps(value: object) -> str:
    """``encode`` then JSON on one line (as one Server-Sent Event's data must be)."""
    return json.dumps(encode(value), separators=(",", ":"), ensure_ascii=False)


class DecodeError(ValueError):
    """Input held tagged objects that are not valid; ``errors`` has one ``"<path>: <problem>"`` each."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


def _strip_langchain_fields(given: dict[str, Any]) -> dict[str, Any]:
    data = dict(given)
    for key, unset in _LANGCHAIN_ONLY.items():
        if key in data and data[key] == unset:
            del data[key]
    calls = data.get("tool_calls")
    if isinstance(calls, list):
        data["tool_calls"] = [
            _without_tool_call_tag(cast("dict[str, object]", call))
            if isinstance(call, dict)
            else call
            for call in cast("list[object]", calls)
        ]
    return data


def _without_tool_call_tag(call: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in call.items() if (key, value) != ("type", "tool_call")}


def _decode_tagged(kind: str, data: dict[str, Any], path: str, errors: list[str] | None) -> object:
    try:
        if kind in _MESSAGE_KINDS:
            return message_from_dict({"type": kind, "data": _strip_langchain_fields(data)})
        if kind == "Document":
            return validate(Document, data)
        if kind == "StringPromptValue":
            return StringPromptValue(text=data["text"]) if set(data) == {"text"} else _bad(data)
        messages = data.get("messages")
        if set(data) != {"messages"} or not isinstance(messages, list):
            return _bad(data)
        items = cast("list[object]", messages)
        decoded = [_decode(item, f"{path}.messages[{i}]", errors) for i, item in enumerate(items)]
        if all(isinstance(message, BaseMessage) for message in decoded):
            return ChatPromptValue(messages=cast("list[BaseMessage]", decoded))
        return _bad(data)
    except (ValueError, TypeError, KeyError) as exc:
        if errors is None:  # lenient: a run log's entry of type "tool" is not a message
            kept = {key: _decode(item, f"{path}.{key}", None) for key, item in data.items()}
            return {**kept, "type": kind}
        detail = str(exc).replace("\n", " ")
        errors.append(f"{path}: not a valid {kind!r} object ({detail})")
        return None


def _bad(data: Mapping[str, object]) -> object:
    raise ValueError(f"unexpected fields {sorted(data)}")


def _decode(value: object, path: str, errors: list[str] | None) -> object:
    if isinstance(value, list):
        items = cast("list[object]", value)
        return [_decode(item, f"{path}[{i}]", errors) for i, item in enumerate(items)]
    if not isinstance(value, dict):
        return value
    entries = cast("dict[str, object]", value)
    kind = entries.get("type")
    if isinstance(kind, str) and (
        kind in _MESSAGE_KINDS
        or kind in {"Document", "StringPromptValue", "ChatPromptValueConcrete", "ChatPromptValue"}
    ):
        data = {key: item for key, item in entries.items() if key != "type"}
        return _decode_tagged(kind, data, path, errors)
    return {key: _decode(item, f"{path}.{key}", errors) for key, item in entries.items()}


def decode(value: object, *, strict: bool = True) -> Any:
    """Rebuild tagged objects inside JSON data; raise :class:`DecodeError` listing bad ones.

    With ``strict=False`` an object that is not a valid instance of its tag stays a dict.
    """
    errors: list[str] | None = [] if strict else None
    result = _decode(value, "$", errors)
    if errors:
        raise DecodeError(errors)
    return result
