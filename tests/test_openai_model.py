"""OpenAIChatModel against a real HTTP server on 127.0.0.1 (tests/openai_server.py)."""

from __future__ import annotations

import functools
import json
import operator
import pickle
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import anyio
import attrs
import pytest

from runnables import RunnableLambda
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from runnables.models import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OpenAIChatModel,
    OpenAIError,
    RateLimitError,
    ServerError,
)

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from openai_server import Drop, Fail, OpenAIServer, Reply, Truncate

#: Seconds the server holds an answer that a timeout or a cancellation must cut short: far
#: beyond any pause of a loaded machine, and free (the server lets go of it when it closes).
SLOW_ANSWER = 60.0


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


@pytest.fixture
def model(server: OpenAIServer) -> OpenAIChatModel:
    return OpenAIChatModel("test-model", base_url=server.base_url, api_key="sk-test", timeout=5)


async def collect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


def added(chunks: Sequence[AIMessage]) -> AIMessageChunk:
    parts = [chunk for chunk in chunks if isinstance(chunk, AIMessageChunk)]
    assert len(parts) == len(chunks), "a chat model streams AIMessageChunks"
    return functools.reduce(operator.add, parts)


# ---------------------------------------------------------------- requests


def test_invoke(server: OpenAIServer, model: OpenAIChatModel) -> None:
    result = model.invoke("hello")
    assert type(result) is AIMessage
    assert result.content == "echo: hello"
    assert result.response_metadata == {"model_name": "test-model", "finish_reason": "stop"}
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body == {
        "model": "test-model",
        "messages": [{"role": "user", "content": "hello"}],
    }


def test_request_body_maps_every_message_kind(server: OpenAIServer, model: OpenAIChatModel) -> None:
    messages = [
        SystemMessage("be brief"),
        HumanMessage(["look", {"type": "image_url", "image_url": {"url": "u"}}], name="ann"),
        AIMessage("", tool_calls=[ToolCall("add", {"a": 1}, id="c1")]),
        ToolMessage("2", tool_call_id="c1"),
        ChatMessage("hm", role="developer"),
    ]
    model.invoke(messages)
    assert server.requests[0].body["messages"] == [
        {"role": "system", "content": "be brief"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "u"}},
            ],
            "name": "ann",
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a": 1}'},
                }
            ],
        },
        {"role": "tool", "content": "2", "tool_call_id": "c1"},
        {"role": "developer", "content": "hm"},
    ]


def test_fields_and_bound_options_reach_the_body(server: OpenAIServer) -> None:
    model = OpenAIChatModel(
        "m", base_url=server.base_url + "/", temperature=0.2, max_tokens=5, stop=["x"]
    )
    model.invoke("a")
    body = server.requests[-1].body
    assert (body["temperature"], body["max_tokens"], body["stop"]) == (0.2, 5, ["x"])
    model.bind(stop=["\n", "END"], temperature=0.9, top_p=0.5).invoke("a")
    body = server.requests[-1].body
    assert body["stop"] == ["\n", "END"]
    assert body["temperature"] == 0.9
    assert body["top_p"] == 0.5
    assert body["max_tokens"] == 5
    list(model.bind(stop=["S"]).stream("a"))
    assert server.requests[-1].body["stop"] == ["S"]
    assert server.requests[-1].body["stream"] is True


def test_a_misspelt_option_is_refused_and_extra_body_carries_any_field(
    server: OpenAIServer,
) -> None:
    model = OpenAIChatModel("m", base_url=server.base_url)
    with pytest.raises(TypeError, match=r"'temprature' \(did you mean 'temperature'\?\)"):
        model.bind(temprature=0.2)
    with pytest.raises(TypeError, match="does not know the call option"):
        OpenAIChatModel("m", options={"top_k": 3})
    model.bind(temperature=0.2, extra_body={"top_k": 3}).invoke("a")
    body = server.requests[-1].body
    assert (body["temperature"], body["top_k"]) == (0.2, 3)
    assert "extra_body" not in body


