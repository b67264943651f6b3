"""A real uvicorn server on 127.0.0.1, called by LangServe's own `RemoteRunnable`."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.tracers.log_stream import RunLogPatch
from langserve import RemoteRunnable

from runnables.models import FakeListChatModel
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate
from runnables.serve import create_app

JOKE = ChatPromptTemplate.from_template("tell me a joke about {topic}") | FakeListChatModel(
    responses=["why did the chicken cross"]
)


@pytest.fixture
def anyio_backend() -> str:
    """LangServe's client is built on asyncio alone."""
    return "asyncio"


def serve_in_thread(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free loopback port until the generator is closed."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = create_app(JOKE, path="/joke")
    from runnables.serve import add_routes

    add_routes(app, JOKE | StrOutputParser(), path="/text")
    add_routes(app, FakeListChatModel(responses=["hello"]), path="/model")
    yield from serve_in_thread(app)


def test_invoke_and_batch(url: str) -> None:
    remote = RemoteRunnable(f"{url}/joke")
    answer = remote.invoke({"topic": "cats"})
    assert answer == AIMessage(content="why did the chicken cross")
    assert remote.batch([{"topic": "a"}, {"topic": "b"}]) == [answer, answer]


@pytest.mark.anyio
async def test_ainvoke_and_abatch(url: str) -> None:
    remote = RemoteRunnable(f"{url}/joke")
    answer = await remote.ainvoke({"topic": "cats"})
    assert isinstance(answer, AIMessage)
    assert await remote.abatch([{"topic": "a"}]) == [answer]


def test_stream(url: str) -> None:
    chunks = list(RemoteRunnable(f"{url}/joke").stream({"topic": "cats"}))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    assert "".join(str(chunk.content) for chunk in chunks) == "why did the chicken cross"


@pytest.mark.anyio
async def test_astream(url: str) -> None:
    chunks = [chunk async for chunk in RemoteRunnable(f"{url}/text").astream({"topic": "x"})]
    assert "".join(chunks) == "why did the chicken cross"


@pytest.mark.anyio
async def test_astream_log_rebuilds_the_run(url: str) -> None:
    remote = RemoteRunnable(f"{url}/text")
    patches = [patch async for patch in remote.astream_log({"topic": "x"})]
    assert all(isinstance(patch, RunLogPatch) for patch in patches)
    state: Any = sum(patches[1:], patches[0]).state  # pyright: ignore[reportUnknownMemberType]
    assert state["final_output"] == "why did the chicken cross"
    assert set(state["logs"]) == {"ChatPromptTemplate", "FakeListChatModel", "StrOutputParser"}
    assert isinstance(state["logs"]["FakeListChatModel"]["final_output"], AIMessageChunk)


@pytest.mark.anyio
async def test_astream_events(url: str) -> None:
    remote = RemoteRunnable(f"{url}/joke")
    events = [event async for event in remote.astream_events({"topic": "x"})]
    assert events[0]["event"] == "on_chain_start"
    assert events[-1]["event"] == "on_chain_end"
    streamed = [event for event in events if event["event"] == "on_chat_model_stream"]
    assert isinstance(streamed[0]["data"]["chunk"], AIMessageChunk)


def test_schemas(url: str) -> None:
    for name in ("input_schema", "output_schema", "config_schema"):
        response = httpx.get(f"{url}/joke/{name}")
        assert response.status_code == 200
        assert response.json()["type"] == "object"
    assert httpx.get(f"{url}/joke/input_schema").json()["required"] == ["topic"]


def test_messages_sent_by_langchain_arrive_as_messages(url: str) -> None:
    history = [HumanMessage(content="hi"), AIMessage(content="yes?"), HumanMessage(content="hm")]
    assert RemoteRunnable(f"{url}/model").invoke(history) == AIMessage(content="hello")
    with pytest.raises(httpx.HTTPStatusError, match="422"):
        RemoteRunnable(f"{url}/joke").invoke(history)


def test_a_tool_calling_conversation_sent_by_langchain_is_read(url: str) -> None:
    """LangChain writes `artifact`, the `type` inside each message's data and nested token
    details: an agent's history is accepted as it comes."""
    from langchain_core.messages import SystemMessage, ToolMessage

    history = [
        SystemMessage(content="be brief"),
        HumanMessage(content="add 1 and 2"),
        AIMessage(
            content="",
            tool_calls=[{"name": "add", "args": {"a": 1, "b": 2}, "id": "c1"}],
            usage_metadata={
                "input_tokens": 3,
                "output_tokens": 2,
                "total_tokens": 5,
                "input_token_details": {"cache_read": 1},
            },
        ),
        ToolMessage(content="3", tool_call_id="c1"),
    ]
    answer = RemoteRunnable(f"{url}/model").invoke(history)
    assert isinstance(answer, AIMessage)
    assert answer.content == "hello"


def test_a_refused_config_key_reaches_the_client_as_an_error(url: str) -> None:
    remote = RemoteRunnable(f"{url}/joke")
    with pytest.raises(httpx.HTTPStatusError) as caught:
        remote.invoke({"topic": "x"}, {"configurable": {"temperature": 2}})
    assert caught.value.response.status_code == 422
    assert "$.config.configurable.temperature" in caught.value.response.text


def test_a_client_leaving_mid_stream_cancels_the_models_http_call() -> None:
    from openai_server import OpenAIServer, Reply
    from runnables.models import OpenAIChatModel

    with OpenAIServer() as openai:
        words = " ".join(f"w{index}" for index in range(500))
        openai.script(Reply(words, token_delay=0.05))
        model = OpenAIChatModel("m", base_url=openai.base_url, api_key="sk-test", timeout=60)
        server = serve_in_thread(create_app(model | StrOutputParser()))
        url = next(server)
        try:
            with (
                httpx.Client() as client,
                client.stream("POST", f"{url}/stream", json={"input": "hi"}) as response,
            ):
                data = (line for line in response.iter_lines() if line.startswith("data: "))
                assert 'data: "w0"' in [next(data) for _ in range(3)]
            for _ in range(600):  # the model's answer would take 50 s; the call ends at once
                if openai.disconnects:
                    break
                threading.Event().wait(0.05)
            assert (openai.disconnects, openai.answering) == (1, 0)
        finally:
            server.close()


def test_a_client_leaving_mid_body_is_one_info_line_not_a_traceback(url: str) -> None:
    import logging
    import time
    from urllib.parse import urlsplit

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(logging.DEBUG)
    watched = [logging.getLogger("uvicorn.error"), logging.getLogger("runnables.serve")]
    old_level = watched[1].level
    watched[1].setLevel(logging.INFO)
    for logger in watched:
        logger.addHandler(keep)
    try:
        address = urlsplit(url)
        with socket.create_connection((address.hostname, address.port)) as client:
            client.sendall(
                b"POST /model/invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n" + b'{"input": "h'
            )
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            "whole body" in r.getMessage() for r in records
        ):
            time.sleep(0.05)
    finally:
        for logger in watched:
            logger.removeHandler(keep)
        watched[1].setLevel(old_level)
    assert [r.levelname for r in records] == ["INFO"], [r.getMessage() for r in records]
    assert "before sending its whole body" in records[0].getMessage()
