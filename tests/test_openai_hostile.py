"""OpenAIChatModel against hostile servers (tests/openai_server.py): the API key never shows,
a call never outlives its `timeout`, and any answer it cannot read raises a typed error
naming what was wrong."""

from __future__ import annotations

import base64
import functools
import json
import logging
import operator
import re
import sys
import time
import traceback
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runnables import Run, RunnableLambda
from runnables.errors import RunnablesValueError
from runnables.messages import AIMessage, AIMessageChunk, ToolCall
from runnables.models import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AuthenticationError,
    OpenAIChatModel,
    OpenAIError,
    SecretStr,
)
from runnables.models._openai_wire import ServerSentEvents, StreamState, message_from_openai
from runnables.models._secret import Redactor

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from openai_server import Dribble, Drop, EchoHeaders, Fail, Hangup, OpenAIServer, Raw, Reply, Step

# httpx reads a stream through nested async generators and closes only the outer one when a
# stream is abandoned; trio warns as it closes the inner ones (tests/abandon_scenarios.py too).
pytestmark = pytest.mark.filterwarnings(r"ignore:Async generator '(?!runnables\.):ResourceWarning")

KEY = "sk-proj-Zq8vN3xT0pL5rW2yK7mB9cF4hJ6dS1gA"
GRAMS = {KEY[start : start + 8] for start in range(len(KEY) - 7)}
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}")


def leaks(text: str) -> list[str]:
    """The pieces of KEY (8 characters or more) in `text`, also inside base64 runs."""
    found = [gram for gram in GRAMS if gram in text]
    for run in _BASE64_RUN.findall(text):
        for offset in range(4):
            piece = run[offset:].replace("-", "+").replace("_", "/")
            piece = piece[: len(piece) // 4 * 4]
            decoded = base64.b64decode(piece, validate=False).decode("latin-1")
            found += [f"base64 of {gram}" for gram in GRAMS if gram in decoded]
    return found


def exception_texts(error: BaseException) -> list[str]:
    """Everything an exception can show: its traceback (with chain and notes), and the str,
    repr and attributes of every exception in its chain, suppressed context included."""
    texts = ["".join(traceback.format_exception(error))]
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(getattr(current, "__notes__", None))]
        texts.append(repr(getattr(current, "__dict__", None)))
        pending += [current.__cause__, current.__context__]
    return texts


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def _refused_url() -> str:
    with OpenAIServer() as closed:
        return closed.base_url


# ---------------------------------------------------------------- the key and its checks


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (KEY + "\n", "a control character at position 40 of 41"),
        (" " + KEY, "whitespace at position 0"),
        (KEY[:10] + "é" + KEY[10:], "a non-ASCII character at position 10"),
        (KEY[:12] + "\x00" + KEY[12:], "a control character at position 12"),
        (KEY + "\x7f", "a control character at position 40"),
    ],
)
def test_a_key_a_header_cannot_carry_is_refused_without_showing_it(key: str, problem: str) -> None:
    with pytest.raises(RunnablesValueError, match=re.escape(problem)) as info:
        OpenAIChatModel("m", api_key=key)
    assert "api_key" in str(info.value)
    for text in exception_texts(info.value):
        assert not leaks(text), text


def test_a_key_from_the_environment_is_checked_at_the_call(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY + "ü")
    model = OpenAIChatModel("m", base_url=server.base_url)
    with pytest.raises(RunnablesValueError, match="OPENAI_API_KEY environment variable") as info:
        model.invoke("x")
    assert server.requests == []
    for text in exception_texts(info.value):
        assert not leaks(text), text


def test_the_key_is_a_secret_str_and_the_model_stays_a_value() -> None:
    model = OpenAIChatModel("m", api_key=KEY)
    assert isinstance(model.api_key, SecretStr)
    assert model.api_key.get_secret_value() == KEY
    assert repr(model.api_key) == "SecretStr('**********')"
    assert str(model.api_key) == "**********"
    assert model == OpenAIChatModel("m", api_key=SecretStr(KEY))
    assert hash(model) == hash(OpenAIChatModel("m", api_key=KEY))
    assert model != OpenAIChatModel("m", api_key=KEY + "x")
    with pytest.raises(AttributeError):
        model.api_key._value = "other"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    assert not leaks(repr(model))
    assert not leaks(str(model))


