"""`RunnableEach` / `.map()`: a runnable over each element."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import pytest

from runnables import RunnableEach, RunnableLambda, runnable


@runnable
def jittery(x: int) -> int:
    time.sleep(random.uniform(0, 0.01))
    return x * 10


@runnable
async def ajittery(x: int) -> int:
    await anyio.sleep(random.uniform(0, 0.01))
    return x * 10


async def _acollect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


def test_map_is_runnable_each() -> None:
    assert jittery.map() == RunnableEach(jittery)
    assert isinstance(jittery.map(), RunnableEach)
    assert jittery.map().name == "RunnableEach<jittery>"


def test_each_sync_methods_keep_order() -> None:
    each = jittery.map()
    xs = list(range(10))
    assert each.invoke(xs) == [x * 10 for x in xs]
    assert each.invoke([]) == []
    assert each.batch([[1, 2], [3]]) == [[10, 20], [30]]
    chunks = list(each.stream(xs))
    assert chunks == [[x * 10] for x in xs]  # streams element outputs in order


@pytest.mark.anyio
async def test_each_async_methods_keep_order() -> None:
    each = ajittery.map()
    xs = list(range(10))
    assert await each.ainvoke(xs) == [x * 10 for x in xs]
    assert await each.ainvoke([]) == []
    assert await each.abatch([[1], [2, 3]]) == [[10], [20, 30]]
    assert await _acollect(each.astream(xs)) == [[x * 10] for x in xs]


def test_each_in_chain_and_with_generators() -> None:
    def letters(word: str) -> Iterator[str]:
        yield from word

    chain = RunnableLambda(lambda s: s.split()) | RunnableLambda(letters).map()
    assert chain.invoke("ab cd") == ["ab", "cd"]


def test_each_error_is_the_element_error() -> None:
    def fail_on_two(x: int) -> int:
        if x == 2:
            raise ValueError(f"bad {x}")
        return x

    with pytest.raises(ValueError, match="bad 2") as info:
        RunnableLambda(fail_on_two).map().invoke([1, 2, 3])
    assert any("fail_on_two" in note for note in info.value.__notes__)


def test_each_runs_concurrently() -> None:
    # Four calls that each wait for all four: they return only if they ran at once.
    meeting = threading.Barrier(4, timeout=10)

    def meet(x: int) -> int:
        meeting.wait()
        return x

    assert RunnableLambda(meet).map().invoke(list(range(4))) == list(range(4))


class _Ends:
    """Records each run's name and output, so that a stream is traced."""

    def __init__(self) -> None:
        self.outputs: dict[str, Any] = {}

    def on_end(self, run: Any) -> None:
        self.outputs[run.name] = run.outputs


@pytest.mark.anyio
async def test_map_over_nothing_streams_one_empty_list_in_every_form() -> None:
    """A search with no hits is ordinary: the empty list goes on to the next step in every
    call form, traced or not, as it does with invoke."""
    chain = RunnableLambda(lambda q: []) | jittery.map() | RunnableLambda(len)
    ends = _Ends()
    assert list(jittery.map().stream([])) == [[]]
    assert list(jittery.map().transform(iter([[]]))) == [[]]
    assert list(chain.stream("q", {"callbacks": [ends]})) == [0]
    assert ends.outputs["RunnableEach<jittery>"] == []
    assert await _acollect(ajittery.map().astream([])) == [[]]
    assert await _acollect(chain.astream("q", {"callbacks": [_Ends()]})) == [0]
    events = [event async for event in chain.astream_events("q")]
    each_end = [e for e in events if e["event"] == "on_chain_end" and e["name"].startswith("Run")]
    assert each_end[0]["data"]["output"] == []
    final: Any = None
    async for log in chain.astream_log("q", diff=False):
        final = log.state["final_output"]
    assert final == 0


@pytest.mark.anyio
async def test_map_over_a_value_that_is_no_sequence_says_so_in_every_form() -> None:
    mapped: Any = RunnableLambda(lambda x: x + 1).map()
    calls: list[Callable[[], Any]] = [
        lambda: mapped.invoke(5),
        lambda: list(mapped.stream(5)),
        lambda: mapped.batch([5]),
    ]
    for call in calls:
        with pytest.raises(
            TypeError, match=r"RunnableEach<.*> maps over a sequence of inputs, got int: 5"
        ):
            call()
    with pytest.raises(TypeError, match="maps over a sequence of inputs, got int"):
        await mapped.ainvoke(5)
    with pytest.raises(TypeError, match="maps over a sequence of inputs, got int"):
        [chunk async for chunk in mapped.astream(5)]


def test_map_over_an_iterable_that_fails_raises_its_own_error() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise TypeError("broken source")

    with pytest.raises(TypeError, match="broken source"):
        RunnableLambda(lambda x: x).map().invoke(broken())  # type: ignore[arg-type]
