# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Conversation memory and message utilities: the wrapper's input type follows its message keys,
stores satisfy the history protocol, and each utility is a list function or (called without
messages) a runnable."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

import runnables
from runnables import RunnableLambda, RunnableSequence
from runnables.history import (
    BaseChatMessageHistory,
    HistoryInput,
    InMemoryChatMessageHistory,
    RunnableWithMessageHistory,
    SQLiteChatMessageHistory,
)
from runnables.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    MessagesInput,
    convert_to_openai_messages,
    filter_messages,
    merge_message_runs,
    trim_messages,
)
from runnables.models import FakeListChatModel
from runnables.prompts import ChatPromptTemplate


def reply(messages: list[BaseMessage]) -> AIMessage:
    return AIMessage(str(len(messages)))


def by_session(session_id: str) -> InMemoryChatMessageHistory:
    return InMemoryChatMessageHistory()


def in_file(session_id: str) -> SQLiteChatMessageHistory:
    return SQLiteChatMessageHistory(session_id, "chat.db")


def not_a_store(session_id: str) -> int:
    return 3


def wrapper_types() -> None:
    plain = RunnableWithMessageHistory(RunnableLambda(reply), by_session)
    assert_type(plain, RunnableWithMessageHistory[HistoryInput, AIMessage])
    assert_type(plain.invoke("hi", {"configurable": {"session_id": "a"}}), AIMessage)
    assert_type(plain.invoke([HumanMessage("hi")]), AIMessage)

    model = RunnableWithMessageHistory(FakeListChatModel(["x"]), in_file)
    assert_type(model, RunnableWithMessageHistory[HistoryInput, AIMessage])

    chain = ChatPromptTemplate.from_template("{q}") | FakeListChatModel(["x"])
    assert_type(chain, RunnableSequence[dict[str, Any], AIMessage])
    keyed = RunnableWithMessageHistory(chain, by_session, input_messages_key="q")
    assert_type(keyed, RunnableWithMessageHistory[dict[str, Any], AIMessage])
    assert_type(keyed.invoke({"q": "hi"}), AIMessage)
    history = RunnableWithMessageHistory(chain, by_session, history_messages_key="h")
    assert_type(history, RunnableWithMessageHistory[dict[str, Any], AIMessage])
    top = runnables.RunnableWithMessageHistory(RunnableLambda(reply), by_session)
    assert_type(top, RunnableWithMessageHistory[HistoryInput, AIMessage])


def wrapper_rejections() -> None:
    chain = ChatPromptTemplate.from_template("{q}") | FakeListChatModel(["x"])
    # A prompt takes a dict: without message keys the wrapper would give it a list of messages.
    RunnableWithMessageHistory(chain, by_session)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    plain = RunnableWithMessageHistory(RunnableLambda(reply), by_session)
    wrong = plain.invoke(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    keyed = RunnableWithMessageHistory(chain, by_session, input_messages_key="q")
    not_dict = keyed.invoke("hi")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    RunnableWithMessageHistory(RunnableLambda(reply), not_a_store)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def stores() -> None:
    memory: BaseChatMessageHistory = InMemoryChatMessageHistory()
    on_disk: BaseChatMessageHistory = SQLiteChatMessageHistory("s", "chat.db")
    assert_type(memory.messages, list[BaseMessage])
    assert_type(on_disk.messages, list[BaseMessage])
    memory.add_user_message("hi")
    on_disk.add_ai_message(AIMessage("hello"))
    bad = memory.add_messages(["hi"])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]


def message_utilities() -> None:
    conversation: list[BaseMessage] = [HumanMessage("hi"), AIMessage("hello")]
    assert_type(trim_messages(conversation, max_tokens=1, token_counter=len), list[BaseMessage])
    trimmer = trim_messages(max_tokens=1, token_counter=len, strategy="first")
    assert_type(trimmer, RunnableLambda[MessagesInput, list[BaseMessage]])
    assert_type(trimmer.invoke(conversation), list[BaseMessage])
    chain = ChatPromptTemplate.from_template("{q}") | trimmer
    assert_type(chain, RunnableSequence[dict[str, Any], list[BaseMessage]])

    def tokens_of(message: BaseMessage) -> int:
        return len(message.text)

    assert_type(
        trim_messages(conversation, max_tokens=9, token_counter=tokens_of), list[BaseMessage]
    )
    assert_type(
        filter_messages(conversation, include_types=[HumanMessage, "ai"]), list[BaseMessage]
    )
    assert_type(merge_message_runs(conversation), list[BaseMessage])
    assert_type(merge_message_runs(), RunnableLambda[MessagesInput, list[BaseMessage]])
    assert_type(convert_to_openai_messages(conversation), list[dict[str, Any]])
    assert_type(convert_to_openai_messages(conversation[0]), dict[str, Any])
    assert_type(convert_to_openai_messages("hi"), dict[str, Any])


def message_utility_rejections() -> None:
    conversation: list[BaseMessage] = [HumanMessage("hi")]
    no_budget = trim_messages(conversation, token_counter=len)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    bad_strategy = trim_messages(conversation, max_tokens=1, token_counter=len, strategy="middle")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType, reportCallIssue]
    bad_counter = trim_messages(conversation, max_tokens=1, token_counter=str)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType, reportCallIssue]
    bad_format = convert_to_openai_messages(conversation, text_format="html")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType, reportCallIssue]
