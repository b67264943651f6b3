"""Bugs found by the session-13 hostile review of the streaming core.

Each test is a minimal repro of one confirmed bug, marked `xfail(strict=True)` until the library
is fixed (then the mark goes). The docstring of each says what the contract or LangChain leads a
user to expect and what happens instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from tests.conftest import python_calls

from runnables import (
    ConfigurableField,
    Runnable,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
    runnable,
)
from runnables.models import FakeListChatModel
from runnables.parsers import StrOutputParser


def _words(text: str) -> Iterator[str]:
    for word in text.split():
        yield word + " "


def _inc(x: int) -> int:
    return x + 1


class _Ends:
    """A callback that only counts ends (so that a stream is traced)."""

    def __init__(self) -> None:
        self.ended = 0

    def on_end(self, run: object) -> None:
        self.ended += 1


# --------------------------------------------------------------- a parallel after a streaming step


def _upper_each(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        yield chunk.upper()


def test_a_parallel_after_a_streaming_step_streams() -> None:
    """api.md section 3 lists parallel among the steps that 'pass chunks on as they arrive',
    and LangChain's parallel tees its input stream to its branches. Here `model | {"text":
    parser, "raw": passthrough}` (a common LangChain shape) gives one chunk per branch after
    the model has finished: a streaming UI shows nothing until the end."""
    fan = RunnableParallel(upper=RunnableGenerator(_upper_each))
    chunks = list((RunnableLambda(_words) | fan).stream("a b c"))
    assert chunks == [{"upper": "A "}, {"upper": "B "}, {"upper": "C "}]


@pytest.mark.anyio
async def test_a_model_into_a_dict_of_parser_and_passthrough_streams_async() -> None:
    model = FakeListChatModel(responses=["one two three"])
    chain = model | {"text": StrOutputParser(), "raw": RunnablePassthrough()}
    texts = [chunk["text"] async for chunk in chain.astream("hi") if "text" in chunk]
    assert texts == ["one", " ", "two", " ", "three"]


def test_parallel_transform_streams_its_input_to_its_branches() -> None:
    fan = RunnableParallel(upper=RunnableGenerator(_upper_each), same=RunnablePassthrough())
    chunks = list(fan.transform(iter(["a", "b"])))
    assert [chunk for chunk in chunks if "upper" in chunk] == [{"upper": "A"}, {"upper": "B"}]
    assert [chunk for chunk in chunks if "same" in chunk] == [{"same": "a"}, {"same": "b"}]


# --------------------------------------------------------------- map over an empty list


def _nothing(query: str) -> list[int]:
    return []


def test_map_over_an_empty_list_streams_an_empty_list() -> None:
    """`invoke` of `search | step.map() | len` with no hits gives 0; `stream` of the same chain
    raises 'the input stream was empty' (map yields no chunk at all for []). LangChain's map
    streams `[]` once; a retriever that finds nothing is an ordinary case."""
    chain = RunnableLambda(_nothing) | RunnableLambda(_inc).map() | RunnableLambda(len)
    assert chain.invoke("q") == 0
    assert list(RunnableLambda(_inc).map().stream([])) == [[]]
    assert list(chain.stream("q")) == [0]


@pytest.mark.anyio
async def test_map_over_an_empty_list_streams_an_empty_list_async() -> None:
    chain = RunnableLambda(_nothing) | RunnableLambda(_inc).map() | RunnableLambda(len)
    assert [chunk async for chunk in chain.astream("q")] == [0]
    events = [event async for event in chain.astream_events("q")]
    assert events[-1]["data"].get("output") == 0


# --------------------------------------------------------------- a function returning a runnable


def _route(text: str) -> Runnable[str, str]:
    return RunnableLambda(_words)


def test_a_routing_function_streams_the_runnable_it_returns() -> None:
    """LangChain's routing pattern (`RunnableLambda(route)` returning a chain) keeps streaming:
    LangChain streams the returned runnable. Here `stream` gives one added-up chunk."""
    assert list(RunnableLambda(_route).stream("a b c")) == ["a ", "b ", "c "]


@pytest.mark.anyio
async def test_a_routing_function_streams_the_runnable_it_returns_async() -> None:
    chunks = [chunk async for chunk in RunnableLambda(_route).astream("a b c")]
    assert chunks == ["a ", "b ", "c "]


# --------------------------------------------------------------- bind through wrappers


def _shout(text: str, *, suffix: str = "") -> str:
    return text.upper() + suffix


def _fail(text: str, *, suffix: str = "") -> str:
    raise ValueError(text)


def test_bind_reaches_the_steps_of_fallbacks() -> None:
    """LangChain: `r.with_fallbacks([...]).bind(k=v)` passes `k` to whichever runs. Here
    `bind` raises 'fail takes no call keywords', although `fail` does take `suffix`."""
    guarded = RunnableLambda(_fail).with_fallbacks([RunnableLambda(_shout)])
    assert guarded.bind(suffix="!").invoke("a") == "A!"


@pytest.mark.parametrize("kind", ["fields", "alternatives", "fallbacks"])
def test_bind_reaches_a_model_through_configurable_and_fallbacks(kind: str) -> None:
    """`model.bind(stop=...)` works; after `configurable_fields`, `configurable_alternatives`
    or `with_fallbacks` the same `bind` is refused with a message that is false (the model does
    take `stop`). LangChain binds through all three (a common `llm.configurable_alternatives(
    ...).bind(stop=...)` chain)."""
    model = FakeListChatModel(responses=["a b"])
    wrapped: Runnable[Any, Any]
    if kind == "fields":
        wrapped = model.configurable_fields(responses=ConfigurableField(id="responses"))
    elif kind == "alternatives":
        wrapped = model.configurable_alternatives(
            ConfigurableField(id="model"), default_key="fake", other=model
        )
    else:
        wrapped = model.with_fallbacks([model])
    assert wrapped.bind(stop=["x"]).invoke("hi") == model.bind(stop=["x"]).invoke("hi")


# --------------------------------------------------------------- astream_log(diff=False) cost


def test_astream_log_without_diff_costs_linear_in_chunks() -> None:
    """api.md section 8: 'Streaming cost is linear in the number of chunks'. Each RunLog that
    diff=False yields is built by copying every container of the state so far (and the ops
    so far), so n chunks cost O(n^2): 4,000 tokens through a 3-step chain took 30 s of CPU
    (1,000 took 2.9 s). Counted in Python calls, ten times the chunks should cost
    about ten times the calls, not a hundred."""

    def tokens(n: int) -> Iterator[str]:
        for _ in range(n):
            yield "x"

    chain = RunnableLambda(tokens)

    def log(n: int) -> Callable[[], object]:
        async def read() -> None:
            async for _ in chain.astream_log(n, diff=False):
                pass

        return lambda: anyio.run(read)

    small, large = python_calls(log(100)), python_calls(log(1_000))
    assert large < 15 * small, (small, large)


# --------------------------------------------------------------- long sequences, traced


@pytest.mark.parametrize("form", ["astream_events", "astream_log", "astream+callback"])
@pytest.mark.anyio
async def test_a_traced_stream_through_a_thousand_steps(form: str) -> None:
    """`astream` goes through 10,000 steps (tests/test_streams_scale.py), and so does `invoke`
    with a callback; but the same chain of 300 steps raises RecursionError as soon as the stream
    is traced: an event stream, a run log, or any callback (an OpenTelemetry or LangChain tracer
    attached to every call breaks long chains)."""
    chain = RunnableSequence(*[RunnableLambda(_inc)] * 1_000)
    if form == "astream_events":
        events = [event async for event in chain.astream_events(0)]
        assert events[-1]["data"].get("output") == 1_000
    elif form == "astream_log":
        final: Any = None
        async for log in chain.astream_log(0, diff=False):
            final = log.state["final_output"]
        assert final == 1_000
    else:
        chunks = [chunk async for chunk in chain.astream(0, {"callbacks": [_Ends()]})]
        assert chunks == [1_000]


@pytest.mark.parametrize("form", ["stream_events", "stream+callback"])
def test_a_sync_traced_stream_through_a_thousand_steps(form: str) -> None:
    chain = RunnableSequence(*[RunnableLambda(_inc)] * 1_000)
    if form == "stream_events":
        assert list(chain.stream_events(0))[-1]["data"].get("output") == 1_000
    else:
        assert list(chain.stream(0, {"callbacks": [_Ends()]})) == [1_000]


# --------------------------------------------------------------- nested parallels


def test_deeply_nested_parallels_invoke() -> None:
    """LangChain invokes 400 nested parallels (each level on a fresh thread or task); here
    `invoke` and `ainvoke` raise RecursionError from 250 (stream and astream still work)."""
    nested: Runnable[Any, Any] = RunnableLambda(_inc)
    for _ in range(300):
        nested = RunnableParallel(a=nested)
    out: Any = nested.invoke(0)
    for _ in range(300):
        out = out["a"]
    assert out == 1


# --------------------------------------------------------------- sync parallel after a failure


@pytest.mark.parametrize("method", ["invoke", "batch"])
def test_sync_parallel_stops_a_streaming_branch_when_a_sibling_fails(method: str) -> None:
    """`stream` and `ainvoke` of the same parallel close the generator branch as soon as the
    other branch raises; `invoke` and `batch` keep pulling it to its end before raising (a
    model's token stream that keeps costing, or an endless source that hangs the call)."""
    started = threading.Event()
    pulled = 0
    finished = False

    def tokens(x: int) -> Iterator[int]:
        nonlocal pulled, finished
        for i in range(2_000):
            pulled += 1
            started.set()
            time.sleep(0.001)
            yield i
        finished = True

    def fails(x: int) -> int:
        started.wait(5)
        raise KeyError("sibling failed")

    fan = RunnableParallel(a=RunnableLambda(tokens), b=RunnableLambda(fails))
    call: Callable[[], object] = (
        (lambda: fan.invoke(1)) if method == "invoke" else (lambda: fan.batch([1]))
    )
    with pytest.raises(KeyError):
        call()
    assert not finished, f"the generator branch ran to its end ({pulled} chunks)"


# --------------------------------------------------------------- sync events held back


def test_stream_events_hands_out_a_start_before_the_first_chunk() -> None:
    """`stream_events` 'yields the same events' as `astream_events` (docs/how-to/events.md);
    `astream_events` gives `on_chain_start` at once, but `stream_events` keeps it until the
    step's first chunk (or the whole chain's next output chunk), so a sync UI cannot show
    which step is running while it runs."""
    seen_start = threading.Event()
    saw_it_in_time = False

    @runnable
    def slow(x: int) -> Iterator[int]:
        nonlocal saw_it_in_time
        saw_it_in_time = seen_start.wait(5)
        yield x

    for event in slow.stream_events(1):
        if event["event"] == "on_chain_start":
            seen_start.set()
    assert saw_it_in_time
