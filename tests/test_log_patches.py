"""`astream_log` patches, op by op, on each of the ways a chunk becomes a patch: the root's
chunks (built in place, per chunk), a sub-run's chunks on the event loop's thread (its own
chunk emitter), a model's chunks (text too) and chunks told from a worker thread."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any, cast

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runnables import RunnableGenerator, RunnableLambda, RunnablePassthrough
from runnables.tracing import RunLogPatch

pytestmark = pytest.mark.anyio

STREAMED = "/streamed_output/-"
FINAL = "/final_output"


def root_ops(patches: list[RunLogPatch]) -> list[tuple[dict[str, Any], ...]]:
    """The ops of the patches about the root's output (the first patch, the state, left out)."""
    return [p.ops for p in patches[1:] if p.ops[0]["path"] in (STREAMED, FINAL)]


def expected_root_ops(chunks: list[Any], *, listed: bool = True) -> list[tuple[Any, ...]]:
    """What the root's patches are, worked out the plain way: each chunk is added to the
    output so far with `+` (a chunk that cannot be added replaces it), and the final output
    is replaced when it is a different object that is not equal (or cannot be compared)."""
    out: list[tuple[Any, ...]] = []
    total: Any = None
    for i, chunk in enumerate(chunks):
        before = None if i == 0 else total
        if i == 0:
            total = chunk
        else:
            try:
                total = total + chunk
            except TypeError:
                total = chunk
        ops: list[dict[str, Any]] = []
        if listed:
            ops.append({"op": "add", "path": STREAMED, "value": chunk})
        if before is not total:
            try:
                changed = bool(before != total)
            except Exception:
                changed = True
            if changed:
                ops.append({"op": "replace", "path": FINAL, "value": total})
        if ops:
            out.append(tuple(ops))
    return out


def streamer(chunks: list[Any]) -> RunnableLambda[Any, Any]:
    async def stream(x: object) -> AsyncIterator[Any]:
        for chunk in chunks:
            yield chunk

    return RunnableLambda(stream)


async def patches_of(chain: Any, input: Any, **kwargs: Any) -> list[RunLogPatch]:
    return [patch async for patch in chain.astream_log(input, **kwargs)]


chunk_values = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.binary(max_size=2),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=st.lists(chunk_values, max_size=8), listed=st.booleans())
def test_root_patches_follow_each_chunk(chunks: list[Any], listed: bool) -> None:
    patches = anyio.run(lambda: patches_of(streamer(chunks), 0, with_streamed_output_list=listed))
    assert root_ops(patches) == expected_root_ops(chunks, listed=listed)


async def test_root_patches_copy_containers_and_share_other_values() -> None:
    chunks: list[Any] = [[1], {"a": [2]}, "s", (3,), 4]
    ops = root_ops(await patches_of(streamer(chunks), 0))
    streamed = [o[0]["value"] for o in ops]
    assert streamed == chunks
    assert streamed[0] is not chunks[0]
    assert streamed[1] is not chunks[1]
    assert streamed[1]["a"] is not chunks[1]["a"]
    assert all(value is chunk for value, chunk in zip(streamed[2:], chunks[2:], strict=True))


class Incomparable:
    """A chunk that adds up (to a new one each time) but cannot be compared."""

    def __add__(self, other: object) -> Incomparable:
        return Incomparable()

    def __eq__(self, other: object) -> bool:
        raise ValueError("no comparing")

    def __ne__(self, other: object) -> bool:
        raise ValueError("no comparing")

    __hash__ = object.__hash__


async def test_final_output_replaced_when_it_cannot_be_compared() -> None:
    chunks = [Incomparable(), Incomparable()]
    ops = root_ops(await patches_of(streamer(chunks), 0))
    assert [[op["path"] for op in o] for o in ops] == [[STREAMED, FINAL], [STREAMED, FINAL]]
    assert ops[0][1]["value"] is chunks[0]


