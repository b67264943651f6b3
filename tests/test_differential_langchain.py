"""`astream_events(version="v2")` compared with langchain-core's on the same chains.

Events are normalised to `(event, name, depth, sorted tags)` (ids and timestamps differ), and
between two non-stream events each run's stream events are kept once (the two fake chat models
cut their answers into tokens differently: words here, characters in LangChain). Where we deliberately differ, the test says so and why.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import pytest

lc = pytest.importorskip("langchain_core.runnables")

import runnables as ours  # noqa: E402
from runnables.documents import Document  # noqa: E402

pytestmark = pytest.mark.anyio

Norm = tuple[str, str, int, tuple[str, ...]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # langchain-core runs on asyncio only


def normalise(events: list[dict[str, Any]]) -> list[Norm]:
    out: list[Norm] = []
    streamed: set[Norm] = set()
    for event in events:
        item = (
            event["event"],
            event["name"],
            len(event["parent_ids"]),
            tuple(sorted(event["tags"])),
        )
        if item[0].endswith("_stream"):
            if item in streamed:
                continue
            streamed.add(item)
        else:
            streamed.clear()
        out.append(item)
    return out


async def events_of(chain: Any, input: Any, *, langchain: bool, **kwargs: Any) -> list[Norm]:
    events: list[dict[str, Any]] = []
    try:
        async for event in chain.astream_events(input, version="v2", **kwargs):
            events.append(dict(event))
    except Exception as exc:
        events.append(
            {"event": f"raised {type(exc).__name__}", "name": "", "parent_ids": [], "tags": []}
        )
    return normalise(events)


def add_one(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def fail(x: int) -> int:
    raise ValueError(x)


async def letters(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    async for chunk in chunks:
        for letter in chunk:
            yield letter


def chains(lib: Any) -> dict[str, tuple[Any, Any]]:
    inner = lib.RunnableLambda(double)

    def nested(x: int) -> int:
        return int(inner.invoke(x)) + 1

    async def anested(x: int) -> int:
        return int(await inner.ainvoke(x)) + 1

    return {
        "lambda": (lib.RunnableLambda(add_one), 1),
        "sequence": (lib.RunnableLambda(add_one) | lib.RunnableLambda(double), 1),
        "named": (
            lib.RunnableLambda(add_one).with_config(run_name="first", tags=["x"])
            | lib.RunnableLambda(double),
            1,
        ),
        "generator": (lib.RunnableLambda(str) | lib.RunnableGenerator(letters), 123),
        "passthrough": (lib.RunnablePassthrough() | lib.RunnableLambda(add_one), 1),
        "nested": (lib.RunnableLambda(nested), 1),
        "nested_in_sequence": (lib.RunnableLambda(add_one) | lib.RunnableLambda(nested), 1),
        "async_nested": (lib.RunnableLambda(add_one) | lib.RunnableLambda(anested), 1),
        "error": (lib.RunnableLambda(add_one) | lib.RunnableLambda(fail), 1),
        "error_alone": (lib.RunnableLambda(fail), 1),
    }


@pytest.mark.parametrize("case", sorted(chains(ours)))
async def test_same_sequence(case: str) -> None:
    mine, input = chains(ours)[case]
    theirs, _ = chains(lc)[case]
    assert await events_of(mine, input, langchain=False) == await events_of(
        theirs, input, langchain=True
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"include_names": ["double"]},
        {"exclude_tags": ["seq:step:1"]},
        {"include_types": ["chain"], "exclude_names": ["add_one"]},
    ],
)
async def test_same_filtered_sequence(kwargs: dict[str, Any]) -> None:
    mine, input = chains(ours)["sequence"]
    theirs, _ = chains(lc)["sequence"]
    assert await events_of(mine, input, langchain=False, **kwargs) == await events_of(
        theirs, input, langchain=True, **kwargs
    )


def check_run_order(events: list[Norm]) -> None:
    """Within each (name, depth, tags) run: start first, end last."""
    runs: dict[tuple[str, int, tuple[str, ...]], list[str]] = {}
    for kind, name, depth, tags in events:
        runs.setdefault((name, depth, tags), []).append(kind.rsplit("_", 1)[1])
    for phases in runs.values():
        assert phases[0] == "start"
        assert phases[-1] == "end"


async def test_parallel_same_events_in_a_different_interleaving() -> None:
    # Deliberate difference: our parallel pumps each branch into its output buffer without
    # waiting for the consumer, so a branch's end event comes before the parallel's stream
    # event for that branch's chunk; LangChain's branches end only when pulled again. The
    # events (and each run's own order) are the same.
    def build(lib: Any) -> Any:
        return lib.RunnableLambda(add_one) | {
            "a": lib.RunnablePassthrough(),
            "b": lib.RunnableLambda(double),
        }

    mine = await events_of(build(ours), 1, langchain=False)
    theirs = await events_of(build(lc), 1, langchain=True)
    assert Counter(mine) == Counter(theirs)
    assert mine[:4] == theirs[:4]
    assert mine[-2:] == theirs[-2:]
    check_run_order(mine)


async def test_assign_position_tag_difference() -> None:
    # Deliberate difference: our `RunnableAssign` runs its branches as a parallel tagged
    # `map:key:__assign__`; LangChain's inner parallel carries no position tag.
    def build(lib: Any) -> Any:
        def plus_one(d: dict[str, int]) -> int:
            return d["a"] + 1

        return lib.RunnablePassthrough.assign(b=plus_one)

    mine = await events_of(build(ours), {"a": 1}, langchain=False)
    theirs = await events_of(build(lc), {"a": 1}, langchain=True)
    untagged = [
        (kind, name, depth, tuple(t for t in tags if t != "map:key:__assign__"))
        for kind, name, depth, tags in mine
    ]
    assert Counter(untagged) == Counter(theirs)
    assert ("on_chain_start", "RunnableParallel<b>", 1, ("map:key:__assign__",)) in mine


# ---------------------------------------------------------------- the seed's retrieval chain

TEMPLATE = "Answer from the context:\n{context}\n\nQuestion: {question}"
ANSWER = "Harrison worked at Kensho."


def our_retrieval_chain() -> Any:
    retrievers = pytest.importorskip("runnables.retrievers")
    prompts = pytest.importorskip("runnables.prompts")
    parsers = pytest.importorskip("runnables.parsers")
    models = pytest.importorskip("runnables.models")

    @attrs.frozen
    class Kensho(retrievers.BaseRetriever):  # type: ignore[misc,name-defined]
        async def _aget_relevant_documents(self, query: str) -> list[Document]:
            await asyncio.sleep(0.02)  # end after the passthrough branch, as in LangChain
            return [Document(page_content="harrison worked at kensho")]

    return (
        {"context": Kensho().with_config(run_name="Docs"), "question": ours.RunnablePassthrough()}
        | prompts.ChatPromptTemplate.from_template(TEMPLATE)
        | models.FakeListChatModel(responses=[ANSWER]).with_config(run_name="my_llm")
        | parsers.StrOutputParser()
    )


def their_retrieval_chain() -> Any:
    from langchain_core.documents import Document as LCDocument
    from langchain_core.language_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.retrievers import BaseRetriever

    class Kensho(BaseRetriever):
        def _get_relevant_documents(
            self, query: str, *, run_manager: Any = None
        ) -> list[LCDocument]:
            raise NotImplementedError

        async def _aget_relevant_documents(
            self, query: str, *, run_manager: Any = None
        ) -> list[LCDocument]:
            await asyncio.sleep(0.02)
            return [LCDocument(page_content="harrison worked at kensho")]

    return (
        {"context": Kensho().with_config(run_name="Docs"), "question": lc.RunnablePassthrough()}
        | ChatPromptTemplate.from_template(TEMPLATE)
        | FakeListChatModel(responses=[ANSWER]).with_config(run_name="my_llm")
        | StrOutputParser()
    )


async def test_retrieval_chain_matches_langchain() -> None:
    mine = await events_of(our_retrieval_chain(), "where did harrison work?", langchain=False)
    theirs = await events_of(their_retrieval_chain(), "where did harrison work?", langchain=True)
    # Deliberate difference (the parallel's, see above): the passthrough branch ends before the
    # parallel streams its chunk, not just after. Everything else is in LangChain's order.
    passthrough_end = ("on_chain_end", "RunnablePassthrough", 2, ("map:key:question",))
    parallel_stream = ("on_chain_stream", "RunnableParallel<context,question>", 1, ("seq:step:1",))
    i = theirs.index(parallel_stream)
    assert theirs[i + 1] == passthrough_end
    theirs[i], theirs[i + 1] = theirs[i + 1], theirs[i]
    assert mine == theirs
    kinds = [kind for kind, *_ in mine]
    assert "on_retriever_start" in kinds
    assert "on_prompt_end" in kinds
    assert "on_chat_model_stream" in kinds
    assert "on_parser_stream" in kinds


@pytest.mark.parametrize(
    "kwargs",
    [
        {"include_names": ["Docs", "my_llm"]},
        {"include_types": ["chat_model", "parser"]},
        {"exclude_types": ["chain"]},
        {"include_tags": ["map:key:context"]},
    ],
)
async def test_retrieval_chain_filters_match_langchain(kwargs: dict[str, Any]) -> None:
    mine = await events_of(our_retrieval_chain(), "where?", langchain=False, **kwargs)
    theirs = await events_of(their_retrieval_chain(), "where?", langchain=True, **kwargs)
    assert mine == theirs


async def test_retrieval_chain_data() -> None:
    events = [event async for event in our_retrieval_chain().astream_events("where?")]
    by_kind: dict[str, dict[str, Any]] = {}
    for event in events:
        by_kind.setdefault(event["event"], dict(event["data"]))
    # Below the root, as LangChain shows them: a retriever's input is {"query": q}, a chat
    # model's {"messages": [[...]]} (tests/test_differential_events.py compares more).
    assert by_kind["on_retriever_start"] == {"input": {"query": "where?"}}
    assert by_kind["on_retriever_end"]["output"] == [
        Document(page_content="harrison worked at kensho")
    ]
    assert [type(m).__name__ for m in by_kind["on_chat_model_start"]["input"]["messages"][0]] == [
        "HumanMessage"
    ]
    assert type(by_kind["on_chat_model_stream"]["chunk"]).__name__ == "AIMessageChunk"
    assert by_kind["on_parser_start"] == {}  # streamed input: known only at the end
    assert events[-1]["data"]["output"] == ANSWER


async def test_tool_events_match_langchain() -> None:
    tools = pytest.importorskip("runnables.tools")
    from langchain_core.tools import tool as lc_tool

    def some_tool(x: int, y: str) -> dict[str, Any]:
        """Some tool."""
        return {"x": x, "y": y}

    def build(lib: Any, make: Callable[[Any], Any]) -> Any:
        def arguments(n: int) -> dict[str, Any]:
            return {"x": n, "y": str(n)}

        return lib.RunnableLambda(arguments) | make(some_tool)

    mine = await events_of(build(ours, tools.tool), 1, langchain=False)
    theirs = await events_of(build(lc, lc_tool), 1, langchain=True)
    assert mine == theirs
    assert ("on_tool_start", "some_tool", 1, ("seq:step:2",)) in mine
