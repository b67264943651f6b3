"""`RunnableSequence.batch`/`abatch` call each step's own `batch`/`abatch` when it has one (a
step batching its inputs together, e.g. in one request), as LangChain's sequence does, with
one concurrency budget for the whole call and `return_exceptions` keeping a failed input
away from the later steps."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import anyio
import pytest

from runnables import RunnableBase, RunnableConfig, RunnableLambda


class Failed(Exception):
    pass


def add_one(x: int) -> int:
    if x == 10:
        raise Failed(x)
    return x + 1


class Batched(RunnableBase[int, int]):
    """A step that doubles, answering a whole batch in one call (and records each call)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.invoked: list[int] = []

    def invoke(self, input: int, config: RunnableConfig | None = None) -> int:
        self.invoked.append(input)
        return input * 2

    def batch(  # type: ignore[override]
        self,
        inputs: Sequence[int],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
    ) -> list[int]:
        self.batches.append(list(inputs))
        return [x * 2 for x in inputs]

    async def abatch(  # type: ignore[override]
        self,
        inputs: Sequence[int],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
    ) -> list[int]:
        await anyio.sleep(0)
        self.batches.append(list(inputs))
        return [x * 2 for x in inputs]


def lc_batched() -> Any:
    lc = pytest.importorskip("langchain_core.runnables")

    class LCBatched(lc.RunnableLambda):  # type: ignore[misc, name-defined]
        batches: list[list[int]]

        def batch(self, inputs: list[int], config: Any = None, **kwargs: Any) -> list[int]:
            self.batches.append(list(inputs))
            return [x * 2 for x in inputs]

        async def abatch(self, inputs: list[int], config: Any = None, **kwargs: Any) -> list[int]:
            self.batches.append(list(inputs))
            return [x * 2 for x in inputs]

    step = LCBatched(lambda x: x * 2)
    step.batches = []
    return step


def build(lib: str) -> tuple[Any, Any]:
    if lib == "ours":
        step = Batched()
        return RunnableLambda(add_one) | step | RunnableLambda(add_one), step
    lc = pytest.importorskip("langchain_core.runnables")
    step = lc_batched()
    return lc.RunnableLambda(add_one) | step | lc.RunnableLambda(add_one), step


def outcome(results: list[Any]) -> list[Any]:
    return [f"failed {r.args}" if isinstance(r, Exception) else r for r in results]


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_the_steps_own_batch_is_called_once(lib: str) -> None:
    chain, step = build(lib)
    assert chain.batch([0, 1, 3]) == [3, 5, 9]
    assert step.batches == [[1, 2, 4]]


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_a_failed_input_is_not_fed_to_later_steps(lib: str) -> None:
    chain, step = build(lib)
    results = chain.batch([0, 10, 3], return_exceptions=True)
    assert outcome(results) == [3, "failed (10,)", 9]
    assert step.batches == [[1, 4]]


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_without_return_exceptions_a_failure_stops_the_batch(lib: str) -> None:
    chain, step = build(lib)
    with pytest.raises(Failed):
        chain.batch([0, 10, 3])
    assert step.batches == []


@pytest.mark.anyio
async def test_the_steps_own_abatch_is_called_once(anyio_backend: str) -> None:
    chain, step = build("ours")
    assert await chain.abatch([0, 1, 3]) == [3, 5, 9]
    assert outcome(await chain.abatch([0, 10, 3], return_exceptions=True)) == [
        3,
        "failed (10,)",
        9,
    ]
    assert step.batches == [[1, 2, 4], [1, 4]]
    assert step.invoked == []


@pytest.mark.anyio
async def test_abatch_like_langchain(anyio_backend: str) -> None:
    async def theirs() -> tuple[list[Any], list[list[int]]]:
        chain, step = build("lc")
        results = await chain.abatch([0, 10, 3], return_exceptions=True)
        return outcome(results), step.batches

    assert await anyio.to_thread.run_sync(lambda: asyncio.run(theirs())) == (
        [3, "failed (10,)", 9],
        [[1, 4]],
    )


def test_per_input_configs_reach_the_steps_batch() -> None:
    seen: list[Any] = []

    class Configs(Batched):
        def batch(  # type: ignore[override]
            self,
            inputs: Sequence[int],
            config: RunnableConfig | Sequence[RunnableConfig] | None = None,
            *,
            return_exceptions: bool = False,
        ) -> list[int]:
            seen.append(config)
            return super().batch(inputs, config, return_exceptions=return_exceptions)

    chain = RunnableLambda(add_one) | Configs()
    chain.batch([0, 1], [{"tags": ["a"]}, {"tags": ["b"]}])
    assert [config["tags"] for config in seen[0]] == [["a"], ["b"]]
    chain.batch([0, 1], {"tags": ["same"]})
    assert seen[1] is None  # one shared config: inherited whole from the running call


def test_one_concurrency_budget_for_the_whole_call() -> None:
    """`max_concurrency` bounds the leaf calls of the steps around the batching step and
    those the batching step makes itself (here through the base `batch`)."""
    lock = threading.Lock()
    running = [0]
    peak = [0]
    gate = threading.Barrier(2, timeout=2)

    def busy(x: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            gate.wait()  # two at once if the budget allows it; a third never gets in
        except threading.BrokenBarrierError:
            pass
        finally:
            with lock:
                running[0] -= 1
        return x

    class Delegating(RunnableBase[int, int]):
        def invoke(self, input: int, config: RunnableConfig | None = None) -> int:
            return RunnableLambda(busy).invoke(input, config)

        def batch(  # type: ignore[override]
            self,
            inputs: Sequence[int],
            config: RunnableConfig | Sequence[RunnableConfig] | None = None,
            *,
            return_exceptions: bool = False,
        ) -> list[int]:
            return RunnableLambda(busy).batch(inputs, config, return_exceptions=return_exceptions)

    chain = RunnableLambda(busy) | Delegating() | RunnableLambda(busy)
    assert chain.batch(list(range(8)), {"max_concurrency": 2}) == list(range(8))
    assert peak[0] == 2


def test_traced_batches_run_input_by_input() -> None:
    """With callbacks, each input runs through the steps on its own (its run holds its
    steps' runs): the results are the same."""
    ends: list[str] = []

    class Ends:
        def on_end(self, run: Any) -> None:
            ends.append(run.name)

    chain, _ = build("ours")
    assert chain.batch([0, 1], {"callbacks": [Ends()]}) == [3, 5]
    assert ends.count("RunnableSequence") == 2


def test_plain_sequences_batch_as_before() -> None:
    chain = RunnableLambda(add_one) | RunnableLambda(add_one)
    assert chain._batch_stages == ()  # pyright: ignore[reportPrivateUsage]
    assert outcome(chain.batch([0, 10], return_exceptions=True)) == [2, "failed (10,)"]
