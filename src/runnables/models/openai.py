"""`OpenAIChatModel`: any OpenAI-compatible chat completions endpoint, over httpx.

httpx is imported only when a request is made, so `import runnables.models` works without it
(`pip install runnables[openai]` installs it).

Errors: an HTTP error status raises `APIStatusError` (`.status_code`, `.body`), or one of its
subclasses by family (`BadRequestError` 400, `AuthenticationError` 401/403, `NotFoundError`
404, `RateLimitError` 429, `ServerError` 5xx), so that
`model.with_retry(retry_if_exception_type=(RateLimitError, ServerError))` retries just those.
A failed or dropped connection raises `APIConnectionError` (also when a stream ends before
its end marker: a stream is never silently cut short), and a timeout `APITimeoutError`, which
is an `APIConnectionError` and a builtin `TimeoutError`.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import attrs

from runnables._core.streaming import closing_chunks
from runnables.errors import RunnablesError, RunnablesTypeError
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from runnables.models.base import BaseChatModel

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "NotFoundError",
    "OpenAIChatModel",
    "OpenAIError",
    "RateLimitError",
    "ServerError",
]


class OpenAIError(RunnablesError, RuntimeError):
    """Any failure talking to an OpenAI-compatible endpoint."""


class APIConnectionError(OpenAIError):
    """The connection failed, dropped, or a stream ended before its end marker."""


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request took longer than the model's `timeout` (connect, read or write)."""