def test_the_key_still_reaches_the_server(server: OpenAIServer) -> None:
    OpenAIChatModel("m", base_url=server.base_url, api_key=SecretStr(KEY)).invoke("x")
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


# ---------------------------------------------------------------- servers that echo the key

HOSTILE: dict[str, Step | None] = {
    "connection refused": None,
    "401 quoting the headers as JSON": EchoHeaders(401, "json"),
    "500 quoting the headers as JSON": EchoHeaders(500, "json"),
    "500 quoting the headers as text": EchoHeaders(500, "text"),
    "502 quoting the headers in base64": EchoHeaders(502, "base64"),
    "200 garbage quoting the headers": EchoHeaders(200, "garbage"),
    "an error event quoting the key": EchoHeaders(200, "stream"),
    "a hang-up": Hangup(),
    "a dropped stream": Drop(),
    "a truncated event": Raw((b'data: {"choices": [{"delta": {"content": "sk-proj-Zq8v',)),
}


class Recorder:
    """A callback keeping every Run it is told about."""

    def __init__(self) -> None:
        self.runs: list[Run] = []

    def on_start(self, run: Run) -> None:
        self.runs.append(run)

    def on_error(self, run: Run, error: BaseException) -> None:
        self.runs.append(run)


def _hostile_model(server: OpenAIServer, step: Step | None) -> OpenAIChatModel:
    url = _refused_url() if step is None else server.base_url
    if step is not None:
        server.script(*[step] * 20)
    return OpenAIChatModel("test-model", base_url=url, api_key=KEY, timeout=5)


def _failed(texts: list[str], run: Any) -> None:
    try:
        run()
    except OpenAIError as error:
        texts += exception_texts(error)
    else:
        raise AssertionError("the call succeeded against a hostile server")


