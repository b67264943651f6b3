# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""`StreamEvent` is a union discriminated by `event`: comparing `ev["event"]` with a name narrows
the event and types its `data`; a key the event does not carry, a misspelled or nonexistent
name (only tools have an error event) and a wrong payload type are rejected."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from runnables import RunnableLambda
from runnables.documents import Document
from runnables.messages import AIMessage, AIMessageChunk
from runnables.models import FakeListChatModel, FakeListLLM
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate, ChatPromptValue, PromptTemplate, StringPromptValue
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore
from runnables.tools import tool
from runnables.tracing import (
    ChatModelEndEvent,
    ChatModelStreamEvent,
    EndData,
    EventData,
    LLMStreamEvent,
    StartData,
    StreamData,
    StreamEvent,
    ToolErrorEvent,
)


def format_docs(docs: list[Document]) -> str:
    return ", ".join(doc.page_content for doc in docs)


async def chat_chain() -> None:
    chain = (
        ChatPromptTemplate.from_template("{topic}") | FakeListChatModel(["a b"]) | StrOutputParser()
    )
    async for ev in chain.astream_events({"topic": "bears"}):
        assert_type(ev, StreamEvent)
        assert_type(ev["name"], str)
        assert_type(ev["parent_ids"], list[str])
        payload: EventData = ev["data"]
        if ev["event"] == "on_chat_model_stream":
            assert_type(ev, ChatModelStreamEvent)
            assert_type(ev["data"], StreamData[AIMessage])
            # An `AIMessage`: the model's own chunks are `AIMessageChunk`s, but a chat model
            # with fallbacks streams what a fallback returns, e.g. a function's `AIMessage`.
            assert_type(ev["data"]["chunk"], AIMessage)
            text: str = ev["data"]["chunk"].text
            if isinstance(ev["data"]["chunk"], AIMessageChunk):
                assert_type(ev["data"]["chunk"] + ev["data"]["chunk"], AIMessageChunk)
        elif ev["event"] == "on_chat_model_end":
            assert_type(ev, ChatModelEndEvent)
            # `None` when the model streamed no chunk (e.g. an empty answer).
            assert_type(ev["data"]["output"], AIMessage | None)
            if "input" in ev["data"]:
                assert_type(ev["data"]["input"], Any)
        elif ev["event"] == "on_chat_model_start":
            assert_type(ev["data"], StartData)
            given = ev["data"].get("input")
        elif ev["event"] == "on_prompt_end":
            assert_type(ev["data"]["output"], StringPromptValue | ChatPromptValue)
        elif ev["event"] == "on_prompt_stream":
            assert_type(ev["data"]["chunk"], StringPromptValue | ChatPromptValue)
        elif ev["event"] == "on_parser_stream":
            assert_type(ev["data"]["chunk"], Any)
        elif ev["event"] == "on_chain_end":
            assert_type(ev["data"], EndData[Any])
            assert_type(ev["data"]["output"], Any)


def llm_chain() -> None:
    chain = PromptTemplate.from_template("{x}") | FakeListLLM(["a b"])
    for ev in chain.stream_events({"x": 1}):
        if ev["event"] == "on_llm_stream":
            assert_type(ev["data"]["chunk"], str)
        elif ev["event"] == "on_llm_end":
            assert_type(ev["data"]["output"], str | None)
        elif ev["event"] == "on_chain_stream":
            assert_type(ev["data"]["chunk"], Any)


async def retrieval_chain() -> None:
    store = InMemoryVectorStore.from_texts(["harrison worked at kensho"], HashingEmbeddings())
    chain = store.as_retriever() | RunnableLambda(format_docs)
    async for ev in chain.astream_events("where?"):
        if ev["event"] == "on_retriever_end":
            assert_type(ev["data"]["output"], list[Document])
        elif ev["event"] == "on_retriever_stream":
            assert_type(ev["data"]["chunk"], list[Document])
        elif ev["event"] == "on_retriever_start":
            assert_type(ev["data"], StartData)
    # What does not depend on the kind needs no narrowing.
    async for ev in chain.astream_events("where?"):
        if ev["event"].endswith("_stream"):
            chunk: object = ev["data"].get("chunk")


def tools() -> None:
    @tool
    def add(x: int, y: int) -> int:
        """Add."""
        return x + y

    for ev in add.stream_events({"x": 1, "y": 2}):
        if ev["event"] == "on_tool_end":
            assert_type(ev["data"]["output"], Any)
        elif ev["event"] == "on_tool_stream":
            assert_type(ev["data"]["chunk"], Any)
        elif ev["event"] == "on_tool_error":
            assert_type(ev, ToolErrorEvent)
            assert_type(ev["data"]["error"], BaseException)
            assert_type(ev["data"]["input"], Any)
            call_id = ev["data"].get("tool_call_id")
            assert_type(call_id, str | None)


def events_are_dicts(ev: ChatModelStreamEvent) -> None:
    as_union: StreamEvent = ev
    payload: EventData = ev["data"]
    built: ChatModelStreamEvent = {
        "event": "on_chat_model_stream",
        "name": "model",
        "run_id": "1",
        "parent_ids": [],
        "tags": [],
        "metadata": {},
        "data": {"chunk": AIMessageChunk("a")},
    }


def rejected(ev: StreamEvent) -> None:
    not_narrowed = ev["data"]["output"]  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]
    if ev["event"] == "on_tool_error":
        no_output = ev["data"]["output"]  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]
    if ev["event"] == "on_chain_error":  # type: ignore[comparison-overlap]  # pyright: ignore[reportUnnecessaryComparison]
        pass
    if ev["event"] == "on_chat_model_start":
        no_chunk = ev["data"]["chunk"]  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]
    if ev["event"] == "on_chat_model_steam":  # type: ignore[comparison-overlap]  # pyright: ignore[reportUnnecessaryComparison]
        pass
    if ev["event"] == "on_chat_model_stream":
        assert_type(ev["data"]["chunk"], AIMessageChunk)  # type: ignore[assert-type]  # pyright: ignore[reportAssertTypeFailure]
    if ev["event"] == "on_chat_model_end":
        maybe_none = ev["data"]["output"].text  # type: ignore[union-attr]  # pyright: ignore[reportOptionalMemberAccess]
    if ev["event"] == "on_llm_stream":
        docs: list[Document] = ev["data"]["chunk"]  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    if ev["event"] == "on_retriever_end":
        found: str = ev["data"]["output"]  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    if ev["event"] == "on_chat_model_stream":
        not_an_llm_event: LLMStreamEvent = ev  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
        ev["event"] = "on_llm_stream"  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]
