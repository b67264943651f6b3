"""Config binding and merging, `with_types`, `with_listeners`, callbacks and run trees."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from conftest import Recorder
from runnables import (
    Run,
    RunnableBinding,
    RunnableConfig,
    RunnableLambda,
    RunnableParallel,
    runnable,
)


@runnable
def show(x: int, config: RunnableConfig) -> dict[str, Any]:
    return {
        "tags": sorted(config["tags"]),
        "metadata": config["metadata"],
        "configurable": config["configurable"],
    }


@runnable
def add_one(x: int) -> int:
    return x + 1


@runnable
def double(x: int) -> int:
    return x * 2


@runnable
def boom(x: int) -> int:
    raise ValueError("boom")


async def _acollect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


# ----------------------------------------------------------------- with_config


def test_with_config_binds_config() -> None:
    bound = show.with_config(tags=["b"], metadata={"k": "bound"}, configurable={"c": 1})
    assert isinstance(bound, RunnableBinding)
    assert bound.invoke(0) == {"tags": ["b"], "metadata": {"k": "bound"}, "configurable": {"c": 1}}
    assert show.with_config({"tags": ["x"]}).invoke(0)["tags"] == ["x"]


def test_call_config_merged_over_bound() -> None:
    bound = show.with_config(
        tags=["b"], metadata={"k": "bound", "only_bound": 1}, configurable={"c": 1, "d": 2}
    )
    out = bound.invoke(0, {"tags": ["call"], "metadata": {"k": "call"}, "configurable": {"c": 9}})
    assert out["tags"] == ["b", "call"]
    assert out["metadata"] == {"k": "call", "only_bound": 1}
    assert out["configurable"] == {"c": 9, "d": 2}


@pytest.mark.anyio
async def test_call_config_merged_over_bound_async() -> None:
    bound = show.with_config(metadata={"k": "bound"})
    out = await bound.ainvoke(0, {"metadata": {"k": "call"}})
    assert out["metadata"] == {"k": "call"}
    chunks = await _acollect(bound.astream(0, {"tags": ["t"]}))
    assert chunks[0]["tags"] == ["t"]


def test_config_inherited_by_children() -> None:
    chain = add_one | RunnableParallel(s=show)
    out = chain.invoke(0, {"tags": ["root"], "metadata": {"m": 1}, "configurable": {"x": 2}})
    assert out["s"] == {"tags": ["root"], "metadata": {"m": 1}, "configurable": {"x": 2}}


def test_with_config_returns_new_value() -> None:
    bound = add_one.with_config(tags=["a"])
    assert bound is not add_one
    assert bound == add_one.with_config(tags=["a"])
    assert bound != add_one.with_config(tags=["b"])
    assert bound.invoke(1) == 2


def test_unknown_config_key_is_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="not_a_key"):
        add_one.with_config({"not_a_key": 1})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(TypeError, match="bogus"):
        add_one.invoke(1, {"bogus": True})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(TypeError, match="bogus"):
        add_one.batch([1], {"bogus": True})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(TypeError, match="bogus"):
        list(add_one.stream(1, {"bogus": True}))  # type: ignore[typeddict-unknown-key]


@pytest.mark.anyio
async def test_unknown_config_key_async() -> None:
    with pytest.raises(TypeError, match="weird"):
        await add_one.ainvoke(1, {"weird": 1})  # type: ignore[typeddict-unknown-key]


def test_bad_config_values() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        add_one.invoke(1, {"max_concurrency": 0})
    with pytest.raises(ValueError, match="recursion_limit"):
        add_one.invoke(1, {"recursion_limit": 0})


WRONG_TYPES: list[tuple[str, object]] = [
    ("tags", "abc"),
    ("tags", [1]),
    ("metadata", [1]),
    ("callbacks", 3),
    ("run_name", 3),
    ("max_concurrency", "3"),
    ("max_concurrency", True),
    ("recursion_limit", None),
    ("recursion_limit", 2.5),
    ("configurable", "str"),
    ("run_id", "x"),
]


@pytest.mark.parametrize(("key", "value"), WRONG_TYPES)
def test_a_wrong_typed_config_value_is_a_type_error_naming_its_key(key: str, value: object) -> None:
    config: Any = {key: value}
    with pytest.raises(TypeError, match=rf"RunnableConfig\['{key}'\] must be .*, got"):
        add_one.invoke(1, config)
    with pytest.raises(TypeError, match=rf"RunnableConfig\['{key}'\]"):
        add_one.with_config(config)


def test_none_config_values_count_as_absent() -> None:
    config: Any = {"tags": None, "metadata": None, "callbacks": None, "configurable": None}
    assert add_one.invoke(1, config) == 2


def test_every_config_key_has_a_type_check() -> None:
    from runnables._core.config import _KINDS, CONFIG_KEYS

    assert _KINDS.keys() == CONFIG_KEYS


def test_run_name_renames_the_run(recorder: Recorder) -> None:
    renamed = add_one.with_config(run_name="renamed")
    assert renamed.name == "renamed"
    renamed.invoke(1, {"callbacks": [recorder]})
    assert recorder.one("renamed").outputs == 2
    assert recorder.named("add_one") == []
    add_one.invoke(1, {"callbacks": [recorder], "run_name": "by_call"})
    assert recorder.one("by_call").outputs == 2


def test_run_name_and_run_id_apply_to_one_runnable_only(recorder: Recorder) -> None:
    run_id = uuid.uuid4()
    (add_one | double).invoke(1, {"callbacks": [recorder], "run_name": "top", "run_id": run_id})
    top = recorder.one("top")
    assert top.id == run_id
    assert recorder.one("add_one").parent_id == run_id
    assert recorder.one("add_one").id != run_id


# ----------------------------------------------------------------- with_types


def test_with_types_overrides_types() -> None:
    typed = RunnableLambda(lambda x: x).with_types(input_type=int, output_type=str)
    assert typed.input_type is int
    assert typed.output_type is str
    assert typed.input_schema.type is int
    assert typed.output_schema.type is str
    assert typed.invoke(3) == 3  # behaviour unchanged
    assert add_one.input_type is int


# ----------------------------------------------------------------- listeners


def test_with_listeners_get_the_bound_run_only() -> None:
    started: list[Run] = []
    ended: list[Run] = []
    chain = (add_one | double).with_listeners(on_start=started.append, on_end=ended.append)
    assert chain.invoke(1) == 4
    assert [r.name for r in started] == ["RunnableSequence"]
    assert [r.name for r in ended] == ["RunnableSequence"]
    # Listeners see LangChain's shapes: a value that is not a dict is wrapped.
    assert ended[0].inputs == {"input": 1}
    assert ended[0].outputs == {"output": 4}
    assert ended[0].end_time is not None
    assert started[0].id == ended[0].id


def test_with_listeners_on_error() -> None:
    errors: list[Run] = []
    ended: list[Run] = []
    chain = (add_one | boom).with_listeners(on_error=errors.append, on_end=ended.append)
    with pytest.raises(ValueError, match="boom"):
        chain.invoke(1)
    assert len(errors) == 1
    assert isinstance(errors[0].error, ValueError)
    assert ended == []


def test_with_listeners_once_per_batch_item() -> None:
    ended: list[Run] = []
    lock = threading.Lock()

    def on_end(run: Run) -> None:
        with lock:
            ended.append(run)

    add_one.with_listeners(on_end=on_end).batch([1, 2, 3])
    assert sorted(r.outputs["output"] for r in ended) == [2, 3, 4]


@pytest.mark.anyio
async def test_with_listeners_async() -> None:
    ended: list[Run] = []
    await double.with_listeners(on_end=ended.append).ainvoke(4)
    assert [(r.name, r.outputs) for r in ended] == [("double", {"output": 8})]


def test_with_listeners_inside_chain_sees_its_own_run() -> None:
    ended: list[Run] = []
    chain = add_one | double.with_listeners(on_end=ended.append)
    assert chain.invoke(1) == 4
    assert [(r.name, r.inputs, r.outputs) for r in ended] == [
        ("double", {"input": 2}, {"output": 4})
    ]


# ----------------------------------------------------------------- callbacks


def test_callbacks_on_start_end_and_run_tree(recorder: Recorder) -> None:
    chain = add_one | RunnableParallel(a=double, b=add_one)
    out = chain.invoke(1, {"callbacks": [recorder], "tags": ["t"]})
    assert out == {"a": 4, "b": 3}
    seq = recorder.one("RunnableSequence")
    par = recorder.one("RunnableParallel<a,b>")
    first = recorder.one("double")
    assert seq.parent_id is None
    assert recorder.one("RunnableSequence").outputs == out
    assert par.parent_id == seq.id
    assert first.parent_id == par.id
    assert [r.parent_id for r in recorder.named("add_one")] != []
    parents = {r.parent_id for r in recorder.named("add_one")}
    assert parents == {seq.id, par.id}
    assert set(seq.child_ids) == {
        par.id,
        *(r.id for r in recorder.named("add_one") if r.parent_id == seq.id),
    }
    assert "t" in first.tags
    assert recorder.kinds("double") == ["start", "end"]
    assert recorder.events[0][:2] == ("start", "RunnableSequence")
    assert recorder.events[-1][:2] == ("end", "RunnableSequence")


def test_callbacks_on_error(recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="boom"):
        (add_one | boom).invoke(1, {"callbacks": [recorder]})
    assert recorder.kinds("boom") == ["start", "error"]
    assert recorder.kinds("RunnableSequence") == ["start", "error"]
    assert isinstance(recorder.one("boom").error, ValueError)


def test_callbacks_on_stream(recorder: Recorder) -> None:
    @runnable
    def words(text: str) -> Iterator[str]:
        yield from text.split()

    assert list(words.stream("a b", {"callbacks": [recorder]})) == ["a", "b"]
    streamed = [
        payload for kind, name, payload in recorder.events if kind == "stream" and name == "words"
    ]
    assert streamed == ["a", "b"]
    assert recorder.one("words").outputs == "ab"
    assert recorder.one("words").inputs == "a b"


class AsyncRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    async def on_start(self, run: Run) -> None:
        await anyio.sleep(0)
        self.events.append(("start", run.name))

    async def on_stream(self, run: Run, chunk: Any) -> None:
        self.events.append(("stream", run.name))

    async def on_end(self, run: Run) -> None:
        await anyio.sleep(0)
        self.events.append(("end", run.name))

    async def on_error(self, run: Run, exc: BaseException) -> None:
        self.events.append(("error", run.name))


def test_async_callback_methods_from_sync_calls() -> None:
    rec = AsyncRecorder()
    assert (add_one | double).invoke(1, {"callbacks": [rec]}) == 4
    assert rec.events == [
        ("start", "RunnableSequence"),
        ("start", "add_one"),
        ("end", "add_one"),
        ("start", "double"),
        ("end", "double"),
        ("end", "RunnableSequence"),
    ]


@pytest.mark.anyio
async def test_callbacks_from_async_calls(recorder: Recorder) -> None:
    rec = AsyncRecorder()
    assert await (add_one | double).ainvoke(1, {"callbacks": [rec, recorder]}) == 4
    assert ("end", "double") in rec.events
    assert recorder.one("double").parent_id == recorder.one("RunnableSequence").id
    with pytest.raises(ValueError, match="boom"):
        await boom.ainvoke(1, {"callbacks": [rec]})
    assert rec.events[-1] == ("error", "boom")
    chunks = await _acollect(double.astream(2, {"callbacks": [rec]}))
    assert chunks == [4]
    assert ("stream", "double") in rec.events


class Raising:
    def on_start(self, run: Run) -> None:
        raise RuntimeError("callback broke")

    async def on_end(self, run: Run) -> None:
        raise RuntimeError("async callback broke")


def test_raising_callback_does_not_break_run(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="runnables"):
        assert (add_one | double).invoke(1, {"callbacks": [Raising(), recorder]}) == 4
    assert recorder.one("double").outputs == 4  # the other callback still hears everything
    assert "callback broke" in caplog.text


@pytest.mark.anyio
async def test_raising_callback_does_not_break_async_run(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="runnables"):
        assert await (add_one | double).ainvoke(1, {"callbacks": [Raising()]}) == 4
    assert "async callback broke" in caplog.text


def test_batch_runs_are_separate_roots(recorder: Recorder) -> None:
    (add_one | double).batch([1, 2], {"callbacks": [recorder]})
    roots = recorder.named("RunnableSequence")
    assert len(roots) == 2
    assert all(r.parent_id is None for r in roots)
    assert sorted(r.outputs for r in roots) == [4, 6]


def test_per_input_configs_in_batch() -> None:
    outs = show.batch([0, 1], [{"tags": ["first"]}, {"tags": ["second"], "metadata": {"i": 1}}])
    assert outs[0]["tags"] == ["first"]
    assert outs[1]["tags"] == ["second"]
    assert outs[1]["metadata"] == {"i": 1}
    with pytest.raises(ValueError, match="2 inputs but 3 configs"):
        show.batch([0, 1], [{}, {}, {}])


# ----------------------------------------------------------------- context propagation


def test_nested_invoke_in_lifted_function_is_child_run(recorder: Recorder) -> None:
    seen: list[list[str]] = []

    @runnable
    def inner(x: int, config: RunnableConfig) -> int:
        seen.append(config["tags"])
        return x + 1

    @runnable
    def outer(x: int) -> int:
        return inner.invoke(x) * 10  # no config passed by hand

    assert outer.invoke(1, {"callbacks": [recorder], "tags": ["inherited"]}) == 20
    assert recorder.one("inner").parent_id == recorder.one("outer").id
    assert "inherited" in recorder.one("inner").tags
    assert "inherited" in seen[0]


@pytest.mark.anyio
async def test_nested_ainvoke_in_async_function_is_child_run(recorder: Recorder) -> None:
    @runnable
    async def inner(x: int) -> int:
        return x + 1

    @runnable
    async def outer(x: int) -> int:
        return await inner.ainvoke(x) * 10

    @runnable
    def sync_outer(x: int) -> int:  # runs in a worker thread under ainvoke
        return inner.invoke(x) * 100

    assert await outer.ainvoke(1, {"callbacks": [recorder], "tags": ["t"]}) == 20
    assert recorder.one("inner").parent_id == recorder.one("outer").id
    assert "t" in recorder.one("inner").tags
    rec2 = Recorder()
    assert await sync_outer.ainvoke(1, {"callbacks": [rec2]}) == 200
    assert rec2.one("inner").parent_id == rec2.one("sync_outer").id


def test_nested_in_generator_is_child_run(recorder: Recorder) -> None:
    @runnable
    def gen(x: int) -> Iterator[int]:
        yield add_one.invoke(x)
        yield double.invoke(x)

    assert list(gen.stream(3, {"callbacks": [recorder]})) == [4, 6]
    assert recorder.one("add_one").parent_id == recorder.one("gen").id
    assert recorder.one("double").parent_id == recorder.one("gen").id


@pytest.mark.anyio
async def test_nested_in_async_generator_is_child_run(recorder: Recorder) -> None:
    @runnable
    async def agen(x: int) -> AsyncIterator[int]:
        yield await add_one.ainvoke(x)
        yield await double.ainvoke(x)

    assert await _acollect(agen.astream(3, {"callbacks": [recorder]})) == [4, 6]
    assert recorder.one("add_one").parent_id == recorder.one("agen").id
    assert recorder.one("double").parent_id == recorder.one("agen").id
    rec2 = Recorder()
    assert list(agen.stream(3, {"callbacks": [rec2]})) == [4, 6]
    assert rec2.one("double").parent_id == rec2.one("agen").id


def test_no_callbacks_no_context_leak_after_call() -> None:
    @runnable
    def tags_of(x: int, config: RunnableConfig) -> list[str]:
        return config["tags"]

    add_one.invoke(1, {"tags": ["leak?"]})
    assert tags_of.invoke(0) == []


@pytest.mark.parametrize("config", ["tags", [{"tags": ["a"]}], 3])
def test_a_config_that_is_not_a_dict_is_a_type_error(config: Any) -> None:
    step = RunnableLambda(lambda x: x, name="id")
    with pytest.raises(TypeError, match="a config must be a RunnableConfig dict"):
        step.invoke(1, config)
