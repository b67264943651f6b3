"""A new user's pass over both bridges (session 16): a LangChain chat model wrapped with
`from_langchain` streams its tokens wherever LangChain's own model would, with the real
`ChatOpenAI` against the loopback server and real LangGraph graphs.

* In a `to_langchain` node of a LangGraph graph streamed with `stream_mode="messages"`, the
  wrapped model (alone, or inside a wrapped LCEL chain) is invoked while LangGraph's streaming
  handler listens: LangChain's model streams for that handler, and so must the wrapped one
  (it used to send one whole message).
* A wrapped compiled graph, streamed (as one chunk), streams inside as LangChain's
  `astream_events` over the graph does: the tokens of the models in its nodes are told (none
  were, though the guide says what happens inside a graph still streams in events).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage as LCAIMessage
from langchain_core.messages import AnyMessage
from langchain_core.output_parsers import StrOutputParser as LCStrOutputParser
from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate
from langchain_core.runnables import Runnable as LCRunnable
from langchain_core.runnables import RunnableLambda as LCRunnableLambda
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph  # pyright: ignore[reportMissingTypeStubs]
from pydantic import SecretStr
from typing_extensions import TypedDict

from conftest import Recorder
from openai_server import OpenAIServer, Reply
from runnables import RunnableLambda
from runnables.langchain import from_langchain, to_langchain
from runnables.messages import AIMessage, BaseMessage, HumanMessage
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate, ChatPromptValue

ANSWER = "cats purr when they are happy"


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def chat_openai(server: OpenAIServer) -> ChatOpenAI:
    key = SecretStr("sk-test")
    return ChatOpenAI(base_url=server.base_url, api_key=key, model="gpt-test", max_retries=0)


class State(TypedDict):
    topic: str
    answer: str


def to_state(answer: str) -> State:
    return {"topic": "", "answer": answer}


def ours_with_wrapped_model(server: OpenAIServer) -> LCRunnable[Any, Any]:
    """The node a new user writes: a runnables chain around a wrapped `ChatOpenAI`."""
    model = from_langchain(chat_openai(server), input_type=ChatPromptValue, output_type=AIMessage)
    prompt = ChatPromptTemplate.from_template("tell me about {topic}")
    chain = prompt | model | StrOutputParser() | RunnableLambda(to_state)
    return to_langchain(chain.with_types(input_type=State))


def ours_with_wrapped_lcel(server: OpenAIServer) -> LCRunnable[Any, Any]:
    """A runnables chain around a wrapped LCEL chain (its model inside it)."""
    lcel = (
        LCChatPromptTemplate.from_template("tell me about {topic}")
        | chat_openai(server)
        | LCStrOutputParser()
    )
    wrapped = from_langchain(lcel, input_type=State, output_type=str)
    return to_langchain(wrapped | RunnableLambda(to_state))


def langchains_own(server: OpenAIServer) -> LCRunnable[Any, Any]:
    """The same node written in LangChain: what the two above must match."""
    return (
        LCChatPromptTemplate.from_template("tell me about {topic}")
        | chat_openai(server)
        | LCStrOutputParser()
        | LCRunnableLambda(to_state)
    )


def graph_of(node: LCRunnable[Any, Any]) -> Any:
    graph = StateGraph(State)
    graph.add_node("answer", node)  # pyright: ignore[reportUnknownMemberType]
    graph.add_edge(START, "answer")
    graph.add_edge("answer", END)
    return graph.compile()  # pyright: ignore[reportUnknownMemberType]


NODES = {
    "langchain": langchains_own,
    "wrapped model": ours_with_wrapped_model,
    "wrapped lcel": ours_with_wrapped_lcel,
}


def told(messages: list[tuple[Any, dict[str, Any]]]) -> list[tuple[str, str]]:
    """The text of each message LangGraph streamed, with the node it names."""
    return [(str(message.content), str(meta["langgraph_node"])) for message, meta in messages]


@pytest.mark.parametrize("node", ["wrapped model", "wrapped lcel"])
def test_a_wrapped_chat_model_streams_its_tokens_to_langgraphs_messages_mode(
    server: OpenAIServer, node: str
) -> None:
    server.script(Reply(ANSWER), Reply(ANSWER))
    expected = told(
        list(graph_of(langchains_own(server)).stream({"topic": "cats"}, stream_mode="messages"))
    )
    app = graph_of(NODES[node](server))
    got = told(list(app.stream({"topic": "cats", "answer": ""}, stream_mode="messages")))
    assert got == expected
    assert len([text for text, _ in got if text.strip()]) == len(ANSWER.split())  # token by token
    assert "".join(text for text, _ in got) == ANSWER
    assert all(request.body.get("stream") for request in server.requests)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # LangGraph's async calls need asyncio
@pytest.mark.parametrize("node", ["wrapped model", "wrapped lcel"])
async def test_a_wrapped_chat_model_streams_its_tokens_to_langgraphs_messages_mode_async(
    server: OpenAIServer, node: str, anyio_backend: str
) -> None:
    server.script(Reply(ANSWER), Reply(ANSWER))
    own = graph_of(langchains_own(server))
    expected = told([m async for m in own.astream({"topic": "cats"}, stream_mode="messages")])
    app = graph_of(NODES[node](server))
    got = told([m async for m in app.astream({"topic": "cats"}, stream_mode="messages")])
    assert got == expected
    assert len([text for text, _ in got if text.strip()]) == len(ANSWER.split())


def test_an_invoked_graph_with_a_wrapped_model_still_asks_for_a_whole_answer(
    server: OpenAIServer,
) -> None:
    # Only a streaming handler makes the model stream: plain callbacks do not.
    app = graph_of(ours_with_wrapped_model(server))
    recorder = Recorder()
    server.script(Reply(ANSWER))
    assert app.invoke({"topic": "cats", "answer": ""}, {"callbacks": []}) == {
        "topic": "",
        "answer": ANSWER,
    }
    wrapped = from_langchain(app, input_type=State, output_type=State)
    server.script(Reply(ANSWER))
    assert wrapped.invoke({"topic": "cats", "answer": ""}, {"callbacks": [recorder]}) == {
        "topic": "",
        "answer": ANSWER,
    }
    assert [request.body.get("stream") for request in server.requests] == [False, False]
    assert not [event for event in recorder.events if event[0] == "stream"]


# ----------------------------------------------- a wrapped graph streams inside, in events


class Conversation(TypedDict):
    messages: list[AnyMessage]


class Chat(TypedDict):
    """The graph's state as the wrapper's callers see it: with runnables' messages."""

    messages: list[BaseMessage]