@pytest.mark.parametrize("step", list(HOSTILE.values()), ids=list(HOSTILE))
def test_the_key_shows_nowhere_in_sync_calls(
    server: OpenAIServer, step: Step | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    model = _hostile_model(server, step)
    recorder = Recorder()
    chain = RunnableLambda(lambda text: f"say {text}") | model
    texts: list[str] = [repr(model), str(model), chain.get_graph().draw_ascii()]
    _failed(texts, lambda: model.invoke("x"))
    _failed(texts, lambda: list(model.stream("x")))
    _failed(texts, lambda: chain.invoke("x", {"callbacks": [recorder]}))
    _failed(texts, lambda: list(chain.stream("x", {"callbacks": [recorder]})))
    for result in model.batch(["a", "b"], return_exceptions=True):
        assert isinstance(result, OpenAIError)
        texts += exception_texts(result)
    deadline = time.monotonic() + 5
    while sum(run.error is not None for run in recorder.runs) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    texts += [repr(run) for run in recorder.runs]
    texts += [caplog.text, *(record.getMessage() for record in caplog.records)]
    assert [run for run in recorder.runs if run.error is not None]
    for text in texts:
        assert not leaks(text), text


@pytest.mark.anyio
@pytest.mark.parametrize("step", list(HOSTILE.values()), ids=list(HOSTILE))
async def test_the_key_shows_nowhere_in_async_calls(
    server: OpenAIServer, step: Step | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    model = _hostile_model(server, step)
    texts: list[str] = []

    async def each(make: Any) -> None:
        try:
            async for item in make():
                texts.append(repr(item))
        except OpenAIError as error:
            texts.extend(exception_texts(error))
        else:
            raise AssertionError("the call succeeded against a hostile server")

    try:
        await model.ainvoke("x")
    except OpenAIError as error:
        texts += exception_texts(error)
    await each(lambda: model.astream("x"))
    await each(lambda: model.astream_events("x"))
    await each(lambda: model.astream_log("x"))
    for result in await model.abatch(["a", "b"], return_exceptions=True):
        assert isinstance(result, OpenAIError)
        texts += exception_texts(result)
    texts += [caplog.text, *(record.getMessage() for record in caplog.records)]
    for text in texts:
        assert not leaks(text), text


def test_a_status_error_keeps_the_body_with_the_key_masked(server: OpenAIServer) -> None:
    server.script(EchoHeaders(401, "json"))
    model = OpenAIChatModel("m", base_url=server.base_url, api_key=KEY)
    with pytest.raises(AuthenticationError) as info:
        model.invoke("x")
    body = info.value.body
    assert isinstance(body, dict)
    assert body["error"]["headers"]["Authorization"] == "Bearer **********"
    assert body["error"]["headers"]["Host"].startswith("127.0.0.1")


def test_an_error_event_is_typed_and_masked(server: OpenAIServer) -> None:
    server.script(EchoHeaders(200, "stream"))
    model = OpenAIChatModel("m", base_url=server.base_url, api_key=KEY)
    with pytest.raises(APIStreamError, match=r"denied Bearer \*{10}") as info:
        list(model.stream("x"))
    assert info.value.error == {"message": "denied Bearer **********"}


# ---------------------------------------------------------------- one deadline per call


def _disconnected(server: OpenAIServer) -> bool:
    # The server notices at its next write (one byte every half second).
    limit = time.monotonic() + 3
    while (server.answering or not server.disconnects) and time.monotonic() < limit:
        time.sleep(0.02)
    return server.disconnects == 1 and server.answering == 0


@pytest.mark.parametrize("form", ["invoke", "stream"])
def test_a_dribbling_server_cannot_hold_a_sync_call(server: OpenAIServer, form: str) -> None:
    server.script(Dribble(interval=0.5))
    model = OpenAIChatModel("m", base_url=server.base_url, timeout=1)
    start = time.monotonic()
    with pytest.raises(APITimeoutError, match=r"timed out after 1s \(the whole call\)"):
        model.invoke("x") if form == "invoke" else list(model.stream("x"))
    # The answer would take over two minutes: a bound far from both that and the 1 s deadline.
    assert time.monotonic() - start < 60
    assert _disconnected(server)


@pytest.mark.anyio
@pytest.mark.parametrize("form", ["ainvoke", "astream"])
async def test_a_dribbling_server_cannot_hold_an_async_call(
    server: OpenAIServer, form: str
) -> None:
    server.script(Dribble(interval=0.5))
    model = OpenAIChatModel("m", base_url=server.base_url, timeout=1)
    start = time.monotonic()

    async def call() -> object:
        if form == "ainvoke":
            return await model.ainvoke("x")
        return [chunk async for chunk in model.astream("x")]

    with pytest.raises(APITimeoutError, match=r"timed out after 1s \(the whole call\)"):
        await call()
    assert time.monotonic() - start < 60
    assert await anyio.to_thread.run_sync(_disconnected, server)


def test_the_deadline_spans_a_whole_stream(server: OpenAIServer) -> None:
    # A token every 0.3 s, each well within the 1 s deadline, for 30 s: still being sent
    # however late the first chunk comes on a loaded machine.
    server.script(Reply(" ".join(f"w{i}" for i in range(100)), token_delay=0.3))
    model = OpenAIChatModel("m", base_url=server.base_url, timeout=1)
    chunks = model.stream("x")
    next(chunks)
    time.sleep(1.2)  # the consumer dawdles past the deadline; the answer ends long after it
    with pytest.raises(APITimeoutError):
        list(chunks)


# ---------------------------------------------------------------- answers it cannot read


def _completion(**message: object) -> dict[str, Any]:
    return {
        "id": "c",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}
        ],
    }


def _call(name: str, arguments: object) -> dict[str, Any]:
    return {"id": "t1", "type": "function", "function": {"name": name, "arguments": arguments}}


def _body(data: object) -> bytes:
    return json.dumps(data).encode()


