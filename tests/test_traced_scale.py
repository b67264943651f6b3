"""Traced streams at scale: long traced chains (events, logs, callbacks) in the same event order
as short ones, and `astream_log(diff=False)` logs that cost the size of each change while
every log keeps the state it had."""

from __future__ import annotations

import contextvars
import copy
import gc
import itertools
import pickle
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import python_calls

from runnables import (
    Run,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnableSequence,
    dispatch_custom_event,
)
from runnables.tracing import RunLog, RunLogPatch


def _inc(x: int) -> int:
    return x + 1


async def _ainc(x: int) -> int:
    return x + 1


def _numbers(x: int) -> Iterator[int]:
    yield from range(x)


async def _anumbers(x: int) -> AsyncIterator[int]:
    for i in range(x):
        yield i


async def _counts_up(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
    async for x in chunks:
        for i in range(x):
            yield i


def _fail_at_500(x: int) -> int:
    if x == 500:
        raise KeyError("at 500")
    return x + 1


class _Counts:
    """A callback counting starts and ends (so that a stream is traced), told in place."""

    run_inline = True

    def __init__(self) -> None:
        self.started = 0
        self.ended = 0
        self.failed = 0

    def on_start(self, run: Run) -> None:
        self.started += 1

    def on_end(self, run: Run) -> None:
        self.ended += 1

    def on_error(self, run: Run, error: BaseException) -> None:
        self.failed += 1


# --------------------------------------------------------------- long traced chains


@pytest.mark.anyio
async def test_astream_events_through_ten_thousand_steps() -> None:
    # (async steps: a sync one would hop to a worker thread at every step)
    chain = RunnableSequence(RunnableLambda(_numbers), *[RunnableLambda(_ainc)] * 10_000)
    events = [event async for event in chain.astream_events(3)]
    assert events[-1]["data"].get("output") == 3 + 10_000
    # every step starts, streams and ends once, the sequence's run is every step's parent
    root = events[0]["run_id"]
    steps = [e for e in events if e["run_id"] != root]
    assert len(steps) == 3 * 10_001 + 2  # `_numbers` streams three chunks
    assert all(e["parent_ids"] == [root] for e in steps)
    assert events[-2]["tags"] == ["seq:step:10001"]


@pytest.mark.anyio
async def test_astream_log_and_callbacks_through_ten_thousand_steps() -> None:
    chain = RunnableSequence(RunnableLambda(_anumbers), *[RunnableLambda(_ainc)] * 10_000)
    logs = [log async for log in chain.astream_log(3, diff=False)]
    log = logs[-1]
    assert log.state["final_output"] == 3 + 10_000
    assert len(log.state["logs"]) == 10_001
    counts = _Counts()
    assert [c async for c in chain.astream(3, {"callbacks": [counts]})] == [3 + 10_000]
    assert (counts.started, counts.ended) == (10_002, 10_002)


def test_sync_traced_streams_through_ten_thousand_steps() -> None:
    chain = RunnableSequence(RunnableLambda(_numbers), *[RunnableLambda(_inc)] * 10_000)
    events = list(chain.stream_events(3))
    assert events[-1]["data"].get("output") == 3 + 10_000
    assert len(events) == 3 * 10_001 + 2 + 3
    counts = _Counts()
    assert list(chain.stream(3, {"callbacks": [counts]})) == [3 + 10_000]
    assert (counts.started, counts.ended) == (10_002, 10_002)


def test_a_sync_long_traced_stream_that_fails_half_way_ends_every_run() -> None:
    chain = RunnableSequence(*[RunnableLambda(_fail_at_500)] * 2_000)
    counts = _Counts()
    with pytest.raises(KeyError) as info:
        list(chain.stream(0, {"callbacks": [counts]}))
    assert "raised in runnable '_fail_at_500'" in info.value.__notes__
    assert (counts.started, counts.ended, counts.failed) == (502, 500, 2)


def test_a_sync_long_traced_stream_closed_after_its_first_chunk_ends_every_run() -> None:
    chain = RunnableSequence(RunnableLambda(_numbers), *[RunnableLambda(_inc)] * 2_000)
    counts = _Counts()
    stream = chain.stream(10, {"callbacks": [counts]})
    assert next(stream) == 45 + 2_000
    stream.close()  # type: ignore[attr-defined]
    assert counts.started == 2_002
    assert counts.ended + counts.failed == counts.started


@pytest.mark.anyio
async def test_a_long_traced_stream_that_fails_half_way_ends_every_run() -> None:
    chain = RunnableSequence(*[RunnableLambda(_fail_at_500)] * 2_000)
    counts = _Counts()
    with pytest.raises(KeyError) as info:
        async for _ in chain.astream(0, {"callbacks": [counts]}):
            pass
    assert "raised in runnable '_fail_at_500'" in info.value.__notes__
    # the 500 steps before it ended, the failing one and the sequence failed, none after started
    assert (counts.started, counts.ended, counts.failed) == (502, 500, 2)


@pytest.mark.anyio
async def test_a_long_traced_stream_abandoned_after_its_first_chunk_closes_every_run() -> None:
    chain = RunnableSequence(RunnableLambda(_anumbers), *[RunnableLambda(_inc)] * 2_000)
    counts = _Counts()
    stream = chain.astream(10, {"callbacks": [counts]})
    assert await stream.__anext__() == 45 + 2_000
    await stream.aclose()  # type: ignore[attr-defined]
    assert counts.started == 2_002
    assert counts.ended + counts.failed == counts.started


@pytest.mark.anyio
async def test_traced_stages_read_ahead_keep_the_order_of_nested_reads() -> None:
    """The first chunk read ahead stage by stage gives the order the nested reads gave (as
    the library gave before, and as LangChain's differential tests pin down): a step starts
    once its input's first chunk is out, and its input ends while it adds the input up."""
    chain = RunnableSequence(
        RunnableLambda(_anumbers),
        RunnableLambda(_inc),
        RunnableGenerator(_counts_up),
        RunnableLambda(_inc),
    )
    events = [
        (e["event"][3:], e["name"], e["data"].get("chunk")) async for e in chain.astream_events(3)
    ]
    assert events == [
        ("chain_start", "RunnableSequence", None),
        ("chain_start", "_anumbers", None),
        ("chain_stream", "_anumbers", 0),
        ("chain_start", "_inc", None),
        ("chain_stream", "_anumbers", 1),
        ("chain_stream", "_anumbers", 2),
        ("chain_end", "_anumbers", None),
        ("chain_stream", "_inc", 4),
        ("chain_start", "_counts_up", None),
        ("chain_stream", "_counts_up", 0),
        ("chain_start", "_inc", None),
        ("chain_stream", "_counts_up", 1),
        ("chain_stream", "_counts_up", 2),
        ("chain_stream", "_counts_up", 3),
        ("chain_end", "_inc", None),
        ("chain_end", "_counts_up", None),
        ("chain_stream", "_inc", 7),
        ("chain_stream", "RunnableSequence", 7),
        ("chain_end", "_inc", None),
        ("chain_end", "RunnableSequence", None),
    ]


# --------------------------------------------------------------- diff=False logs


def _letters(n: int) -> Iterator[str]:
    for _ in range(n):
        yield "x"


def test_reading_every_state_of_a_long_log_costs_linear_python_work() -> None:
    """A consumer reading each log's state as it comes (the usual loop) builds each state
    from the one before: Python work linear in the chunks (containers are copied in C)."""
    chain = RunnableLambda(_letters) | RunnableLambda(str.upper)

    def read(n: int) -> Callable[[], object]:
        async def go() -> None:
            async for log in chain.astream_log(n, diff=False):
                assert log.state["name"] == "RunnableSequence"

        return lambda: anyio.run(go)

    small, large = python_calls(read(200)), python_calls(read(2_000))
    assert large < 15 * small, (small, large)


@pytest.mark.anyio
async def test_every_kept_log_keeps_its_state_read_in_any_order() -> None:
    """Keep every log, read the states last first: each is what jsonpatch builds, with a deep
    copy per step as LangChain does, from the ops so far."""
    chain = RunnableLambda(_anumbers) | RunnableLambda(_inc) | RunnableGenerator(_counts_up)
    logs = [log async for log in chain.astream_log(4, diff=False)]
    patches = [patch async for patch in chain.astream_log(4)]
    assert len(logs) == len(patches)
    expected: list[Any] = []
    state: Any = None
    for patch in patches:
        state = jsonpatch.apply_patch(state, copy.deepcopy(list(patch.ops)))
        expected.append(state)
    for index in reversed(range(len(logs))):
        got = logs[index].state
        assert _without_times(got) == _without_times(expected[index]), index
    for index in (3, 0, len(logs) - 1, 1):  # and again, out of order: unchanged
        assert _without_times(logs[index].state) == _without_times(expected[index])
    assert [len(log.ops) for log in logs] == [
        sum(len(p.ops) for p in patches[: i + 1]) for i in range(len(patches))
    ]


def _without_times(state: Any) -> Any:
    """A state with the run ids and times left out (two runs of a chain differ in those)."""
    state = copy.deepcopy(state)
    state.pop("id", None)
    for entry in state["logs"].values():
        for key in ("id", "start_time", "end_time"):
            entry.pop(key, None)
    return state


@pytest.mark.anyio
async def test_a_state_read_early_does_not_change_as_the_log_goes_on() -> None:
    chain = RunnableLambda(_anumbers) | RunnableLambda(_inc)
    seen: list[tuple[Any, Any]] = []
    async for log in chain.astream_log(3, diff=False):
        state = log.state
        seen.append((state, copy.deepcopy(state)))
    assert len(seen) > 5
    for state, then in seen:
        assert state == then


_BASE: Any = {"final_output": None, "logs": {}, "streamed_output": []}


def test_adding_to_an_earlier_log_branches_off_it() -> None:
    first = RunLogPatch({"op": "replace", "path": "", "value": _BASE}) + RunLogPatch()
    a = first + RunLogPatch({"op": "add", "path": "/streamed_output/-", "value": "a"})
    b = first + RunLogPatch({"op": "add", "path": "/streamed_output/-", "value": "b"})
    aa = a + RunLogPatch({"op": "add", "path": "/streamed_output/-", "value": "a"})
    assert first.state["streamed_output"] == []
    assert a.state["streamed_output"] == ["a"]
    assert b.state["streamed_output"] == ["b"]
    assert aa.state["streamed_output"] == ["a", "a"]
    assert [op.get("value") for op in b.ops[1:]] == ["b"]
    assert len(aa.ops) == 3
    assert _BASE == {"final_output": None, "logs": {}, "streamed_output": []}  # never changed


def test_a_patch_that_does_not_apply_raises_at_the_addition() -> None:
    log = RunLogPatch({"op": "replace", "path": "", "value": _BASE}) + RunLogPatch()
    with pytest.raises(jsonpatch.JsonPatchConflict):
        _ = log + RunLogPatch({"op": "replace", "path": "/nothing", "value": 1})
    with pytest.raises(jsonpatch.JsonPointerException):
        _ = log + RunLogPatch({"op": "add", "path": "/logs/a/b", "value": 1})
    with pytest.raises(jsonpatch.JsonPatchTestFailed):
        _ = log + RunLogPatch({"op": "test", "path": "/final_output", "value": 1})
    assert log.state == _BASE
    assert (log + RunLogPatch()).state == _BASE


def test_an_op_value_is_never_changed_by_later_ops() -> None:
    entry: dict[str, Any] = {"streamed_output": [], "final_output": None}
    log = RunLogPatch({"op": "replace", "path": "", "value": _BASE}) + RunLogPatch(
        {"op": "add", "path": "/logs/x", "value": entry}
    )
    later = log + RunLogPatch({"op": "add", "path": "/logs/x/streamed_output/-", "value": 1})
    assert entry == {"streamed_output": [], "final_output": None}
    assert log.state["logs"]["x"]["streamed_output"] == []
    assert later.state["logs"]["x"]["streamed_output"] == [1]


# Random patches on a small JSON document, against jsonpatch with a deep copy per step.

_KEYS = st.sampled_from(["a", "b", "c~d", "e/f"])
_LEAVES = st.one_of(st.none(), st.integers(-3, 3), st.text("xy", max_size=2))
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=3)),
    max_leaves=6,
)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _pointers(doc: Any, prefix: str = "") -> list[str]:
    """Every pointer into `doc`, to pick ops from (the root too)."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():  # pyright: ignore[reportUnknownVariableType]
            found += _pointers(value, f"{prefix}/{_escape(key)}")  # pyright: ignore[reportUnknownArgumentType]
    elif isinstance(doc, list):
        for index, value in enumerate(doc):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
            found += _pointers(value, f"{prefix}/{index}")
        found.append(f"{prefix}/-")
    return found


@st.composite
def _patches(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    doc: Any = draw(st.dictionaries(_KEYS, _VALUES, max_size=3))
    patches: list[list[dict[str, Any]]] = [[{"op": "replace", "path": "", "value": doc}]]
    for _ in range(draw(st.integers(1, 8))):
        ops: list[dict[str, Any]] = []
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["add", "replace", "remove", "move", "copy", "test"]))
            where = draw(st.sampled_from([*_pointers(doc), "/zz", "/a/0", "/a/9"]))
            op: dict[str, Any] = {"op": kind, "path": where}
            if kind in ("add", "replace", "test"):
                op["value"] = draw(_VALUES)
            if kind in ("move", "copy"):
                op["from"] = draw(st.sampled_from(_pointers(doc)))
            try:
                doc = jsonpatch.apply_patch(doc, [copy.deepcopy(op)])
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
                continue  # keep only ops that apply, so that every prefix applies
            ops.append(op)
        patches.append(ops)
    return patches


@settings(max_examples=300, deadline=None)
@given(_patches(), st.data())
def test_logs_match_jsonpatch_on_random_patches(
    patches: list[list[dict[str, Any]]], data: st.DataObject
) -> None:
    frozen = copy.deepcopy(patches)
    log = RunLogPatch(*patches[0]) + RunLogPatch()
    logs = [log]
    for ops in patches[1:]:
        log = log + RunLogPatch(*ops)
        logs.append(log)
    expected: list[Any] = []
    state: Any = None
    for ops in patches:
        state = jsonpatch.apply_patch(state, copy.deepcopy(ops))
        expected.append(state)
    order = data.draw(st.permutations(range(len(logs))))
    for index in order:
        assert logs[index].state == expected[index]
    assert patches == frozen  # the ops' values are never changed


# --------------------------------------------------------------- stream_events as it happens


def _ticks(x: int) -> Iterator[int]:
    for i in range(x):
        time.sleep(0.001)
        yield i


def test_stream_events_yields_the_same_events_as_astream_events() -> None:
    chain = (
        RunnableLambda(_numbers)
        | RunnableLambda(_inc)
        | RunnableGenerator(_sync_counts_up)
        | RunnableLambda(_inc).with_config(run_name="last")
    )

    async def async_events() -> list[Any]:
        return [e async for e in chain.astream_events(3)]

    sync = [(e["event"], e["name"], e["tags"], e["data"]) for e in chain.stream_events(3)]
    both = [(e["event"], e["name"], e["tags"], e["data"]) for e in anyio.run(async_events)]
    assert sync == both


def _sync_counts_up(chunks: Iterator[int]) -> Iterator[int]:
    for x in chunks:
        yield from range(x)


def test_stream_events_raises_the_steps_exception_after_the_events_before_it() -> None:
    class Boom(Exception):
        pass

    def fail(x: int) -> int:
        raise Boom("no")

    names: list[str] = []

    def consume() -> None:
        for event in (RunnableLambda(_numbers) | RunnableLambda(fail)).stream_events(2):
            names.append(event["event"] + ":" + event["name"])

    with pytest.raises(Boom) as info:
        consume()
    assert "raised in runnable 'fail'" in info.value.__notes__
    assert names[:3] == [
        "on_chain_start:RunnableSequence",
        "on_chain_start:_numbers",
        "on_chain_stream:_numbers",
    ]
    assert "on_chain_start:fail" in names


def test_stream_events_closed_at_a_start_stops_the_stream_and_runs_its_cleanup() -> None:
    """Leave at the first step's start, while it runs: closing waits for it to reach its next
    event, where it stops; its `finally` has run when `close` returns, and no work follows."""
    pulled: list[int] = []
    cleaned = threading.Event()

    def endless(x: int) -> Iterator[int]:
        try:
            for i in itertools.count():
                pulled.append(i)
                yield i
        finally:
            cleaned.set()

    events = (RunnableLambda(endless) | RunnableGenerator(_sync_counts_up)).stream_events(0)
    for event in events:
        if event["event"] == "on_chain_start" and event["name"] == "endless":
            break
    events.close()  # type: ignore[attr-defined]
    assert cleaned.is_set()
    done = len(pulled)
    time.sleep(0.05)
    assert len(pulled) == done
    assert done < 200  # held back by the bounded hand-off, not run on ahead


def test_stream_events_dropped_unfinished_is_closed_by_the_collector() -> None:
    cleaned = threading.Event()

    def endless(x: int) -> Iterator[int]:
        try:
            yield from itertools.count()
        finally:
            cleaned.set()

    events = RunnableLambda(endless).stream_events(0)
    next(events)
    next(events)
    del events
    gc.collect()
    assert cleaned.is_set()


def test_stream_events_raises_a_failing_cleanup_when_closed() -> None:
    class Cleanup(Exception):
        pass

    def leaky(x: int) -> Iterator[int]:
        try:
            yield from itertools.count()
        finally:
            raise Cleanup("cleanup failed")

    events = RunnableLambda(leaky).stream_events(0)
    next(events)
    next(events)
    with pytest.raises(Cleanup):
        events.close()  # type: ignore[attr-defined]


def test_stream_events_runs_the_stream_in_the_callers_context() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    def read(x: int) -> str:
        return var.get()

    var.set("caller's")
    events = list(RunnableLambda(read).stream_events(0))
    assert events[-1]["data"].get("output") == "caller's"


def test_stream_events_hands_out_custom_events_as_they_happen() -> None:
    """A step that dispatches an event and then waits for the consumer to have seen it."""
    seen = threading.Event()

    def step(x: int) -> int:
        dispatch_custom_event("progress", {"at": 1})
        assert seen.wait(5), "the custom event was not handed out in time"
        return x

    for event in RunnableLambda(step).stream_events(0):
        if event["event"] == "on_custom_event":
            assert event["data"] == {"at": 1}
            seen.set()
    assert seen.is_set()


def test_stream_events_of_a_long_token_stream() -> None:
    events = list(
        (RunnableLambda(_numbers) | RunnableGenerator(_sync_counts_up_each)).stream_events(5_000)
    )
    assert len(events) == 2 + 2 * 5_000 + 5_000 + 2 + 2
    assert events[-1]["data"].get("output") == sum(range(5_000)) + 5_000


def _sync_counts_up_each(chunks: Iterator[int]) -> Iterator[int]:
    for x in chunks:
        yield x + 1


def test_stream_events_of_a_parallel_closed_early_closes_every_branch() -> None:
    cleaned: list[str] = []

    def endless(name: str) -> Callable[[int], Iterator[int]]:
        def gen(x: int) -> Iterator[int]:
            try:
                for i in itertools.count():
                    time.sleep(0.0005)
                    yield i
            finally:
                cleaned.append(name)

        return gen

    fan = RunnableParallel(a=RunnableLambda(endless("a")), b=RunnableLambda(endless("b")))
    events = fan.stream_events(0)
    for seen, _ in enumerate(events):
        if seen == 20:
            break
    events.close()  # type: ignore[attr-defined]
    assert sorted(cleaned) == ["a", "b"]


def test_stream_events_inside_a_traced_step_nests_under_it() -> None:
    runs: list[tuple[str, Any]] = []

    class Starts:
        run_inline = True

        def on_start(self, run: Run) -> None:
            runs.append((run.name, run.parent_id))

    inner = RunnableLambda(_inc).with_config(run_name="inner")
    outer = RunnableLambda(lambda x: [e["event"] for e in inner.stream_events(x)])
    outer = outer.with_config(run_name="outer")
    assert outer.invoke(1, {"callbacks": [Starts()]})[0] == "on_chain_start"
    (outer_name, no_parent), (inner_name, parent) = runs
    assert (outer_name, no_parent, inner_name) == ("outer", None, "inner")
    assert parent is not None


def test_a_sync_traced_stream_through_a_thousand_async_steps() -> None:
    chain = RunnableSequence(*[RunnableLambda(_ainc)] * 1_000)
    counts = _Counts()
    assert list(chain.stream(0, {"callbacks": [counts]})) == [1_000]
    assert counts.ended == 1_001


def test_adding_to_a_log_built_by_hand_leaves_its_state_alone() -> None:
    given: Any = {"final_output": None, "logs": {}, "streamed_output": [1]}
    log = RunLog({"op": "replace", "path": "", "value": given}, state=given)
    later = log + RunLogPatch({"op": "add", "path": "/streamed_output/-", "value": 2})
    assert given == {"final_output": None, "logs": {}, "streamed_output": [1]}
    assert later.state["streamed_output"] == [1, 2]
    assert later.ops == (*log.ops, {"op": "add", "path": "/streamed_output/-", "value": 2})


def test_stream_events_closed_from_another_thread_stops_without_waiting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Closed off the consumer's thread (as the garbage collector may, on any thread): the run
    stops at its next event, and a failure while it closes is logged, not lost."""
    cleaned = threading.Event()

    def leaky(x: int) -> Iterator[int]:
        try:
            yield from itertools.count()
        finally:
            cleaned.set()
            raise KeyError("cleanup failed")

    events = RunnableLambda(leaky).stream_events(0)
    next(events)
    next(events)
    closer = threading.Thread(target=events.close)  # type: ignore[attr-defined]
    closer.start()
    closer.join(5)
    assert cleaned.wait(5)
    deadline = time.monotonic() + 5
    while not caplog.records and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "failed as it closed" in caplog.records[0].getMessage()
    assert isinstance(caplog.records[0].exc_info[1], KeyError)  # type: ignore[index]


@pytest.mark.anyio
async def test_a_log_not_yet_built_pickles_and_copies_with_its_state() -> None:
    logs = [log async for log in RunnableLambda(_anumbers).astream_log(3, diff=False)]
    for log in (logs[2], logs[-1]):
        for again in (pickle.loads(pickle.dumps(log)), copy.deepcopy(log), copy.copy(log)):
            assert isinstance(again, RunLog)
            assert again.ops == log.ops
            assert again.state == log.state
    assert logs[-1].state["final_output"] == 3


@pytest.mark.anyio
async def test_a_long_traced_chain_ending_in_a_wrapper_step() -> None:
    """The last step streams through a wrapper of its own (a retry): the steps before it are
    still read ahead one at a time."""
    chain = RunnableSequence(*[RunnableLambda(_ainc)] * 2_000, RunnableLambda(_ainc).with_retry())
    counts = _Counts()
    assert [c async for c in chain.astream(0, {"callbacks": [counts]})] == [2_001]
    assert counts.ended == counts.started