async def test_patches_are_plain_and_ops_fresh_dicts_in_key_order() -> None:
    async def bump(xs: AsyncIterator[int]) -> AsyncIterator[int]:
        async for x in xs:
            yield x + 1

    chain = streamer([1, 2]) | RunnableGenerator(bump)
    patches = await patches_of(chain, 0)
    assert all(type(p) is RunLogPatch and p == RunLogPatch(*p.ops) for p in patches)
    assert all(repr(p) == repr(RunLogPatch(*p.ops)) for p in patches)
    ops = [op for patch in patches for op in patch.ops]
    assert len({id(op) for op in ops}) == len(ops)
    assert all(list(op) == ["op", "path", "value"] for op in ops)
    streamed = [op for op in ops if "streamed_output" in op["path"]]
    values = [op["value"] for op in streamed]
    assert values == [1, 2, 2, 2, 3, 3]  # step 1, step 2, root; again
    for op in streamed:  # a consumer changing an op changes no other op, nor later runs'
        op["value"] = "changed"
    again = await patches_of(chain, 0)
    assert [op["value"] for p in again for op in p.ops if "streamed_output" in op["path"]] == values


def sync_bump(xs: Iterator[int]) -> Iterator[int]:
    for x in xs:
        yield x + 1


async def async_bump(xs: AsyncIterator[int]) -> AsyncIterator[int]:
    async for x in xs:
        yield x + 1


@pytest.mark.parametrize("bump", [sync_bump, async_bump], ids=["sync", "async"])
async def test_sub_run_chunks_each_make_one_add(bump: Any) -> None:
    chain = streamer([10, 20, 30]) | RunnableGenerator(bump).with_config(run_name="bump")
    patches = await patches_of(chain, 0)
    assert [p.ops for p in patches if "/logs/bump/streamed_output/-" in p.ops[0]["path"]] == [
        ({"op": "add", "path": "/logs/bump/streamed_output/-", "value": v},) for v in (11, 21, 31)
    ]
    assert [p.ops for p in patches if "/logs/stream/streamed_output/-" in p.ops[0]["path"]] == [
        ({"op": "add", "path": "/logs/stream/streamed_output/-", "value": v},) for v in (10, 20, 30)
    ]


def two_from(x: int) -> Iterator[int]:
    yield x
    yield x + 1


INNER = RunnableLambda(two_from).with_config(run_name="inner")


def streams_inner(x: int) -> list[int]:
    return list(INNER.stream(x))  # (in a worker thread: its chunks are told from there)


async def test_chunks_told_from_a_worker_thread() -> None:
    patches = await patches_of(RunnableLambda(streams_inner), 1)
    assert [p.ops for p in patches if "/logs/inner/streamed_output/-" in p.ops[0]["path"]] == [
        ({"op": "add", "path": "/logs/inner/streamed_output/-", "value": v},) for v in (1, 2)
    ]
    assert root_ops(patches) == expected_root_ops([[1, 2]])


async def test_model_chunks_log_their_text_first() -> None:
    models = pytest.importorskip("runnables.models")
    model = models.FakeListChatModel(responses=["a b"]).with_config(run_name="m")
    patches = await patches_of(RunnablePassthrough() | model, "q")
    streams = [p.ops for p in patches if p.ops[0]["path"].startswith("/logs/m/streamed_output")]
    assert [[(op["path"], op["op"]) for op in ops] for ops in streams] == [
        [("/logs/m/streamed_output_str/-", "add"), ("/logs/m/streamed_output/-", "add")]
    ] * 3
    assert [ops[0]["value"] for ops in streams] == ["a", " ", "b"]
    assert [ops[1]["value"].content for ops in streams] == ["a", " ", "b"]


async def test_slow_consumer_slows_every_step() -> None:
    produced: list[int] = []

    async def numbers(x: int) -> AsyncIterator[int]:
        for i in range(2000):
            produced.append(i)
            yield i

    chain = RunnableLambda(numbers) | RunnableGenerator(async_bump)
    stream = cast("AsyncGenerator[RunLogPatch, None]", chain.astream_log(0))
    count = 0
    async with aclosing(stream) as patches:
        async for _ in patches:
            count += 1
            if count == 10:
                await anyio.sleep(0.05)
                # Three patches a chunk, in a bounded buffer: the run waits for the consumer.
                assert len(produced) < 200
                break
    assert len(produced) < 200
