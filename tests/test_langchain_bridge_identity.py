"""A model's identity in its runs' metadata (LangChain's `ls_*` keys), checked against what
langchain-core gives the same LangChain handler for the same model called natively: for a
directly wrapped `ChatOpenAI`, and for runnables' own models beside their LangChain twins."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import FakeListChatModel as LCFakeListChatModel
from langchain_core.language_models import FakeListLLM as LCFakeListLLM
from langchain_openai import ChatOpenAI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from openai_server import OpenAIServer, Reply
from runnables.langchain import from_langchain
from runnables.messages import AIMessage
from runnables.models import FakeListChatModel, FakeListLLM, OpenAIChatModel
from runnables.otel import OpenTelemetryCallback
from runnables.prompts import ChatPromptTemplate

CALLER = {"caller": "kept"}


class ModelStarts(BaseCallbackHandler):
    """A LangChain handler keeping the metadata of each model run's start."""

    def __init__(self) -> None:
        self.metadata: list[dict[str, Any]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
        self.metadata.append(kw["metadata"])

    def on_llm_start(self, serialized: Any, prompts: Any, **kw: Any) -> None:
        self.metadata.append(kw["metadata"])


def started(runnable: Any, *, stream: bool = False) -> dict[str, Any]:
    """The metadata a LangChain handler is told of at the start of `runnable`'s one run."""
    handler = ModelStarts()
    config: Any = {"callbacks": [handler], "metadata": CALLER}
    if stream:
        list(runnable.stream("hello", config))
    else:
        runnable.invoke("hello", config)
    (metadata,) = handler.metadata
    return metadata


def ls_keys(metadata: dict[str, Any]) -> dict[str, Any]:
    """The model's identity: the `ls_*` keys but LangChain's own integration tag."""
    return {k: v for k, v in metadata.items() if k.startswith("ls_") and k != "ls_integration"}


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def chat_openai(server: OpenAIServer) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=server.base_url,
        api_key="sk-test",  # pyright: ignore[reportArgumentType]
        model="gpt-test",
        temperature=0.5,
        max_retries=0,
    )


@pytest.mark.parametrize("stream", [False, True])
def test_a_wrapped_chat_model_tells_a_langchain_handler_what_langchain_does(
    server: OpenAIServer, stream: bool
) -> None:
    model = chat_openai(server).bind(stop=["\n"], max_tokens=7)
    wrapped = from_langchain(model, input_type=str, output_type=AIMessage)
    server.script(Reply("hi"), Reply("hi"))
    native, ours = started(model, stream=stream), started(wrapped, stream=stream)
    assert ours == native
    assert native["ls_model_name"] == "gpt-test"
    assert native["ls_stop"] == ["\n"]
    assert native["caller"] == "kept"


def test_openai_chat_model_names_itself_as_chat_openai_does(server: OpenAIServer) -> None:
    ours = OpenAIChatModel(
        "gpt-test", base_url=server.base_url, api_key="sk-test", temperature=0.5
    ).bind(max_tokens=7, stop=["\n"])
    theirs = chat_openai(server).bind(max_tokens=7, stop=["\n"])
    server.script(Reply("hi"), Reply("hi"))
    assert ls_keys(started(ours)) == ls_keys(started(theirs))
    assert ls_keys(started_streamed_reply(server, ours)) == {
        "ls_provider": "openai",
        "ls_model_type": "chat",
        "ls_model_name": "gpt-test",
        "ls_temperature": 0.5,
        "ls_max_tokens": 7,
        "ls_stop": ["\n"],
    }


def started_streamed_reply(server: OpenAIServer, model: Any) -> dict[str, Any]:
    server.script(Reply("hi"))
    return started(model, stream=True)


def test_the_fakes_name_themselves_as_langchains_do() -> None:
    assert ls_keys(started(FakeListChatModel(["a"]))) == ls_keys(
        started(LCFakeListChatModel(responses=["a"]))
    )
    assert ls_keys(started(FakeListLLM(["a"]))) == ls_keys(started(LCFakeListLLM(responses=["a"])))
    assert started(FakeListLLM(["a"]))["ls_model_type"] == "llm"


def test_the_callers_metadata_names_a_model_that_does_not() -> None:
    handler = ModelStarts()
    model = FakeListChatModel(["a"]).with_config(metadata={"ls_provider": "acme"})
    model.invoke("x", {"callbacks": [handler]})
    assert handler.metadata[0]["ls_provider"] == "acme"


@pytest.mark.anyio
async def test_a_model_in_a_chain_carries_its_identity_not_the_chain(anyio_backend: str) -> None:
    chain = ChatPromptTemplate.from_template("{q}") | FakeListChatModel(["a"])
    metadata = {e["name"]: e["metadata"] async for e in chain.astream_events({"q": "x"})}
    assert metadata == {
        "RunnableSequence": {},
        "ChatPromptTemplate": {},
        "FakeListChatModel": {"ls_provider": "fakelistchatmodel", "ls_model_type": "chat"},
    }


@pytest.mark.anyio
async def test_model_spans_name_the_model_and_provider(
    server: OpenAIServer, anyio_backend: str
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    config: Any = {"callbacks": [OpenTelemetryCallback(provider)]}
    wrapped = from_langchain(chat_openai(server), input_type=str, output_type=AIMessage)
    ours = OpenAIChatModel("gpt-ours", base_url=server.base_url, api_key="sk-test")
    server.script(Reply("a"), Reply("b"), Reply("c"))
    await wrapped.ainvoke("x", config)
    await ours.ainvoke("x", config)
    async for _ in ours.astream("x", config):
        pass
    named = [
        (s.name, (s.attributes or {}).get("gen_ai.request.model"),
         (s.attributes or {}).get("gen_ai.provider.name"))
        for s in exporter.get_finished_spans()
    ]  # fmt: skip
    assert named == [
        ("chat gpt-test", "gpt-test", "openai"),
        ("chat gpt-ours", "gpt-ours", "openai"),
        ("chat gpt-ours", "gpt-ours", "openai"),
    ]


@pytest.mark.anyio
async def test_a_model_run_in_an_event_stream_carries_its_identity(anyio_backend: str) -> None:
    events = [e async for e in FakeListChatModel(["a"]).astream_events("x")]
    assert {e["metadata"].get("ls_provider") for e in events} == {"fakelistchatmodel"}


class ModelCalls(BaseCallbackHandler):
    """A LangChain handler keeping what each model run's start tells of the call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
        self.calls.append({k: kw[k] for k in ("invocation_params", "options", "batch_size")})


def test_a_langchain_handler_is_told_the_call_of_our_model_as_of_chat_openai(
    server: OpenAIServer,
) -> None:
    ours = OpenAIChatModel(
        "gpt-test", base_url=server.base_url, api_key="sk-test", temperature=0.5
    ).bind(max_tokens=7, stop=["\n"])
    theirs = chat_openai(server).bind(max_tokens=7, stop=["\n"])
    told = []
    for model in (ours, theirs):
        handler = ModelCalls()
        server.script(Reply("hi"))
        model.invoke("hello", {"callbacks": [handler]})
        (call,) = handler.calls
        told.append(call)
    keys = ("model", "model_name", "temperature", "max_tokens", "stop")
    ours_told, theirs_told = told
    assert {k: ours_told["invocation_params"][k] for k in keys} == {
        k: theirs_told["invocation_params"][k] for k in keys
    }
    assert ours_told["invocation_params"]["model_name"] == "gpt-test"
    assert ours_told["options"] == theirs_told["options"] == {"stop": ["\n"]}
    assert ours_told["batch_size"] == theirs_told["batch_size"] == 1
