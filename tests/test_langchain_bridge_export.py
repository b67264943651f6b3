"""`to_langchain` (runnables chains inside LangChain) and LangChain callback handlers given to
runnables: real langchain-core runnables, tracers and handlers."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import langchain_core.messages as lc
import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.runnables import RunnableLambda as LCRunnableLambda
from langchain_core.tracers.run_collector import RunCollectorCallbackHandler

from runnables import RunnableLambda
from runnables.documents import Document
from runnables.errors import RunnablesTypeError
from runnables.langchain import from_langchain, to_langchain
from runnables.messages import AIMessage, HumanMessage
from runnables.models import FakeListChatModel, FakeListLLM
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore
from runnables.tools import tool


def our_chain() -> Any:
    return (
        ChatPromptTemplate.from_template("say {x}")
        | FakeListChatModel(responses=["hi there"])
        | StrOutputParser()
    )


# -------------------------------------------------------------------- to_langchain in LCEL


def test_a_runnables_chain_in_lcel_every_sync_form() -> None:
    chain = LCRunnableLambda(lambda d: d) | to_langchain(our_chain()) | LCRunnableLambda(str.upper)
    assert chain.invoke({"x": 1}) == "HI THERE"
    assert chain.batch([{"x": 1}, {"x": 2}]) == ["HI THERE", "HI THERE"]
    assert list(to_langchain(our_chain()).stream({"x": 1})) == ["hi", " ", "there"]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # LangChain's async runs on asyncio
async def test_a_runnables_chain_in_lcel_every_async_form(anyio_backend: str) -> None:
    chain = LCRunnableLambda(lambda d: d) | to_langchain(our_chain())
    assert await chain.ainvoke({"x": 1}) == "hi there"
    assert await chain.abatch([{"x": 1}] * 3) == ["hi there"] * 3
    assert [c async for c in chain.astream({"x": 1})] == ["hi", " ", "there"]


def test_messages_cross_as_langchain_messages() -> None:
    model = to_langchain(FakeListChatModel(responses=["pong"]))
    answer = model.invoke([lc.HumanMessage(content="ping", id="h1")])
    assert isinstance(answer, lc.AIMessage)
    assert answer.content == "pong"
    chunks = list(model.stream([lc.HumanMessage(content="ping")]))
    assert all(isinstance(c, lc.AIMessageChunk) for c in chunks)
    echo = to_langchain(RunnableLambda(lambda m: [type(x).__name__ for x in m]))  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownVariableType, reportUnknownMemberType]
    assert echo.invoke([lc.HumanMessage(content="a"), lc.AIMessage(content="b")]) == [
        "HumanMessage",
        "AIMessage",
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_inner_runs_in_langchains_astream_events(anyio_backend: str) -> None:
    wrapped = to_langchain(our_chain()).with_config(run_name="ours")
    chain = LCRunnableLambda(lambda d: d) | wrapped
    events = [e async for e in chain.astream_events({"x": 1}, version="v2")]
    starts = {e["name"]: e for e in events if e["event"].endswith("_start")}
    outer = starts["RunnableSequence"]["run_id"]
    ours = starts["ours"]["run_id"]
    for name in ("ChatPromptTemplate", "FakeListChatModel", "StrOutputParser"):
        assert starts[name]["parent_ids"] == [outer, ours], name
    assert starts["FakeListChatModel"]["event"] == "on_chat_model_start"
    assert starts["ChatPromptTemplate"]["event"] == "on_prompt_start"
    assert starts["StrOutputParser"]["event"] == "on_parser_start"
    tokens = [e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"]
    assert tokens == ["hi", " ", "there"]
    ends = [e for e in events if e["event"] == "on_chat_model_end"]
    assert isinstance(ends[0]["data"]["output"], lc.AIMessage)
    assert [e["data"]["chunk"] for e in events if e["event"] == "on_chain_stream"
            and e["name"] == "ours"] == ["hi", " ", "there"]  # fmt: skip


def test_langchains_tracer_sees_the_run_tree() -> None:
    collector = RunCollectorCallbackHandler()
    chain = LCRunnableLambda(lambda d: d) | to_langchain(our_chain())
    chain.invoke({"x": 1}, {"callbacks": [collector]})
    root = collector.traced_runs[0]
    ours = next(r for r in root.child_runs if r.name == "RunnableSequence")
    assert [r.name for r in ours.child_runs] == [
        "ChatPromptTemplate",
        "FakeListChatModel",
        "StrOutputParser",
    ]
    assert [r.run_type for r in ours.child_runs] == ["prompt", "llm", "parser"]
    assert ours.outputs == {"output": "hi there"}


# ------------------------------------------------- LangChain handlers in runnables' config


class Calls(BaseCallbackHandler):
    """A LangChain handler writing down what it is told."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str | None, uuid.UUID, uuid.UUID | None]] = []
        self.payloads: dict[str, list[Any]] = {}

    def _note(self, event: str, payload: Any, kw: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append((event, kw.get("name"), kw["run_id"], kw.get("parent_run_id")))
            self.payloads.setdefault(event, []).append(payload)

    def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
        self._note("chain_start", (inputs, kw.get("run_type")), kw)

    def on_chain_end(self, outputs: Any, **kw: Any) -> None:
        self._note("chain_end", outputs, kw)

    def on_chain_error(self, error: BaseException, **kw: Any) -> None:
        self._note("chain_error", error, kw)

    def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
        self._note("chat_model_start", messages, kw)

    def on_llm_start(self, serialized: Any, prompts: Any, **kw: Any) -> None:
        self._note("llm_start", prompts, kw)

    def on_llm_new_token(self, token: str, **kw: Any) -> None:
        self._note("llm_new_token", token, kw)

    def on_llm_end(self, response: Any, **kw: Any) -> None:
        self._note("llm_end", response, kw)

    def on_retriever_start(self, serialized: Any, query: str, **kw: Any) -> None:
        self._note("retriever_start", query, kw)

    def on_retriever_end(self, documents: Any, **kw: Any) -> None:
        self._note("retriever_end", documents, kw)

    def on_tool_start(self, serialized: Any, input_str: str, **kw: Any) -> None:
        self._note("tool_start", (input_str, kw.get("inputs")), kw)

    def on_tool_end(self, output: Any, **kw: Any) -> None:
        self._note("tool_end", output, kw)

    def on_tool_error(self, error: BaseException, **kw: Any) -> None:
        self._note("tool_error", error, kw)

    def events(self) -> list[str]:
        return [event for event, *_ in self.calls]


def test_a_langchain_handler_is_told_of_every_kind_of_run() -> None:
    handler = Calls()
    store = InMemoryVectorStore.from_texts(["cats purr", "dogs bark"], HashingEmbeddings())

    @tool
    def shout(text: str) -> str:
        """Shout."""
        return text.upper()

    chain = (
        RunnableLambda(lambda q: q)  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
        | store.as_retriever(k=1)
        | RunnableLambda(lambda docs: {"text": docs[0].page_content})  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownMemberType]
        | shout
        | RunnableLambda(lambda s: {"x": s})  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
        | ChatPromptTemplate.from_template("{x}").with_config(run_name="prompt")
        | FakeListChatModel(responses=["meow"])
    )
    answer = chain.stream("cats", {"callbacks": [handler]})
    assert [c.content for c in answer] == ["meow"]
    events = handler.events()
    assert events[0] == "chain_start"
    assert events[-1] == "chain_end"
    for event in ("retriever_start", "retriever_end", "tool_start", "tool_end",
                  "chat_model_start", "llm_new_token", "llm_end"):  # fmt: skip
        assert event in events, event
    root = handler.calls[0][2]
    by_name = {name: (run_id, parent) for _, name, run_id, parent in handler.calls}
    assert by_name["VectorStoreRetriever"][1] == root
    assert by_name["shout"][1] == root
    assert by_name["FakeListChatModel"][1] == root
    assert handler.payloads["retriever_start"] == ["cats"]
    (documents,) = handler.payloads["retriever_end"]
    assert documents[0].page_content == "cats purr"
    assert type(documents[0]).__module__.startswith("langchain_core")
    assert handler.payloads["tool_start"] == [("{'text': 'cats purr'}", {"text": "cats purr"})]
    (messages,) = handler.payloads["chat_model_start"]
    assert messages == [[lc.HumanMessage(content="CATS PURR")]]
    (result,) = handler.payloads["llm_end"]
    assert result.generations[0][0].message.content == "meow"
    prompt_start = next(
        p
        for e, p in zip(events, _all(handler), strict=True)
        if e == "chain_start" and p[1] == "prompt"
    )
    assert prompt_start[0] == {"x": "CATS PURR"}


