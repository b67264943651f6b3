"""Conversation memory: the stores, `RunnableWithMessageHistory`, and the same histories as
langchain-core's after the same turns."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import anyio
import pytest

from runnables import RunnableLambda, runnable
from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.history import (
    BaseChatMessageHistory,
    InMemoryChatMessageHistory,
    RunnableWithMessageHistory,
    SQLiteChatMessageHistory,
)
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from runnables.models import FakeListChatModel
from runnables.prompts import ChatPromptTemplate, ChatPromptValue, MessagesPlaceholder

NO_LC_DEPRECATION = pytest.mark.filterwarnings(
    "ignore::langchain_core._api.deprecation.LangChainDeprecationWarning"
)

HOSTILE_ID = "x'); DROP TABLE message_store; --\"\\ é 🙂"


def sid(session: str) -> Any:
    return {"configurable": {"session_id": session}}


def memory_store() -> tuple[dict[str, InMemoryChatMessageHistory], Callable[[str], Any]]:
    store: dict[str, InMemoryChatMessageHistory] = {}

    def get(session_id: str) -> InMemoryChatMessageHistory:
        return store.setdefault(session_id, InMemoryChatMessageHistory())

    return store, get


@runnable
def count_reply(messages: list[BaseMessage]) -> AIMessage:
    """A deterministic model: says how many messages it saw and echoes the last one."""
    return AIMessage(f"{len(messages)}: {messages[-1].text}")


def every_kind() -> list[BaseMessage]:
    return [
        SystemMessage("be brief", name="rules"),
        HumanMessage([{"type": "text", "text": "look"}, "and see"], id="h1"),
        AIMessage(
            "calling",
            tool_calls=[ToolCall("search", {"q": "x", "n": [1, 2]}, "c1")],
            usage_metadata={"input_tokens": 3},
            response_metadata={"model": "m"},
        ),
        ToolMessage("found", tool_call_id="c1", status="error"),
        ChatMessage("hm", role="critic", additional_kwargs={"k": {"nested": True}}),
        AIMessageChunk("partial"),
    ]


# ------------------------------------------------------------------------ the stores


def test_in_memory_store_keeps_messages_in_order_and_hands_out_copies() -> None:
    history = InMemoryChatMessageHistory()
    history.add_user_message("hi")
    history.add_ai_message(AIMessage("hello"))
    history.add_message(SystemMessage("s"))
    snapshot = history.messages
    snapshot.clear()
    assert history.messages == [HumanMessage("hi"), AIMessage("hello"), SystemMessage("s")]
    history.clear()
    assert history.messages == []


def test_a_store_refuses_what_is_not_a_message() -> None:
    history = InMemoryChatMessageHistory()
    with pytest.raises(RunnablesTypeError, match=r"messages\[1\]: expected a BaseMessage, got str"):
        history.add_messages([HumanMessage("a"), "b"])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    assert history.messages == []  # all or nothing


def test_sqlite_round_trips_every_kind_and_persists_across_values(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    SQLiteChatMessageHistory("s", path).add_messages(every_kind())
    again = SQLiteChatMessageHistory("s", str(path)).messages
    assert again == every_kind()
    assert [type(m) for m in again] == [type(m) for m in every_kind()]


def test_sqlite_sessions_are_apart_and_a_hostile_session_id_is_only_data(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    hostile = SQLiteChatMessageHistory(HOSTILE_ID, path)
    other = SQLiteChatMessageHistory("x", path)
    hostile.add_messages([HumanMessage("mine")])
    other.add_messages([HumanMessage("theirs")])
    assert hostile.messages == [HumanMessage("mine")]
    hostile.clear()
    assert hostile.messages == []
    assert other.messages == [HumanMessage("theirs")]
    with closing(sqlite3.connect(path)) as connection:  # `with connection` alone leaves it open
        rows = connection.execute("SELECT session_id FROM message_store").fetchall()
    assert rows == [("x",)]


def test_sqlite_refuses_a_bad_table_name_session_id_or_path(tmp_path: Path) -> None:
    with pytest.raises(RunnablesValueError, match="table_name must be a plain SQL identifier"):
        SQLiteChatMessageHistory("s", tmp_path / "a.db", table_name="t; DROP TABLE x")
    with pytest.raises(RunnablesTypeError, match="session_id must be a str, got int"):
        SQLiteChatMessageHistory(3, tmp_path / "a.db")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    with pytest.raises(RunnablesValueError, match="':memory:' names a private database"):
        SQLiteChatMessageHistory("s", ":memory:")
    custom = SQLiteChatMessageHistory("s", tmp_path / "a.db", table_name="turns_2")
    custom.add_messages([HumanMessage("x")])
    assert custom.messages == [HumanMessage("x")]


def test_sqlite_keeps_huge_messages_whole(tmp_path: Path) -> None:
    big = "é" * 4_000_000 + "🙂"
    history = SQLiteChatMessageHistory("s", tmp_path / "big.db")
    history.add_messages([HumanMessage(big), AIMessage([{"type": "text", "text": big}])])
    assert history.messages == [HumanMessage(big), AIMessage([{"type": "text", "text": big}])]


def test_a_failed_batch_writes_nothing(tmp_path: Path) -> None:
    history = SQLiteChatMessageHistory("s", tmp_path / "chat.db")

    class Unstorable(HumanMessage):  # not one of the kinds messages_to_dict knows
        pass

    with pytest.raises(RunnablesTypeError, match="cannot serialise Unstorable"):
        history.add_messages([HumanMessage("a"), Unstorable("b")])
    assert history.messages == []


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_concurrent_writers_from_threads_never_interleave_a_turn(kind: str, tmp_path: Path) -> None:
    def make() -> BaseChatMessageHistory:
        if kind == "sqlite":
            return SQLiteChatMessageHistory("shared", tmp_path / "chat.db")
        return shared

    shared = InMemoryChatMessageHistory()
    threads, turns = 8, 15
    barrier = threading.Barrier(threads)

    def writer(number: int) -> None:
        history = make()  # each thread its own value (for SQLite: its own connections)
        barrier.wait()
        for turn in range(turns):
            history.add_messages([HumanMessage(f"{number}-{turn}"), AIMessage(f"{number}-{turn}")])

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    messages = make().messages
    assert len(messages) == 2 * threads * turns
    pairs = list(zip(messages[::2], messages[1::2], strict=True))
    assert all(isinstance(h, HumanMessage) and h.text == a.text for h, a in pairs)
    for number in range(threads):  # each writer's turns in its own order
        mine = [h.text for h, _ in pairs if h.text.startswith(f"{number}-")]
        assert mine == [f"{number}-{turn}" for turn in range(turns)]


# ------------------------------------------------------------------------ the wrapper


def test_the_runnable_sees_the_past_then_the_new_messages() -> None:
    store, get = memory_store()
    chat = RunnableWithMessageHistory(count_reply, get)
    assert chat.invoke("hi", sid("a")) == AIMessage("1: hi")
    assert chat.invoke(HumanMessage("again"), sid("a")) == AIMessage("3: again")
    # LangChain stores a list's items as given, so a ("human", ...) pair would be kept as a
    # tuple that is no message; here each item is converted to the message it stands for.
    assert chat.invoke([("human", "other")], sid("b")) == AIMessage("1: other")
    assert store["b"].messages == [HumanMessage("other"), AIMessage("1: other")]
    assert store["a"].messages == [
        HumanMessage("hi"),
        AIMessage("1: hi"),
        HumanMessage("again"),
        AIMessage("3: again"),
    ]


def test_a_prompt_with_input_and_history_keys() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "be kind"), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    _, get = memory_store()
    chain = RunnableWithMessageHistory(
        prompt | ChatPromptValue.to_messages | count_reply,
        get,
        input_messages_key="question",
        history_messages_key="history",
    )
    assert chain.invoke({"question": "one"}, sid("a")) == AIMessage("2: one")
    assert chain.invoke({"question": "two"}, sid("a")) == AIMessage("4: two")


def test_a_dict_output_is_saved_from_its_output_key() -> None:
    store, get = memory_store()
    answer = RunnableLambda(lambda d: {"answer": f"re: {d['q'][-1].text}", "n": len(d["q"])})
    chain = RunnableWithMessageHistory(
        answer, get, input_messages_key="q", output_messages_key="answer"
    )
    assert chain.invoke({"q": "hi"}, sid("a")) == {"answer": "re: hi", "n": 1}
    assert store["a"].messages == [HumanMessage("hi"), AIMessage("re: hi")]


def test_custom_history_factory_config_passes_every_key_by_name() -> None:
    seen: list[tuple[str, int]] = []
    store: dict[tuple[str, int], InMemoryChatMessageHistory] = {}

    def get(user_id: str, conversation_id: int) -> InMemoryChatMessageHistory:
        seen.append((user_id, conversation_id))
        return store.setdefault((user_id, conversation_id), InMemoryChatMessageHistory())

    chat = RunnableWithMessageHistory(
        count_reply, get, history_factory_config=["user_id", "conversation_id"]
    )
    config: Any = {"configurable": {"user_id": "ann", "conversation_id": 7, "other": 1}}
    chat.invoke("hi", config)
    chat.invoke("hi", config)
    assert seen == [("ann", 7), ("ann", 7)]
    assert len(store[("ann", 7)].messages) == 4
    with pytest.raises(RunnablesValueError, match=r"key\(s\) \['conversation_id'\]"):
        chat.invoke("hi", {"configurable": {"user_id": "ann"}})


def test_factory_keys_must_match_its_parameters() -> None:
    def get(user_id: str, thread: str) -> InMemoryChatMessageHistory:
        return InMemoryChatMessageHistory()

    with pytest.raises(RunnablesValueError, match=r"takes \['user_id', 'thread'\]"):
        RunnableWithMessageHistory(
            count_reply, get, history_factory_config=["user_id", "conversation_id"]
        )


def test_config_keys_declared_are_accepted_and_unknown_ones_still_rejected() -> None:
    _, get = memory_store()
    chat = RunnableWithMessageHistory(count_reply, get)
    with pytest.raises(
        RunnablesValueError,
        match=r"needs config\['configurable'\] key\(s\) \['session_id'\], got \[\]",
    ):
        chat.invoke("hi")
    with pytest.raises(TypeError, match=r"unknown RunnableConfig key\(s\) \['session_id'\]"):
        chat.invoke("hi", {"session_id": "a"})  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportArgumentType]
    assert chat.with_config(configurable={"session_id": "bound"}).invoke("hi") == AIMessage("1: hi")


def test_a_factory_returning_no_history_is_named() -> None:
    chat = RunnableWithMessageHistory(count_reply, lambda session_id: {"no": "history"})  # type: ignore[arg-type, return-value]  # pyright: ignore[reportArgumentType]
    with pytest.raises(RunnablesTypeError, match="returned dict, which has no add_messages"):
        chat.invoke("hi", sid("a"))


def test_bad_inputs_are_named() -> None:
    _, get = memory_store()
    keyed = RunnableWithMessageHistory(count_reply, get, input_messages_key="q")
    with pytest.raises(RunnablesValueError, match=r"input: no key 'q' in the dict; it has \['x'\]"):
        keyed.invoke({"x": "hi"}, sid("a"))
    with pytest.raises(RunnablesTypeError, match="needs a dict input, got str"):
        keyed.invoke("hi", sid("a"))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    plain = RunnableWithMessageHistory(count_reply, get)
    with pytest.raises(RunnablesTypeError, match=r"input\['only'\]: expected a str, a message"):
        plain.invoke({"only": 3}, sid("a"))
    with pytest.raises(RunnablesTypeError, match="input: expected a str, a message or a list"):
        plain.invoke(3, sid("a"))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def test_a_streamed_turn_is_saved_once_finished_as_the_whole_message() -> None:
    store, get = memory_store()
    chat = RunnableWithMessageHistory(FakeListChatModel(["hello there"]), get)
    chunks = chat.stream("hi", sid("a"))
    first = next(chunks)
    assert isinstance(first, AIMessageChunk)
    assert "a" not in store or store["a"].messages == []
    rest = list(chunks)
    assert sum(rest, first).text == "hello there"
    # LangChain stores the added-up AIMessageChunk; a streamed turn here leaves the same
    # history as an invoked one.
    assert store["a"].messages == [HumanMessage("hi"), AIMessage("hello there")]


def test_a_failing_or_abandoned_turn_saves_nothing() -> None:
    store, get = memory_store()

    @runnable
    def broken(messages: list[BaseMessage]) -> str:
        raise RuntimeError("model down")

    with pytest.raises(RuntimeError, match="model down"):
        RunnableWithMessageHistory(broken, get).invoke("hi", sid("a"))
    assert store["a"].messages == []
    chat = RunnableWithMessageHistory(FakeListChatModel(["one two three"]), get)
    for _ in chat.stream("hi", sid("a")):
        break
    assert store["a"].messages == []


# ------------------------------------------------------------------------ async


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_async_turns_and_streams(kind: str, tmp_path: Path) -> None:
    histories: dict[str, BaseChatMessageHistory] = {}

    def get(session_id: str) -> BaseChatMessageHistory:
        if kind == "sqlite":
            return SQLiteChatMessageHistory(session_id, tmp_path / "chat.db")
        return histories.setdefault(session_id, InMemoryChatMessageHistory())

    chat = RunnableWithMessageHistory(count_reply, get)
    assert await chat.ainvoke("one", sid(HOSTILE_ID)) == AIMessage("1: one")
    assert [chunk async for chunk in chat.astream("two", sid(HOSTILE_ID))] == [AIMessage("3: two")]
    assert [m.text for m in await get(HOSTILE_ID).aget_messages()] == [
        "one",
        "1: one",
        "two",
        "3: two",
    ]
    await get(HOSTILE_ID).aclear()
    assert get(HOSTILE_ID).messages == []


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_concurrent_async_turns_on_one_session_each_save_whole(
    kind: str, tmp_path: Path
) -> None:
    memory = InMemoryChatMessageHistory()

    def get(session_id: str) -> BaseChatMessageHistory:
        if kind == "sqlite":
            return SQLiteChatMessageHistory(session_id, tmp_path / "chat.db")
        return memory

    @runnable
    async def slow_echo(messages: list[BaseMessage]) -> str:
        await anyio.sleep(0)
        return messages[-1].text

    chat = RunnableWithMessageHistory(slow_echo, get)
    async with anyio.create_task_group() as group:
        for number in range(20):
            group.start_soon(chat.ainvoke, f"t{number}", sid("s"))
    messages = get("s").messages
    assert len(messages) == 40
    assert all(
        isinstance(h, HumanMessage) and isinstance(a, AIMessage) and h.text == a.text
        for h, a in zip(messages[::2], messages[1::2], strict=True)
    )
    assert sorted(m.text for m in messages[::2]) == sorted(f"t{n}" for n in range(20))


@pytest.mark.anyio
async def test_a_sqlite_write_waiting_for_a_lock_does_not_block_the_event_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chat.db"
    history = SQLiteChatMessageHistory("s", path, timeout=10)
    history.add_messages([HumanMessage("before")])
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process writing, as far as SQLite knows
    ticks = 0
    done = anyio.Event()

    async def write() -> None:
        await history.aadd_messages([HumanMessage("after")])
        done.set()

    async with anyio.create_task_group() as group:
        group.start_soon(write)
        while ticks < 20:  # the loop keeps running while the write waits for the lock
            await anyio.sleep(0.001)
            ticks += 1
        assert not done.is_set()
        blocker.execute("ROLLBACK")
        blocker.close()
    assert [m.text for m in await history.aget_messages()] == ["before", "after"]


@pytest.mark.anyio
async def test_the_wrapper_is_one_run_with_the_runnable_as_its_child() -> None:
    _, get = memory_store()
    chat = RunnableWithMessageHistory(count_reply, get)
    starts = [
        (event["name"], len(event["parent_ids"]))
        async for event in chat.astream_events("hi", sid("a"), version="v2")
        if event["event"] == "on_chain_start"
    ]
    assert starts == [("RunnableWithMessageHistory", 0), ("count_reply", 1)]


@pytest.mark.anyio
async def test_cancelled_mid_turn_saves_nothing() -> None:
    store, get = memory_store()
    entered = anyio.Event()

    @runnable
    async def waits_forever(messages: list[BaseMessage]) -> str:
        entered.set()
        await anyio.sleep_forever()
        raise AssertionError

    chat = RunnableWithMessageHistory(waits_forever, get)
    async with anyio.create_task_group() as group:
        group.start_soon(chat.ainvoke, "hi", sid("a"))
        await entered.wait()
        group.cancel_scope.cancel()
    assert store["a"].messages == []

    async def stream() -> None:
        async for _ in chat.astream("hi", sid("a")):
            pass

    entered = anyio.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(stream)
        await entered.wait()
        group.cancel_scope.cancel()
    assert store["a"].messages == []


@pytest.mark.anyio
async def test_cancelled_while_saving_the_turn_is_still_written_whole() -> None:
    writing = threading.Event()
    release = threading.Event()

    class SlowStore(BaseChatMessageHistory):
        """A blocking store (its async methods are the protocol's worker-thread defaults)."""

        def __init__(self) -> None:
            self.saved: list[BaseMessage] = []

        @property
        def messages(self) -> list[BaseMessage]:
            return list(self.saved)

        def add_messages(self, messages: Sequence[BaseMessage]) -> None:
            writing.set()
            release.wait(10)
            self.saved.extend(messages)

        def clear(self) -> None:
            self.saved.clear()

    store = SlowStore()
    chat = RunnableWithMessageHistory(count_reply, lambda session_id: store)
    turn_scope = anyio.CancelScope()

    async def turn() -> None:
        with turn_scope:
            await chat.ainvoke("hi", sid("a"))

    async with anyio.create_task_group() as group:
        group.start_soon(turn)
        await anyio.to_thread.run_sync(writing.wait, 10)
        turn_scope.cancel()
        await anyio.sleep(0.05)  # the cancelled turn is waiting for the write to finish
        assert store.saved == []
        release.set()
    # The cancel came while the turn was saving: the write was waited for, not abandoned.
    assert store.saved == [HumanMessage("hi"), AIMessage("1: hi")]


# ------------------------------------------------------------------------ against langchain


def lc_view(messages: Sequence[Any]) -> list[tuple[str, Any]]:
    return [(m.type, m.content) for m in messages]


@NO_LC_DEPRECATION
@pytest.mark.parametrize(
    ("keys", "make_input"),
    [
        ({}, lambda text: text),
        ({}, lambda text: {"only": text}),
        ({"input_messages_key": "q"}, lambda text: {"q": text, "other": 1}),
        (
            {"input_messages_key": "q", "history_messages_key": "h"},
            lambda text: {"q": text},
        ),
        (
            {"input_messages_key": "q", "output_messages_key": "out"},
            lambda text: {"q": text},
        ),
    ],
    ids=["messages", "single-key-dict", "input-key", "input-and-history-keys", "output-key"],
)
def test_same_history_as_langchain_after_the_same_turns(
    keys: dict[str, str], make_input: Callable[[str], Any]
) -> None:
    from langchain_core.chat_history import InMemoryChatMessageHistory as LcHistory
    from langchain_core.messages import AIMessage as LcAIMessage
    from langchain_core.runnables import RunnableLambda as LcLambda
    from langchain_core.runnables.history import RunnableWithMessageHistory as LcWith

    def answer(value: Any) -> Any:
        """The same deterministic model for both libraries, reading their shared shape."""
        if isinstance(value, dict):
            key = keys.get("history_messages_key")
            seen = len(value[key]) if key else len(value[keys["input_messages_key"]])
        else:
            seen = len(value)
        reply = f"saw {seen}"
        if "output_messages_key" in keys:
            return {"out": reply, "extra": seen}
        return reply

    def lc_answer(value: Any) -> Any:
        reply = answer(value)
        return reply if isinstance(reply, dict) else LcAIMessage(reply)

    def ours_answer(value: Any) -> Any:
        reply = answer(value)
        return reply if isinstance(reply, dict) else AIMessage(reply)

    lc_store: dict[str, LcHistory] = {}
    ours_store, get = memory_store()
    lc_chain = LcWith(
        LcLambda(lc_answer),
        lambda session_id: lc_store.setdefault(session_id, LcHistory()),
        **keys,  # type: ignore[arg-type]
    )
    ours_chain = RunnableWithMessageHistory(RunnableLambda(ours_answer), get, **keys)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    for session, text in [("a", "one"), ("b", "two"), ("a", "three"), ("a", "four")]:
        lc_out = lc_chain.invoke(make_input(text), {"configurable": {"session_id": session}})
        ours_out = ours_chain.invoke(make_input(text), sid(session))
        assert lc_view([lc_out]) == lc_view([ours_out]) if not isinstance(lc_out, dict) else True
    for session in ("a", "b"):
        assert lc_view(ours_store[session].messages) == lc_view(lc_store[session].messages)


@NO_LC_DEPRECATION
def test_same_history_as_langchain_with_a_custom_factory_config() -> None:
    from langchain_core.chat_history import InMemoryChatMessageHistory as LcHistory
    from langchain_core.messages import AIMessage as LcAIMessage
    from langchain_core.runnables import ConfigurableFieldSpec
    from langchain_core.runnables import RunnableLambda as LcLambda
    from langchain_core.runnables.history import RunnableWithMessageHistory as LcWith

    specs = [
        ConfigurableFieldSpec(id="user_id", annotation=str),
        ConfigurableFieldSpec(id="conversation_id", annotation=str),
    ]
    lc_store: dict[tuple[str, str], LcHistory] = {}
    ours_store: dict[tuple[str, str], InMemoryChatMessageHistory] = {}

    def lc_get(user_id: str, conversation_id: str) -> LcHistory:
        return lc_store.setdefault((user_id, conversation_id), LcHistory())

    def ours_get(user_id: str, conversation_id: str) -> InMemoryChatMessageHistory:
        return ours_store.setdefault((user_id, conversation_id), InMemoryChatMessageHistory())

    lc_chain = LcWith(
        LcLambda(lambda m: LcAIMessage(f"saw {len(m)}")), lc_get, history_factory_config=specs
    )
    ours_chain = RunnableWithMessageHistory(
        RunnableLambda(lambda m: AIMessage(f"saw {len(m)}")),
        ours_get,
        history_factory_config=specs,  # LangChain's specs: only their `id` is read
    )
    for user, conversation in [("u", "1"), ("u", "2"), ("u", "1"), ("v", "1")]:
        config: Any = {"configurable": {"user_id": user, "conversation_id": conversation}}
        lc_chain.invoke("hi", config)
        ours_chain.invoke("hi", config)
    assert set(ours_store) == set(lc_store)
    for key, history in ours_store.items():
        assert lc_view(history.messages) == lc_view(lc_store[key].messages)


@NO_LC_DEPRECATION
def test_same_missing_key_error_type_as_langchain() -> None:
    from langchain_core.chat_history import InMemoryChatMessageHistory as LcHistory
    from langchain_core.runnables import RunnableLambda as LcLambda
    from langchain_core.runnables.history import RunnableWithMessageHistory as LcWith

    lc_chain = LcWith(LcLambda(lambda m: "x"), lambda session_id: LcHistory())
    with pytest.raises(ValueError, match="session_id"):
        lc_chain.invoke("hi")
    _, get = memory_store()
    with pytest.raises(ValueError, match="session_id"):
        RunnableWithMessageHistory(count_reply, get).invoke("hi")
