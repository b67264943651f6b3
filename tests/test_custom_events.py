"""Custom events: `dispatch_custom_event` / `adispatch_custom_event` from a running step reach
`astream_events` as `on_custom_event` and callbacks as `on_custom_event(name, data, ...)`, with
LangChain's shape; outside a run they raise."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from runnables import (
    CustomEventError,
    Run,
    RunnableGenerator,
    RunnableLambda,
    adispatch_custom_event,
    dispatch_custom_event,
)
from runnables.tools import tool


def sync_step(x: int) -> int:
    dispatch_custom_event("progress", {"x": x})
    return x + 1


async def async_step(x: int) -> int:
    await adispatch_custom_event("progress2", {"x": x})
    return x * 2


def chain_of(lib: str) -> Any:
    if lib == "ours":
        return (RunnableLambda(sync_step) | RunnableLambda(async_step)).with_config(
            tags=["t"], metadata={"m": 1}
        )
    from langchain_core.callbacks.manager import adispatch_custom_event as lc_adispatch
    from langchain_core.callbacks.manager import dispatch_custom_event as lc_dispatch
    from langchain_core.runnables import RunnableLambda as LCLambda

    def lc_sync_step(x: int) -> int:
        lc_dispatch("progress", {"x": x})
        return x + 1

    async def lc_async_step(x: int) -> int:
        await lc_adispatch("progress2", {"x": x})
        return x * 2

    lc_sync_step.__name__, lc_async_step.__name__ = "sync_step", "async_step"
    return (LCLambda(lc_sync_step) | LCLambda(lc_async_step)).with_config(
        tags=["t"], metadata={"m": 1}
    )


def normalised(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events with run ids replaced by their order of appearance and tags sorted."""
    ids: dict[str, str] = {}

    def label(run_id: str) -> str:
        return ids.setdefault(run_id, f"run{len(ids)}")

    return [
        {
            **event,
            "run_id": label(event["run_id"]),
            "parent_ids": [label(parent) for parent in event["parent_ids"]],
            "tags": sorted(event["tags"]),
        }
        for event in events
    ]


async def collect(chain: Any, **kwargs: Any) -> list[dict[str, Any]]:
    return [dict(event) async for event in chain.astream_events(1, version="v2", **kwargs)]


async def on_langchain(**kwargs: Any) -> list[dict[str, Any]]:
    """LangChain's events for the same chain (on asyncio, in a worker thread)."""
    pytest.importorskip("langchain_core")
    chain = chain_of("lc")
    return await anyio.to_thread.run_sync(lambda: asyncio.run(collect(chain, **kwargs)))


# ----------------------------------------------------------------------- against LangChain


@pytest.mark.anyio
async def test_events_match_langchain(anyio_backend: str) -> None:
    mine = normalised(await collect(chain_of("ours")))
    theirs = normalised(await on_langchain())
    assert [e for e in mine if e["event"] == "on_custom_event"] == [
        {
            "event": "on_custom_event",
            "name": "progress",
            "run_id": "run1",  # the calling step's run
            "parent_ids": ["run0"],
            "tags": ["t"],  # inherited tags, no position tag
            "metadata": {"m": 1},
            "data": {"x": 1},
        },
        {
            "event": "on_custom_event",
            "name": "progress2",
            "run_id": "run2",
            "parent_ids": ["run0"],
            "tags": ["t"],
            "metadata": {"m": 1},
            "data": {"x": 2},
        },
    ]
    assert mine == theirs


@pytest.mark.anyio
@pytest.mark.parametrize(
    "filters",
    [
        {"include_types": ["chain"]},
        {"include_names": ["progress"]},
        {"include_types": ["progress2"]},
        {"include_tags": ["t"]},
        {"exclude_names": ["progress"]},
        {"exclude_tags": ["t"]},
    ],
    ids=str,
)
async def test_filters_match_langchain(anyio_backend: str, filters: dict[str, Any]) -> None:
    """A custom event is filtered by its own name, that name as its kind, and its tags."""
    mine = normalised(await collect(chain_of("ours"), **filters))
    theirs = normalised(await on_langchain(**filters))
    assert [(e["event"], e["name"]) for e in mine] == [(e["event"], e["name"]) for e in theirs]


