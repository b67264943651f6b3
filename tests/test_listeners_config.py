"""Listeners as LangChain takes them: `with_listeners` accepts `(run)` and `(run, config)`
(a `config` parameter gets the call's config), and `with_alisteners` awaits async listeners in
order, before the run goes on."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from runnables import Run, RunnableConfig, RunnableLambda, with_listeners


def double(x: int) -> int:
    return x * 2


CALL: Any = {"tags": ["call"], "metadata": {"user": "ada"}, "configurable": {"mode": "fast"}}


def lc_lambda(fn: Any) -> Any:
    lc = pytest.importorskip("langchain_core.runnables")
    return lc.RunnableLambda(fn)


def seen_by_listeners(step: Any) -> list[tuple[str, Any, list[str], dict[str, Any], Any]]:
    seen: list[tuple[str, Any, list[str], dict[str, Any], Any]] = []

    def on_start(run: Any, config: Any) -> None:
        seen.append(
            ("start", run.inputs, config["tags"], config["metadata"], config["configurable"])
        )

    def on_end(run: Any) -> None:
        seen.append(("end", run.outputs, [], {}, None))

    step.with_listeners(on_start=on_start, on_end=on_end).invoke(2, CALL)
    return seen


def test_config_listener_gets_the_calls_config_like_langchain() -> None:
    mine = seen_by_listeners(RunnableLambda(double))
    theirs = seen_by_listeners(lc_lambda(double))
    assert mine == theirs
    assert mine[0] == ("start", {"input": 2}, ["call"], {"user": "ada"}, {"mode": "fast"})


def test_config_is_given_as_a_keyword() -> None:
    configs: list[RunnableConfig] = []

    def on_end(run: Run, *, config: RunnableConfig) -> None:
        configs.append(config)

    RunnableLambda(double).with_listeners(on_end=on_end).invoke(1, {"tags": ["x"]})
    assert configs[0].get("tags") == ["x"]


def test_on_error_with_config() -> None:
    errors: list[tuple[str, list[str]]] = []

    def boom(x: int) -> int:
        raise ValueError(x)

    def on_error(run: Run, config: RunnableConfig) -> None:
        errors.append((type(run.error).__name__, config.get("tags", [])))

    with pytest.raises(ValueError, match="3"):
        RunnableLambda(boom).with_listeners(on_error=on_error).invoke(3, {"tags": ["t"]})
    assert errors == [("ValueError", ["t"])]


def test_decorator_takes_config_listeners() -> None:
    tags: list[list[str]] = []

    def on_end(run: Run, config: RunnableConfig) -> None:
        tags.append(config.get("tags", []))

    @with_listeners(on_end=on_end)
    def step(x: int) -> int:
        return x

    step.invoke(1, {"tags": ["d"]})
    assert tags == [["d"]]


# ------------------------------------------------------------------------- async listeners


def ordered(lib: str) -> tuple[Any, list[str]]:
    """A step whose async listeners log, after a checkpoint, around the step's own entry."""
    log: list[str] = []

    def step(x: int) -> int:
        log.append("run")
        return x

    async def on_start(run: Any) -> None:
        await asyncio.sleep(0) if lib == "lc" else await anyio.sleep(0)
        log.append("start")

    async def on_end(run: Any, config: Any) -> None:
        await asyncio.sleep(0) if lib == "lc" else await anyio.sleep(0)
        log.append(f"end {run.outputs['output']} {config['tags']}")

    wrapped = RunnableLambda(step) if lib == "ours" else lc_lambda(step)
    return wrapped.with_alisteners(on_start=on_start, on_end=on_end), log


@pytest.mark.anyio
async def test_async_listeners_are_awaited_in_order(anyio_backend: str) -> None:
    step, log = ordered("ours")
    assert await step.ainvoke(4, {"tags": ["a"]}) == 4
    log.append("returned")
    assert log == ["start", "run", "end 4 ['a']", "returned"]


@pytest.mark.anyio
async def test_async_listeners_like_langchain(anyio_backend: str) -> None:
    step, log = ordered("lc")

    async def theirs() -> None:
        await step.ainvoke(4, {"tags": ["a"]})
        log.append("returned")

    await anyio.to_thread.run_sync(lambda: asyncio.run(theirs()))
    assert log == ["start", "run", "end 4 ['a']", "returned"]


def test_async_listeners_on_a_sync_call() -> None:
    step, log = ordered("ours")
    assert step.invoke(5, {"tags": ["s"]}) == 5
    assert log == ["start", "run", "end 5 ['s']"]


@pytest.mark.anyio
async def test_async_listeners_on_a_stream(anyio_backend: str) -> None:
    step, log = ordered("ours")
    assert [chunk async for chunk in step.astream(6)] == [6]
    assert log == ["start", "run", "end 6 []"]


@pytest.mark.anyio
async def test_async_on_error(anyio_backend: str) -> None:
    failures: list[str] = []

    async def boom(x: int) -> int:
        raise KeyError(x)

    async def on_error(run: Run) -> None:
        await anyio.sleep(0)
        failures.append(repr(run.error))

    with pytest.raises(KeyError):
        await RunnableLambda(boom).with_alisteners(on_error=on_error).ainvoke(1)
    assert failures == ["KeyError(1)"]
