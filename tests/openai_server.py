"""A real HTTP server speaking the OpenAI chat completions protocol, for tests.

`OpenAIServer` listens on 127.0.0.1 (a free port) in a background thread. Each request takes
the next scripted step (`Reply`, `Fail`, `Drop`, `Truncate`); with none scripted it echoes
the last message back ("echo: <text>"). Streaming requests (`"stream": true`) are answered
with Server-Sent Events over chunked transfer encoding, one event per token, then
`data: [DONE]`. Every request is recorded (`requests`: JSON body and headers).
`answering` counts the requests being answered right now and `disconnects` the answers cut
short because the client went away (a write to its closed connection failed).

Hostile steps misbehave on purpose: `Raw` sends exact bytes, `EchoHeaders` quotes the request's
headers (its API key) back, `Dribble` sends a whole answer a byte at a time and `Hangup` closes
the connection without answering.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import socket
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

__all__ = [
    "Dribble",
    "Drop",
    "EchoHeaders",
    "Fail",
    "Hangup",
    "OpenAIServer",
    "Raw",
    "Recorded",
    "Reply",
    "Truncate",
]

_TOKEN = re.compile(r"\s+|\S+")


#: Seconds a `Reply` with `resume_on` waits for the test before hanging up.
HOLD_TIMEOUT = 30.0


@attrs.frozen
class Reply:
    """Answer with `content` (None: echo) and `tool_calls` (`(id, name, args)`), after
    `delay` seconds; when streaming, wait `token_delay` seconds before each event, and send
    each tool call's arguments in `tool_pieces` fragments (the first with its id and name).
    With `resume_on`, a stream stops after its first token until the test sets that event (a
    client that holds chunks back never sees one: after HOLD_TIMEOUT the server hangs up)."""

    content: str | None = None
    tool_calls: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    delay: float = 0.0
    token_delay: float = 0.0
    usage: dict[str, int] | None = None
    tool_pieces: int = 2
    resume_on: threading.Event | None = None


@attrs.frozen
class Fail:
    """Answer with HTTP `status` and a JSON (dict) or text (str) body."""

    status: int
    body: dict[str, Any] | str = attrs.Factory(
        lambda self: {"error": {"message": f"scripted failure {self.status}"}}, takes_self=True
    )


@attrs.frozen
class Drop:
    """Stream `after` content events of `content`, then drop the connection mid-body."""

    content: str = "one two three four"
    after: int = 2


@attrs.frozen
class Truncate:
    """Stream `content` and end the body cleanly, but with no finish_reason and no [DONE]."""

    content: str = "one two three"


@attrs.frozen
class Raw:
    """Answer HTTP `status` with exactly `body`; a tuple of pieces is sent as a chunked body,
    one chunk each (the way a stream arrives), then its clean end."""

    body: bytes | tuple[bytes, ...]
    status: int = 200
    content_type: str = "application/json"


@attrs.frozen
class EchoHeaders:
    """Quote the request's headers back: `form` "json" (an error object holding them), "text",
    "base64" (of the text), "garbage" (a 200 answer that is not JSON) or "stream" (a 200
    stream whose second event is an error object quoting the Authorization header)."""

    status: int = 500
    form: str = "json"


@attrs.frozen
class Dribble:
    """Send a complete answer (status line, headers and body) one byte every `interval`
    seconds."""

    interval: float = 1.0


@attrs.frozen
class Hangup:
    """Close the connection without answering."""


Step = Reply | Fail | Drop | Truncate | Raw | EchoHeaders | Dribble | Hangup


@attrs.frozen
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class OpenAIServer:
    """The server; use as a context manager or call `close()`."""

    def __init__(self) -> None:
        self.steps: deque[Step] = deque()
        self.requests: list[Recorded] = []
        self.answering = 0
        self.disconnects = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *steps: Step) -> None:
        with self.lock:
            self.steps.extend(steps)

    def next_step(self) -> Step | None:
        with self.lock:
            return self.steps.popleft() if self.steps else None

    def record(self, entry: Recorded) -> None:
        with self.lock:
            self.requests.append(entry)

    def count_answering(self) -> None:
        with self.lock:
            self.answering += 1

    def count_answered(self, *, disconnected: bool) -> None:
        """One answer is over: both counts change at once, so that a test that sees the
        disconnect also sees the answer ended."""
        with self.lock:
            self.answering -= 1
            self.disconnects += disconnected

    def close(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def __enter__(self) -> OpenAIServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _echo(body: dict[str, Any]) -> str:
    messages: list[dict[str, Any]] = body.get("messages") or []
    last = messages[-1].get("content") if messages else ""
    return f"echo: {last if isinstance(last, str) else json.dumps(last)}"


def _make_handler(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            server.count_answering()
            disconnected = False
            try:
                self._answer()
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True
                disconnected = True
            finally:
                server.count_answered(disconnected=disconnected)

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
            server.record(
                Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            if self.path != "/v1/chat/completions":
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})
                return
            step = server.next_step() or Reply()
            if isinstance(step, (Raw, EchoHeaders, Dribble, Hangup)):
                self._misbehave(step, body)
                return
            if isinstance(step, Fail):
                if isinstance(step.body, str):
                    self._send_bytes(step.status, step.body.encode(), "text/plain")
                else:
                    self._send_json(step.status, step.body)
                return
            if isinstance(step, Reply) and step.delay and server.stopping.wait(step.delay):
                return
            model = str(body.get("model", "test-model"))
            if body.get("stream"):
                self._stream(step, body, model)
            else:
                assert isinstance(step, Reply)
                self._send_json(200, _completion(step, body, model))

        def _misbehave(
            self, step: Raw | EchoHeaders | Dribble | Hangup, body: dict[str, Any]
        ) -> None:
            if isinstance(step, Hangup):
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif isinstance(step, Dribble):
                self._dribble(step, body)
            elif isinstance(step, EchoHeaders):
                self._echo_headers(step)
            elif isinstance(step.body, bytes):
                self._send_bytes(step.status, step.body, step.content_type)
            else:
                self.send_response(step.status)
                self.send_header("Content-Type", step.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in step.body:
                    if piece:
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                        self.wfile.flush()
                self._chunk("")

        def _echo_headers(self, step: EchoHeaders) -> None:
            headers = dict(self.headers.items())
            text = "\n".join(f"{k}: {v}" for k, v in headers.items())
            if step.form == "json":
                self._send_json(step.status, {"error": {"message": "bad", "headers": headers}})
            elif step.form == "text":
                self._send_bytes(step.status, text.encode(), "text/plain")
            elif step.form == "base64":
                self._send_bytes(step.status, base64.b64encode(text.encode()), "text/plain")
            elif step.form == "garbage":
                self._send_bytes(200, f"<html>{text}</html>".encode(), "text/html")
            else:
                auth = headers.get("Authorization", "")
                events = (
                    b'data: {"choices": [{"delta": {"content": "hi"}}]}\n\n',
                    b"data: " + json.dumps({"error": {"message": f"denied {auth}"}}).encode(),
                    b"\n\n",
                )
                self._misbehave(Raw(events, content_type="text/event-stream"), {})

        def _dribble(self, step: Dribble, body: dict[str, Any]) -> None:
            model = str(body.get("model", "test-model"))
            completion = _completion(Reply("slow"), body, model)
            if body.get("stream"):
                payload, kind = (
                    f"data: {json.dumps(completion)}\n\ndata: [DONE]\n\n",
                    "text/event-stream",
                )
            else:
                payload, kind = json.dumps(completion), "application/json"
            data = payload.encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {len(data)}\r\n\r\n"
            for byte in head.encode() + data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if server.stopping.wait(step.interval):
                    return

        def _send_json(self, status: int, data: object) -> None:
            self._send_bytes(status, json.dumps(data).encode(), "application/json")

        def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _chunk(self, text: str) -> None:
            data = text.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _event(self, payload: object) -> None:
            self._chunk(f"data: {json.dumps(payload)}\n\n")

        def _stream(self, step: Step, body: dict[str, Any], model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            assert not isinstance(step, Fail)
            content = step.content if step.content is not None else _echo(body)
            token_delay = step.token_delay if isinstance(step, Reply) else 0.0

            def base(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
                return {
                    "id": "chatcmpl-test",
                    "object": "chat.completion.chunk",
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }

            self._chunk(": keep-alive comment\n\n")
            self._event(base({"role": "assistant", "content": ""}))
            for sent, token in enumerate(_TOKEN.findall(content or "")):
                if isinstance(step, Drop) and sent == step.after:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if token_delay and server.stopping.wait(token_delay):
                    return
                resume_on = step.resume_on if isinstance(step, Reply) and sent == 1 else None
                if resume_on is not None and not resume_on.wait(HOLD_TIMEOUT):
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self._event(base({"content": token}))
            if isinstance(step, Truncate):
                self._chunk("")  # the terminating zero-length chunk: a clean end of body
                return
            assert isinstance(step, Reply)
            for index, (call_id, name, args) in enumerate(step.tool_calls):
                arguments = json.dumps(args)
                cuts = [len(arguments) * i // step.tool_pieces for i in range(step.tool_pieces + 1)]
                for piece, (start, end) in enumerate(itertools.pairwise(cuts)):
                    fragment: dict[str, Any] = {
                        "index": index,
                        "function": {"arguments": arguments[start:end]},
                    }
                    if piece == 0:
                        fragment.update(id=call_id, type="function")
                        fragment["function"]["name"] = name
                    self._event(base({"tool_calls": [fragment]}))
            self._event(base({}, "tool_calls" if step.tool_calls else "stop"))
            if step.usage is not None:
                self._event(
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion.chunk",
                        "model": model,
                        "choices": [],
                        "usage": step.usage,
                    }
                )
            self._chunk("data: [DONE]\n\n")
            self._chunk("")

    return Handler


def _completion(step: Reply, body: dict[str, Any], model: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": step.content if step.content is not None else _echo(body),
    }
    if step.tool_calls:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for call_id, name, args in step.tool_calls
        ]
    result: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if step.tool_calls else "stop",
            }
        ],
    }
    if step.usage is not None:
        result["usage"] = step.usage
    return result
