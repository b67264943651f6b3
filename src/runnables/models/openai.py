"""`OpenAIChatModel`: any OpenAI-compatible chat completions endpoint, over httpx.

httpx is imported only when a request is made, so `import runnables.models` works without it
(`pip install runnables[openai]` installs it).

Errors (the family is drawn in `runnables.models._openai_errors`): an HTTP error status raises
`APIStatusError` (`.status_code`, `.body`), or one of its subclasses by family
(`BadRequestError` 400, `AuthenticationError` 401/403, `NotFoundError` 404, `RateLimitError`
429, `ServerError` 5xx), so that `model.with_retry(retry_if_exception_type=(RateLimitError,
ServerError))` retries just those. A failed or dropped connection raises `APIConnectionError`
(also when a stream ends before its end marker: a stream is never silently cut short), and a
call that outlives `timeout` raises `APITimeoutError`, an `APIConnectionError` and a builtin
`TimeoutError`. An answer not in the chat completions format raises
`APIResponseValidationError` naming the JSON path that was wrong, and an error reported in the
middle of a stream `APIStreamError`.

The API key is held in a `SecretStr` and never shown: not in a `repr`, an error message, an
error's `.body` or chained cause, even when a server echoes the request's headers back.
"""

from __future__ import annotations

import os
import ssl
import threading
import traceback
from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, cast

import anyio
import attrs

from runnables._core.streaming import closing_chunks
from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import AIMessage, AIMessageChunk, BaseMessage
from runnables.models._call_options import OPENAI_CALL_OPTIONS
from runnables.models._openai_errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OpenAIError,
    RateLimitError,
    ServerError,
    status_error,
)
from runnables.models._openai_wire import (
    ServerSentEvents,
    StreamState,
    message_from_openai,
    message_to_openai,
    parse_body,
)
from runnables.models._secret import Redactor, SecretStr, check_header_value
from runnables.models._watchdog import Watchdog
from runnables.models.base import BaseChatModel

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "NotFoundError",
    "OpenAIChatModel",
    "OpenAIError",
    "RateLimitError",
    "SecretStr",
    "ServerError",
    "message_from_openai",
    "message_to_openai",
    "status_error",
]


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


def _api_key(value: str | SecretStr | None) -> SecretStr | None:
    """The key as a `SecretStr`, once checked to be something a header can carry."""
    if value is None:
        return None
    if isinstance(value, str):
        value = SecretStr(value)
    elif not isinstance(value, SecretStr):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RunnablesTypeError(
            f"api_key must be a str, a SecretStr or None, got {type(value).__name__}"
        )
    check_header_value("api_key", value.get_secret_value())
    return value