def _with(path: list[str | int], value: object) -> bytes:
    root: Any = _completion(content="hi", tool_calls=[_call("f", "{}")])
    data = root
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value
    return _body(root)


#: Whole answers that are not chat completions, and what the error must say.
BODIES: dict[str, tuple[bytes, str]] = {
    "not JSON": (b"<html>oops</html>", "not JSON"),
    "truncated JSON": (b'{"choices": [', "not JSON"),
    "not UTF-8": (b'{"choices": "\xff\xfe"}', "not UTF-8"),
    "an array": (b"[1, 2]", "the body: expected an object, got array"),
    "a number": (b"3", "the body: expected an object, got int"),
    "no choices": (_body({"id": "x"}), "choices: expected an array, got null"),
    "choices as a dict": (_body({"choices": {"0": {}}}), "choices: expected an array, got object"),
    "choices empty": (_body({"choices": []}), "choices: expected a choice, got an empty array"),
    "a choice as a string": (
        _body({"choices": ["hi"]}),
        "choices[0]: expected an object, got string",
    ),
    "no message": (
        _body({"choices": [{"index": 0}]}),
        "choices[0].message: expected an object, got null",
    ),
    "message as a list": (
        _with(["choices", 0, "message"], []),
        "choices[0].message: expected an object, got array",
    ),
    "content a number": (
        _with(["choices", 0, "message", "content"], 42),
        "choices[0].message.content: expected a string or null, got int",
    ),
    "content a dict": (
        _with(["choices", 0, "message", "content"], {"a": 1}),
        "choices[0].message.content: expected a string or null, got object",
    ),
    "content a list": (
        _with(["choices", 0, "message", "content"], ["a"]),
        "choices[0].message.content: expected a string or null, got array",
    ),
    "content a bool": (_with(["choices", 0, "message", "content"], True), "got bool"),
    "tool_calls a dict": (
        _with(["choices", 0, "message", "tool_calls"], {}),
        "choices[0].message.tool_calls: expected an array, got object",
    ),
    "a tool call a string": (
        _with(["choices", 0, "message", "tool_calls"], ["f"]),
        "choices[0].message.tool_calls[0]: expected an object, got string",
    ),
    "a tool call without function": (
        _with(["choices", 0, "message", "tool_calls"], [{"id": "t"}]),
        "tool_calls[0].function: expected an object, got null",
    ),
    "a tool name a number": (
        _with(["choices", 0, "message", "tool_calls"], [_call(7, "{}")]),
        "tool_calls[0].function.name: expected a string, got int",
    ),  # type: ignore[arg-type]
    "arguments a dict": (
        _with(["choices", 0, "message", "tool_calls"], [_call("f", {"a": 1})]),
        "function.arguments: expected a string or null, got object",
    ),
    "arguments not JSON": (
        _with(["choices", 0, "message", "tool_calls"], [_call("f", "{oops")]),
        "function.arguments: the arguments are not JSON",
    ),
    "arguments a JSON list": (
        _with(["choices", 0, "message", "tool_calls"], [_call("f", "[1]")]),
        "function.arguments (parsed): expected an object, got array",
    ),
    "a tool call id a number": (
        _with(["choices", 0, "message", "tool_calls", 0, "id"], 5),
        "tool_calls[0].id: expected a string or null, got int",
    ),
    "finish_reason a number": (
        _with(["choices", 0, "finish_reason"], 1),
        "choices[0].finish_reason: expected a string or null, got int",
    ),
    "id a dict": (_with(["id"], {}), "id: expected a string or null, got object"),
    "model a number": (_with(["model"], 4), "model: expected a string or null, got int"),
    "usage a string": (_with(["usage"], "many"), "usage: expected an object, got string"),
    "usage tokens a string": (
        _with(["usage"], {"prompt_tokens": "7"}),
        "usage.prompt_tokens: expected an integer or null, got string",
    ),
    "usage tokens a float": (
        _with(["usage"], {"total_tokens": 1.5}),
        "usage.total_tokens: expected an integer or null, got float",
    ),
}


