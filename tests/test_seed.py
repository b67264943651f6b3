"""The seed document's examples (shared/seed/runnable-interface.md), ported: imports changed
and `FakeListChatModel` standing in for the hosted model."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

import pytest

from runnables import RunnableLambda, RunnableParallel, RunnablePassthrough
from runnables.documents import Document
from runnables.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from runnables.models import FakeListChatModel
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate, ChatPromptValue
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore
from runnables.tools import tool

JOKE = "Why don't bears wear shoes?\n\nBecause they have bear feet!"
CATS = "Why don't cats play poker in the wild? Too many cheetahs!"


def joke_chain(**model_options: Any) -> tuple[Any, ChatPromptTemplate, FakeListChatModel]:
    model = FakeListChatModel([JOKE, CATS], **model_options)
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    return prompt | model, prompt, model


def test_input_schemas() -> None:
    chain, prompt, model = joke_chain()
    expected = {
        "title": "PromptInput",
        "type": "object",
        "properties": {"topic": {"title": "Topic", "type": "string"}},
        "required": ["topic"],
    }
    assert chain.input_schema.json_schema() == expected
    assert prompt.input_schema.json_schema() == expected
    model_schema = model.input_schema.json_schema()
    assert model_schema["title"] == "FakeListChatModelInput"
    forms = model_schema["anyOf"]
    assert {"type": "string"} in forms
    assert {"$ref": "#/$defs/StringPromptValue"} in forms
    assert {"$ref": "#/$defs/ChatPromptValue"} in forms
    arrays = [form for form in forms if form.get("type") == "array"]
    assert len(arrays) == 1
    for name in ("AIMessage", "HumanMessage", "ChatMessage", "SystemMessage", "ToolMessage"):
        assert name in model_schema["$defs"]
    assert model_schema["$defs"]["StringPromptValue"]["required"] == ["text"]


def test_output_schema() -> None:
    chain, _, _ = joke_chain()
    schema = chain.output_schema.json_schema()
    assert schema["title"] == "FakeListChatModelOutput"
    assert schema["type"] == "object"
    assert "content" in schema["required"]
    assert schema["properties"]["content"]["anyOf"][0] == {"type": "string"}


def test_stream_invoke_batch() -> None:
    chain, _, _ = joke_chain()
    chunks = list(chain.stream({"topic": "bears"}))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    assert len(chunks) > 3
    assert "".join(chunk.content for chunk in chunks) == JOKE
    assert chain.invoke({"topic": "bears"}) == AIMessage(CATS)
    assert chain.batch([{"topic": "bears"}, {"topic": "cats"}]) == [
        AIMessage(JOKE),
        AIMessage(CATS),
    ]
    assert chain.batch([{"topic": "bears"}, {"topic": "cats"}], config={"max_concurrency": 5}) == [
        AIMessage(JOKE),
        AIMessage(CATS),
    ]


@pytest.mark.anyio
async def test_async_stream_invoke_batch() -> None:
    chain, _, _ = joke_chain()
    chunks = [chunk async for chunk in chain.astream({"topic": "bears"})]
    assert "".join(chunk.content for chunk in chunks) == JOKE
    assert await chain.ainvoke({"topic": "bears"}) == AIMessage(CATS)
    assert await chain.abatch([{"topic": "bears"}]) == [AIMessage(JOKE)]


def test_event_table_declarations() -> None:
    def format_docs(docs: list[Document]) -> str:
        """Format the docs."""
        return ", ".join([doc.page_content for doc in docs])

    lifted = RunnableLambda(format_docs)
    assert lifted.invoke([Document("hello world!"), Document("goodbye world!")]) == (
        "hello world!, goodbye world!"
    )

    @tool
    def some_tool(x: int, y: str) -> dict[str, Any]:
        """Some_tool."""
        return {"x": x, "y": y}

    assert some_tool.invoke({"x": 1, "y": "2"}) == {"x": 1, "y": "2"}

    template = ChatPromptTemplate.from_messages(
        [("system", "You are Cat Agent 007"), ("human", "{question}")]
    ).with_config({"run_name": "my_template", "tags": ["my_template"]})
    assert template.name == "my_template"
    assert template.invoke({"question": "hello"}) == ChatPromptValue(
        [SystemMessage("You are Cat Agent 007"), HumanMessage("hello")]
    )


ANSWER = "Harrison worked at Kensho."


def retrieval_chain() -> Any:
    template = """Answer the question based only on the following context:
{context}