def _check_base_url(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    """Refuse a `base_url` httpx could not send to, saying what is wrong without quoting it
    (it may hold credentials)."""
    if not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RunnablesTypeError(f"base_url must be a str, got {type(value).__name__}")
    problem = None
    bad = next(
        (i for i, char in enumerate(value) if char.isspace() or not char.isprintable()), None
    )
    if bad is not None:
        problem = f"contains whitespace or a control character at position {bad}"
    elif "://" not in value:
        problem = "has no scheme; write it as 'https://host/v1' (or 'http://...')"
    else:
        scheme, _, rest = value.partition("://")
        host = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
        port = host.rpartition("]")[2].partition(":")[2]
        if scheme.lower() not in ("http", "https"):
            problem = f"has the scheme {scheme[:10]!r}; only 'http' and 'https' are supported"
        elif not host or host.startswith(":"):
            problem = "has no host after the scheme"
        elif port and not (port.isdigit() and int(port) < 65536):
            problem = "has a port that is not a number from 0 to 65535"
    if problem is not None:
        raise RunnablesValueError(f"OpenAIChatModel base_url {problem}")


# --------------------------------------------------------------- one call


@attrs.frozen
class _Call:
    """What one request needs besides the connection: its target, its key, and the errors
    it raises, each with the key masked in whatever the server sent back."""

    url: str
    timeout: float
    key: str = attrs.field(repr=False)  # a traceback that shows locals must not show it

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        return headers

    def options(self) -> dict[str, Any]:
        """The keywords of the httpx client."""
        return {
            "timeout": _httpx().Timeout(self.timeout),
            "headers": self.headers,
            "verify": _verify(),
        }

    def redact(self, value: object) -> object:
        return Redactor(self.key).data(value) if self.key else value

    def redact_text(self, text: str) -> str:
        return Redactor(self.key).text(text) if self.key else text

    def timed_out(self, cause: str) -> APITimeoutError:
        return APITimeoutError(f"request to {self.url} timed out after {self.timeout}s ({cause})")

    def failure(self, exc: Exception, *, expired: bool = False) -> APIConnectionError:
        """The error for httpx's `exc`, chained to it unless its text shows the key."""
        httpx = _httpx()
        error: APIConnectionError
        if expired:
            error = self.timed_out("the whole call")
        elif isinstance(exc, httpx.TimeoutException):
            error = self.timed_out(type(exc).__name__)
        else:
            shown = self.redact_text(str(exc))
            error = APIConnectionError(
                f"connection to {self.url} failed: {type(exc).__name__}: {shown}"
            )
        told = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if self.redact_text(told) == told:
            error.__cause__ = exc
        return error

    def status(self, response: httpx.Response) -> APIStatusError:
        """The error for an HTTP error status (its body read)."""
        body: object
        try:
            body = parse_body(response.content)
        except APIResponseValidationError:
            body = response.content.decode("utf-8", errors="replace")
        return status_error(response.status_code, self.redact(body), self.url)

    def answer(self, response: httpx.Response) -> AIMessage:
        """The message of a whole (non-streamed) response."""
        if response.status_code >= 400:
            raise self.status(response)
        try:
            return message_from_openai(parse_body(response.content))
        except APIResponseValidationError as exc:
            problem = str(exc)
        text = self.redact_text(response.content.decode("utf-8", errors="replace"))
        raise APIResponseValidationError(
            f"{self.url} answered with something that is not a chat completion: {problem}; "
            f"the answer begins {text[:200]!r}"
        )


@contextmanager
def _deadline(call: _Call, deadline: float) -> Generator[None, None, None]:
    """Bound the awaits in the block by `deadline` (`anyio.current_time()`)."""
    with anyio.CancelScope(deadline=deadline) as scope:
        yield
    if scope.cancelled_caught:
        raise call.timed_out("the whole call") from None


# --------------------------------------------------------------- the model


@attrs.frozen
class OpenAIChatModel(BaseChatModel):
    """A chat model behind any OpenAI-compatible `/chat/completions` endpoint.

    `api_key` (a str or `SecretStr`, kept as a `SecretStr`) defaults to the `OPENAI_API_KEY`
    environment variable, read at each call (no key: no `Authorization` header, for local
    servers); a key an HTTP header cannot carry is refused up front. `bind(stop=...,
    temperature=..., max_tokens=..., **other_body_fields)` overrides the fields per call: a
    field OpenAI's API does not have is refused (a typo), unless given in `extra_body={...}`
    (for a server that has more).

    `timeout` (seconds) bounds a whole call: connecting, sending, and reading the answer to
    its end, however slowly the server sends it (for a stream, also the time the consumer
    takes between chunks). It also bounds each connect, read and write on its own. The
    default, 10 minutes, leaves room for long streamed answers (it is the OpenAI SDK's too);
    set it lower to bound calls to a server you do not trust.
    """

    call_options: ClassVar[frozenset[str] | None] = OPENAI_CALL_OPTIONS
    _provider: ClassVar[str | None] = "openai"

    model: str
    base_url: str = attrs.field(
        default="https://api.openai.com/v1", kw_only=True, validator=_check_base_url
    )
    api_key: SecretStr | None = attrs.field(
        default=None, kw_only=True, repr=False, converter=_api_key
    )
    temperature: float | None = attrs.field(default=None, kw_only=True)
    max_tokens: int | None = attrs.field(default=None, kw_only=True)
    stop: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_stop_list)
    timeout: float = attrs.field(default=600.0, kw_only=True)

    @property
    def url(self) -> str:
        """The chat completions URL requests go to."""
        return self.base_url.rstrip("/") + "/chat/completions"

    def _start(self) -> _Call:
        if self.api_key is not None:
            key = self.api_key.get_secret_value()
        else:
            key = os.environ.get("OPENAI_API_KEY", "")
            check_header_value("the OPENAI_API_KEY environment variable", key)
        return _Call(self.url, self.timeout, key)

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
        extra: object = kwargs.pop("extra_body", None) or {}
        if not isinstance(extra, Mapping):
            raise RunnablesTypeError(
                f"extra_body must be a dict of body fields, got {extra!r:.100}"
            )
        body.update(kwargs)
        body.update(cast("Mapping[str, Any]", extra))
        if stream:
            body["stream"] = True
        return body

    # Each driver catches httpx's errors around the whole request and raises its own after
    # the `except` block, so that a cause showing the key is not kept as `__context__`.

    # -- sync: the watchdog shuts the socket at the deadline

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        body = self.request_body(messages, stop, **kwargs)
        call = self._start()
        http = _httpx()
        failure: OpenAIError | None = None
        response: httpx.Response | None = None
        with Watchdog(self.timeout) as watchdog:
            try:
                with http.Client(**call.options()) as client:
                    response = client.post(
                        self.url, json=body, extensions={"trace": watchdog.trace}
                    )
            except http.TransportError as exc:
                failure = call.failure(exc, expired=watchdog.expired)
        if failure is not None:
            raise failure
        assert response is not None
        return call.answer(response)

    def _stream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        body = self.request_body(messages, stop, stream=True, **kwargs)
        call = self._start()
        http = _httpx()
        events = ServerSentEvents()
        state = StreamState(call.redact)
        failure: OpenAIError | None = None
        with Watchdog(self.timeout) as watchdog:
            try:
                with (
                    http.Client(**call.options()) as client,
                    client.stream(
                        "POST",
                        self.url,
                        json=body,
                        headers=_SSE,
                        extensions={"trace": watchdog.trace},
                    ) as response,
                ):
                    if response.status_code >= 400:
                        response.read()
                        raise call.status(response)
                    for raw in response.iter_bytes():
                        for data in events.feed(raw):
                            chunk = state.feed(data)
                            if chunk is not None:
                                yield chunk
            except http.TransportError as exc:
                failure = call.failure(exc, expired=watchdog.expired)
        if failure is not None:
            raise failure
        last = state.end(events.end())
        if last is not None:
            yield last

    # -- async: a cancel scope with the deadline around each await (never across a yield)

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        body = self.request_body(messages, stop, **kwargs)
        call = self._start()
        http = _httpx()
        failure: OpenAIError | None = None
        response: httpx.Response | None = None
        try:
            with _deadline(call, anyio.current_time() + self.timeout):
                async with http.AsyncClient(**call.options()) as client:
                    response = await client.post(self.url, json=body)
        except http.TransportError as exc:
            failure = call.failure(exc)
        if failure is not None:
            raise failure
        assert response is not None
        return call.answer(response)

    async def _astream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        body = self.request_body(messages, stop, stream=True, **kwargs)
        call = self._start()
        http = _httpx()
        deadline = anyio.current_time() + self.timeout
        events = ServerSentEvents()
        state = StreamState(call.redact)
        failure: OpenAIError | None = None
        try:
            async with AsyncExitStack() as stack:
                with _deadline(call, deadline):
                    client = await stack.enter_async_context(http.AsyncClient(**call.options()))
                    response = await stack.enter_async_context(
                        client.stream("POST", self.url, json=body, headers=_SSE)
                    )
                    if response.status_code >= 400:
                        await response.aread()
                if response.status_code >= 400:
                    raise call.status(response)
                raws = await stack.enter_async_context(closing_chunks(response.aiter_bytes()))
                while True:
                    with _deadline(call, deadline):
                        raw = await anext(raws, None)
                    if raw is None:
                        break
                    for data in events.feed(raw):
                        chunk = state.feed(data)
                        if chunk is not None:
                            yield chunk
        except http.TransportError as exc:
            failure = call.failure(exc)
        if failure is not None:
            raise failure
        last = state.end(events.end())
        if last is not None:
            yield last