def _events(*events: object, done: bool = True) -> tuple[bytes, ...]:
    lines = [b"data: " + (e if isinstance(e, bytes) else _body(e)) + b"\n\n" for e in events]
    return (*lines, b"data: [DONE]\n\n") if done else tuple(lines)


def _chunk(**delta: object) -> dict[str, Any]:
    return {
        "id": "c",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


_STOP = {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}

#: Streams that are not chat completion streams, what they raise and what it must say.
STREAMS: dict[str, tuple[tuple[bytes, ...], type[OpenAIError], str]] = {
    "an event not JSON": (
        _events(b"{oops"),
        APIResponseValidationError,
        "stream event 1: not JSON",
    ),
    "an event an array": (
        _events([1]),
        APIResponseValidationError,
        "stream event 1: the body: expected an object, got array",
    ),
    "choices as a dict": (
        _events({"choices": {}}),
        APIResponseValidationError,
        "stream event 1: choices: expected an array, got object",
    ),
    "a choice a number": (
        _events({"choices": [3]}),
        APIResponseValidationError,
        "choices[0]: expected an object, got int",
    ),
    "delta a string": (
        _events({"choices": [{"delta": "hi"}]}),
        APIResponseValidationError,
        "choices[0].delta: expected an object, got string",
    ),
    "content a number": (
        _events(_chunk(content="a"), _chunk(content=5)),
        APIResponseValidationError,
        "stream event 2: choices[0].delta.content: expected a string or null, got int",
    ),
    "content a dict": (
        _events(_chunk(content={"t": "a"})),
        APIResponseValidationError,
        "choices[0].delta.content: expected a string or null, got object",
    ),
    "tool_calls a dict": (
        _events(_chunk(tool_calls={})),
        APIResponseValidationError,
        "choices[0].delta.tool_calls: expected an array, got object",
    ),
    "a tool call index a string": (
        _events(_chunk(tool_calls=[{"index": "0"}])),
        APIResponseValidationError,
        "tool_calls[0].index: expected an integer or null, got string",
    ),
    "tool arguments a dict": (
        _events(_chunk(tool_calls=[{"index": 0, "function": {"name": "f", "arguments": {}}}])),
        APIResponseValidationError,
        "function.arguments: expected a string or null, got object",
    ),
    "tool arguments not JSON": (
        _events(
            _chunk(tool_calls=[{"index": 0, "function": {"name": "f", "arguments": "{x"}}]), _STOP
        ),
        APIResponseValidationError,
        "the arguments are not JSON",
    ),
    "a tool call without a name": (
        _events(_chunk(tool_calls=[{"index": 0, "function": {"arguments": "{}"}}]), _STOP),
        APIResponseValidationError,
        "a tool call without a name",
    ),
    "usage tokens a list": (
        _events({"choices": [], "usage": {"completion_tokens": []}}),
        APIResponseValidationError,
        "usage.completion_tokens: expected an integer or null, got array",
    ),
    "not UTF-8": (
        (b'data: {"choices": [{"delta": {"content": "\xc3\x28"}}]}\n\n',),
        APIResponseValidationError,
        "stream line 1: not UTF-8",
    ),
    "an error object mid-stream": (
        _events(_chunk(content="a"), {"error": {"message": "overloaded"}}),
        APIStreamError,
        "the stream reported an error: overloaded",
    ),
    "no [DONE] and no finish_reason": (
        _events(_chunk(content="a"), done=False),
        APIConnectionError,
        "ended before its end marker",
    ),
    "cut in the middle of an event": (
        (b'data: {"choices": [{"delta": {"content": "a"}}]}\n\n', b'data: {"choi'),
        APIConnectionError,
        "ended in the middle of an event",
    ),
    "an event without its blank line": (
        (b'data: {"choices": []}\n',),
        APIConnectionError,
        "ended in the middle of an event",
    ),
}


@pytest.mark.parametrize(("raw", "says"), list(BODIES.values()), ids=list(BODIES))
def test_an_unreadable_answer_is_a_typed_error_naming_the_path(
    server: OpenAIServer, raw: bytes, says: str
) -> None:
    server.script(Raw(raw))
    model = OpenAIChatModel("m", base_url=server.base_url)
    with pytest.raises(APIResponseValidationError, match=re.escape(says)):
        model.invoke("x")


@pytest.mark.anyio
@pytest.mark.parametrize(("pieces", "cls", "says"), list(STREAMS.values()), ids=list(STREAMS))
async def test_an_unreadable_stream_is_a_typed_error_naming_the_path(
    server: OpenAIServer, pieces: tuple[bytes, ...], cls: type[OpenAIError], says: str
) -> None:
    server.script(Raw(pieces, content_type="text/event-stream"))
    model = OpenAIChatModel("m", base_url=server.base_url)
    with pytest.raises(cls, match=re.escape(says)):
        [chunk async for chunk in model.astream("x")]
    server.script(Raw(pieces, content_type="text/event-stream"))
    with pytest.raises(cls, match=re.escape(says)):
        list(model.stream("x"))


# ---------------------------------------------------------------- fuzzing the reader (no I/O)

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _mangled(data: st.DataObject, valid: dict[str, Any]) -> object:
    """`valid` with the value at one path replaced by any JSON value, or removed."""
    root: Any = json.loads(json.dumps(valid))
    path = data.draw(st.sampled_from(_paths(root)))
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        parent[path[-1]] = data.draw(_json)
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    return root


def _well_typed(message: AIMessage) -> None:
    assert isinstance(message.content, str)
    assert all(
        isinstance(call, ToolCall) and isinstance(call.args, dict) for call in message.tool_calls
    )
    assert all(isinstance(count, int) for count in (message.usage_metadata or {}).values())
    assert all(isinstance(v, str) for v in message.response_metadata.values())


_VALID = {
    **_completion(content="hi", tool_calls=[_call("f", '{"a": 1}')]),
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_mangled_answer_reads_well_typed_or_raises_a_typed_error(data: st.DataObject) -> None:
    try:
        message = message_from_openai(_mangled(data, _VALID))
    except APIResponseValidationError as error:
        problem = str(error)
    else:
        _well_typed(message)
        return
    assert re.search(r": expected .*, got |not JSON|a tool call without a name", problem), problem


def _read_stream(pieces: list[bytes]) -> AIMessageChunk:
    events, state = ServerSentEvents(), StreamState(lambda value: value)
    chunks = [state.feed(data) for piece in pieces for data in events.feed(piece)]
    last = state.end(events.end())
    parts = [chunk for chunk in [*chunks, last] if chunk is not None]
    return functools.reduce(operator.add, parts, AIMessageChunk(""))


_STREAM = [
    _chunk(content="a"),
    _chunk(tool_calls=[{"index": 0, "id": "t", "function": {"name": "f", "arguments": '{"a"'}}]),
    _chunk(tool_calls=[{"index": 0, "function": {"arguments": ": 1}"}}]),
    {**_STOP, "usage": {"prompt_tokens": 1}},
]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_mangled_stream_reads_well_typed_or_raises_a_typed_error(data: st.DataObject) -> None:
    events = json.loads(json.dumps(_STREAM))
    index = data.draw(st.integers(0, len(events) - 1))
    events[index] = _mangled(data, events[index])
    raw = b"".join(b"data: " + _body(event) + b"\n\n" for event in events) + b"data: [DONE]\n\n"
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=6)))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    try:
        total = _read_stream(pieces)
    except (APIResponseValidationError, APIStreamError):
        return
    _well_typed(total)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=6))