def conversation_graph(server: OpenAIServer) -> Any:
    """A graph whose node invokes `ChatOpenAI`, as LangGraph's examples do."""
    model = chat_openai(server)

    def call_model(state: Conversation) -> Conversation:
        answer: LCAIMessage = model.invoke(state["messages"])
        return {"messages": [*state["messages"], answer]}

    graph = StateGraph(Conversation)
    graph.add_node("model", call_model)  # pyright: ignore[reportUnknownMemberType]
    graph.add_edge(START, "model")
    graph.add_edge("model", END)
    return graph.compile()  # pyright: ignore[reportUnknownMemberType]


def tokens(events: list[Any]) -> list[str]:
    return [str(e["data"]["chunk"].content) for e in events if e["event"] == "on_chat_model_stream"]


async def test_a_wrapped_graph_streamed_tells_the_tokens_of_its_models_in_events(
    server: OpenAIServer, anyio_backend: str
) -> None:
    graph = conversation_graph(server)
    server.script(Reply(ANSWER), Reply(ANSWER))
    question: Chat = {"messages": [HumanMessage("cats?")]}
    app = from_langchain(graph, input_type=Chat, output_type=Chat)
    events = [event async for event in app.astream_events(question)]
    if anyio_backend == "asyncio":  # LangChain's own events over the graph: what ours must tell
        own = [e async for e in graph.astream_events({"messages": [("user", "cats?")]})]
        assert tokens(events) == tokens(own)
    assert "".join(tokens(events)) == ANSWER
    assert len([t for t in tokens(events) if t.strip()]) == len(ANSWER.split())
    (end,) = [e for e in events if e["event"] == "on_chain_end" and e["name"] == "LangGraph"]
    assert end["data"]["output"]["messages"][-1].content == ANSWER


def test_a_wrapped_graph_streamed_tells_the_tokens_of_its_models_in_sync_events(
    server: OpenAIServer,
) -> None:
    server.script(Reply(ANSWER))
    app = from_langchain(conversation_graph(server), input_type=Chat, output_type=Chat)
    events = list(app.stream_events({"messages": [HumanMessage("cats?")]}))
    assert len([t for t in tokens(events) if t.strip()]) == len(ANSWER.split())
    assert "".join(tokens(events)) == ANSWER
