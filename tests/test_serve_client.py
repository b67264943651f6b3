"""`RemoteRunnable` against a real uvicorn server: every call form, on asyncio and trio."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import attrs
import pytest
from starlette.applications import Starlette

from runnables import runnable
from runnables.documents import Document
from runnables.messages import AIMessage, AIMessageChunk
from runnables.models import FakeListChatModel
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate
from runnables.serve import (
    RemoteConnectionError,
    RemoteError,
    RemoteInputError,
    RemoteRunnable,
    add_routes,
)
from runnables.tracing import RunLog, RunLogPatch
from test_serve_remote import serve_in_thread

JOKE = ChatPromptTemplate.from_template("tell me a joke about {topic}") | FakeListChatModel(
    responses=["why did the chicken cross"]
)
TEXT = JOKE | StrOutputParser()

left = threading.Event()
calls: list[str] = []


@runnable
async def endless(text: str) -> AsyncIterator[str]:
    try:
        for index in range(1_000_000):
            yield f"{text}{index}"
            await anyio.sleep(0.01)
    finally:
        left.set()


@runnable
def flaky(text: str) -> str:
    calls.append(text)
    if len(calls) % 2:
        raise RuntimeError("every other call fails")
    return text


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = Starlette()
    add_routes(app, JOKE, path="/joke")
    add_routes(app, TEXT, path="/text")
    add_routes(app, endless, path="/endless")
    add_routes(app, flaky, path="/flaky")
    add_routes(app, joke, path="/attrs")
    yield from serve_in_thread(app)


def test_invoke_batch_and_stream(url: str) -> None:
    remote = RemoteRunnable(f"{url}/text", input_type=dict[str, str], output_type=str)
    assert remote.invoke({"topic": "x"}) == "why did the chicken cross"
    assert remote.batch([{"topic": "a"}, {"topic": "b"}]) == ["why did the chicken cross"] * 2
    assert "".join(remote.stream({"topic": "x"})) == "why did the chicken cross"


@pytest.mark.anyio
async def test_ainvoke_abatch_and_astream_keep_message_kinds(url: str) -> None:
    remote = RemoteRunnable[dict[str, str], AIMessage](f"{url}/joke")
    assert await remote.ainvoke({"topic": "x"}) == AIMessage("why did the chicken cross")
    assert await remote.abatch([{"topic": "a"}]) == [AIMessage("why did the chicken cross")]
    chunks = [chunk async for chunk in remote.astream({"topic": "x"})]
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    assert len(chunks) == 9


@pytest.mark.anyio
async def test_composes_on_both_sides(url: str) -> None:
    remote = RemoteRunnable(f"{url}/text", input_type=dict[str, str], output_type=str)
    chain = (lambda topic: {"topic": topic}) | remote | (lambda text: text.upper())
    assert await chain.ainvoke("x") == "WHY DID THE CHICKEN CROSS"


@pytest.mark.anyio
async def test_astream_log_rebuilds_the_servers_run_log(url: str) -> None:
    remote = RemoteRunnable(f"{url}/text")
    patches = [patch async for patch in remote.astream_log({"topic": "x"})]
    assert all(type(patch) is RunLogPatch for patch in patches)
    logs = [log async for log in remote.astream_log({"topic": "x"}, diff=False)]
    assert all(isinstance(log, RunLog) for log in logs)
    state = logs[-1].state
    assert state["final_output"] == "why did the chicken cross"
    assert set(state["logs"]) == {"ChatPromptTemplate", "FakeListChatModel", "StrOutputParser"}
    assert isinstance(state["logs"]["FakeListChatModel"]["final_output"], AIMessageChunk)


@pytest.mark.anyio
async def test_astream_events_are_the_servers_events(url: str) -> None:
    remote = RemoteRunnable(f"{url}/joke")
    events = [event async for event in remote.astream_events({"topic": "x"})]
    assert events[0]["event"] == "on_chain_start"
    assert events[0]["name"] == "RunnableSequence"
    streamed = [event for event in events if event["event"] == "on_chat_model_stream"]
    assert isinstance(streamed[0]["data"]["chunk"], AIMessageChunk)


def test_stream_events_from_sync_code_are_the_servers_events(url: str) -> None:
    remote = RemoteRunnable(f"{url}/joke")
    events = list(remote.stream_events({"topic": "x"}, include_types=["chat_model"]))
    assert {event["name"] for event in events} == {"FakeListChatModel"}
    assert events[-1]["event"] == "on_chat_model_end"


@attrs.frozen
class Joke:
    setup: str
    sources: list[Document]


@runnable
def joke(topic: str) -> Joke:
    return Joke(f"about {topic}", [Document("d", {"page": 1})])


@pytest.mark.anyio
async def test_attrs_values_and_documents_round_trip_with_their_kind(url: str) -> None:
    remote = RemoteRunnable(f"{url}/attrs", input_type=str, output_type=Joke)
    assert await remote.ainvoke("x") == Joke("about x", [Document("d", {"page": 1})])
    untyped = await RemoteRunnable(f"{url}/attrs").ainvoke("x")
    assert untyped["sources"] == [Document("d", {"page": 1})]


@pytest.mark.anyio
async def test_a_refusal_is_a_typed_error_listing_every_path(url: str) -> None:
    remote = RemoteRunnable(f"{url}/joke")
    with pytest.raises(RemoteInputError) as caught:
        await remote.ainvoke({"topik": "x"})
    assert caught.value.status_code == 422
    assert caught.value.errors == ["$.input: missing required key 'topic'"]
    with pytest.raises(RemoteInputError, match=r"\$\.config\.configurable\.user"):
        await remote.ainvoke({"topic": "x"}, {"configurable": {"user": "ann"}})


def test_a_server_failure_is_a_remote_error_and_with_retry_retries_it(url: str) -> None:
    remote = RemoteRunnable[str, str](f"{url}/flaky")
    calls.clear()
    assert remote.with_retry(stop_after_attempt=2, wait_exponential_jitter=False).invoke("b") == "b"
    with pytest.raises(RemoteError) as caught:
        remote.invoke("a")
    assert caught.value.status_code == 500
    assert "every other call fails" not in str(caught.value)
    assert calls == ["b", "b", "a"]


@pytest.mark.anyio
async def test_no_server_is_a_connection_error() -> None:
    with pytest.raises(RemoteConnectionError):
        await RemoteRunnable("http://127.0.0.1:9/x").ainvoke(1)


@pytest.mark.anyio
async def test_an_output_of_the_wrong_type_is_refused(url: str) -> None:
    from runnables.schema import SchemaError

    with pytest.raises(SchemaError):
        await RemoteRunnable(f"{url}/text", output_type=int).ainvoke({"topic": "x"})


# httpx reads a stream through nested async generators and closes only the outer one when a
# stream is abandoned; trio warns as it closes the inner ones (as in test_openai_hostile.py).
@pytest.mark.filterwarnings(r"ignore:Async generator '(?!runnables\.):ResourceWarning")
@pytest.mark.anyio
async def test_abandoning_a_stream_closes_it_and_the_server_stops_the_run(url: str) -> None:
    left.clear()
    remote = RemoteRunnable[str, str](f"{url}/endless")
    received: list[Any] = []
    async for chunk in remote.astream("t"):
        received.append(chunk)
        if len(received) == 2:
            break
    assert received == ["t0", "t1"]
    assert await anyio.to_thread.run_sync(left.wait, 30)


@pytest.mark.filterwarnings(r"ignore:Async generator '(?!runnables\.):ResourceWarning")
@pytest.mark.anyio
async def test_cancelling_a_call_closes_its_stream(url: str) -> None:
    left.clear()
    remote = RemoteRunnable[str, str](f"{url}/endless")
    # Cancelled once the run is known to have started on the server (a fixed delay may pass
    # before the request even arrives on a busy machine).
    with anyio.CancelScope() as scope:
        async for _ in remote.astream("c"):
            scope.cancel()
    assert scope.cancelled_caught
    assert await anyio.to_thread.run_sync(left.wait, 30)