def test_any_bytes_read_the_same_however_split(raw: bytes, cuts: list[int]) -> None:
    def outcome(pieces: list[bytes]) -> object:
        try:
            return _read_stream(pieces)
        except OpenAIError as error:
            return type(error)

    cuts = sorted(min(cut, len(raw)) for cut in cuts)
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    assert outcome(pieces) == outcome([raw])


def _locals_key() -> str:
    return "sk-LOCALS0123456789abcdefXYZ"


def test_the_key_shows_in_no_traceback_that_captures_locals() -> None:
    # (The key is never a local of this test: the traceback shows this frame's locals too.)
    with OpenAIServer() as server:
        model = OpenAIChatModel("m", base_url=server.base_url, api_key=_locals_key(), timeout=5)
        server.script(Fail(500))
        with pytest.raises(APIStatusError) as info:
            model.invoke("hi")
    text = "".join(
        traceback.TracebackException.from_exception(info.value, capture_locals=True).format()
    )
    assert "LOCALS0123" not in text


# ---------------------------------------------------------------- short keys, any encoding


def _shows(key: str, text: str) -> bool:
    """Whether `text` holds `key`, as itself or inside base64 (either alphabet, any offset)."""
    if key in text:
        return True
    for run in re.findall(r"[A-Za-z0-9+/_-]{2,}", text):
        for offset in range(4):
            piece = run[offset:].replace("-", "+").replace("_", "/")
            piece = piece[: len(piece) // 4 * 4]
            if key.encode() in base64.b64decode(piece + "====", validate=False):
                return True
    return False


_KEYS = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=4, max_size=12)


