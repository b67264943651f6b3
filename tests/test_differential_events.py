"""Event and run fidelity compared with langchain-core, on the same chains.

Each test runs a chain built with langchain-core and the same chain built with runnables, and
compares what a user sees: `astream_events(version="v2")` events, `astream_log` patch paths and
the `Run` records handed to `with_listeners`. Only what legitimately differs is normalised: run
ids (replaced by their order of appearance, or by "given" for an id the caller chose), timestamps
(never compared), and the message, prompt-value and document classes of the two libraries
(turned into neutral tuples such as `(class name, content, tool calls)`; LangChain's `dumpd`
form of a message and runnables' `messages_to_dict` form become the same tuple).

langchain-core runs on asyncio only: its side always runs under `asyncio.run` in a worker thread,
so runnables' side can run on asyncio and on trio.

What langchain-core 1.8 does, as these tests pin it down:

1. The root run's end event carries `{"output": ...}` only (LangChain deletes the `input` of the
   root's end event); every child run's end event carries `{"input": ..., "output": ...}`.
   The root's start event carries the input given to `astream_events`.
2. A chat model that is not the root starts with `{"input": {"messages": [[...]]}}` (one list of
   messages per prompt) and ends with `{"input": {"messages": [[...]]}, "output": message}`. As the
   root, its start event carries the raw input instead (point 1).
3. A tool that raises emits `on_tool_error` with data `{"error": exc, "input": args,
   "tool_call_id": id or None}`, then the same exception object reaches the consumer. No
   `on_chain_error` is emitted for the runs around it.
4. A tool or retriever run as the root emits start and end only, no `*_stream` event.
5. `with_retry()` is invisible in a stream (LangChain's `RunnableRetry` does not retry `astream`:
   the bound runnable runs once, with no run of the retry's own); when it is invoked
   (`invoke`/`ainvoke`), it does make a run of the same name with each attempt as a child
   (attempt N > 1 tagged `retry:attempt:N`), so its log has `X` and `X:2`.
6. Listeners get `Run`s whose `inputs`/`outputs` are dicts: a non-dict value is wrapped as
   `{"input": x}` / `{"output": y}`, a dict is kept as it is; a chat model's inputs are
   `{"messages": [[...]]}` and its outputs an LLM result `{"generations": [[{"text", "message",
   ...}]], "llm_output": ..., ...}`.
7. The config a function receives has no `run_name` or `run_id`, so a nested call made with it
   gets its own name and a fresh id, as a child of the caller's run.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import anyio
import pytest

lc = pytest.importorskip("langchain_core.runnables")

from langchain_core.callbacks import BaseCallbackHandler  # noqa: E402
from langchain_core.documents import Document as LCDocument  # noqa: E402
from langchain_core.language_models import FakeListChatModel as LCFakeListChatModel  # noqa: E402
from langchain_core.messages import HumanMessage as LCHumanMessage  # noqa: E402
from langchain_core.messages import SystemMessage as LCSystemMessage  # noqa: E402
from langchain_core.output_parsers import StrOutputParser as LCStrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate  # noqa: E402
from langchain_core.retrievers import BaseRetriever as LCBaseRetriever  # noqa: E402
from langchain_core.tools import tool as lc_tool  # noqa: E402

import runnables as ours  # noqa: E402
from runnables import Run  # noqa: E402
from runnables.messages import HumanMessage, SystemMessage, messages_from_dict  # noqa: E402
from runnables.models import FakeListChatModel  # noqa: E402
from runnables.parsers import StrOutputParser  # noqa: E402
from runnables.prompts import ChatPromptTemplate  # noqa: E402
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore  # noqa: E402
from runnables.tools import tool as our_tool  # noqa: E402

pytestmark = pytest.mark.anyio

T = TypeVar("T")

LIBS = ("ours", "lc")
NO_LC_DEPRECATION = pytest.mark.filterwarnings(
    "ignore::langchain_core._api.deprecation.LangChainDeprecationWarning"  # astream_log
)


# ------------------------------------------------------------------------------ normalising


def neutral_call(call: Any) -> tuple[Any, ...]:
    """A tool call of either library as `(name, args, id)`."""
    if isinstance(call, dict):
        return (call["name"], call["args"], call.get("id"))
    return (call.name, call.args, call.id)


def neutral(value: Any) -> Any:
    """`value` with the two libraries' messages, prompt values, documents and exceptions turned
    into the same plain tuples (containers are walked)."""
    if isinstance(value, BaseException):
        return (type(value).__name__, value.args)
    if isinstance(value, dict):
        if value.get("lc") == 1 and value.get("type") == "constructor":  # LangChain's dumpd
            kwargs = value["kwargs"]
            calls = tuple(neutral_call(call) for call in kwargs.get("tool_calls") or ())
            return (value["id"][-1], kwargs["content"], calls)
        if set(value) == {"type", "data"}:  # runnables' messages_to_dict
            return neutral(messages_from_dict([value])[0])
        return {key: neutral(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [neutral(item) for item in value]
    kind = type(value).__name__
    if kind.endswith(("Message", "MessageChunk")) and hasattr(value, "content"):
        calls = tuple(neutral_call(call) for call in getattr(value, "tool_calls", None) or ())
        return (kind, value.content, calls)
    if kind == "ChatPromptValue":
        return (kind, [neutral(message) for message in value.messages])
    if kind == "StringPromptValue":
        return (kind, value.text)
    if kind == "Document":
        return (kind, value.page_content, neutral(value.metadata))
    return value


Shape = tuple[str, str, int, tuple[str, ...]]


def shapes(events: list[dict[str, Any]]) -> list[Shape]:
    """Each event as `(event, name, depth, sorted tags)`."""
    return [
        (event["event"], event["name"], len(event["parent_ids"]), tuple(sorted(event["tags"])))
        for event in events
    ]


def without_repeated_streams(items: list[Shape]) -> list[Shape]:
    """Keep each run's stream events once between two non-stream events (the fake chat models
    of the two libraries cut the same answer into different tokens)."""
    out: list[Shape] = []
    streamed: set[Shape] = set()
    for item in items:
        if item[0].endswith("_stream"):
            if item in streamed:
                continue
            streamed.add(item)
        else:
            streamed.clear()
        out.append(item)
    return out


def data_of(events: list[dict[str, Any]], *, root: bool) -> list[tuple[str, str, Any]]:
    """`(event, name, neutral data)` of the non-stream events of the root run (`root=True`) or
    of every other run."""
    root_id = events[0]["run_id"]
    return [
        (event["event"], event["name"], neutral(event["data"]))
        for event in events
        if not event["event"].endswith("_stream") and (event["run_id"] == root_id) == root
    ]


# ------------------------------------------------------------------------------ running


async def on_langchain(fn: Callable[[], Awaitable[T]]) -> T:
    """Run `fn()` under asyncio in a worker thread (the test itself may run on trio)."""
    return await anyio.to_thread.run_sync(lambda: asyncio.run(fn()))


async def collect(
    runnable: Any, input: Any, **kwargs: Any
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """The events of `astream_events(version="v2")`, and the exception that ended it if any."""
    events: list[dict[str, Any]] = []
    try:
        async for event in runnable.astream_events(input, version="v2", **kwargs):
            events.append(dict(event))
    except Exception as exc:
        return events, exc
    return events, None


async def both(
    build: Callable[[str], tuple[Any, Any]],
    summarise: Callable[[Any, Any], Awaitable[T]],
) -> tuple[T, T]:
    """`summarise(runnable, input)` for runnables (on this test's backend) and for LangChain."""
    mine_runnable, mine_input = build("ours")
    theirs_runnable, theirs_input = build("lc")
    mine = await summarise(mine_runnable, mine_input)
    theirs = await on_langchain(lambda: summarise(theirs_runnable, theirs_input))
    return mine, theirs


# ------------------------------------------------------------------------------ building blocks


def add_one(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def add(x: int, y: int) -> int:
    """Add two numbers."""
    return x + y


def boom(x: int) -> int:
    """Fail on purpose."""
    raise ValueError(f"bad {x}")


def lib_module(lib: str) -> Any:
    return ours if lib == "ours" else lc


def make_tool(lib: str, fn: Callable[..., Any]) -> Any:
    return our_tool(fn) if lib == "ours" else lc_tool(fn)


def chat_model(lib: str, *responses: str) -> Any:
    cls = FakeListChatModel if lib == "ours" else LCFakeListChatModel
    return cls(responses=list(responses))


def chat_prompt(lib: str) -> Any:
    cls = ChatPromptTemplate if lib == "ours" else LCChatPromptTemplate
    return cls.from_messages([("system", "be brief"), ("human", "say {x}")])


def str_parser(lib: str) -> Any:
    return StrOutputParser() if lib == "ours" else LCStrOutputParser()


def messages(lib: str) -> list[Any]:
    if lib == "ours":
        return [SystemMessage(content="be brief"), HumanMessage(content="hi")]
    return [LCSystemMessage(content="be brief"), LCHumanMessage(content="hi")]


ADD_CALL = {"name": "add", "args": {"x": 1, "y": 2}, "id": "call_2", "type": "tool_call"}
QUERY = "where did harrison work?"
TEXTS = ["harrison worked at kensho", "bears like honey", "kensho is in cambridge"]


class VectorStoreRetriever(LCBaseRetriever):
    """A tiny LangChain retriever answering with fixed documents (named and tagged as
    LangChain's and runnables' vector-store retrievers are)."""

    documents: list[LCDocument]

    def _get_relevant_documents(self, query: str, *, run_manager: Any = None) -> list[LCDocument]:
        return list(self.documents)


def retriever(lib: str) -> Any:
    mine = InMemoryVectorStore.from_texts(TEXTS, HashingEmbeddings()).as_retriever()
    if lib == "ours":
        return mine
    docs = [
        LCDocument(page_content=doc.page_content, metadata=dict(doc.metadata))
        for doc in mine.invoke(QUERY)
    ]
    return VectorStoreRetriever(documents=docs, tags=["InMemoryVectorStore", "HashingEmbeddings"])


def test_retriever_stand_in_returns_the_same_documents() -> None:
    assert neutral(retriever("ours").invoke(QUERY)) == neutral(retriever("lc").invoke(QUERY))
    assert len(retriever("ours").invoke(QUERY)) == len(TEXTS)


# ============================================== 1. the root's end event carries output only


def roots(kind: str, lib: str) -> tuple[Any, Any]:
    r = lib_module(lib)
    if kind == "lambda":
        return r.RunnableLambda(add_one), 1
    if kind == "sequence":
        return r.RunnableLambda(add_one) | r.RunnableLambda(double), 1
    if kind == "chat_model":
        return chat_model(lib, "hi there"), messages(lib)
    if kind == "prompt":
        return chat_prompt(lib), {"x": "y"}
    if kind == "parser":
        return str_parser(lib), "some text"
    if kind == "tool":
        return make_tool(lib, add), {"x": 1, "y": 2}
    if kind == "tool_call":
        return make_tool(lib, add), ADD_CALL
    assert kind == "retriever"
    return retriever(lib), QUERY


async def root_data(runnable: Any, input: Any) -> list[tuple[str, str, Any]]:
    events, error = await collect(runnable, input)
    assert error is None
    return data_of(events, root=True)


@pytest.mark.parametrize(
    "kind",
    ["lambda", "sequence", "chat_model", "prompt", "parser", "tool", "tool_call", "retriever"],
)
async def test_root_start_and_end_data(kind: str) -> None:
    mine, theirs = await both(lambda lib: roots(kind, lib), root_data)
    # LangChain: the root's start carries its input, its end only the output
    assert [set(data) for _, _, data in theirs] == [{"input"}, {"output"}]
    assert mine == theirs


async def all_event_data(runnable: Any, input: Any) -> list[tuple[Shape, Any]]:
    events, error = await collect(runnable, input)
    assert error is None
    return list(zip(shapes(events), [neutral(event["data"]) for event in events], strict=True))


async def test_sequence_every_event_data() -> None:
    mine, theirs = await both(lambda lib: roots("sequence", lib), all_event_data)
    ends = [data for (kind, *_), data in theirs if kind == "on_chain_end"]
    # children carry input and output on end, the root only its output
    assert ends == [{"input": 1, "output": 2}, {"input": 2, "output": 4}, {"output": 4}]
    assert mine == theirs


async def test_nested_child_end_data() -> None:
    def build(lib: str) -> tuple[Any, Any]:
        r = lib_module(lib)
        inner = r.RunnableLambda(double)

        async def outer(x: int) -> int:
            return int(await inner.ainvoke(x)) + 1

        return r.RunnableLambda(outer), 1

    mine, theirs = await both(build, all_event_data)
    assert [data for _, data in theirs] == [
        {"input": 1},
        {"input": 1},
        {"input": 1, "output": 2},
        {"chunk": 3},
        {"output": 3},
    ]
    assert mine == theirs


# ============================================== 2. a chat model starts with {"messages": [[...]]}


async def child_data(runnable: Any, input: Any) -> list[tuple[str, str, Any]]:
    events, error = await collect(runnable, input)
    assert error is None
    return data_of(events, root=False)


async def test_chat_model_in_prompt_model_parser() -> None:
    def build(lib: str) -> tuple[Any, Any]:
        return chat_prompt(lib) | chat_model(lib, "ab") | str_parser(lib), {"x": "y"}

    mine, theirs = await both(build, child_data)
    prompt_messages = [("SystemMessage", "be brief", ()), ("HumanMessage", "say y", ())]
    answer = ("AIMessageChunk", "ab", ())
    assert theirs == [
        ("on_prompt_start", "ChatPromptTemplate", {"input": {"x": "y"}}),
        (
            "on_prompt_end",
            "ChatPromptTemplate",
            {"input": {"x": "y"}, "output": ("ChatPromptValue", prompt_messages)},
        ),
        ("on_chat_model_start", "FakeListChatModel", {"input": {"messages": [prompt_messages]}}),
        ("on_parser_start", "StrOutputParser", {}),
        (
            "on_chat_model_end",
            "FakeListChatModel",
            {"input": {"messages": [prompt_messages]}, "output": answer},
        ),
        ("on_parser_end", "StrOutputParser", {"input": answer, "output": "ab"}),
    ]
    assert mine == theirs


async def test_chat_model_after_a_lambda() -> None:
    def greet(name: str) -> str:
        return f"hello {name}"

    def build(lib: str) -> tuple[Any, Any]:
        return lib_module(lib).RunnableLambda(greet) | chat_model(lib, "ab"), "bob"

    mine, theirs = await both(build, child_data)
    model_events = [item for item in theirs if item[0].startswith("on_chat_model")]
    human = [[("HumanMessage", "hello bob", ())]]
    assert model_events == [
        ("on_chat_model_start", "FakeListChatModel", {"input": {"messages": human}}),
        (
            "on_chat_model_end",
            "FakeListChatModel",
            {"input": {"messages": human}, "output": ("AIMessageChunk", "ab", ())},
        ),
    ]
    assert mine == theirs


@pytest.mark.parametrize("input_kind", ["string", "messages"])
async def test_chat_model_called_inside_a_lambda(input_kind: str) -> None:
    def build(lib: str) -> tuple[Any, Any]:
        model = chat_model(lib, "ab")

        async def ask(question: Any) -> Any:
            return await model.ainvoke(question)

        question = "hi" if input_kind == "string" else messages(lib)
        return lib_module(lib).RunnableLambda(ask), question

    mine, theirs = await both(build, child_data)
    sent = [("HumanMessage", "hi", ())]
    if input_kind == "messages":
        sent = [("SystemMessage", "be brief", ()), *sent]
    assert theirs == [
        ("on_chat_model_start", "FakeListChatModel", {"input": {"messages": [sent]}}),
        (
            "on_chat_model_end",
            "FakeListChatModel",
            {"input": {"messages": [sent]}, "output": ("AIMessage", "ab", ())},
        ),
    ]
    assert mine == theirs


@pytest.mark.parametrize("input_kind", ["string", "messages"])
async def test_chat_model_alone_starts_with_the_raw_input(input_kind: str) -> None:
    # As the root, LangChain's first event carries the input given to astream_events, not
    # {"messages": [[...]]} (its end event is point 1's).
    def build(lib: str) -> tuple[Any, Any]:
        return chat_model(lib, "ab"), "hi" if input_kind == "string" else messages(lib)

    async def start(runnable: Any, input: Any) -> list[tuple[str, str, Any]]:
        return (await root_data(runnable, input))[:1]

    mine, theirs = await both(build, start)
    raw = (
        "hi"
        if input_kind == "string"
        else [("SystemMessage", "be brief", ()), ("HumanMessage", "hi", ())]
    )
    assert theirs == [("on_chat_model_start", "FakeListChatModel", {"input": raw})]
    assert mine == theirs


# ============================================== 3. a tool that raises emits on_tool_error


async def failure(runnable: Any, input: Any) -> dict[str, Any]:
    events, error = await collect(runnable, input)
    return {
        "events": shapes(events),
        "data": [
            (event["event"], neutral(event["data"]))
            for event in events
            if not event["event"].endswith("_stream")
        ],
        "raised": neutral(error),
        "error_events_hold_the_raised_exception": [
            event["data"]["error"] is error for event in events if event["event"].endswith("_error")
        ],
    }


def failing_tools(case: str, lib: str) -> tuple[Any, Any]:
    r = lib_module(lib)
    tool = make_tool(lib, boom)
    if case == "alone":
        return tool, {"x": 1}
    if case == "tool_call":
        return tool, {"name": "boom", "args": {"x": 1}, "id": "call_1", "type": "tool_call"}
    if case == "in_sequence":

        def arguments(n: int) -> dict[str, int]:
            return {"x": n}

        return r.RunnableLambda(arguments) | tool, 1
    assert case == "nested"

    async def calls_tool(n: int) -> Any:
        return await tool.ainvoke({"x": n})

    return r.RunnableLambda(calls_tool), 1


@pytest.mark.parametrize("case", ["alone", "tool_call", "in_sequence", "nested"])
async def test_tool_error_event(case: str) -> None:
    mine, theirs = await both(lambda lib: failing_tools(case, lib), failure)
    call_id = "call_1" if case == "tool_call" else None
    error_data = {"error": ("ValueError", ("bad 1",)), "input": {"x": 1}, "tool_call_id": call_id}
    depth = 0 if case in ("alone", "tool_call") else 1
    tags = ("seq:step:2",) if case == "in_sequence" else ()
    assert theirs["events"][-2:] == [
        ("on_tool_start", "boom", depth, tags),
        ("on_tool_error", "boom", depth, tags),
    ]
    assert theirs["data"][-1] == ("on_tool_error", error_data)
    assert theirs["raised"] == ("ValueError", ("bad 1",))
    assert theirs["error_events_hold_the_raised_exception"] == [True]
    for key in theirs:
        assert (key, mine[key]) == (key, theirs[key])


# ============================================== 4. a tool or retriever as the root does not stream


def quiet_roots(case: str, lib: str) -> tuple[Any, Any]:
    r = lib_module(lib)
    if case == "tool":
        return make_tool(lib, add), {"x": 1, "y": 2}
    if case == "tool_call":
        return make_tool(lib, add), ADD_CALL
    if case == "retriever":
        return retriever(lib), QUERY
    if case == "tool_in_sequence":

        def arguments(n: int) -> dict[str, int]:
            return {"x": n, "y": n}

        return r.RunnableLambda(arguments) | make_tool(lib, add), 1
    assert case == "retriever_in_sequence"

    def same(text: str) -> str:
        return text

    return r.RunnableLambda(same) | retriever(lib), QUERY


async def event_shapes(runnable: Any, input: Any) -> list[Shape]:
    events, error = await collect(runnable, input)
    assert error is None
    return shapes(events)


@pytest.mark.parametrize("case", ["tool", "tool_call", "retriever"])
async def test_root_tool_or_retriever_emits_no_stream_event(case: str) -> None:
    mine, theirs = await both(lambda lib: quiet_roots(case, lib), event_shapes)
    kind = "retriever" if case == "retriever" else "tool"
    assert [event for event, *_ in theirs] == [f"on_{kind}_start", f"on_{kind}_end"]
    assert mine == theirs


@pytest.mark.parametrize("case", ["tool_in_sequence", "retriever_in_sequence"])
async def test_child_tool_or_retriever_emits_no_stream_event(case: str) -> None:
    mine, theirs = await both(lambda lib: quiet_roots(case, lib), event_shapes)
    assert not [
        event for event, name, *_ in theirs if event.endswith(("tool_stream", "retriever_stream"))
    ]
    assert mine == theirs


# ============================================== 5. with_retry adds no second run of the same name


def make_flaky() -> Callable[[int], int]:
    calls: list[int] = []

    def flaky(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise ValueError("once")
        return x + 1

    return flaky


def streamed_retries(case: str, lib: str) -> tuple[Any, Any]:
    r = lib_module(lib)
    retried = r.RunnableLambda(double).with_retry(wait_exponential_jitter=False)
    if case == "alone":
        return retried, 1
    assert case == "in_sequence"
    return r.RunnableLambda(add_one) | retried, 1


@pytest.mark.parametrize("case", ["alone", "in_sequence"])
async def test_streamed_retry_adds_no_run(case: str) -> None:
    mine, theirs = await both(lambda lib: streamed_retries(case, lib), event_shapes)
    assert [name for _, name, *_ in theirs].count("double") == 3  # start, stream, end: one run
    assert mine == theirs


async def log_paths(runnable: Any, input: Any) -> list[list[str]]:
    return [[op["path"] for op in patch.ops] async for patch in runnable.astream_log(input)]


@NO_LC_DEPRECATION
@pytest.mark.parametrize("case", ["alone", "in_sequence"])
async def test_streamed_retry_log_has_no_numbered_entry(case: str) -> None:
    mine, theirs = await both(lambda lib: streamed_retries(case, lib), log_paths)
    assert not [path for patch in theirs for path in patch if path.startswith("/logs/double:")]
    assert mine == theirs


def invoked_retries(case: str, lib: str) -> tuple[Any, Any]:
    # A retry called with `ainvoke`/`invoke` from inside a function: LangChain retries there,
    # with a run of the retry's own around the attempts.
    r = lib_module(lib)
    fn = make_flaky() if case.startswith("flaky") else add_one
    retried = r.RunnableLambda(fn).with_retry(wait_exponential_jitter=False)
    if case.endswith("sync"):

        def outer(x: int) -> int:
            return int(retried.invoke(x))

        return r.RunnableLambda(outer), 1

    async def aouter(x: int) -> int:
        return int(await retried.ainvoke(x))

    return r.RunnableLambda(aouter), 1


@pytest.mark.parametrize("case", ["succeeds_async", "succeeds_sync", "flaky_async", "flaky_sync"])
async def test_invoked_retry_runs(case: str) -> None:
    mine, theirs = await both(lambda lib: invoked_retries(case, lib), event_shapes)
    name = "flaky" if case.startswith("flaky") else "add_one"
    outer = "outer" if case.endswith("sync") else "aouter"
    attempts = [(), ("retry:attempt:2",)] if case.startswith("flaky") else [()]
    expected: list[Shape] = [
        ("on_chain_start", outer, 0, ()),
        ("on_chain_start", name, 1, ()),
        *[("on_chain_start", name, 2, tags) for tags in attempts],
        ("on_chain_end", name, 2, attempts[-1]),
        ("on_chain_end", name, 1, ()),
        ("on_chain_stream", outer, 0, ()),
        ("on_chain_end", outer, 0, ()),
    ]
    assert theirs == expected
    assert mine == theirs


@NO_LC_DEPRECATION
@pytest.mark.parametrize("case", ["succeeds_async", "flaky_async"])
async def test_invoked_retry_log(case: str) -> None:
    mine, theirs = await both(lambda lib: invoked_retries(case, lib), log_paths)
    keys = {path.split("/")[2] for patch in theirs for path in patch if path.startswith("/logs/")}
    assert keys == (
        {"flaky", "flaky:2", "flaky:3"} if case == "flaky_async" else {"add_one", "add_one:2"}
    )
    assert mine == theirs


async def test_streamed_retry_of_a_failure() -> None:
    # LangChain does not retry a stream: the first failure reaches the consumer. runnables
    # retries a stream that has yielded nothing yet (../shared/design/api.md, `with_retry`), a
    # deliberate superset. A streamed retry has no run of its own (as LangChain's has none),
    # so a second attempt is a run beside the first, with a fresh id, tagged as LangChain
    # tags invoked attempts.
    def build(lib: str) -> tuple[Any, Any]:
        return lib_module(lib).RunnableLambda(make_flaky()).with_retry(
            wait_exponential_jitter=False
        ), 1

    mine, theirs = await both(build, failure)
    assert theirs == {
        "events": [("on_chain_start", "flaky", 0, ())],
        "data": [("on_chain_start", {"input": 1})],
        "raised": ("ValueError", ("once",)),
        "error_events_hold_the_raised_exception": [],
    }
    assert mine["raised"] is None
    assert mine["data"][-1][0] == "on_chain_end"
    assert mine["data"][-1][1]["output"] == 2
    assert ("on_chain_start", "flaky", 0, ("retry:attempt:2",)) in mine["events"]


# ============================================== 6. listeners see LangChain's Run shapes


def io(run_type: str, value: Any) -> Any:
    """A run's inputs or outputs, neutral; of a chat model's LLM result, the generations'
    text and message and the `llm_output` (LangChain's class tags "type" and "run" are not
    compared)."""
    if run_type == "chat_model" and isinstance(value, dict) and "generations" in value:
        return {
            "generations": [
                [{"text": gen["text"], "message": neutral(gen["message"])} for gen in generation]
                for generation in value["generations"]
            ],
            "llm_output": value.get("llm_output"),
        }
    return neutral(value)


def listened(case: str, lib: str) -> tuple[Any, Any]:
    r = lib_module(lib)

    def pick(d: dict[str, int]) -> dict[str, int]:
        return {"b": d["a"]}

    if case == "int":
        return r.RunnableLambda(add_one), 1
    if case == "dict":
        return r.RunnableLambda(pick), {"a": 1}
    if case == "chat_model":
        return chat_model(lib, "ok"), "hello"
    if case == "tool":
        return make_tool(lib, add), {"x": 1, "y": 2}
    assert case == "prompt_model"
    return chat_prompt(lib) | chat_model(lib, "ok"), {"x": "y"}


class Listened:
    """The runnable with listeners; each notification snapshots the run as it is then
    (LangChain hands the same mutable run to on_start and on_end)."""

    def __init__(self, runnable: Any, *, streamed: bool) -> None:
        self.records: list[tuple[Any, ...]] = []
        self.lock = threading.Lock()
        self.streamed = streamed
        self.runnable = runnable.with_listeners(on_start=self.on_start, on_end=self.on_end)

    def on_start(self, run: Any) -> None:
        # A streamed input is not known at the start (LangChain: the placeholder
        # {"input": ""}); LangChain's outputs start as {}: neither is compared.
        inputs = None if self.streamed else io(run.run_type, copy.deepcopy(run.inputs))
        with self.lock:
            self.records.append(("start", run.name, run.run_type, inputs))

    def on_end(self, run: Any) -> None:
        inputs = io(run.run_type, copy.deepcopy(run.inputs))
        outputs = io(run.run_type, copy.deepcopy(run.outputs))
        with self.lock:
            self.records.append(("end", run.name, run.run_type, inputs, outputs))


EXPECTED_RUNS: dict[str, list[tuple[Any, ...]]] = {
    "int": [
        ("start", "add_one", "chain", {"input": 1}),
        ("end", "add_one", "chain", {"input": 1}, {"output": 2}),
    ],
    "dict": [
        ("start", "pick", "chain", {"a": 1}),
        ("end", "pick", "chain", {"a": 1}, {"b": 1}),
    ],
    "chat_model": [
        (
            "start",
            "FakeListChatModel",
            "chat_model",
            {"messages": [[("HumanMessage", "hello", ())]]},
        ),
        (
            "end",
            "FakeListChatModel",
            "chat_model",
            {"messages": [[("HumanMessage", "hello", ())]]},
            {
                "generations": [[{"text": "ok", "message": ("AIMessage", "ok", ())}]],
                "llm_output": None,
            },
        ),
    ],
    "tool": [
        ("start", "add", "tool", {"x": 1, "y": 2}),
        ("end", "add", "tool", {"x": 1, "y": 2}, {"output": 3}),
    ],
    "prompt_model": [
        ("start", "RunnableSequence", "chain", {"x": "y"}),
        ("end", "RunnableSequence", "chain", {"x": "y"}, {"output": ("AIMessage", "ok", ())}),
    ],
}


def expected_runs(case: str, *, streamed: bool) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for record in EXPECTED_RUNS[case]:
        if record[0] == "start" and streamed:
            record = (*record[:3], None)
        out.append(record)
    if streamed:
        # a streamed chat model's message is a chunk
        out = [tuple(neutral_chunks(item) for item in record) for record in out]
    return out


def neutral_chunks(value: Any) -> Any:
    if value == ("AIMessage", "ok", ()):
        return ("AIMessageChunk", "ok", ())
    if isinstance(value, dict):
        return {key: neutral_chunks(item) for key, item in value.items()}
    if isinstance(value, list):
        return [neutral_chunks(item) for item in value]
    return value


CASES = ["int", "dict", "chat_model", "tool", "prompt_model"]


@pytest.mark.parametrize("mode", ["invoke", "stream"])
@pytest.mark.parametrize("case", CASES)
def test_listener_runs(case: str, mode: str) -> None:
    streamed = mode == "stream"
    recorded = []
    for lib in LIBS:
        runnable, input = listened(case, lib)
        listening = Listened(runnable, streamed=streamed)
        if streamed:
            list(listening.runnable.stream(input))
        else:
            listening.runnable.invoke(input)
        recorded.append(listening.records)
    mine, theirs = recorded
    assert theirs == expected_runs(case, streamed=streamed)
    assert mine == theirs


@pytest.mark.parametrize("mode", ["ainvoke", "astream"])
@pytest.mark.parametrize("case", CASES)
async def test_listener_runs_async(case: str, mode: str) -> None:
    streamed = mode == "astream"

    async def run(runnable: Any, input: Any) -> list[tuple[Any, ...]]:
        listening = Listened(runnable, streamed=streamed)
        if streamed:
            async for _ in listening.runnable.astream(input):
                pass
        else:
            await listening.runnable.ainvoke(input)
        return listening.records

    mine, theirs = await both(lambda lib: listened(case, lib), run)
    assert theirs == expected_runs(case, streamed=streamed)
    assert mine == theirs


# ============================================== 7. a nested call gets its own name and id


GIVEN = uuid.UUID("12345678-1234-5678-1234-567812345678")


def nested_calls(case: str, lib: str, seen: list[list[str]]) -> Any:
    """A runnable whose function calls `inner` with the config it was given; `seen` collects
    which of run_name / run_id that config holds."""
    r = lib_module(lib)
    inner = r.RunnableLambda(double)

    def note(config: Any) -> None:
        seen.append(sorted(key for key in ("run_name", "run_id") if key in config))

    def sync_invoke(x: int, config: Any) -> int:
        note(config)
        return int(inner.invoke(x, config)) + 1

    async def async_invoke(x: int, config: Any) -> int:
        note(config)
        return int(await inner.ainvoke(x, config)) + 1

    def generator(x: int, config: Any) -> Iterator[int]:
        note(config)
        yield int(inner.invoke(x, config)) + 1

    def sync_batch(x: int, config: Any) -> int:
        note(config)
        return sum(inner.batch([x, x], config))

    async def async_stream(x: int, config: Any) -> int:
        note(config)
        return sum([chunk async for chunk in inner.astream(x, config)])

    async def async_batch(x: int, config: Any) -> AsyncIterator[int]:
        note(config)
        yield sum(await inner.abatch([x, x], config))

    functions: dict[str, Callable[..., Any]] = {
        "sync_invoke": sync_invoke,
        "async_invoke": async_invoke,
        "generator": generator,
        "sync_batch": sync_batch,
        "async_stream": async_stream,
        "async_batch": async_batch,
    }
    if case == "in_sequence":
        return r.RunnableLambda(add_one) | r.RunnableLambda(sync_invoke)
    return r.RunnableLambda(functions[case])


NESTED = ["sync_invoke", "async_invoke", "sync_batch", "async_stream", "async_batch", "in_sequence"]
# (LangChain cannot astream a lambda of a sync generator function: "generator" is tested invoked.)


def label(run_id: Any) -> str:
    return "given" if str(run_id) == str(GIVEN) else "fresh"


async def nested_events(runnable: Any, seen: list[list[str]]) -> dict[str, Any]:
    events, error = await collect(runnable, 1, config={"run_name": "outer", "run_id": GIVEN})
    assert error is None
    return {
        # sorted: the two runs of a nested batch interleave differently from run to run
        "events": sorted(
            (
                event["event"],
                event["name"],
                label(event["run_id"]),
                [label(parent) for parent in event["parent_ids"]],
                sorted(event["tags"]),
            )
            for event in events
        ),
        "run_ids": len({event["run_id"] for event in events}),
        "config_seen": seen,
    }


@pytest.mark.parametrize("case", NESTED)
async def test_nested_call_with_the_callers_config(case: str) -> None:
    def build(lib: str) -> tuple[Any, Any]:
        seen: list[list[str]] = []
        return nested_calls(case, lib, seen), seen

    mine, theirs = await both(build, nested_events)
    starts = [event for event in theirs["events"] if event[0] == "on_chain_start"]
    assert [event for event in starts if event[1] == "outer"] == [
        ("on_chain_start", "outer", "given", [], [])
    ]
    assert all(event[2] == "fresh" for event in starts if event[1] != "outer")
    assert theirs["run_ids"] == len(starts)
    assert theirs["config_seen"] == [[]]
    assert mine == theirs


class LCRecorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.starts: list[tuple[str, Any, Any]] = []

    def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        with self.lock:
            self.starts.append((kwargs.get("name"), run_id, parent_run_id))


class OurRecorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.starts: list[tuple[str, Any, Any]] = []

    def on_start(self, run: Run) -> None:
        with self.lock:
            self.starts.append((run.name, run.id, run.parent_id))


@pytest.mark.parametrize("case", ["sync_invoke", "generator", "sync_batch", "in_sequence"])
def test_nested_call_with_the_callers_config_invoked(case: str) -> None:
    results = []
    for lib in LIBS:
        recorder = OurRecorder() if lib == "ours" else LCRecorder()
        seen: list[list[str]] = []
        runnable = nested_calls(case, lib, seen)
        runnable.invoke(1, {"run_name": "outer", "run_id": GIVEN, "callbacks": [recorder]})
        parents = {run_id: name for name, run_id, _ in recorder.starts}
        results.append(
            (
                sorted(
                    (name, label(run_id), None if parent is None else parents[parent])
                    for name, run_id, parent in recorder.starts
                ),
                len({run_id for _, run_id, _ in recorder.starts}),
                seen,
            )
        )
    mine, theirs = results
    starts, count, seen = theirs
    assert ("outer", "given", None) in starts
    assert all(run_id == "fresh" for name, run_id, _ in starts if name != "outer")
    assert count == len(starts)
    assert seen == [[]]
    assert mine == theirs
