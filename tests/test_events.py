"""`astream_events` / `stream_events`: kinds, order, data, filters, back-pressure, early close."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from contextlib import aclosing
from typing import Any, cast

import anyio
import pytest

from runnables import RunnableGenerator, RunnableLambda, RunnableParallel, RunnablePassthrough
from runnables.tracing import StreamEvent

pytestmark = pytest.mark.anyio


def brief(events: list[StreamEvent]) -> list[tuple[str, str, int, list[str]]]:
    return [(e["event"], e["name"], len(e["parent_ids"]), sorted(e["tags"])) for e in events]


async def collect(chain: Any, input: Any, **kwargs: Any) -> list[StreamEvent]:
    return [event async for event in chain.astream_events(input, **kwargs)]


def add_one(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


async def test_single_lambda() -> None:
    events = await collect(RunnableLambda(add_one), 1)
    assert brief(events) == [
        ("on_chain_start", "add_one", 0, []),
        ("on_chain_stream", "add_one", 0, []),
        ("on_chain_end", "add_one", 0, []),
    ]
    start, stream, end = events
    assert start["data"] == {"input": 1}
    assert stream["data"] == {"chunk": 2}
    assert end["data"] == {"output": 2}  # the root's end carries its output only (LangChain's)
    assert start["run_id"] == stream["run_id"] == end["run_id"]
    assert start["parent_ids"] == []


async def test_sequence_order_and_position_tags() -> None:
    chain = RunnableLambda(add_one) | RunnableLambda(double)
    events = await collect(chain, 1, config={"tags": ["t"], "metadata": {"m": 1}})
    assert brief(events) == [
        ("on_chain_start", "RunnableSequence", 0, ["t"]),
        ("on_chain_start", "add_one", 1, ["seq:step:1", "t"]),
        ("on_chain_stream", "add_one", 1, ["seq:step:1", "t"]),
        # a step starts when its first input chunk arrives; the step before it ends when
        # asked for more
        ("on_chain_start", "double", 1, ["seq:step:2", "t"]),
        ("on_chain_end", "add_one", 1, ["seq:step:1", "t"]),
        ("on_chain_stream", "double", 1, ["seq:step:2", "t"]),
        ("on_chain_stream", "RunnableSequence", 0, ["t"]),
        ("on_chain_end", "double", 1, ["seq:step:2", "t"]),
        ("on_chain_end", "RunnableSequence", 0, ["t"]),
    ]
    root_id = events[0]["run_id"]
    assert all(e["parent_ids"] == [root_id] for e in events if e["name"] != "RunnableSequence")
    assert all(e["metadata"] == {"m": 1} for e in events)
    assert events[-1]["data"] == {"output": 4}
    # A streamed step's input is not known when it starts, only at its end.
    assert events[3]["data"] == {}
    assert events[7]["data"] == {"input": 2, "output": 4}


async def test_parallel_branches_are_children_with_key_tags() -> None:
    chain = RunnableParallel({"a": RunnablePassthrough(), "b": RunnableLambda(add_one)})
    events = await collect(chain, 1)
    root = events[0]
    assert root["event"] == "on_chain_start"
    assert root["name"] == "RunnableParallel<a,b>"
    children = [e for e in events if e["name"] != root["name"]]
    assert {(e["name"], tuple(e["tags"])) for e in children} == {
        ("RunnablePassthrough", ("map:key:a",)),
        ("add_one", ("map:key:b",)),
    }
    assert all(e["parent_ids"] == [root["run_id"]] for e in children)
    root_chunks: list[dict[str, int]] = [
        e["data"].get("chunk", {})
        for e in events
        if e["event"] == "on_chain_stream" and e is not root and e["name"] == root["name"]
    ]
    assert sorted(root_chunks, key=str) == [{"a": 1}, {"b": 2}]
    assert events[-1]["data"].get("output") == {"a": 1, "b": 2}
    # every child's start comes before its stream, which comes before its end
    for name in ("RunnablePassthrough", "add_one"):
        kinds = [e["event"] for e in children if e["name"] == name]
        assert kinds == ["on_chain_start", "on_chain_stream", "on_chain_end"]


async def test_generator_streams_each_chunk_before_the_parent() -> None:
    async def letters(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        async for chunk in chunks:
            for letter in chunk:
                yield letter

    chain = RunnableLambda(str) | RunnableGenerator(letters)
    events = await collect(chain, 123)
    streams = [
        (e["name"], e["data"].get("chunk")) for e in events if e["event"].endswith("_stream")
    ]
    assert streams == [
        ("str", "123"),
        ("letters", "1"),
        ("RunnableSequence", "1"),
        ("letters", "2"),
        ("RunnableSequence", "2"),
        ("letters", "3"),
        ("RunnableSequence", "3"),
    ]
    end = next(e for e in events if e["event"] == "on_chain_end" and e["name"] == "letters")
    assert end["data"] == {"input": "123", "output": "123"}


async def test_nested_call_is_a_child_of_the_lambda() -> None:
    inner = RunnableLambda(double)

    def outer(x: int) -> int:
        return inner.invoke(x) + 1

    events = await collect(RunnableLambda(add_one) | RunnableLambda(outer), 1)
    outer_start = next(e for e in events if e["name"] == "outer")
    nested = [e for e in events if e["name"] == "double"]
    assert [e["event"] for e in nested] == ["on_chain_start", "on_chain_end"]
    assert nested[0]["parent_ids"] == [events[0]["run_id"], outer_start["run_id"]]
    assert nested[0]["data"] == {"input": 2}
    assert nested[1]["data"] == {"input": 2, "output": 4}
    assert events[-1]["data"].get("output") == 5
    order = [(e["event"], e["name"]) for e in events]
    assert order.index(("on_chain_start", "outer")) < order.index(("on_chain_start", "double"))
    assert order.index(("on_chain_end", "double")) < order.index(("on_chain_end", "outer"))


async def test_async_nested_call() -> None:
    inner = RunnableLambda(double)

    async def outer(x: int) -> int:
        return await inner.ainvoke(x) + 1

    events = await collect(RunnableLambda(outer), 1)
    assert brief(events) == [
        ("on_chain_start", "outer", 0, []),
        ("on_chain_start", "double", 1, []),
        ("on_chain_end", "double", 1, []),
        ("on_chain_stream", "outer", 0, []),
        ("on_chain_end", "outer", 0, []),
    ]


class Boom(Exception):
    pass


def fail(x: int) -> int:
    raise Boom(x)


async def test_error_propagates_unchanged_and_emits_no_error_event() -> None:
    seen: list[StreamEvent] = []

    async def consume() -> None:
        async for event in (RunnableLambda(add_one) | RunnableLambda(fail)).astream_events(1):
            seen.append(event)

    with pytest.raises(Boom) as info:
        await consume()
    assert info.type is Boom  # not an ExceptionGroup
    # Like LangChain v2: the failing runs' starts are seen, then no end and no error event.
    assert brief(seen) == [
        ("on_chain_start", "RunnableSequence", 0, []),
        ("on_chain_start", "add_one", 1, ["seq:step:1"]),
        ("on_chain_stream", "add_one", 1, ["seq:step:1"]),
        ("on_chain_start", "fail", 1, ["seq:step:2"]),
        ("on_chain_end", "add_one", 1, ["seq:step:1"]),
    ]


async def test_filters() -> None:
    chain = (
        RunnableLambda(add_one).with_config(tags=["keep"])
        | RunnableLambda(double).with_config(run_name="twice")
        | RunnableLambda(add_one)
    )
    names = {e["name"] for e in await collect(chain, 1, include_names=["twice"])}
    assert names == {"twice"}
    names = {e["name"] for e in await collect(chain, 1, include_tags=["keep"])}
    assert names == {"add_one"}
    events = await collect(chain, 1, include_tags=["keep"])
    assert len(events) == 3  # only the first add_one carries the tag
    names = {
        e["name"]
        for e in await collect(chain, 1, include_types=["chain"], exclude_names=["add_one"])
    }
    assert names == {"RunnableSequence", "twice"}
    names = {e["name"] for e in await collect(chain, 1, exclude_tags=["seq:step:2"])}
    assert names == {"RunnableSequence", "add_one"}
    assert await collect(chain, 1, include_types=["retriever"]) == []


async def test_config_callbacks_still_called() -> None:
    started: list[str] = []

    class Listener:
        def on_start(self, run: Any) -> None:
            started.append(run.name)

    await collect(RunnableLambda(add_one), 1, config={"callbacks": [Listener()]})
    assert started == ["add_one"]


async def test_back_pressure_slow_consumer_slows_the_run() -> None:
    produced: list[int] = []

    async def numbers(x: int) -> AsyncIterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    stream = cast("AsyncGenerator[StreamEvent, None]", RunnableLambda(numbers).astream_events(0))
    async with aclosing(stream) as events:
        count = 0
        async for _ in events:
            count += 1
            if count == 10:
                await anyio.sleep(0.05)
                # The buffer is bounded: the run cannot be far ahead of the consumer.
                assert len(produced) < 200
                break
    assert len(produced) < 200


async def test_early_break_cancels_the_run_cleanly() -> None:
    finished: list[str] = []

    async def numbers(x: int) -> AsyncIterator[int]:
        try:
            for i in range(100_000):
                yield i
                await anyio.sleep(0)
        finally:
            finished.append("finally")

    chain = RunnableLambda(add_one) | RunnableLambda(numbers)
    stream = cast("AsyncGenerator[StreamEvent, None]", chain.astream_events(1))
    async with aclosing(stream) as events:
        async for event in events:
            if event["event"] == "on_chain_stream" and event["data"].get("chunk") == 3:
                break
    assert finished == ["finally"]


async def test_unsupported_version() -> None:
    with pytest.raises(NotImplementedError):
        RunnableLambda(add_one).astream_events(1, version="v1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def test_stream_events_sync() -> None:
    def letters(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            yield from chunk

    chain = RunnableLambda(str) | RunnableGenerator(letters)
    events = list(chain.stream_events(12))
    assert brief(events) == [
        ("on_chain_start", "RunnableSequence", 0, []),
        ("on_chain_start", "str", 1, ["seq:step:1"]),
        ("on_chain_stream", "str", 1, ["seq:step:1"]),
        ("on_chain_start", "letters", 1, ["seq:step:2"]),
        ("on_chain_stream", "letters", 1, ["seq:step:2"]),
        ("on_chain_stream", "RunnableSequence", 0, []),
        ("on_chain_stream", "letters", 1, ["seq:step:2"]),
        ("on_chain_stream", "RunnableSequence", 0, []),
        # the generator consumes its input lazily: `str` ends once asked for more
        ("on_chain_end", "str", 1, ["seq:step:1"]),
        ("on_chain_end", "letters", 1, ["seq:step:2"]),
        ("on_chain_end", "RunnableSequence", 0, []),
    ]
    assert events[0]["data"] == {"input": 12}
    assert events[-1]["data"] == {"output": "12"}


def test_stream_events_sync_error_and_early_close() -> None:
    with pytest.raises(Boom):
        list(RunnableLambda(fail).stream_events(1))
    finished: list[str] = []

    def numbers(x: int) -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            finished.append("finally")

    events = cast("Generator[StreamEvent, None, None]", RunnableLambda(numbers).stream_events(1))
    for event in events:
        if event["event"] == "on_chain_stream":
            break
    events.close()
    assert finished == ["finally"]


def test_stream_events_sync_parallel_branches_on_threads() -> None:
    chain = RunnableParallel({"a": RunnableLambda(add_one), "b": RunnableLambda(double)})
    events = list(chain.stream_events(3))
    counts = Counter((e["event"], e["name"]) for e in events)
    assert counts == {
        ("on_chain_start", "RunnableParallel<a,b>"): 1,
        ("on_chain_start", "add_one"): 1,
        ("on_chain_start", "double"): 1,
        ("on_chain_stream", "add_one"): 1,
        ("on_chain_stream", "double"): 1,
        ("on_chain_stream", "RunnableParallel<a,b>"): 2,
        ("on_chain_end", "add_one"): 1,
        ("on_chain_end", "double"): 1,
        ("on_chain_end", "RunnableParallel<a,b>"): 1,
    }
    assert events[0]["name"] == "RunnableParallel<a,b>"
    assert events[-1]["data"].get("output") == {"a": 4, "b": 6}
    root_id = events[0]["run_id"]
    assert all(e["parent_ids"] == [root_id] for e in events[1:-1] if e["name"] != events[0]["name"])


async def test_changing_an_event_reaches_no_other_event_run_or_child() -> None:
    """The events of one run share its tags and metadata (built once per run, as LangChain's
    are); what a consumer changes in an event stays out of the run, its observers and its
    children, and out of every other event's `parent_ids` and `data`."""

    async def tokens(x: int) -> AsyncIterator[int]:
        for i in range(3):
            yield x + i

    seen: list[tuple[list[str], dict[str, Any]]] = []

    class Recorder:
        def on_end(self, run: Any) -> None:
            seen.append((list(run.tags), dict(run.metadata)))

    chain = RunnableLambda(tokens).with_config(tags=["t"], metadata={"m": 1}) | RunnableGenerator(
        bump_each
    )
    config: Any = {"callbacks": [Recorder()]}
    events = []
    async for event in chain.astream_events(1, config):
        events.append(event)
        if event["event"] == "on_chain_stream" and event["name"] == "tokens":
            event["parent_ids"].append("mine")
            event["data"]["chunk"] = "mine"
            event["tags"].append("mine")
            event["metadata"]["mine"] = True
    tokens_events = [e for e in events if e["name"] == "tokens"]
    assert [e["data"].get("chunk") for e in tokens_events if e["event"].endswith("stream")] == [
        "mine"
    ] * 3
    assert all(e["parent_ids"].count("mine") <= 1 for e in events)
    child = [e for e in events if e["name"] == "bump_each"]
    assert all("mine" not in e["tags"] and "mine" not in e["metadata"] for e in child)
    assert [e["data"]["chunk"] for e in child if e["event"] == "on_chain_stream"] == [2, 3, 4]
    assert all("mine" not in tags and "mine" not in metadata for tags, metadata in seen)
    # Shared within the run, as documented: the start event saw the changes made later.
    assert tokens_events[0]["tags"].count("mine") == 3


async def bump_each(xs: AsyncIterator[int]) -> AsyncIterator[int]:
    async for x in xs:
        yield x + 1
