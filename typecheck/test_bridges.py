# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""The LangChain bridge: `from_langchain` types a LangChain runnable as declared, `to_langchain`
keeps a runnable's types, and LangChain callback handlers are callbacks."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.runnables import Runnable as LCRunnable
from langchain_core.tracers.stdout import ConsoleCallbackHandler
from typing_extensions import assert_type

from runnables import Runnable, RunnableConfig, RunnableLambda, RunnableSequence
from runnables.documents import Document
from runnables.langchain import LangChainRunnable, from_langchain, to_langchain
from runnables.messages import AIMessage, BaseMessage
from runnables.otel import OpenTelemetryCallback
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptValue


def to_len(text: str) -> int:
    return len(text)


def from_langchain_types() -> None:
    model = from_langchain(
        GenericFakeChatModel(messages=iter([])), input_type=ChatPromptValue, output_type=AIMessage
    )
    assert_type(model, LangChainRunnable[ChatPromptValue, AIMessage])
    as_protocol: Runnable[ChatPromptValue, AIMessage] = model
    assert_type(model.invoke(ChatPromptValue([])), AIMessage)
    chain = model | StrOutputParser()
    assert_type(chain, RunnableSequence[ChatPromptValue, str])
    either = from_langchain(
        GenericFakeChatModel(messages=iter([])),
        input_type=str | ChatPromptValue,
        output_type=AIMessage | None,
    )
    assert_type(either, LangChainRunnable[str | ChatPromptValue, AIMessage | None])
    assert_type(either.invoke("hi"), AIMessage | None)
    messages = from_langchain(
        GenericFakeChatModel(messages=iter([])),
        input_type=Sequence[BaseMessage],
        output_type=AIMessage,
    )
    assert_type(messages, LangChainRunnable[Sequence[BaseMessage], AIMessage])
    docs = from_langchain(RunnableLambda(to_len), input_type=str, output_type=list[Document])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    length = RunnableLambda(to_len)
    bad = model | length  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]


def to_langchain_types() -> None:
    lc = to_langchain(RunnableLambda(to_len))
    assert_type(lc, LCRunnable[str, int])
    as_langchain: LCRunnable[str, int] = lc
    assert_type(lc.invoke("abc"), int)


def handlers_are_callbacks() -> None:
    config: RunnableConfig = {"callbacks": [ConsoleCallbackHandler()]}
    traced: RunnableConfig = {"callbacks": [OpenTelemetryCallback(record_content=False)]}
    not_one: RunnableConfig = {"callbacks": [42]}  # type: ignore[list-item]  # pyright: ignore[reportAssignmentType]