Question: {question}
"""
    prompt = ChatPromptTemplate.from_template(template)
    vectorstore = InMemoryVectorStore.from_texts(
        ["harrison worked at kensho"], embedding=HashingEmbeddings()
    )
    retriever = vectorstore.as_retriever()
    model = FakeListChatModel([ANSWER])
    return (
        {"context": retriever.with_config(run_name="Docs"), "question": RunnablePassthrough()}
        | prompt
        | model.with_config(run_name="my_llm")
        | StrOutputParser()
    )


@pytest.mark.anyio
async def test_filtered_astream_events() -> None:
    printed: list[str] = []
    async for event in retrieval_chain().astream_events(
        "where did harrison work?", version="v2", include_names=["Docs", "my_llm"]
    ):
        kind = event["event"]
        if kind == "on_chat_model_stream":
            printed.append(event["data"]["chunk"].content + "|")
        elif kind == "on_chat_model_start":
            printed.append("\nStreaming LLM:\n")
        elif kind == "on_chat_model_end":
            printed.append("\nDone streaming LLM.")
        elif kind == "on_retriever_end":
            printed.append(f"--\nRetrieved the following documents:\n{event['data']['output']}\n")
    assert "".join(printed) == (
        "--\nRetrieved the following documents:\n[Document(page_content='harrison worked at kensho')]\n"
        "\nStreaming LLM:\nHarrison| |worked| |at| |Kensho.|\nDone streaming LLM."
    )


@pytest.mark.anyio
async def test_astream_log_patches_and_state() -> None:
    chain = retrieval_chain()
    patches = [
        patch
        async for patch in chain.astream_log("where did harrison work?", include_names=["Docs"])
    ]
    first = patches[0].ops[0]
    assert first["op"] == "replace"
    assert first["path"] == ""
    assert first["value"]["name"] == "RunnableSequence"
    assert first["value"]["type"] == "chain"
    added = patches[1].ops[0]
    assert added["op"] == "add"
    assert added["path"] == "/logs/Docs"
    assert added["value"]["type"] == "retriever"
    assert "map:key:context" in added["value"]["tags"]
    state = sum(patches[1:], patches[0]).state
    assert state["final_output"] == ANSWER
    assert "".join(state["streamed_output"]) == ANSWER
    assert state["logs"]["Docs"]["final_output"] == {
        "documents": [Document("harrison worked at kensho")]
    }

    logs = [
        log
        async for log in chain.astream_log(
            "where did harrison work?", include_names=["Docs"], diff=False
        )
    ]
    assert logs[-1].state["final_output"] == ANSWER
    assert logs[0].state["logs"] == {}


def _joke_and_poem(calls_at_once: int) -> RunnableParallel[Any]:
    """The seed's two-branch parallel; each model call waits until `calls_at_once` of them are
    running, so the result proves they ran at once (the seed times it instead: both branches in
    about the 0.3 s of one, which a busy machine can stretch)."""
    meeting = threading.Barrier(calls_at_once, timeout=10)

    def meet(message: Any) -> Any:
        meeting.wait()
        return message

    model = FakeListChatModel(["joke", "poem"])
    chain1 = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model | meet
    chain2 = (
        ChatPromptTemplate.from_template("write a short (2 line) poem about {topic}") | model | meet
    )
    return RunnableParallel(joke=chain1, poem=chain2)


def test_parallel_runs_the_branches_at_once() -> None:
    result = _joke_and_poem(2).invoke({"topic": "bears"})
    assert sorted(message.content for message in result.values()) == ["joke", "poem"]
    results = _joke_and_poem(4).batch([{"topic": "bears"}, {"topic": "cats"}])
    assert len(results) == 2


def test_demo_runs() -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    done = subprocess.run(
        [sys.executable, "-m", "runnables", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=True,
    )
    for expected in (
        "'title': 'PromptInput'",
        "Retrieved the following documents:",
        "Harrison| |worked|",
        "RunLogPatch({'op': 'replace',",
        "combined.invoke: 0.5",
    ):
        assert expected in done.stdout