def test_api_key_from_environment(server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    OpenAIChatModel("m", base_url=server.base_url).invoke("a")
    assert server.requests[-1].headers["authorization"] == "Bearer from-env"
    monkeypatch.delenv("OPENAI_API_KEY")
    OpenAIChatModel("m", base_url=server.base_url).invoke("a")
    assert "authorization" not in server.requests[-1].headers


def test_api_key_not_in_repr() -> None:
    assert "secret" not in repr(OpenAIChatModel("m", api_key="secret"))


def test_tool_calls_and_usage(server: OpenAIServer, model: OpenAIChatModel) -> None:
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    server.script(Reply("", tool_calls=(("call_1", "add", {"a": 1, "b": 2}),), usage=usage))
    result = model.invoke("add")
    assert result.tool_calls == [ToolCall("add", {"a": 1, "b": 2}, id="call_1")]
    assert result.usage_metadata == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    assert result.response_metadata["finish_reason"] == "tool_calls"


# ---------------------------------------------------------------- streaming


def test_stream(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(Reply("Hello  there world"))
    chunks = list(model.stream("x"))
    assert all(type(c) is AIMessageChunk for c in chunks)
    assert [c.content for c in chunks if c.content] == ["Hello", "  ", "there", " ", "world"]
    total = added(chunks)
    assert total.content == "Hello  there world"
    assert total.response_metadata == {"model_name": "test-model", "finish_reason": "stop"}
    assert total.id == "chatcmpl-test"
    assert server.requests[0].headers["accept"] == "text/event-stream"


def test_stream_is_incremental(server: OpenAIServer, model: OpenAIChatModel) -> None:
    # The server sends "a", then waits until the test has it: a client that held chunks
    # back until the end of the answer would never get there.
    got_a = threading.Event()
    server.script(Reply("a b c d", resume_on=got_a))
    contents = []
    for chunk in model.stream("x"):
        contents.append(chunk.content)
        if chunk.content == "a":
            got_a.set()
    assert "".join(contents) == "a b c d"


def test_stream_tool_calls_and_usage(server: OpenAIServer, model: OpenAIChatModel) -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    server.script(
        Reply("ok", tool_calls=(("c1", "f", {"x": [1, 2]}), ("c2", "g", {})), usage=usage)
    )
    total = added(list(model.stream("x")))
    assert total.content == "ok"
    assert total.tool_calls == [ToolCall("f", {"x": [1, 2]}, id="c1"), ToolCall("g", {}, id="c2")]
    assert total.usage_metadata == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}


def test_invoke_in_a_chain_and_stream_through_it(
    server: OpenAIServer, model: OpenAIChatModel
) -> None:
    chain = RunnableLambda(lambda topic: [("system", "s"), ("human", topic)]) | model
    assert chain.invoke("cats").content == "echo: cats"
    assert added(list(chain.stream("dogs"))).content == "echo: dogs"


# ---------------------------------------------------------------- async (asyncio and trio)


@pytest.mark.anyio
async def test_ainvoke(server: OpenAIServer, model: OpenAIChatModel) -> None:
    result = await model.ainvoke("async hello")
    assert result == AIMessage(
        "echo: async hello",
        response_metadata={"model_name": "test-model", "finish_reason": "stop"},
        id="chatcmpl-test",
    )


@pytest.mark.anyio
async def test_astream(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(Reply("one two", tool_calls=(("c", "f", {"a": 1}),)))
    chunks = await collect(model.astream("x"))
    assert [c.content for c in chunks if c.content] == ["one", " ", "two"]
    assert added(chunks).tool_calls == [ToolCall("f", {"a": 1}, id="c")]


@pytest.mark.anyio
async def test_abatch_with_max_concurrency(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(*[Reply(f"r{i}", delay=0.1) for i in range(4)])
    start = time.perf_counter()
    results = await model.abatch(["a", "b", "c", "d"], {"max_concurrency": 2})
    assert time.perf_counter() - start >= 0.2
    assert sorted(r.content for r in results) == ["r0", "r1", "r2", "r3"]


@pytest.mark.anyio
async def test_async_errors(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(Fail(500))
    with pytest.raises(ServerError):
        await model.ainvoke("x")
    server.script(Fail(429))
    with pytest.raises(RateLimitError):
        await collect(model.astream("x"))
    server.script(Drop(after=1))
    with pytest.raises(APIConnectionError):
        await collect(model.astream("x"))
    server.script(Reply(delay=2))
    with pytest.raises(APITimeoutError):
        await attrs.evolve(model, timeout=0.2).ainvoke("x")


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_status_errors(
    server: OpenAIServer, model: OpenAIChatModel, status: int, cls: type[APIStatusError]
) -> None:
    server.script(Fail(status, {"error": {"message": "nope"}}))
    with pytest.raises(cls) as info:
        model.invoke("x")
    assert type(info.value) is cls
    assert isinstance(info.value, APIStatusError)
    assert isinstance(info.value, OpenAIError)
    assert isinstance(info.value, RuntimeError)
    assert info.value.status_code == status
    assert info.value.body == {"error": {"message": "nope"}}
    assert str(status) in str(info.value)
    assert "nope" in str(info.value)


def test_text_error_body_and_stream_error(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(Fail(502, "bad gateway"))
    with pytest.raises(ServerError, match=r"HTTP 502.*bad gateway") as info:
        list(model.stream("x"))
    assert info.value.body == "bad gateway"


def test_status_error_pickles() -> None:
    error = RateLimitError(429, {"error": "slow down"}, "http://x")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RateLimitError
    assert (copy.status_code, copy.body, str(copy)) == (429, {"error": "slow down"}, str(error))


def test_retry_on_rate_limit(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(Fail(429), Fail(503), Reply("finally"))
    retrying = model.with_retry(
        retry_if_exception_type=(RateLimitError, ServerError),
        stop_after_attempt=3,
        wait_exponential_jitter=False,
    )
    assert retrying.invoke("x").content == "finally"
    assert len(server.requests) == 3


def test_retry_does_not_retry_other_errors(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(Fail(400), Reply("unused"))
    retrying = model.with_retry(
        retry_if_exception_type=(RateLimitError,), wait_exponential_jitter=False
    )
    with pytest.raises(BadRequestError):
        retrying.invoke("x")
    assert len(server.requests) == 1


def test_retry_a_stream_that_failed_before_yielding(
    server: OpenAIServer, model: OpenAIChatModel
) -> None:
    server.script(Fail(429), Reply("ok now"))
    retrying = model.with_retry(
        retry_if_exception_type=(APIStatusError,), wait_exponential_jitter=False
    )
    assert added(list(retrying.stream("x"))).content == "ok now"


@pytest.mark.anyio
async def test_retry_async(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(Fail(429), Reply("async ok"))
    retrying = model.with_retry(
        retry_if_exception_type=(RateLimitError,), wait_exponential_jitter=False
    )
    assert (await retrying.ainvoke("x")).content == "async ok"


def test_timeout(server: OpenAIServer) -> None:
    server.script(Reply(delay=SLOW_ANSWER))
    model = OpenAIChatModel("m", base_url=server.base_url, timeout=0.2)
    start = time.perf_counter()
    with pytest.raises(APITimeoutError, match=r"timed out after 0\.2s") as info:
        model.invoke("x")
    assert time.perf_counter() - start < SLOW_ANSWER / 2  # long before the answer came
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, APIConnectionError)


def test_timeout_between_stream_events(server: OpenAIServer) -> None:
    server.script(Reply("a b c", token_delay=1))
    model = OpenAIChatModel("m", base_url=server.base_url, timeout=0.2)
    with pytest.raises(APITimeoutError):
        list(model.stream("x"))


def test_dropped_connection_mid_stream_raises(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(Drop("one two three four", after=2))
    seen: list[str] = []

    def consume() -> None:
        for chunk in model.stream("x"):
            seen.append(str(chunk.content))

    with pytest.raises(APIConnectionError, match=r"connection to .* failed"):
        consume()
    assert "".join(seen) == "one "  # what came before the drop, then the error


def test_stream_without_end_marker_raises(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(Truncate("one two"))
    with pytest.raises(APIConnectionError, match=r"ended before its end marker"):
        list(model.stream("x"))


def test_connection_refused() -> None:
    with OpenAIServer() as closed:
        url = closed.base_url
    with pytest.raises(APIConnectionError, match="ConnectError"):
        OpenAIChatModel("m", base_url=url, timeout=2).invoke("x")


def test_wrong_route_is_not_found(server: OpenAIServer) -> None:
    model = OpenAIChatModel("m", base_url=server.base_url + "/nope")
    with pytest.raises(NotFoundError) as info:
        model.invoke("x")
    assert info.value.status_code == 404


# ---------------------------------------------------------------- the value


def test_model_is_a_frozen_hashable_value() -> None:
    a = OpenAIChatModel("m", stop=["x"], temperature=0)
    assert a == OpenAIChatModel("m", stop=("x",), temperature=0)
    assert hash(a) == hash(OpenAIChatModel("m", stop=["x"], temperature=0))
    assert a.stop == ("x",)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.model = "other"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    assert a.name == "OpenAIChatModel"
    assert a.run_type == "chat_model"
    assert a.url == "https://api.openai.com/v1/chat/completions"


def test_importing_models_does_not_import_httpx() -> None:
    code = (
        "import sys, runnables.models as m; "
        "m.OpenAIChatModel('x'); "
        "assert 'httpx' not in sys.modules, 'httpx imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_httpx_is_a_clear_import_error() -> None:
    code = (
        "import sys; sys.modules['httpx'] = None\n"
        "from runnables.models import OpenAIChatModel\n"
        "try:\n"
        "    OpenAIChatModel('x', base_url='http://127.0.0.1:9').invoke('hi')\n"
        "except ImportError as e:\n"
        "    assert 'pip install runnables[openai]' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.anyio
async def test_cancelling_a_request(server: OpenAIServer, model: OpenAIChatModel) -> None:
    server.script(Reply(delay=SLOW_ANSWER), Reply("after"))
    start = time.perf_counter()
    with anyio.move_on_after(0.2) as scope:
        await model.ainvoke("x")
    assert scope.cancelled_caught
    assert time.perf_counter() - start < SLOW_ANSWER / 2  # long before the answer came
    assert (await model.ainvoke("y")).content == "after"


# ---------------------------------------------------------------- tools and structured output


@attrs.frozen
class Person:
    """A person."""

    name: str
    age: int


def test_bind_tools_sends_tools_and_tool_choice(
    server: OpenAIServer, model: OpenAIChatModel
) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    server.script(Reply("", tool_calls=(("c1", "add", {"a": 1, "b": 2}),)))
    result = model.bind_tools([add], tool_choice="any").invoke("1 + 2?")
    assert result.tool_calls == [ToolCall("add", {"a": 1, "b": 2}, id="c1")]
    body = server.requests[0].body
    assert body["tool_choice"] == "required"
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "add",
                "description": "Add two numbers.",
                "parameters": {
                    "type": "object",
                    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                    "required": ["a", "b"],
                    "additionalProperties": False,
                },
            },
        }
    ]


def test_streamed_tool_calls_come_as_tool_call_chunks(
    server: OpenAIServer, model: OpenAIChatModel
) -> None:
    server.script(
        Reply("", tool_calls=(("c1", "f", {"x": "abcdef"}), ("c2", "g", {})), tool_pieces=3)
    )
    chunks = list(model.stream("x"))
    pieces = [piece for chunk in chunks for piece in chunk.tool_call_chunks]
    assert len(pieces) == 6
    assert (pieces[0].name, pieces[0].id, pieces[0].index) == ("f", "c1", 0)
    assert (pieces[1].name, pieces[1].id, pieces[1].index) == (None, None, 0)
    assert "".join(piece.args or "" for piece in pieces[:3]) == '{"x": "abcdef"}'
    total = added(chunks)
    assert total.tool_calls == [ToolCall("f", {"x": "abcdef"}, id="c1"), ToolCall("g", {}, id="c2")]
    assert total.invalid_tool_calls == []
    assert len(total.additional_kwargs["tool_calls"]) == 2


def test_structured_output_over_the_wire(server: OpenAIServer, model: OpenAIChatModel) -> None:
    call = (("c1", "Person", {"name": "Ada", "age": 36}),)
    server.script(Reply("", tool_calls=call), Reply("", tool_calls=call, tool_pieces=4))
    structured = model.with_structured_output(Person)
    assert structured.invoke("who?") == Person("Ada", 36)
    assert list(structured.stream("who?")) == [Person("Ada", 36)]
    first = server.requests[0].body
    assert first["tool_choice"] == {"type": "function", "function": {"name": "Person"}}
    assert [tool["function"]["name"] for tool in first["tools"]] == ["Person"]


@pytest.mark.anyio
async def test_structured_output_json_schema_over_the_wire(
    server: OpenAIServer, model: OpenAIChatModel
) -> None:
    server.script(Reply('{"name": "Ada", "age": 36}'), Reply('{"name": "Ada"}'))
    structured = model.with_structured_output(Person, method="json_schema", include_raw=True)
    result = await structured.ainvoke("who?")
    assert result["parsed"] == Person("Ada", 36)
    assert result["parsing_error"] is None
    response_format = server.requests[0].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"]["required"] == ["name", "age"]
    failed = await structured.ainvoke("who?")
    assert failed["parsed"] is None
    assert "missing required key 'age'" in str(failed["parsing_error"])
    assert failed["raw"].content == '{"name": "Ada"}'


def test_a_tool_loop_sends_calls_and_results_back(
    server: OpenAIServer, model: OpenAIChatModel
) -> None:
    from runnables.messages import InvalidToolCall
    from runnables.tools import tool

    @tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    server.script(Reply("", tool_calls=(("c1", "add", {"a": 1, "b": 2}),)), Reply("3"))
    bound = model.bind_tools([add])
    history: list[Any] = [HumanMessage("1 + 2?")]
    answer = bound.invoke(history)
    history += [answer, *[add.invoke(call) for call in answer.tool_calls]]
    bad = AIMessage("", invalid_tool_calls=[InvalidToolCall("add", "{oops", "c9", "not JSON")])
    history += [bad, ToolMessage("bad arguments", tool_call_id="c9", status="error")]
    assert bound.invoke(history).content == "3"
    sent = server.requests[1].body["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "add", "arguments": '{"a": 1, "b": 2}'}
    assert sent[2] == {"role": "tool", "content": "3", "tool_call_id": "c1", "name": "add"}
    assert sent[3]["tool_calls"] == [
        {"id": "c9", "type": "function", "function": {"name": "add", "arguments": "{oops"}}
    ]


@pytest.mark.parametrize(
    ("fragment", "problem"),
    [
        (
            {"index": 0, "id": 7},
            "stream event 2: choices[0].delta.tool_calls[0].id: expected a string or null, got int",
        ),
        (
            {"index": 0, "function": {"name": ["f"]}},
            "function.name: expected a string or null, got array",
        ),
        ({"index": 0, "function": "f"}, "tool_calls[0].function: expected an object, got string"),
        (["f"], "choices[0].delta.tool_calls[0]: expected an object, got array"),
    ],
)
def test_hostile_streamed_tool_calls_raise_typed_errors(
    server: OpenAIServer, model: OpenAIChatModel, fragment: Any, problem: str
) -> None:
    from openai_server import Raw
    from runnables.models import APIResponseValidationError

    def event(delta: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps({"choices": [{"delta": delta}]}).encode() + b"\n\n"

    first = {"index": 0, "id": "c", "function": {"name": "f", "arguments": "{"}}
    body = (event({"tool_calls": [first]}), event({"tool_calls": [fragment]}), b"data: [DONE]\n\n")
    server.script(Raw(body, content_type="text/event-stream"))
    with pytest.raises(APIResponseValidationError, match=re.escape(problem)):
        list(model.stream("x"))