def _all(handler: Calls) -> list[Any]:
    seen: dict[str, int] = {}
    out: list[Any] = []
    for event, *_ in handler.calls:
        index = seen.get(event, 0)
        out.append(handler.payloads[event][index])
        seen[event] = index + 1
    return out


def test_errors_and_ignore_flags() -> None:
    class NoChains(Calls):
        ignore_chain = True

    def boom(x: int) -> int:
        raise ValueError(x)

    handler, quiet = Calls(), NoChains()
    chain = RunnableLambda(lambda x: x) | RunnableLambda(boom)  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownVariableType]
    with pytest.raises(ValueError, match="3"):
        chain.invoke(3, {"callbacks": [handler, quiet]})  # pyright: ignore[reportUnknownMemberType]
    assert handler.events() == [
        "chain_start", "chain_start", "chain_end", "chain_start", "chain_error", "chain_error",
    ]  # fmt: skip
    assert quiet.events() == []


def test_a_text_model_run_and_a_handler_that_cannot_trace_chat_models() -> None:
    handler = Calls()
    FakeListLLM(responses=["a b"]).invoke("q", {"callbacks": [handler]})
    assert handler.events() == ["llm_start", "llm_end"]
    assert handler.payloads["llm_start"] == [["q"]]
    assert handler.payloads["llm_end"][0].generations[0][0].text == "a b"

    class OldStyle(Calls):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
            raise NotImplementedError

    old = OldStyle()
    FakeListChatModel(responses=["x"]).invoke([HumanMessage("hello")], {"callbacks": [old]})
    assert old.events() == ["llm_start", "llm_end"]
    assert old.payloads["llm_start"] == [["Human: hello"]]


