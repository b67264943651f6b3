"""The exceptions `OpenAIChatModel` raises, one family under `OpenAIError`::

    OpenAIError (RuntimeError)                 anything that went wrong with the endpoint
    ├── APIConnectionError                     the connection failed, dropped, or a stream
    │   │                                      ended before its end marker
    │   └── APITimeoutError (TimeoutError)     the call outlived the model's `timeout`
    ├── APIStatusError                         an HTTP error status (`.status_code`, `.body`)
    │   ├── BadRequestError                    400 and other 4xx
    │   ├── AuthenticationError                401, 403
    │   ├── NotFoundError                      404
    │   ├── RateLimitError                     429
    │   └── ServerError                        5xx
    ├── APIResponseValidationError             an answer not in the chat completions format
    └── APIStreamError                         an `error` object in the middle of a stream

No message or attribute of these ever shows the API key: what the server sent back is masked.
"""

from __future__ import annotations

import json
from typing import Any, cast

from runnables.errors import RunnablesError

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "NotFoundError",
    "OpenAIError",
    "RateLimitError",
    "ServerError",
    "status_error",
]


class OpenAIError(RunnablesError, RuntimeError):
    """Any failure talking to an OpenAI-compatible endpoint."""


class APIConnectionError(OpenAIError):
    """The connection failed, dropped, or a stream ended before its end marker."""


class APITimeoutError(APIConnectionError, TimeoutError):
    """The call took longer than the model's `timeout` (the whole call, or one step of it)."""


class APIResponseValidationError(OpenAIError):
    """The endpoint answered, but not in the chat completions format; the message names the
    JSON path (or the byte, or the stream line) that was wrong."""


class APIStreamError(OpenAIError):
    """The endpoint reported an error in the middle of a stream (`.error`: its error object)."""

    def __init__(self, error: object) -> None:
        self.error = error
        described: object = error
        if isinstance(error, dict):
            fields = cast("dict[str, object]", error)
            described = fields.get("message", fields)
        shown = described if isinstance(described, str) else json.dumps(described)
        super().__init__(f"the stream reported an error: {shown[:2000]}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.error,))


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