def test_outside_a_run_raises_as_langchain_does() -> None:
    from langchain_core.callbacks.manager import dispatch_custom_event as lc_dispatch

    with pytest.raises(RuntimeError):
        lc_dispatch("x", 1)
    with pytest.raises(CustomEventError, match="outside a running step") as caught:
        dispatch_custom_event("x", 1)
    assert isinstance(caught.value, RuntimeError)


@pytest.mark.anyio
async def test_outside_a_run_raises_async(anyio_backend: str) -> None:
    with pytest.raises(CustomEventError, match="adispatch_custom_event"):
        await adispatch_custom_event("x", 1)


def test_outside_a_run_with_callbacks_in_config_raises() -> None:
    with pytest.raises(CustomEventError):
        dispatch_custom_event("x", 1, config={"callbacks": [Collected()]})


# ------------------------------------------------------------------------------ callbacks


class Collected:
    """A callback with `on_custom_event` only (it is a callback all the same)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[str, Any, uuid.UUID, list[str], dict[str, Any]]] = []

    def on_custom_event(
        self,
        name: str,
        data: Any,
        /,
        *,
        run_id: uuid.UUID,
        tags: list[str],
        metadata: dict[str, Any],
    ) -> None:
        with self.lock:
            self.seen.append((name, data, run_id, tags, metadata))


class Starts:
    def __init__(self) -> None:
        self.ids: dict[str, uuid.UUID] = {}

    def on_start(self, run: Run) -> None:
        self.ids[run.name] = run.id


def test_callbacks_are_told_with_the_calling_run() -> None:
    collected, starts = Collected(), Starts()
    assert chain_of("ours").invoke(1, {"callbacks": [collected, starts]}) == 4
    assert collected.seen == [
        ("progress", {"x": 1}, starts.ids["sync_step"], ["t"], {"m": 1}),
        ("progress2", {"x": 2}, starts.ids["async_step"], ["t"], {"m": 1}),
    ]


class AsyncCollected:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    async def on_custom_event(self, name: str, data: Any, /, **kwargs: Any) -> None:
        await anyio.sleep(0)
        self.seen.append((name, data))


@pytest.mark.anyio
async def test_async_callbacks_are_told(anyio_backend: str) -> None:
    collected = AsyncCollected()
    assert await chain_of("ours").ainvoke(1, {"callbacks": [collected]}) == 4
    # (Sorted: an async callback told only from a worker thread first, here by the sync step,
    # is delivered by the dispatcher's thread worker, and then from the loop by its task
    # worker, so the two deliveries are not ordered; see runnables._core.dispatch.)
    assert sorted(collected.seen, key=str) == [("progress", {"x": 1}), ("progress2", {"x": 2})]


class Raising:
    def on_custom_event(self, name: str, data: Any, /, **kwargs: Any) -> None:
        raise ValueError("callback bug")


def test_a_raising_callback_does_not_break_the_run(caplog: pytest.LogCaptureFixture) -> None:
    assert chain_of("ours").invoke(1, {"callbacks": [Raising()]}) == 4
    assert "callback bug" in caplog.text


def test_explicit_config_is_accepted() -> None:
    collected = Collected()

    def step(x: int, config: Any) -> int:
        dispatch_custom_event("given", x, config=config)
        return x

    RunnableLambda(step).invoke(5, {"callbacks": [collected]})
    assert [(name, data) for name, data, *_ in collected.seen] == [("given", 5)]


# ---------------------------------------------------------------- untraced, and every step kind


def gen(inputs: Iterator[int]) -> Iterator[int]:
    for x in inputs:
        dispatch_custom_event("gen", x)
        yield x


async def agen(inputs: AsyncIterator[int]) -> AsyncIterator[int]:
    async for x in inputs:
        await adispatch_custom_event("agen", x)
        yield x


@tool
def shout(text: str) -> str:
    """Shout the text."""
    dispatch_custom_event("tool", text)
    return text.upper()


def steps() -> list[tuple[str, Any, Any, Any]]:
    return [
        ("sync", RunnableLambda(sync_step), 1, 2),
        ("async", RunnableLambda(async_step), 1, 2),
        ("generator", RunnableGenerator(gen), 1, 1),
        ("async generator", RunnableGenerator(agen), 1, 1),
        ("tool", shout, "hi", "HI"),
    ]


@pytest.mark.parametrize(("case", "step", "value", "expected"), steps(), ids=lambda v: str(v))
def test_untraced_calls_do_not_raise(case: str, step: Any, value: Any, expected: Any) -> None:
    """Nobody listens: dispatching inside a step does nothing (and does not raise)."""
    assert step.invoke(value) == expected
    assert list(step.stream(value)) == [expected]
    assert step.batch([value, value]) == [expected, expected]


@pytest.mark.anyio
@pytest.mark.parametrize(("case", "step", "value", "expected"), steps(), ids=lambda v: str(v))
async def test_untraced_async_calls_do_not_raise(
    anyio_backend: str, case: str, step: Any, value: Any, expected: Any
) -> None:
    assert await step.ainvoke(value) == expected
    assert [chunk async for chunk in step.astream(value)] == [expected]


@pytest.mark.anyio
@pytest.mark.parametrize(("case", "step", "value", "expected"), steps(), ids=lambda v: str(v))
async def test_every_step_kind_dispatches(
    anyio_backend: str, case: str, step: Any, value: Any, expected: Any
) -> None:
    events = [e async for e in step.astream_events(value)]
    start = events[0]
    custom = [e for e in events if e["event"] == "on_custom_event"]
    assert len(custom) == 1
    assert custom[0]["run_id"] == start["run_id"]
    assert custom[0]["parent_ids"] == []


def test_stream_events_carries_custom_events() -> None:
    events = list(chain_of("ours").stream_events(1))
    assert [e["name"] for e in events if e["event"] == "on_custom_event"] == [
        "progress",
        "progress2",
    ]


@pytest.mark.anyio
async def test_sync_dispatch_on_the_event_loop_never_blocks(anyio_backend: str) -> None:
    """Many events dispatched synchronously from async code (on the loop's thread), more than
    the event stream buffers, all arrive in order while the consumer is slow."""

    async def chatty(x: int) -> int:
        for i in range(300):
            dispatch_custom_event("tick", i)
        return x

    seen: list[int] = []
    async for event in RunnableLambda(chatty).astream_events(0):
        if event["event"] == "on_custom_event":
            seen.append(event["data"])
        await anyio.sleep(0)
    assert seen == list(range(300))


def test_dispatch_from_a_thread_the_step_started() -> None:
    """A thread started with the step's context still finds the step (contextvars)."""
    import contextvars

    collected = Collected()

    def step(x: int) -> int:
        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(dispatch_custom_event, "thread", x))
        worker.start()
        worker.join()
        return x

    RunnableLambda(step).invoke(3, {"callbacks": [collected]})
    assert [(name, data) for name, data, *_ in collected.seen] == [("thread", 3)]


# ------------------------------------------------------------------- LangChain handlers


def test_langchain_handlers_are_told() -> None:
    from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler

    seen: list[tuple[str, Any, list[str] | None]] = []

    class Handler(BaseCallbackHandler):
        def on_custom_event(
            self,
            name: str,
            data: Any,
            *,
            run_id: uuid.UUID,
            tags: list[str] | None = None,
            metadata: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:
            seen.append((name, data, tags))

    class AsyncHandler(AsyncCallbackHandler):
        async def on_custom_event(
            self,
            name: str,
            data: Any,
            *,
            run_id: uuid.UUID,
            tags: list[str] | None = None,
            metadata: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:
            seen.append((f"async {name}", data, tags))

    chain_of("ours").invoke(1, {"callbacks": [Handler(), AsyncHandler()]})
    assert sorted(seen, key=str) == [
        ("async progress", {"x": 1}, ["t"]),
        ("async progress2", {"x": 2}, ["t"]),
        ("progress", {"x": 1}, ["t"]),
        ("progress2", {"x": 2}, ["t"]),
    ]
