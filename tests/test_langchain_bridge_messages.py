"""LangGraph's `stream_mode="messages"` over a node that is `to_langchain(chain)` with our chat
model inside: the model's tokens arrive one by one with the node's metadata, as they do for the
same graph built with LangChain's model; and a model streams on invoke only for such a
streaming handler (a plain invoke, or a plain LangChain handler, still asks for one answer)."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import GenericFakeChatModel as LCGenericFakeChatModel
from langchain_core.messages import AIMessage as LCAIMessage
from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate
from langchain_core.runnables import RunnableLambda as LCRunnableLambda
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from openai_server import OpenAIServer, Reply
from runnables import RunnableLambda
from runnables.langchain import to_langchain
from runnables.messages import AIMessage
from runnables.models import GenericFakeChatModel, OpenAIChatModel
from runnables.prompts import ChatPromptTemplate

TEMPLATE = "a joke about {topic}"
ANSWER = "why did the cat sit"


class State(TypedDict):
    topic: str
    messages: Annotated[list[Any], operator.add]


def graph(node: Any) -> Any:
    builder: Any = StateGraph(State)
    builder.add_node("joker", node)
    builder.add_edge(START, "joker")
    builder.add_edge("joker", END)
    return builder.compile()


def ours(model: Any) -> Any:
    def to_state(message: AIMessage) -> dict[str, Any]:
        return {"messages": [message]}

    return graph(
        to_langchain(ChatPromptTemplate.from_template(TEMPLATE) | model | RunnableLambda(to_state))
    )


def theirs() -> Any:
    model = LCGenericFakeChatModel(messages=iter([LCAIMessage(content=ANSWER)]))
    to_state = LCRunnableLambda(lambda message: {"messages": [message]})
    return graph(LCChatPromptTemplate.from_template(TEMPLATE) | model | to_state)


def seen(pairs: Any) -> list[tuple[str, str, str]]:
    """What a reader of the messages sees: each piece of text, its kind and its node (our
    fake model ends its stream with a chunk of metadata only, LangChain's does not)."""
    return [(type(m).__name__, m.content, meta["langgraph_node"]) for m, meta in pairs if m.content]


def fake() -> GenericFakeChatModel:
    return GenericFakeChatModel([AIMessage(ANSWER)])


def test_tokens_arrive_one_by_one_as_for_langchains_model() -> None:
    start = {"topic": "cats", "messages": []}
    ours_seen = seen(ours(fake()).stream(start, stream_mode="messages"))
    assert ours_seen == seen(theirs().stream(start, stream_mode="messages"))
    assert [content for _, content, _ in ours_seen] == ["why", " ", "did", " ", "the", " ", "cat", " ", "sit"]  # fmt: skip
    assert {kind for kind, _, _ in ours_seen} == {"AIMessageChunk"}


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # LangGraph runs on asyncio
async def test_tokens_arrive_one_by_one_asynchronously(anyio_backend: str) -> None:
    start = {"topic": "cats", "messages": []}
    pairs = [pair async for pair in ours(fake()).astream(start, stream_mode="messages")]
    assert seen(pairs) == seen(
        [pair async for pair in theirs().astream(start, stream_mode="messages")]
    )
    metadata = pairs[0][1]
    assert metadata["langgraph_node"] == "joker"
    assert metadata["ls_provider"] == "genericfakechatmodel"
    assert len({message.id for message, _ in pairs}) == 1  # one answer's pieces


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def openai(server: OpenAIServer) -> OpenAIChatModel:
    return OpenAIChatModel("gpt-test", base_url=server.base_url, api_key="sk-test")


def test_openai_chat_model_streams_for_messages_mode_only(server: OpenAIServer) -> None:
    app = ours(openai(server))
    server.script(Reply("cats purr a lot"), Reply("cats purr a lot"))
    pairs = list(app.stream({"topic": "cats", "messages": []}, stream_mode="messages"))
    assert "".join(m.content for m, _ in pairs) == "cats purr a lot"
    assert len(pairs) >= 5  # token by token, and the answer not told again at its end
    assert server.requests[0].body.get("stream") is True
    final = app.invoke({"topic": "cats", "messages": []})
    assert final["messages"][0].content == "cats purr a lot"
    assert not server.requests[1].body.get("stream")  # a plain invoke: one whole answer


class Starts(BaseCallbackHandler):
    """A LangChain handler that is not a streaming one."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: str, **kw: Any) -> None:
        self.tokens.append(token)


def test_a_plain_langchain_handler_does_not_make_a_model_stream(server: OpenAIServer) -> None:
    handler = Starts()
    node = to_langchain(ChatPromptTemplate.from_template(TEMPLATE) | openai(server))
    server.script(Reply("cats purr"))
    answer = node.invoke({"topic": "cats"}, {"callbacks": [handler]})
    assert answer.content == "cats purr"
    assert handler.tokens == []
    assert not server.requests[0].body.get("stream")
