"""The chat completions wire format, without I/O: messages to JSON, and a server's answer (a
JSON body, or Server-Sent Events) back to messages.

Whatever a server sends, reading it either gives messages or raises an `OpenAIError` naming
what was wrong: `APIResponseValidationError` with the JSON path (`choices[0].message.content:
expected a string or null, got int`), the byte or the stream line; `APIStreamError` for an
`error` event; `APIConnectionError` for a stream cut short. Only the fields read are checked;
others pass unseen. Optional fields may be missing or null: `content` is null beside tool
calls, and a chunk may lack `choices` (a usage chunk) or `delta` (a last chunk).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, Final, cast

from runnables.errors import RunnablesTypeError
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
)
from runnables.models._openai_errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStreamError,
)

__all__ = ["ServerSentEvents", "StreamState", "message_from_openai", "message_to_openai"]

JSON = dict[str, object]

# --------------------------------------------------------------- messages to JSON


def _content(message: BaseMessage) -> str | list[dict[str, Any]]:
    if isinstance(message.content, str):
        return message.content
    return [
        {"type": "text", "text": part} if isinstance(part, str) else part
        for part in message.content
    ]


def message_to_openai(message: BaseMessage) -> dict[str, Any]:
    """One message in the chat completions format (`role`, `content`, tool calls and ids)."""
    result: dict[str, Any]
    if isinstance(message, SystemMessage):
        result = {"role": "system", "content": _content(message)}
    elif isinstance(message, HumanMessage):
        result = {"role": "user", "content": _content(message)}
    elif isinstance(message, AIMessage):
        result = {"role": "assistant", "content": _content(message)}
        calls = [(call.id, call.name, json.dumps(call.args)) for call in message.tool_calls]
        # A malformed call goes back as it came, so that a tool message can answer its id.
        calls += [(bad.id, bad.name or "", bad.args or "") for bad in message.invalid_tool_calls]
        if calls:
            result["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
                for call_id, name, arguments in calls
            ]
            if not message.content:
                result["content"] = None
    elif isinstance(message, ToolMessage):
        result = {
            "role": "tool",
            "content": _content(message),
            "tool_call_id": message.tool_call_id,
        }
    elif isinstance(message, ChatMessage):
        result = {"role": message.role, "content": _content(message)}
    else:
        raise RunnablesTypeError(
            f"cannot send a {type(message).__name__} to a chat completions endpoint"
        )
    if message.name is not None:
        result["name"] = message.name
    return result


# --------------------------------------------------------------- checked reading of JSON


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__  # bool, int, float


def _wrong(path: str, expected: str, value: object) -> APIResponseValidationError:
    where = path or "the body"
    return APIResponseValidationError(f"{where}: expected {expected}, got {_kind(value)}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(value: object, path: str) -> JSON:
    if not isinstance(value, dict):
        raise _wrong(path, "an object", value)
    return cast("JSON", value)


def _array(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise _wrong(path, "an array", value)
    return cast("list[object]", value)


def _optional_object(parent: JSON, key: str, path: str) -> JSON | None:
    value = parent.get(key)
    return None if value is None else _object(value, _join(path, key))


def _optional_array(parent: JSON, key: str, path: str) -> list[object]:
    value = parent.get(key)
    return [] if value is None else _array(value, _join(path, key))


def _optional_str(parent: JSON, key: str, path: str) -> str | None:
    value = parent.get(key)
    if value is not None and not isinstance(value, str):
        raise _wrong(_join(path, key), "a string or null", value)
    return value


def _optional_int(parent: JSON, key: str, path: str) -> int | None:
    value = parent.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise _wrong(_join(path, key), "an integer or null", value)
    return value


def _usage(parent: JSON, path: str) -> dict[str, int] | None:
    usage = _optional_object(parent, "usage", path)
    if usage is None:
        return None
    where = _join(path, "usage")
    names = {
        "prompt_tokens": "input_tokens",
        "completion_tokens": "output_tokens",
        "total_tokens": "total_tokens",
    }
    result: dict[str, int] = {}
    for theirs, ours in names.items():
        count = _optional_int(usage, theirs, where)
        if count is not None:
            result[ours] = count
    return result or None


# The two readers below raise after their `except` block, so that the error does not keep
# the decoder's error (which holds the whole text, maybe quoting the key) as its context.


def _utf8(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"{where}not UTF-8 ({exc.reason} at byte {exc.start})"
    raise APIResponseValidationError(problem)


def _loads(text: str, where: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"{where}not JSON ({exc.msg} at character {exc.pos} of {len(text)})"
    raise APIResponseValidationError(problem)


def _arguments(text: str, path: str) -> dict[str, Any]:
    args: object = _loads(text, f"{path}: the arguments are ") if text else {}
    return cast("dict[str, Any]", _object(args, f"{path} (parsed)"))


def _tool_calls(raw: list[object], path: str) -> tuple[list[ToolCall], list[JSON]]:
    """The tool calls of a message, and their raw form for `additional_kwargs`."""
    calls: list[ToolCall] = []
    items: list[JSON] = []
    for index, raw_item in enumerate(raw):
        where = f"{path}[{index}]"
        item = _object(raw_item, where)
        function = _object(item.get("function"), f"{where}.function")
        name = function.get("name")
        if not isinstance(name, str):
            raise _wrong(f"{where}.function.name", "a string", name)
        arguments = _optional_str(function, "arguments", f"{where}.function") or ""
        call_id = _optional_str(item, "id", where)
        calls.append(
            ToolCall(name, _arguments(arguments, f"{where}.function.arguments"), id=call_id)
        )
        items.append(item)
    return calls, items


def _first_choice(response: JSON) -> JSON:
    choices = _array(response.get("choices"), "choices")
    if not choices:
        raise APIResponseValidationError("choices: expected a choice, got an empty array")
    return _object(choices[0], "choices[0]")


# --------------------------------------------------------------- a whole answer


def message_from_openai(response: object) -> AIMessage:
    """The `AIMessage` of a (non-streamed) chat completions response (parsed JSON)."""
    body = _object(response, "")
    choice = _first_choice(body)
    message = _object(choice.get("message"), "choices[0].message")
    content = _optional_str(message, "content", "choices[0].message") or ""
    raw_calls = _optional_array(message, "tool_calls", "choices[0].message")
    calls, items = _tool_calls(raw_calls, "choices[0].message.tool_calls")
    metadata: dict[str, Any] = {}
    model = _optional_str(body, "model", "")
    if model is not None:
        metadata["model_name"] = model
    finish = _optional_str(choice, "finish_reason", "choices[0]")
    if finish is not None:
        metadata["finish_reason"] = finish
    return AIMessage(
        content,
        additional_kwargs={"tool_calls": items} if items else {},
        response_metadata=metadata,
        id=_optional_str(body, "id", ""),
        tool_calls=calls,
        usage_metadata=_usage(body, ""),
    )


def parse_body(raw: bytes) -> object:
    """The JSON of a response body, which must be UTF-8."""
    return _loads(_utf8(raw, "the response is "), "the response is ")


# --------------------------------------------------------------- a streamed answer

_LINE_END: Final = re.compile(rb"\r\n|\r|\n")
#: A stream line longer than this is refused rather than buffered without end.
MAX_LINE: Final = 1 << 20


class ServerSentEvents:
    """Splits a byte stream into Server-Sent Events and gives each event's data.

    Lines end in CR, LF or CRLF (also across reads); `data:` lines of one event are joined
    with newlines; comments and other fields are skipped. Every line must be UTF-8.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._line = 0

    def feed(self, raw: bytes) -> Iterator[str]:
        """The data of each event completed by `raw`."""
        buffer = self._buffer + raw
        start = 0
        for match in _LINE_END.finditer(buffer):
            if match.group() == b"\r" and match.end() == len(buffer):
                break  # maybe the first half of a CRLF split across reads
            event = self._read_line(buffer[start : match.start()])
            start = match.end()
            if event is not None:
                yield event
        self._buffer = buffer[start:]
        if len(self._buffer) > MAX_LINE:
            raise APIResponseValidationError(
                f"stream line {self._line + 1}: longer than {MAX_LINE} bytes"
            )

    def _read_line(self, raw: bytes) -> str | None:
        self._line += 1
        line = _utf8(raw, f"stream line {self._line}: ")
        if not line:
            data, self._data = self._data, []
            return "\n".join(data) if data else None
        field, _, value = line.partition(":")
        if field == "data":
            self._data.append(value.removeprefix(" "))
        return None

    def end(self) -> str | None:
        """The data of an event left without its closing blank line when the stream ended."""
        if self._buffer:
            self._read_line(self._buffer.rstrip(b"\r"))
            self._buffer = b""
        data, self._data = self._data, []
        return "\n".join(data) if data else None