class APIStatusError(OpenAIError):
    """The endpoint answered with an HTTP error status."""

    def __init__(self, status_code: int, body: object, url: str = "") -> None:
        self.status_code = status_code
        self.body = body
        self.url = url
        shown = body if isinstance(body, str) else json.dumps(body)
        where = f" from {url}" if url else ""
        super().__init__(f"HTTP {status_code}{where}: {shown[:2000]}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.status_code, self.body, self.url))


class BadRequestError(APIStatusError):
    """HTTP 400 (or another 4xx without a family of its own): the request was refused."""


class AuthenticationError(APIStatusError):
    """HTTP 401 or 403: a missing, wrong or insufficient API key."""


class NotFoundError(APIStatusError):
    """HTTP 404: no such endpoint or model."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests (or out of quota); worth retrying after a pause."""


class ServerError(APIStatusError):
    """HTTP 5xx: the endpoint failed; usually worth retrying."""


def status_error(status_code: int, body: object, url: str = "") -> APIStatusError:
    """The `APIStatusError` subclass for `status_code`."""
    cls: type[APIStatusError]
    if status_code == 429:
        cls = RateLimitError
    elif status_code >= 500:
        cls = ServerError
    elif status_code in (401, 403):
        cls = AuthenticationError
    elif status_code == 404:
        cls = NotFoundError
    elif 400 <= status_code < 500:
        cls = BadRequestError
    else:
        cls = APIStatusError
    return cls(status_code, body, url)


def _httpx() -> ModuleType:
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - httpx is installed for the tests
        raise ImportError("OpenAIChatModel needs httpx: pip install runnables[openai]") from exc
    return httpx


_SSE = {"Accept": "text/event-stream"}

_ssl_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None


def _verify() -> ssl.SSLContext:
    """One SSL context for every client (building one loads the CA bundle, which is slow)."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = cast("ssl.SSLContext", _httpx().create_ssl_context())
        return _ssl_context


def _stop_list(value: Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


# --------------------------------------------------------------- message conversion


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
        if message.tool_calls:
            result["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.args)},
                }
                for call in message.tool_calls
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


def _tool_calls(raw: object) -> list[ToolCall]:
    calls: list[ToolCall] = []
    if not isinstance(raw, list):
        return calls
    for raw_item in cast("list[object]", raw):
        if not isinstance(raw_item, dict):
            continue
        item = cast("dict[str, Any]", raw_item)
        function: dict[str, Any] = item.get("function") or {}
        name: object = function.get("name")
        arguments: object = function.get("arguments") or "{}"
        try:
            args: object = json.loads(arguments) if isinstance(arguments, str) else arguments
        except json.JSONDecodeError:
            args = None
        call_id: object = item.get("id")
        if isinstance(name, str) and isinstance(args, dict):
            calls.append(
                ToolCall(
                    name,
                    cast("dict[str, Any]", args),
                    id=call_id if isinstance(call_id, str) else None,
                )
            )
    return calls


def _usage(raw: object) -> dict[str, int] | None:
    if not isinstance(raw, dict):
        return None
    usage = cast("dict[str, Any]", raw)
    keys = {"prompt_tokens": "input_tokens", "completion_tokens": "output_tokens"}
    result = {
        ours: usage[theirs] for theirs, ours in keys.items() if isinstance(usage.get(theirs), int)
    }
    if isinstance(usage.get("total_tokens"), int):
        result["total_tokens"] = usage["total_tokens"]
    return result or None


def message_from_openai(response: dict[str, Any]) -> AIMessage:
    """The `AIMessage` of a (non-streamed) chat completions response."""
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices:
        raise OpenAIError(f"the response has no choices: {json.dumps(response)[:2000]}")
    choice: dict[str, Any] = cast("list[dict[str, Any]]", choices)[0]
    message: dict[str, Any] = choice.get("message") or {}
    additional: dict[str, Any] = {}
    if message.get("tool_calls"):
        additional["tool_calls"] = message["tool_calls"]
    metadata: dict[str, Any] = {}
    if response.get("model") is not None:
        metadata["model_name"] = response["model"]
    if choice.get("finish_reason") is not None:
        metadata["finish_reason"] = choice["finish_reason"]
    return AIMessage(
        message.get("content") or "",
        additional_kwargs=additional,
        response_metadata=metadata,
        id=response.get("id"),
        tool_calls=_tool_calls(message.get("tool_calls")),
        usage_metadata=_usage(response.get("usage")),
    )


class _StreamState:
    """Turns streamed chat completions chunks into `AIMessageChunk`s.

    Content is passed on as it comes; tool call fragments are put together and given as
    one last chunk when the stream ends.
    """

    def __init__(self) -> None:
        self.done = False
        self.finished = False
        self.model_sent = False
        self.calls: dict[int, dict[str, Any]] = {}

    def feed(self, line: str) -> AIMessageChunk | None:
        # Lines after [DONE] are read (so the body is consumed to its end and every stream
        # is closed in order) but ignored.
        if self.done or not line.startswith("data:"):
            return None  # comments, `event:` and `id:` lines, blank separators
        data = line[5:].strip()
        if data == "[DONE]":
            self.done = True
            return None
        try:
            event: Any = json.loads(data)
        except json.JSONDecodeError as exc:
            raise OpenAIError(f"malformed stream event: {data[:500]!r}") from exc
        if not isinstance(event, dict):
            raise OpenAIError(f"malformed stream event: {data[:500]!r}")
        payload = cast("dict[str, Any]", event)
        if "error" in payload:
            raise OpenAIError(f"the stream reported an error: {json.dumps(payload['error'])}")
        metadata: dict[str, Any] = {}
        if not self.model_sent and payload.get("model") is not None:
            metadata["model_name"] = payload["model"]
            self.model_sent = True
        content = ""
        choices: Any = payload.get("choices") or []
        if choices:
            choice: dict[str, Any] = choices[0]
            delta: dict[str, Any] = choice.get("delta") or {}
            content = delta.get("content") or ""
            fragments: list[dict[str, Any]] = delta.get("tool_calls") or []
            for fragment in fragments:
                self._add_call(fragment)
            if choice.get("finish_reason") is not None:
                metadata["finish_reason"] = choice["finish_reason"]
                self.finished = True
        usage = _usage(payload.get("usage"))
        if not content and not metadata and usage is None:
            return None
        return AIMessageChunk(
            content, response_metadata=metadata, id=payload.get("id"), usage_metadata=usage
        )

    def _add_call(self, fragment: dict[str, Any]) -> None:
        index = fragment.get("index", len(self.calls))
        call = self.calls.setdefault(index, {"id": None, "name": "", "arguments": ""})
        if fragment.get("id"):
            call["id"] = fragment["id"]
        function: dict[str, Any] = fragment.get("function") or {}
        call["name"] += function.get("name") or ""
        call["arguments"] += function.get("arguments") or ""

    def end(self) -> AIMessageChunk | None:
        if not self.done and not self.finished:
            raise APIConnectionError(
                "the stream ended before its end marker (data: [DONE]); the answer is incomplete"
            )
        if not self.calls:
            return None
        raw = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call["arguments"]},
            }
            for _, call in sorted(self.calls.items())
        ]
        return AIMessageChunk(
            "", additional_kwargs={"tool_calls": raw}, tool_calls=_tool_calls(raw)
        )


# --------------------------------------------------------------- the model


@attrs.frozen
class OpenAIChatModel(BaseChatModel):
    """A chat model behind any OpenAI-compatible `/chat/completions` endpoint.

    `api_key` defaults to the `OPENAI_API_KEY` environment variable (no key: no
    `Authorization` header, for local servers). `bind(stop=..., temperature=...,
    max_tokens=..., **other_body_fields)` overrides the fields per call. `timeout` (seconds)
    applies to connecting, and to each read and write.
    """

    model: str
    base_url: str = attrs.field(default="https://api.openai.com/v1", kw_only=True)
    api_key: str | None = attrs.field(default=None, kw_only=True, repr=False)
    temperature: float | None = attrs.field(default=None, kw_only=True)
    max_tokens: int | None = attrs.field(default=None, kw_only=True)
    stop: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_stop_list)
    timeout: float = attrs.field(default=60.0, kw_only=True)

    @property
    def url(self) -> str:
        """The chat completions URL requests go to."""
        return self.base_url.rstrip("/") + "/chat/completions"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = self.api_key if self.api_key is not None else os.environ.get("OPENAI_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def request_body(
        self,
        messages: Sequence[BaseMessage],
        stop: Sequence[str] | None = None,
        *,
        stream: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The JSON body sent for `messages` (with bound options in `stop` and `kwargs`)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [message_to_openai(m) for m in messages],
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        stops = stop if stop is not None else self.stop
        if stops:
            body["stop"] = list(stops)
        body.update(kwargs)
        if stream:
            body["stream"] = True
        return body

    def _client_options(self) -> dict[str, Any]:
        httpx = _httpx()
        return {
            "timeout": httpx.Timeout(self.timeout),
            "headers": self._headers(),
            "verify": _verify(),
        }

    # -- sync

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        body = self.request_body(messages, stop, **kwargs)
        httpx = _httpx()
        with self._transport_errors(), httpx.Client(**self._client_options()) as client:
            response = client.post(self.url, json=body)
        return message_from_openai(self._json(response))

    def _stream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        body = self.request_body(messages, stop, stream=True, **kwargs)
        httpx = _httpx()
        state = _StreamState()
        with (
            self._transport_errors(),
            httpx.Client(**self._client_options()) as client,
            client.stream("POST", self.url, json=body, headers=_SSE) as response,
        ):
            if response.status_code >= 400:
                response.read()
                raise self._status(response)
            for line in response.iter_lines():
                chunk = state.feed(line)
                if chunk is not None:
                    yield chunk
        last = state.end()
        if last is not None:
            yield last

    # -- async

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        body = self.request_body(messages, stop, **kwargs)
        httpx = _httpx()
        with self._transport_errors():
            async with httpx.AsyncClient(**self._client_options()) as client:
                response = await client.post(self.url, json=body)
        return message_from_openai(self._json(response))

    async def _astream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        body = self.request_body(messages, stop, stream=True, **kwargs)
        httpx = _httpx()
        state = _StreamState()
        with self._transport_errors():
            async with (
                httpx.AsyncClient(**self._client_options()) as client,
                client.stream("POST", self.url, json=body, headers=_SSE) as response,
            ):
                if response.status_code >= 400:
                    await response.aread()
                    raise self._status(response)
                async with closing_chunks(response.aiter_lines()) as lines:
                    async for line in lines:
                        chunk = state.feed(line)
                        if chunk is not None:
                            yield chunk
        last = state.end()
        if last is not None:
            yield last

    # -- responses and errors

    def _status(self, response: httpx.Response) -> APIStatusError:
        try:
            body: object = response.json()
        except ValueError:
            body = response.text
        return status_error(response.status_code, body, self.url)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise self._status(response)
        try:
            data: object = response.json()
        except ValueError as exc:
            raise OpenAIError(
                f"{self.url} answered with something that is not JSON: {response.text[:500]!r}"
            ) from exc
        if not isinstance(data, dict):
            raise OpenAIError(f"{self.url} answered with unexpected JSON: {response.text[:500]}")
        return cast("dict[str, Any]", data)

    @contextmanager
    def _transport_errors(self) -> Generator[None, None, None]:
        """Turn httpx's timeouts and transport failures into this module's errors."""
        httpx = _httpx()
        try:
            yield
        except httpx.TimeoutException as exc:
            raise self._timeout(exc) from exc
        except httpx.TransportError as exc:
            raise self._connection(exc) from exc

    def _timeout(self, exc: Exception) -> APITimeoutError:
        return APITimeoutError(
            f"request to {self.url} timed out after {self.timeout}s ({type(exc).__name__})"
        )

    def _connection(self, exc: Exception) -> APIConnectionError:
        return APIConnectionError(f"connection to {self.url} failed: {type(exc).__name__}: {exc}")
