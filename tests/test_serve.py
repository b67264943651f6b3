"""runnables.serve in process: each endpoint, its wire format, and what it refuses."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import jsonpatch
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request

from runnables import RunnableConfig, runnable
from runnables.messages import AIMessage, BaseMessage, HumanMessage
from runnables.models import FakeListChatModel
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate
from runnables.serve import Limits, add_routes, create_app

pytestmark = pytest.mark.anyio

JOKE = ChatPromptTemplate.from_template("tell me a joke about {topic}") | FakeListChatModel(
    responses=["why did the chicken cross"]
)


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def events(text: str) -> list[tuple[str, Any]]:
    """Parse a text/event-stream body into (event, decoded data) pairs."""
    parsed: list[tuple[str, Any]] = []
    for block in text.split("\r\n\r\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\r\n"))
        data = fields.get("data")
        parsed.append((fields["event"], None if data is None else json.loads(data)))
    return parsed


async def test_invoke_answers_with_the_output_tagged_with_its_kind() -> None:
    async with client(create_app(JOKE, path="/joke")) as http:
        response = await http.post("/joke/invoke", json={"input": {"topic": "cats"}})
    assert response.status_code == 200
    body = response.json()
    assert body["output"]["type"] == "ai"
    assert body["output"]["content"] == "why did the chicken cross"
    assert set(body["metadata"]) == {"run_id", "feedback_tokens"}


async def test_batch_answers_in_input_order_with_a_run_id_each() -> None:
    @runnable
    def shout(text: str) -> str:
        return text.upper()

    async with client(create_app(shout)) as http:
        response = await http.post("/batch", json={"inputs": ["a", "b", "c"]})
    body = response.json()
    assert body["output"] == ["A", "B", "C"]
    assert len(set(body["metadata"]["run_ids"])) == 3


async def test_a_bad_body_gets_422_listing_every_bad_path() -> None:
    prompt = ChatPromptTemplate.from_template("{a} and {b}")
    async with client(create_app(prompt)) as http:
        one = await http.post("/invoke", json={"input": {"a": 1, "b": [2]}, "extra": 0})
        many = await http.post("/batch", json={"inputs": [{"a": "x", "b": "y"}, {"a": 3}]})
        not_json = await http.post("/invoke", content=b"{")
    assert one.status_code == 422
    assert one.json()["detail"] == [
        "$.extra: unknown key (expected some of ['config', 'input', 'kwargs'])",
        "$.input.a: expected str, got int",
        "$.input.b: expected str, got list",
    ]
    assert many.status_code == 422
    assert many.json()["detail"] == [
        "$.inputs[1].a: expected str, got int",
        "$.inputs[1]: missing required key 'b'",
    ]
    assert not_json.status_code == 422
    assert not_json.json()["detail"][0].startswith("$: body is not JSON")


@pytest.mark.parametrize("depth", [201, 600, 5_000, 100_000])
async def test_a_deeply_nested_body_is_refused_not_crashed_on(depth: int) -> None:
    """Refused by the same rule on every Python (3.12+ parses and validates any depth, 3.11
    stops at its recursion limit)."""

    @runnable
    def anything(value: object) -> int:
        return 1

    body = '{"input": ' + "[" * depth + "]" * depth + "}"
    async with client(create_app(anything)) as http:
        response = await http.post("/invoke", content=body.encode())
    assert response.status_code == 422
    assert response.json()["detail"] == [
        "$: body is nested deeper than 200 levels (Limits.max_depth)"
    ]


async def test_a_body_as_deep_as_the_limit_runs() -> None:
    @runnable
    def depth(value: object) -> int:
        levels = 0
        while isinstance(value, list):
            levels, value = levels + 1, value[0] if value else None
        return levels

    def nested(levels: int) -> str:
        return '{"input": ' + "[" * levels + "]" * levels + ', "config": {"tags": ["a"]}}'

    async with client(create_app(depth)) as http:
        deepest = await http.post("/invoke", content=nested(199).encode())
    async with client(create_app(depth, limits=Limits(max_depth=3))) as http:
        too_deep = await http.post("/invoke", content=nested(3).encode())
        fits = await http.post("/invoke", content=nested(2).encode())
    assert (deepest.status_code, deepest.json()["output"]) == (200, 199)
    assert (fits.status_code, fits.json()["output"]) == (200, 2)
    assert too_deep.status_code == 422
    with pytest.raises(ValueError, match="max_depth must be positive"):
        Limits(max_depth=0)


async def test_messages_sent_in_langchain_form_arrive_as_messages_of_their_kind() -> None:
    @runnable
    def kinds(messages: list[BaseMessage]) -> list[BaseMessage]:
        return [*messages, AIMessage(",".join(message.type for message in messages))]

    sent = [
        {"type": "human", "content": "hi", "example": False},
        {"type": "ai", "content": "yo", "tool_calls": [], "invalid_tool_calls": []},
    ]
    async with client(create_app(kinds)) as http:
        good = await http.post("/invoke", json={"input": sent})
        bad = await http.post("/invoke", json={"input": [{"type": "human", "content": 3}]})
    assert [item["type"] for item in good.json()["output"]] == ["human", "ai", "ai"]
    assert good.json()["output"][2]["content"] == "human,ai"
    assert bad.status_code == 422
    assert bad.json()["detail"][0].startswith("$.input[0]: not a valid 'human' object")


async def test_stream_sends_metadata_then_chunks_then_end() -> None:
    async with client(create_app(JOKE | StrOutputParser())) as http:
        response = await http.post("/stream", json={"input": {"topic": "cats"}})
    assert response.headers["content-type"].startswith("text/event-stream")
    sent = events(response.text)
    assert sent[0][0] == "metadata"
    assert set(sent[0][1]) == {"run_id"}
    assert [data for kind, data in sent if kind == "data"] == [
        "why",
        " ",
        "did",
        " ",
        "the",
        " ",
        "chicken",
        " ",
        "cross",
    ]
    assert sent[-1] == ("end", None)


async def test_stream_log_patches_rebuild_the_run_state() -> None:
    async with client(create_app(JOKE | StrOutputParser())) as http:
        response = await http.post(
            "/stream_log", json={"input": {"topic": "cats"}, "include_types": ["chat_model"]}
        )
    state: Any = None
    for kind, data in events(response.text):
        if kind == "data":
            state = jsonpatch.apply_patch(state, data["ops"])
    assert state["final_output"] == "why did the chicken cross"
    assert list(state["logs"]) == ["FakeListChatModel"]
    assert state["logs"]["FakeListChatModel"]["final_output"]["type"] == "AIMessageChunk"


async def test_stream_events_tags_message_chunks_and_filters() -> None:
    async with client(create_app(JOKE)) as http:
        response = await http.post(
            "/stream_events",
            json={"input": {"topic": "cats"}, "include_types": ["chat_model"]},
        )
    sent = [data for kind, data in events(response.text) if kind == "data"]
    assert {event["name"] for event in sent} == {"FakeListChatModel"}
    streamed = [event for event in sent if event["event"] == "on_chat_model_stream"]
    assert streamed[0]["data"]["chunk"]["type"] == "AIMessageChunk"


@pytest.mark.parametrize("endpoint", ["stream_log", "stream_events"])
async def test_stream_log_and_stream_events_send_no_metadata_event_as_langserve(
    endpoint: str,
) -> None:
    async with client(create_app(JOKE)) as http:
        response = await http.post(f"/{endpoint}", json={"input": {"topic": "cats"}})
    kinds = [kind for kind, _ in events(response.text)]
    assert set(kinds[:-1]) == {"data"}
    assert kinds[-1] == "end"


async def test_schemas_are_served() -> None:
    async with client(create_app(JOKE, configurable={"user": str})) as http:
        given = (await http.get("/input_schema")).json()
        output = (await http.get("/output_schema")).json()
        config = (await http.get("/config_schema")).json()
    assert given == JOKE.input_schema.json_schema()
    assert output == JOKE.output_schema.json_schema()
    assert config["properties"]["configurable"]["properties"] == {
        "user": {"title": "User", "type": "string"}
    }
    assert config["additionalProperties"] is False


@runnable
def echo_config(text: str, config: RunnableConfig) -> dict[str, Any]:
    return {
        "tags": config.get("tags", []),
        "metadata": config.get("metadata", {}),
        "configurable": config.get("configurable", {}),
        "max_concurrency": config.get("max_concurrency"),
    }


async def test_the_client_may_set_tags_metadata_and_declared_configurable_fields() -> None:
    app = create_app(echo_config, configurable={"user": str}, max_concurrency=4)
    sent = {
        "tags": ["t"],
        "metadata": {"m": 1},
        "configurable": {"user": "ann"},
        "max_concurrency": 2,
        "recursion_limit": 10,
    }
    async with client(app) as http:
        response = await http.post("/invoke", json={"input": "x", "config": sent})
        default = await http.post("/invoke", json={"input": "x"})
    output = response.json()["output"]
    assert output["tags"] == ["t"]
    assert output["metadata"]["m"] == 1
    assert output["configurable"] == {"user": "ann"}
    assert output["max_concurrency"] == 2
    assert default.json()["output"]["max_concurrency"] == 4


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"callbacks": []}, "$.config.callbacks: a client may not set 'callbacks'"),
        ({"run_id": "x"}, "$.config.run_id: a client may not set 'run_id'"),
        ({"colour": 1}, "$.config.colour: a client may not set 'colour'"),
        ({"configurable": {"admin": True}}, "$.config.configurable.admin: not a configurable"),
        ({"configurable": {"user": 1}}, "$.config.configurable.user: expected str, got int"),
        ({"max_concurrency": 5}, "$.config.max_concurrency: must be at least 1 and at most 4"),
        ({"recursion_limit": 26}, "$.config.recursion_limit: must be between 1 and 25"),
        ({"tags": "t"}, "$.config.tags: expected list, got str"),
    ],
)
async def test_a_config_key_the_client_may_not_set_is_refused_by_name(
    config: dict[str, Any], problem: str
) -> None:
    app = create_app(echo_config, configurable={"user": str}, max_concurrency=4)
    async with client(app) as http:
        response = await http.post("/invoke", json={"input": "x", "config": config})
        batch = await http.post("/batch", json={"inputs": ["x"], "config": [config]})
    assert response.status_code == 422
    [message] = response.json()["detail"]
    assert message.startswith(problem)
    assert batch.json()["detail"][0].startswith(problem.replace("$.config", "$.config[0]"))


async def test_the_per_request_hook_runs_first_and_may_refuse_or_change_the_config() -> None:
    seen: list[str] = []

    async def per_user(request: Request, config: RunnableConfig) -> RunnableConfig:
        user = request.headers.get("x-user")
        if user is None:
            raise HTTPException(401, "who are you?")
        seen.append(user)
        return {**config, "configurable": {"user": user}}

    app = create_app(echo_config, per_request=per_user)
    async with client(app) as http:
        refused = await http.post("/invoke", json={"input": "x"})
        allowed = await http.post("/invoke", json={"input": "x"}, headers={"x-user": "bo"})
        streamed = await http.post("/stream", json={"input": "x"}, headers={"x-user": "cy"})
    assert refused.status_code == 401
    assert allowed.json()["output"]["configurable"] == {"user": "bo"}
    assert events(streamed.text)[1][1]["configurable"] == {"user": "cy"}
    assert seen == ["bo", "cy"]


async def test_a_body_over_the_limit_gets_413() -> None:
    app = create_app(echo_config, limits=Limits(max_body_bytes=100))
    async with client(app) as http:
        response = await http.post("/invoke", json={"input": "x" * 200})
    assert response.status_code == 413
    assert response.json()["detail"] == "body is larger than 100 bytes"


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"Limits\.run_seconds must be positive, got 0"):
        Limits(run_seconds=0)
    with pytest.raises(ValueError, match=r"Limits\.max_body_bytes must be positive, got -1"):
        Limits(max_body_bytes=-1)
    assert Limits(run_seconds=None).run_seconds is None


async def test_a_missing_input_is_named_once() -> None:
    async with client(create_app(echo_config)) as http:
        response = await http.post("/invoke", json={"config": {}})
    assert response.json()["detail"] == ["$.input: missing"]


async def test_a_run_over_the_time_limit_gets_504() -> None:
    @runnable
    async def slow(text: str) -> AsyncIterator[str]:
        yield text
        await anyio.sleep_forever()

    app = create_app(slow, limits=Limits(run_seconds=0.05))
    async with client(app) as http:
        invoked = await http.post("/invoke", json={"input": "x"})
        streamed = await http.post("/stream", json={"input": "x"})
    assert invoked.status_code == 504
    assert invoked.json()["detail"] == "run took longer than 0.05 seconds"
    sent = events(streamed.text)
    assert sent[1] == ("data", "x")
    assert sent[2] == ("error", {"status_code": 504, "message": sent[2][1]["message"]})


async def test_a_failing_run_is_logged_and_its_message_kept_from_the_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @runnable
    def fail(text: str) -> str:
        raise RuntimeError("secret detail")

    app = Starlette()
    add_routes(app, fail, path="/fail")
    with caplog.at_level(logging.ERROR, logger="runnables.serve"):
        async with client(app) as http:
            invoked = await http.post("/fail/invoke", json={"input": "x"})
            streamed = await http.post("/fail/stream", json={"input": "x"})
    assert invoked.status_code == 500
    assert "secret" not in invoked.text
    assert events(streamed.text)[-1] == (
        "error",
        {"status_code": 500, "message": "Internal Server Error"},
    )
    assert "secret" not in streamed.text
    logged = [record.exc_info[1] if record.exc_info else None for record in caplog.records]
    assert [type(error) for error in logged] == [RuntimeError, RuntimeError]  # not in a group


def test_a_path_must_start_with_a_slash() -> None:
    with pytest.raises(ValueError, match="path must start with '/'"):
        add_routes(Starlette(), JOKE, path="joke")


def test_importing_runnables_loads_no_server_or_http_library() -> None:
    code = (
        "import sys, runnables, runnables.messages; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'starlette', 'uvicorn', 'httpx'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_human_message_round_trips_in_langserve_form() -> None:
    from runnables.serve._wire import decode, encode

    message = HumanMessage("hi", name="ann")
    assert encode(message)["type"] == "human"
    assert decode(encode(message)) == message


def test_the_serve_command_refuses_what_is_not_a_runnable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from runnables.__main__ import main

    assert main(["serve", "json:dumps"]) == 2
    assert main(["serve", "json"]) == 2
    assert main(["serve", "json:nothing"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "python -m runnables serve: json:dumps is a function, not a runnable",
        "python -m runnables serve: expected package.module:name, got 'json'",
        "python -m runnables serve: 'json' has no attribute 'nothing'",
    ]


def test_the_client_reads_only_data_events_and_stops_at_end() -> None:
    from runnables.serve import RemoteRunnable
    from runnables.serve._sse_reader import EventReader

    reader = EventReader()
    lines = [": a comment", "event: data", "data: 1", "", "event: ping", "data: 2", ""]
    lines += ["data: a", "data: b", "", "event: metadata", "data: {}", "", "event: end", ""]
    read = [RemoteRunnable._event("u", reader, line) for line in lines]  # pyright: ignore[reportPrivateUsage]
    assert [data for data in read if data is not None] == ["1"]
    assert reader.ended
    assert [event for event in map(EventReader().line, lines) if event][2] == ("message", "a\nb")