@pytest.mark.anyio
async def test_an_async_handler_on_both_loops(anyio_backend: str) -> None:
    seen: list[tuple[str, Any]] = []

    class Async(AsyncCallbackHandler):
        async def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
            seen.append(("start", kw["name"]))

        async def on_chain_end(self, outputs: Any, **kw: Any) -> None:
            seen.append(("end", outputs))

    chain = RunnableLambda(lambda x: x + 1).with_config(run_name="inc")  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownVariableType]
    assert await chain.ainvoke(1, {"callbacks": [Async()]}) == 2  # pyright: ignore[reportUnknownMemberType]
    assert seen == [("start", "inc"), ("end", 2)]


def test_the_same_handler_twice_is_told_once() -> None:
    handler = Calls()
    chain = RunnableLambda(lambda x: x).with_config(callbacks=[handler])  # type: ignore[list-item]  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownVariableType, reportArgumentType]
    chain.invoke(1, {"callbacks": [handler]})  # type: ignore[list-item]  # pyright: ignore[reportUnknownMemberType, reportArgumentType]
    assert handler.events() == ["chain_start", "chain_end"]


def test_something_like_a_handler_that_runnables_cannot_drive_is_a_clear_error() -> None:
    class LooksLikeOne:
        def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None: ...

    with pytest.raises(RunnablesTypeError, match=r"runnables\[langchain\]"):
        RunnableLambda(lambda x: x).invoke(1, {"callbacks": [LooksLikeOne()]})  # type: ignore[list-item]  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportArgumentType]


def test_values_reach_handlers_as_langchain_values() -> None:
    handler = Calls()
    RunnableLambda(lambda _: [Document("d"), AIMessage("a")]).invoke(  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownMemberType]
        0, {"callbacks": [handler]}
    )
    (outputs,) = handler.payloads["chain_end"]
    assert [type(v).__module__.split(".")[0] for v in outputs] == ["langchain_core"] * 2


@pytest.mark.anyio
async def test_runnables_in_langchain_in_runnables_keep_one_run_tree(anyio_backend: str) -> None:
    inner = RunnableLambda(lambda x: x + 1).with_config(run_name="add") | RunnableLambda(  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownMemberType, reportUnknownVariableType]
        lambda x: x * 10  # pyright: ignore[reportUnknownLambdaType]
    ).with_config(run_name="times")
    lcel = LCRunnableLambda(lambda x: x * 2).with_config(run_name="double") | to_langchain(
        inner  # pyright: ignore[reportUnknownArgumentType]
    ).with_config(run_name="bridge")
    outer = from_langchain(lcel, input_type=int, output_type=int).with_config(run_name="outer")
    names: dict[str, str] = {}
    paths: list[tuple[str, list[str]]] = []
    async for event in outer.astream_events(1):
        if event["event"] == "on_chain_start":
            names[event["run_id"]] = event["name"]
            paths.append((event["name"], [names[p] for p in event["parent_ids"]]))
    assert paths == [
        ("outer", []),
        ("double", ["outer"]),
        ("bridge", ["outer"]),
        ("add", ["outer", "bridge"]),
        ("times", ["outer", "bridge"]),
    ]
    assert await outer.ainvoke(1) == 30
