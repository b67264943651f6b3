"""The walkthrough behind `python -m runnables demo`: the seed document's examples, end to end.

It runs on the built-in fake chat model; with `OPENAI_BASE_URL` set (and optionally
`OPENAI_API_KEY` and `OPENAI_MODEL`) the same walkthrough talks to that endpoint instead.
"""

from __future__ import annotations

import os
import time
from typing import Any

import anyio

from runnables import RunnableLambda, RunnableParallel, RunnablePassthrough, RunnableSequence
from runnables.documents import Document
from runnables.messages import AIMessage
from runnables.models import BaseChatModel, FakeListChatModel, OpenAIChatModel
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore

JOKES = [
    "Why don't bears wear shoes?\n\nBecause they have bear feet!",
    "Why don't cats play poker in the wild? Too many cheetahs!",
]
POEMS = ["In forest's embrace,\nMajestic bears pace."]
ANSWER = "Harrison worked at Kensho."


def make_model(responses: list[str], sleep: float = 0.0) -> BaseChatModel:
    """The OpenAI-compatible endpoint named by the environment, else a fake with canned answers."""
    base_url = os.environ.get("OPENAI_BASE_URL")
    if base_url:
        return OpenAIChatModel(
            model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"),
            base_url=base_url,
            api_key=os.environ.get("OPENAI_API_KEY"),
        )
    return FakeListChatModel(responses, sleep=sleep, token_sleep=0.02)


def section(title: str) -> None:
    print(f"\n===== {title}")


def schemas(chain: Any, prompt: ChatPromptTemplate, model: BaseChatModel) -> None:
    section("Input and output schemas")
    print("chain.input_schema:", chain.input_schema.json_schema())
    print("prompt.input_schema:", prompt.input_schema.json_schema())
    model_schema = model.input_schema.json_schema()
    print(
        "model.input_schema: title",
        model_schema["title"],
        "with",
        len(model_schema["anyOf"]),
        "forms,",
    )
    print("  named types:", sorted(model_schema.get("$defs", {})))
    output_schema = chain.output_schema.json_schema()
    print("chain.output_schema: title", output_schema["title"], "keys", sorted(output_schema))


def sync_calls(chain: Any) -> None:
    section("stream")
    for chunk in chain.stream({"topic": "bears"}):
        print(chunk.content, end="", flush=True)
    print()
    section("invoke")
    print(repr(chain.invoke({"topic": "bears"})))
    section("batch, and batch with max_concurrency=5")
    print(chain.batch([{"topic": "bears"}, {"topic": "cats"}]))
    print(chain.batch([{"topic": "bears"}, {"topic": "cats"}], config={"max_concurrency": 5}))


async def async_calls(chain: Any) -> None:
    section("astream")
    async for chunk in chain.astream({"topic": "bears"}):
        print(chunk.content, end="", flush=True)
    print()
    section("ainvoke and abatch")
    print(repr(await chain.ainvoke({"topic": "bears"})))
    print(await chain.abatch([{"topic": "bears"}]))


def retrieval_chain() -> RunnableSequence[str, str]:
    template = """Answer the question based only on the following context:
{context}

Question: {question}
"""
    prompt = ChatPromptTemplate.from_template(template)
    vectorstore = InMemoryVectorStore.from_texts(
        ["harrison worked at kensho"], embedding=HashingEmbeddings()
    )
    retriever = vectorstore.as_retriever()
    model = make_model([ANSWER])
    chain: RunnableSequence[str, str] = (
        {"context": retriever.with_config(run_name="Docs"), "question": RunnablePassthrough[str]()}
        | prompt
        | model.with_config(run_name="my_llm")
        | StrOutputParser()
    )
    return chain


async def events_and_logs() -> None:
    chain = retrieval_chain()
    section("astream_events, filtered to the retriever and the model")
    async for event in chain.astream_events(
        "where did harrison work?", version="v2", include_names=["Docs", "my_llm"]
    ):
        if event["event"] == "on_chat_model_stream":
            print(event["data"]["chunk"].content, end="|", flush=True)
        elif event["event"] == "on_chat_model_start":
            print("\nStreaming LLM:")
        elif event["event"] == "on_chat_model_end":
            print("\nDone streaming LLM.")
        elif event["event"] == "on_retriever_end":
            print("--\nRetrieved the following documents:")
            print(event["data"]["output"])
    section("astream_log, JSONPatch chunks of the run state (include_names=['Docs'])")
    async for patch in chain.astream_log("where did harrison work?", include_names=["Docs"]):
        print("-" * 40)
        print(patch)
    section("astream_log with diff=False: the final RunLog")
    state = None
    async for log in chain.astream_log(
        "where did harrison work?", include_names=["Docs"], diff=False
    ):
        state = log
    print(state)


def parallelism() -> None:
    section("Parallelism: two chains, and both at once with RunnableParallel")
    model = make_model(JOKES + POEMS, sleep=0.5)
    chain1 = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model
    chain2 = ChatPromptTemplate.from_template("write a short (2 line) poem about {topic}") | model
    combined = RunnableParallel(joke=chain1, poem=chain2)
    for label, runnable in (("chain1", chain1), ("chain2", chain2), ("combined", combined)):
        started = time.perf_counter()
        result = runnable.invoke({"topic": "bears"})
        print(f"{label}.invoke: {time.perf_counter() - started:.2f} s -> {result!r}")
    started = time.perf_counter()
    combined.batch([{"topic": "bears"}, {"topic": "cats"}])
    print(f"combined.batch of 2: {time.perf_counter() - started:.2f} s (about one call's time)")


def format_docs(docs: list[Document]) -> str:
    """Format the docs."""
    return ", ".join(doc.page_content for doc in docs)


def run_demo() -> None:
    """Run the whole walkthrough, printing what each step gives."""
    model = make_model(JOKES)
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    chain = prompt | model
    schemas(chain, prompt, model)
    sync_calls(chain)
    anyio.run(async_calls, chain)
    anyio.run(events_and_logs)
    parallelism()
    section("A lifted function in a chain")
    print(
        RunnableLambda(format_docs).invoke([Document("hello world!"), Document("goodbye world!")])
    )
    assert isinstance(chain.invoke({"topic": "bears"}), AIMessage)
