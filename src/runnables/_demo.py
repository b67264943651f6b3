"""The walkthrough behind `python -m runnables demo`: the seed document's examples, end to end.

It runs on the built-in fake chat model; with `OPENAI_BASE_URL` set (and optionally
`OPENAI_API_KEY` and `OPENAI_MODEL`) the same walkthrough talks to that endpoint instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pprint import pformat
from typing import Any

import anyio
import attrs

from runnables import RunnableLambda, RunnableParallel, RunnablePassthrough, RunnableSequence
from runnables.documents import Document
from runnables.messages import AIMessage, AIMessageChunk, BaseMessage
from runnables.models import BaseChatModel, OpenAIChatModel
from runnables.models.fake import split_tokens
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore

ANSWERS = (
    (("joke", "bears"), "Why don't bears wear shoes?\n\nBecause they have bear feet!"),
    (("joke", "cats"), "Why don't cats play poker in the wild? Too many cheetahs!"),
    (("poem", "bears"), "In forest's embrace,\nMajestic bears pace."),
    (("poem", "cats"), "Soft paws on the sill,\nthe cat keeps the sunlight still."),
    (("harrison",), "Harrison worked at Kensho."),
)
SOURCE = "src/runnables/_demo.py"
DOCS = "docs/ in the repository (to serve them: pip install -e '.[docs]' && mkdocs serve)"


@attrs.frozen
class DemoChatModel(BaseChatModel):
    """A fake chat model that answers what its prompt asks: the first of `answers` whose words
    all appear in the last message (a joke for a joke about bears, a poem for a poem)."""

    answers: tuple[tuple[tuple[str, ...], str], ...] = ANSWERS
    sleep: float = attrs.field(default=0.0, kw_only=True)
    token_sleep: float = attrs.field(default=0.02, kw_only=True)

    def _answer(self, messages: list[BaseMessage]) -> str:
        asked = str(messages[-1].content).lower()
        for words, answer in self.answers:
            if all(word in asked for word in words):
                return answer
        raise ValueError(f"DemoChatModel has no answer for {asked!r}")

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        time.sleep(self.sleep)
        return AIMessage(self._answer(messages))

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        await anyio.sleep(self.sleep)
        return AIMessage(self._answer(messages))

    def _stream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        time.sleep(self.sleep)
        for token in split_tokens(self._answer(messages)):
            time.sleep(self.token_sleep)
            yield AIMessageChunk(token)

    async def _astream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        await anyio.sleep(self.sleep)
        for token in split_tokens(self._answer(messages)):
            await anyio.sleep(self.token_sleep)
            yield AIMessageChunk(token)


def make_model(sleep: float = 0.0) -> BaseChatModel:
    """The OpenAI-compatible endpoint named by the environment, else the demo's fake model."""
    base_url = os.environ.get("OPENAI_BASE_URL")
    if base_url:
        return OpenAIChatModel(
            model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"),
            base_url=base_url,
            api_key=os.environ.get("OPENAI_API_KEY"),
        )
    return DemoChatModel(sleep=sleep)


def section(title: str) -> None:
    print(f"\n===== {title}")


def show(label: str, value: object) -> None:
    """Print `value` under `label`, one key per line when it does not fit on one."""
    print(f"{label}:")
    print("    " + pformat(value, sort_dicts=False, width=92).replace("\n", "\n    "))


def schemas(chain: Any, prompt: ChatPromptTemplate, model: BaseChatModel) -> None:
    section("Input and output schemas")
    show("chain.input_schema (the prompt's)", chain.input_schema.json_schema())
    model_schema = model.input_schema.json_schema()
    forms = [form.get("$ref", form.get("type")).rsplit("/")[-1] for form in model_schema["anyOf"]]
    show(f"model.input_schema ({model_schema['title']}): any of", forms)
    output_schema = chain.output_schema.json_schema()
    show(
        f"chain.output_schema ({output_schema['title']}): properties",
        list(output_schema["properties"]),
    )


def sync_calls(chain: Any) -> None:
    section("stream")
    for chunk in chain.stream({"topic": "bears"}):
        print(chunk.content, end="", flush=True)
    print()
    section("invoke")
    print(repr(chain.invoke({"topic": "bears"})))
    section("batch, and batch with max_concurrency=5")
    show("batch", chain.batch([{"topic": "bears"}, {"topic": "cats"}]))
    topics = [{"topic": "bears"}, {"topic": "cats"}]
    show("batch with max_concurrency=5", chain.batch(topics, config={"max_concurrency": 5}))


async def async_calls(chain: Any) -> None:
    section("astream")
    async for chunk in chain.astream({"topic": "bears"}):
        print(chunk.content, end="", flush=True)
    print()
    section("ainvoke and abatch")
    print(repr(await chain.ainvoke({"topic": "bears"})))
    show("abatch", await chain.abatch([{"topic": "cats"}]))


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
    model = make_model()
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
            print("Retrieved the following documents:")
            print(event["data"]["output"])
    section("astream_log, JSONPatch chunks of the run state (include_names=['Docs'])")
    async for patch in chain.astream_log("where did harrison work?", include_names=["Docs"]):
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
    model = make_model(sleep=0.5)
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
    model = make_model()
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
    section("Where next")
    print(f"This demo's source: {SOURCE}, one function per section.")
    print(f"The documentation: {DOCS}.")
