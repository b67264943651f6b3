"""The bridges with the real things: langchain-openai's `ChatOpenAI` against the loopback
OpenAI-compatible server, a real LangGraph graph, LangChain's `InMemoryVectorStore`."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore as LCInMemoryVectorStore
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from openai_server import OpenAIServer, Reply
from runnables import RunnableLambda
from runnables.documents import Document
from runnables.langchain import from_langchain, to_langchain
from runnables.messages import AIMessage, AIMessageChunk, ToolCall
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate, ChatPromptValue


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def chat(server: OpenAIServer) -> Any:
    return from_langchain(
        ChatOpenAI(base_url=server.base_url, api_key="sk-test", model="gpt-test", max_retries=0),  # pyright: ignore[reportArgumentType]
        input_type=ChatPromptValue,
        output_type=AIMessage,
    )


def test_chat_openai_in_a_typed_chain_invoke_and_stream(server: OpenAIServer) -> None:
    chain = ChatPromptTemplate.from_template("tell me about {topic}") | chat(server)
    server.script(Reply("cats are great"), Reply("cats purr a lot"))
    answer = chain.invoke({"topic": "cats"})
    assert isinstance(answer, AIMessage)
    assert answer.content == "cats are great"
    assert answer.response_metadata["model_name"] == "gpt-test"
    assert server.requests[0].body["messages"] == [
        {"role": "user", "content": "tell me about cats"}
    ]
    chunks = list((chain | StrOutputParser()).stream({"topic": "cats"}))
    assert "".join(chunks) == "cats purr a lot"
    assert len([c for c in chunks if c]) >= 5  # token by token, not one piece


def test_chat_openai_tool_calls_stream_whole(server: OpenAIServer) -> None:
    model = chat(server)
    call = ("call_1", "search", {"query": "cats", "limit": 3})
    server.script(Reply("", tool_calls=(call,)), Reply("", tool_calls=(call,)))
    answer = model.invoke(ChatPromptValue([]))
    assert answer.tool_calls == [ToolCall("search", {"query": "cats", "limit": 3}, "call_1")]
    chunks = list(model.stream(ChatPromptValue([])))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    # The pieces of the arguments come as tool_call_chunks, never as calls; added up, the call.
    assert any(c.tool_call_chunks for c in chunks[:-1])
    assert [c.tool_calls for c in chunks[:-1]] == [[]] * (len(chunks) - 1)
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.tool_calls == answer.tool_calls


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_chat_openai_events_and_usage(server: OpenAIServer, anyio_backend: str) -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8,
             "prompt_tokens_details": {"cached_tokens": 2}}  # fmt: skip
    server.script(Reply("one two", usage=usage))
    chain = ChatPromptTemplate.from_template("{q}") | chat(server) | StrOutputParser()
    events = [e async for e in chain.astream_events({"q": "count"})]
    kinds = [(e["event"], e["name"]) for e in events if not e["event"].endswith("_stream")]
    assert ("on_chat_model_start", "ChatOpenAI") in kinds
    assert ("on_chat_model_end", "ChatOpenAI") in kinds
    tokens = [e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(tokens) == "one two"
    end = next(e for e in events if e["event"] == "on_chat_model_end")
    output = end["data"]["output"]
    assert output.usage_metadata["input_tokens"] == 5
    assert output.usage_metadata["input_token_details.cache_read"] == 2
    assert events[-1]["data"]["output"] == "one two"


# -------------------------------------------------------------------- LangGraph


class State(TypedDict):
    question: str
    answers: Annotated[list[str], operator.add]


def test_a_runnables_chain_as_a_langgraph_node() -> None:
    ours = RunnableLambda(lambda s: s["question"]) | RunnableLambda(  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownMemberType]
        lambda q: {"answers": [q.upper()]}  # pyright: ignore[reportUnknownLambdaType, reportUnknownMemberType]
    )
    graph = StateGraph(State)
    graph.add_node("shout", to_langchain(ours))
    graph.add_node("again", to_langchain(ours))
    graph.add_edge(START, "shout")
    graph.add_edge("shout", "again")
    graph.add_edge("again", END)
    app = graph.compile()
    assert app.invoke({"question": "why", "answers": []}) == {
        "question": "why",
        "answers": ["WHY", "WHY"],
    }
    updates = list(app.stream({"question": "how", "answers": []}))
    assert updates == [{"shout": {"answers": ["HOW"]}}, {"again": {"answers": ["HOW"]}}]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_langgraph_events_show_the_runnables_runs_under_the_node(anyio_backend: str) -> None:
    ours = RunnableLambda(lambda s: {"answers": [s["question"]]}).with_config(run_name="inner")  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownMemberType]
    graph = StateGraph(State)
    graph.add_node("node", to_langchain(ours))
    graph.add_edge(START, "node")
    graph.add_edge("node", END)
    app = graph.compile()
    events = [e async for e in app.astream_events({"question": "q", "answers": []}, version="v2")]
    node = next(e for e in events if e["event"] == "on_chain_start" and e["name"] == "node")
    inner = next(e for e in events if e["event"] == "on_chain_start" and e["name"] == "inner")
    assert inner["parent_ids"][-1] == node["run_id"]


@pytest.mark.anyio
async def test_a_compiled_graph_wrapped_and_typed(anyio_backend: str) -> None:
    graph = StateGraph(State)
    graph.add_node("echo", lambda s: {"answers": [s["question"]]})  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownMemberType]
    graph.add_edge(START, "echo")
    graph.add_edge("echo", END)
    app = from_langchain(graph.compile(), input_type=dict, output_type=dict)
    chain = app | RunnableLambda(lambda s: s["answers"])  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownMemberType]
    assert await chain.ainvoke({"question": "hi", "answers": []}) == ["hi"]
    names = {e["name"] async for e in chain.astream_events({"question": "hi", "answers": []})}
    assert {"LangGraph", "echo"} <= names


# -------------------------------------------------------------------- a LangChain vector store


class LetterCounts(Embeddings):
    """Deterministic embeddings without a model: how often each letter occurs."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return [float(text.count(letter)) for letter in "abcdefghijklmnopqrstuvwxyz"]


def test_langchains_in_memory_vector_store_retriever_wrapped_and_typed() -> None:
    store = LCInMemoryVectorStore.from_texts(
        ["cats purr", "dogs bark", "birds sing"],
        LetterCounts(),
        metadatas=[{"n": 1}, {"n": 2}, {"n": 3}],
    )
    retriever = from_langchain(
        store.as_retriever(search_kwargs={"k": 1}), input_type=str, output_type=list[Document]
    )
    assert retriever.run_type == "retriever"
    (doc,) = retriever.invoke("dogs bark")
    assert doc == Document("dogs bark", {"n": 2}, id=doc.id)
    assert doc.id is not None
    chain = retriever | RunnableLambda(lambda docs: [d.page_content for d in docs])  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownMemberType]
    events = list(chain.stream_events("birds sing"))
    assert [e["event"] for e in events if e["name"] == "VectorStoreRetriever"] == [
        "on_retriever_start",
        "on_retriever_end",
    ]
    assert events[-1]["data"]["output"] == ["birds sing"]
