# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Components compose with static types: the seed's chains infer, wrong pipelines are rejected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from typing_extensions import assert_type

from runnables import Runnable, RunnablePassthrough, RunnableSequence
from runnables.documents import Document
from runnables.messages import AIMessage, AIMessageChunk
from runnables.models import FakeListChatModel, FakeListLLM
from runnables.parsers import CommaSeparatedListOutputParser, StrOutputParser
from runnables.prompts import ChatPromptTemplate, ChatPromptValue, PromptTemplate, StringPromptValue
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore
from runnables.tools import tool


def format_docs(docs: list[Document]) -> str:
    return ", ".join(doc.page_content for doc in docs)


def word_count(text: str) -> int:
    return len(text.split())


def prompt_and_model() -> None:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    model = FakeListChatModel(["joke"])
    assert_type(prompt.invoke({"topic": "bears"}), ChatPromptValue)
    assert_type(PromptTemplate.from_template("{x}").invoke({"x": 1}), StringPromptValue)

    chain = prompt | model
    assert_type(chain, RunnableSequence[dict[str, Any], AIMessage])
    assert_type(chain.invoke({"topic": "bears"}), AIMessage)
    as_protocol: Runnable[dict[str, Any], AIMessage] = chain

    text = prompt | model | StrOutputParser()
    assert_type(text, RunnableSequence[dict[str, Any], str])
    items = prompt | model | CommaSeparatedListOutputParser()
    assert_type(items.invoke({"topic": "x"}), list[str])
    assert_type(model.stream("hi"), Iterator[AIMessageChunk])

    llm_text = prompt | FakeListLLM(["a"])
    assert_type(llm_text, RunnableSequence[dict[str, Any], str])


def retrieval() -> None:
    store = InMemoryVectorStore.from_texts(["harrison worked at kensho"], HashingEmbeddings())
    retriever = store.as_retriever()
    assert_type(retriever.invoke("where?"), list[Document])
    as_protocol: Runnable[str, list[Document]] = retriever

    prompt = ChatPromptTemplate.from_template("{context} {question}")
    model = FakeListChatModel(["Harrison worked at Kensho."])
    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough[str]()}
        | prompt
        | model.with_config(run_name="my_llm")
        | StrOutputParser()
    )
    assert_type(chain, RunnableSequence[str, str])
    seed_shape: Runnable[str, str] = chain


def tools() -> None:
    @tool
    def some_tool(x: int, y: str) -> dict[str, Any]:
        """Some_tool."""
        return {"x": x, "y": y}

    assert_type(some_tool.invoke({"x": 1, "y": "2"}), dict[str, Any])


def rejected() -> None:
    prompt = ChatPromptTemplate.from_template("{topic}")
    model = FakeListChatModel(["x"])
    counts: object = PromptTemplate.from_template("{x}") | word_count  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    after_count = prompt | model | StrOutputParser() | word_count | StrOutputParser()  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    wrong: int = (prompt | model).invoke({"topic": "x"})  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    store = InMemoryVectorStore.from_texts(["a"], HashingEmbeddings())
    docs_as_text: list[str] = store.as_retriever().invoke("a")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