class StreamState:
    """Turns the events of a streamed answer into `AIMessageChunk`s.

    Content and tool call fragments (as `tool_call_chunks`) are passed on as they come; the
    calls are also put together, and checked whole when the stream ends (a call without a
    name, or arguments that are not a JSON object, raise then). `redact` masks the API key
    in a reported error.
    """

    def __init__(self, redact: Callable[[object], object]) -> None:
        self.redact = redact
        self.done = False
        self.finished = False
        self.model_sent = False
        self.events = 0
        self.calls: dict[int, dict[str, Any]] = {}

    def feed(self, data: str) -> AIMessageChunk | None:
        """The chunk of one event's data (None when it carries nothing to pass on)."""
        # Events after [DONE] are read (so the body is consumed to its end and every stream
        # is closed in order) but ignored.
        if self.done:
            return None
        if data == "[DONE]":
            self.done = True
            return None
        self.events += 1
        try:
            return self._chunk(data)
        except APIResponseValidationError as exc:
            problem = f"stream event {self.events}: {exc}"
        raise APIResponseValidationError(problem)

    def _chunk(self, data: str) -> AIMessageChunk | None:
        event = _object(_loads(data, ""), "")
        if "error" in event:
            raise APIStreamError(self.redact(event["error"]))
        metadata: dict[str, Any] = {}
        model = _optional_str(event, "model", "")
        if not self.model_sent and model is not None:
            metadata["model_name"] = model
            self.model_sent = True
        content = ""
        pieces: list[ToolCallChunk] = []
        choices = _optional_array(event, "choices", "")
        if choices:
            choice = _object(choices[0], "choices[0]")
            delta = _optional_object(choice, "delta", "choices[0]") or {}
            content = _optional_str(delta, "content", "choices[0].delta") or ""
            fragments = _optional_array(delta, "tool_calls", "choices[0].delta")
            for position, fragment in enumerate(fragments):
                path = f"choices[0].delta.tool_calls[{position}]"
                pieces.append(self._add_call(position, fragment, path))
            finish = _optional_str(choice, "finish_reason", "choices[0]")
            if finish is not None:
                metadata["finish_reason"] = finish
                self.finished = True
        usage = _usage(event, "")
        id_ = _optional_str(event, "id", "")
        if not content and not metadata and usage is None and not pieces:
            return None
        return AIMessageChunk(
            content,
            response_metadata=metadata,
            id=id_,
            usage_metadata=usage,
            tool_call_chunks=pieces,
        )

    def _add_call(self, position: int, raw: object, path: str) -> ToolCallChunk:
        """The chunk of one tool call fragment, also added to the call it continues (checked
        whole when the stream ends)."""
        fragment = _object(raw, path)
        index = _optional_int(fragment, "index", path)
        key = position if index is None else index
        call = self.calls.setdefault(
            key,
            {
                "id": None,
                "name": "",
                "arguments": "",
                "path": f"stream event {self.events}: {path}",
            },
        )
        call_id = _optional_str(fragment, "id", path)
        if call_id:
            call["id"] = call_id
        function = _optional_object(fragment, "function", path) or {}
        name = _optional_str(function, "name", f"{path}.function")
        arguments = _optional_str(function, "arguments", f"{path}.function")
        call["name"] += name or ""
        call["arguments"] += arguments or ""
        return ToolCallChunk(name, arguments, call_id, key)

    def end(self, pending: str | None) -> AIMessageChunk | None:
        """The last chunk (the tool calls) once the body ended; `pending` is the data of an
        event the body ended in the middle of."""
        if pending == "[DONE]":
            self.done = True
        elif pending is not None:
            raise APIConnectionError(
                "the stream ended in the middle of an event; the answer is incomplete"
            )
        if not self.done and not self.finished:
            raise APIConnectionError(
                "the stream ended before its end marker (data: [DONE]); the answer is incomplete"
            )
        if not self.calls:
            return None
        raw: list[dict[str, Any]] = []
        for _, call in sorted(self.calls.items()):
            if not call["name"]:
                raise APIResponseValidationError(f"{call['path']}: a tool call without a name")
            _arguments(call["arguments"], f"{call['path']}.function.arguments")
            raw.append(
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            )
        # The calls themselves came as `tool_call_chunks`; this is their raw form, as a whole
        # answer gives it in `additional_kwargs`.
        return AIMessageChunk("", additional_kwargs={"tool_calls": raw})