@given(_KEYS, st.text(max_size=9), st.text(max_size=9), st.booleans())
@settings(max_examples=300, deadline=None)
def test_a_short_key_is_masked_in_base64_wherever_it_falls(
    key: str, before: str, after: str, url_safe: bool
) -> None:
    encode = base64.urlsafe_b64encode if url_safe else base64.b64encode
    echoed = encode(f"{before}Bearer {key}{after}".encode()).decode()
    masked = Redactor(key).text(f"you sent {echoed} and {key}.")
    assert not _shows(key, masked), masked


@pytest.mark.parametrize("key", ["lm-studio", "sk-1", "ollama", "EMPTY"])
@pytest.mark.parametrize("form", ["base64", "json", "text"])
def test_a_short_key_echoed_by_a_server_is_masked(
    server: OpenAIServer, key: str, form: str
) -> None:
    server.script(EchoHeaders(502, form))
    model = OpenAIChatModel("m", base_url=server.base_url, api_key=key)
    with pytest.raises(APIStatusError) as info:
        model.invoke("x")
    for text in exception_texts(info.value):
        assert not _shows(key, text), text


def test_keys_under_four_characters_are_masked_as_themselves() -> None:
    assert Redactor("abc").text("key abc, again abc") == "key **********, again **********"


# ---------------------------------------------------------------- base_url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("api.openai.com/v1", "has no scheme; write it as 'https://host/v1'"),
        ("http//localhost:8000/v1", "has no scheme"),
        ("https://api.openai.com /v1", "contains whitespace or a control character at position 22"),
        ("https://api.openai.com/v1\n", "at position 25"),
        ("ftp://files.example.com", "has the scheme 'ftp'; only 'http' and 'https' are supported"),
        ("file:///etc/passwd", "has the scheme 'file'"),
        ("https://", "has no host after the scheme"),
        ("https:///v1", "has no host"),
        (f"https://user:{KEY}@/v1", "has no host"),
        ("http://localhost:port/v1", "has a port that is not a number from 0 to 65535"),
        ("http://localhost:70000", "has a port that is not a number"),
    ],
)
def test_a_malformed_base_url_is_refused_when_the_model_is_built(url: str, problem: str) -> None:
    with pytest.raises(RunnablesValueError) as info:
        OpenAIChatModel("m", base_url=url, api_key=KEY)
    assert str(info.value).startswith("OpenAIChatModel base_url ")
    assert problem in str(info.value)
    assert isinstance(info.value, ValueError)
    for text in exception_texts(info.value):
        assert not leaks(text), text
        assert url.strip() not in text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1",
        "HTTPS://API.example.com",
        "http://[::1]:8080/",
        "https://u:p@h/v1",
    ],
)
def test_well_formed_base_urls_are_accepted(url: str) -> None:
    assert OpenAIChatModel("m", base_url=url).base_url == url
