"""A parallel (and an assign) after a streaming step feeds its branches the input chunks as
they arrive, and streams their chunks as they come: bounded, abandonable, one budget, in
order; and the invoke side: a failing branch stops its streaming siblings, deep nesting."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any, cast

import anyio
import pytest

from runnables import (
    Runnable,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
)
from runnables._core.streaming import AddableDict
from runnables._core.tee import OUT_SIZE, TEE_SIZE
from runnables.models import FakeListChatModel
from runnables.parsers import StrOutputParser

ROOT = Path(__file__).resolve().parents[1]


def _words(text: str) -> Iterator[str]:
    for word in text.split():
        yield word + " "


async def _awords(text: str) -> AsyncIterator[str]:
    for word in text.split():
        await anyio.sleep(0)
        yield word + " "


def _upper_each(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        yield chunk.upper()


async def _aupper_each(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    async for chunk in chunks:
        yield chunk.upper()


def _by_key(chunks: list[dict[str, Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for chunk in chunks:
        for key, value in chunk.items():
            out.setdefault(key, []).append(value)
    return out


def _branch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "runnables-parallel-branch"]


# ------------------------------------------------------------------------ streams as it arrives


def test_a_branch_chunk_arrives_before_the_input_has_ended() -> None:
    """The upstream waits, before its second chunk, until the reader has seen the first
    output chunk: a parallel that added its input up first would never get there."""
    seen_first = threading.Event()
    waited: list[bool] = []

    def source(x: str) -> Iterator[str]:
        yield "a"
        waited.append(seen_first.wait(10))
        yield "b"

    chain = RunnableLambda(source) | {
        "up": RunnableGenerator(_upper_each),
        "same": RunnablePassthrough(),
    }
    chunks = []
    for chunk in chain.stream("x"):
        chunks.append(chunk)
        if chunk.get("up") == "A":
            seen_first.set()
    assert waited == [True]
    assert _by_key(chunks) == {"up": ["A", "B"], "same": ["a", "b"]}


@pytest.mark.anyio
async def test_a_branch_chunk_arrives_before_the_input_has_ended_async() -> None:
    seen_first = anyio.Event()
    waited: list[bool] = []

    async def source(x: str) -> AsyncIterator[str]:
        yield "a"
        with anyio.move_on_after(10) as scope:
            await seen_first.wait()
        waited.append(not scope.cancelled_caught)
        yield "b"

    chain = RunnableLambda(source) | {
        "up": RunnableGenerator(_aupper_each),
        "same": RunnablePassthrough(),
    }
    chunks = []
    async for chunk in chain.astream("x"):
        chunks.append(chunk)
        if chunk.get("up") == "A":
            seen_first.set()
    assert waited == [True]
    assert _by_key(chunks) == {"up": ["A", "B"], "same": ["a", "b"]}


def test_a_branch_that_cannot_transform_gets_the_whole_input() -> None:
    fan = RunnableLambda(_words) | {
        "up": RunnableGenerator(_upper_each),
        "whole": RunnableLambda(lambda s: f"<{s}>"),
        "count": RunnableLambda(len),
    }
    chunks = list(fan.stream("a b c"))
    assert _by_key(chunks) == {"up": ["A ", "B ", "C "], "whole": ["<a b c >"], "count": [6]}
    assert fan.invoke("a b c") == {"up": "A B C ", "whole": "<a b c >", "count": 6}


@pytest.mark.anyio
async def test_a_branch_that_cannot_transform_gets_the_whole_input_async() -> None:
    fan = RunnableLambda(_awords) | {
        "up": RunnableGenerator(_aupper_each),
        "whole": RunnableLambda(lambda s: f"<{s}>"),
        "sync_up": RunnableGenerator(_upper_each),
    }
    chunks = [chunk async for chunk in fan.astream("a b c")]
    assert _by_key(chunks) == {
        "up": ["A ", "B ", "C "],
        "whole": ["<a b c >"],
        "sync_up": ["A ", "B ", "C "],
    }
    assert await fan.ainvoke("a b c") == {"up": "A B C ", "whole": "<a b c >", "sync_up": "A B C "}


def test_a_branch_that_stops_reading_early_does_not_hold_the_others_up() -> None:
    def first_only(chunks: Iterator[int]) -> Iterator[int]:
        yield next(chunks)

    fan = RunnableParallel(first=RunnableGenerator(first_only), all=RunnablePassthrough())
    chunks = list(fan.transform(iter(range(100))))
    assert _by_key(chunks) == {"first": [0], "all": list(range(100))}


@pytest.mark.anyio
async def test_a_branch_that_stops_reading_early_does_not_hold_the_others_up_async() -> None:
    async def first_only(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for chunk in chunks:
            yield chunk
            return

    async def numbers() -> AsyncIterator[int]:
        for i in range(100):
            yield i

    fan = RunnableParallel(first=RunnableGenerator(first_only), all=RunnablePassthrough())
    chunks = [chunk async for chunk in fan.atransform(numbers())]
    assert _by_key(chunks) == {"first": [0], "all": list(range(100))}


def test_an_empty_input_stream() -> None:
    streaming = RunnableParallel(a=RunnablePassthrough(), b=RunnableGenerator(_upper_each))
    assert list(streaming.transform(iter([]))) == []
    needs_input = RunnableParallel(a=RunnablePassthrough(), b=RunnableLambda(len))
    with pytest.raises(ValueError, match="input stream was empty"):
        list(needs_input.transform(iter([])))


# ------------------------------------------------------------------------------ back-pressure


def test_a_slow_branch_holds_the_input_back_rather_than_buffering_it() -> None:
    """A fast branch must not make the tee pull far ahead of a slow one (LangChain's tee
    buffers without bound): the lead of the input over the slow branch stays bounded."""
    pulled = 0
    taken = 0
    lead: list[int] = []

    def source(x: int) -> Iterator[int]:
        nonlocal pulled
        for i in range(300):
            pulled += 1
            lead.append(pulled - taken)
            yield i

    def slow(chunks: Iterator[int]) -> Iterator[int]:
        nonlocal taken
        for chunk in chunks:
            taken += 1
            time.sleep(0.0005)
            yield chunk

    chain = RunnableLambda(source) | {
        "fast": RunnablePassthrough(),
        "slow": RunnableGenerator(slow),
    }
    assert len(list(chain.stream(0))) == 600
    assert max(lead) <= TEE_SIZE + 2


@pytest.mark.anyio
async def test_a_slow_branch_holds_the_input_back_rather_than_buffering_it_async() -> None:
    pulled = 0
    taken = 0
    lead: list[int] = []

    async def source(x: int) -> AsyncIterator[int]:
        nonlocal pulled
        for i in range(300):
            pulled += 1
            lead.append(pulled - taken)
            yield i

    async def slow(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        nonlocal taken
        async for chunk in chunks:
            taken += 1
            await anyio.sleep(0.0005)
            yield chunk

    chain = RunnableLambda(source) | {
        "fast": RunnablePassthrough(),
        "slow": RunnableGenerator(slow),
    }
    assert len([chunk async for chunk in chain.astream(0)]) == 600
    assert max(lead) <= TEE_SIZE + 2


def test_a_slow_reader_holds_the_input_back() -> None:
    """The input is pulled only while the reader asks for output: a reader that stops has had
    at most the buffers' worth pulled for it."""
    pulled = 0

    def endless(x: int) -> Iterator[int]:
        nonlocal pulled
        while True:
            pulled += 1
            yield pulled

    chain = RunnableLambda(endless) | {"a": RunnablePassthrough(), "b": RunnablePassthrough()}
    stream = chain.stream(0)
    for _ in range(5):
        next(stream)
    time.sleep(0.05)  # (the threads get every chance to pull more than they may)
    assert pulled <= 5 + OUT_SIZE + 2 * TEE_SIZE + 3
    stream.close()  # type: ignore[attr-defined]
    assert not _branch_threads()


@pytest.mark.anyio
async def test_a_slow_reader_holds_the_input_back_async() -> None:
    pulled = 0

    async def endless(x: int) -> AsyncIterator[int]:
        nonlocal pulled
        while True:
            pulled += 1
            yield pulled

    chain = RunnableLambda(endless) | {"a": RunnablePassthrough(), "b": RunnablePassthrough()}
    async with aclosing(cast("Any", chain.astream(0))) as stream:
        for _ in range(5):
            await stream.__anext__()
        await anyio.sleep(0.05)  # (the producers get every chance to pull more than they may)
        assert pulled <= 5 + 3 + 2 * TEE_SIZE + 3


# ------------------------------------------------------------------------------- abandonment


class _Tracked:
    """Generators that record whether their `finally:` ran."""

    def __init__(self) -> None:
        self.open: set[str] = set()
        self.closed: set[str] = set()

    def source(self, name: str) -> Any:
        def gen(x: Any) -> Iterator[int]:
            self.open.add(name)
            try:
                for i in range(10_000):
                    time.sleep(0.0002)
                    yield i
            finally:
                self.closed.add(name)

        return gen

    def relay(self, name: str) -> RunnableGenerator[Any, Any]:
        def relay(chunks: Iterator[Any]) -> Iterator[Any]:
            self.open.add(name)
            try:
                yield from chunks
            finally:
                self.closed.add(name)

        return RunnableGenerator(relay, name=name)

    def asource(self, name: str) -> Any:
        async def gen(x: Any) -> AsyncIterator[int]:
            self.open.add(name)
            try:
                for i in range(10_000):
                    await anyio.sleep(0.0002)
                    yield i
            finally:
                self.closed.add(name)

        return gen

    def arelay(self, name: str) -> RunnableGenerator[Any, Any]:
        async def relay(chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
            self.open.add(name)
            try:
                async for chunk in chunks:
                    yield chunk
            finally:
                self.closed.add(name)

        return RunnableGenerator(relay, name=name)

    def all_closed(self) -> bool:
        return self.open == self.closed and bool(self.open)


def _sync_chain(t: _Tracked) -> Runnable[Any, Any]:
    return RunnableLambda(t.source("source")) | {"a": t.relay("a"), "b": t.relay("b")}


def _async_chain(t: _Tracked) -> Runnable[Any, Any]:
    return RunnableLambda(t.asource("source")) | {"a": t.arelay("a"), "b": t.relay("b")}


def _sync_assign(t: _Tracked) -> Runnable[Any, Any]:
    source = RunnableParallel(n=RunnableLambda(t.source("source")))
    return source | RunnablePassthrough.assign(a=t.relay("a"), b=t.relay("b"))


def _async_assign(t: _Tracked) -> Runnable[Any, Any]:
    source = RunnableParallel(n=RunnableLambda(t.asource("source")))
    return source | RunnablePassthrough.assign(a=t.arelay("a"), b=t.relay("b"))


@pytest.mark.parametrize("way", ["break", "close", "raise", "gc"])
@pytest.mark.parametrize("shape", ["parallel", "assign"])
def test_leaving_a_sync_stream_through_a_parallel(way: str, shape: str) -> None:
    t = _Tracked()
    stream = (_sync_chain(t) if shape == "parallel" else _sync_assign(t)).stream(0)
    if way == "raise":
        with pytest.raises(KeyError):
            _read_then_raise(stream)
    else:
        for n, _ in enumerate(stream):
            if n == 20:
                break
        if way == "close":
            stream.close()  # type: ignore[attr-defined]
    del stream
    if way == "gc":
        gc.collect()
    assert t.all_closed(), (t.open, t.closed)
    assert not _branch_threads()


@pytest.mark.anyio
@pytest.mark.parametrize("way", ["aclose", "raise", "cancel"])
@pytest.mark.parametrize("shape", ["parallel", "assign"])
async def test_leaving_an_async_stream_through_a_parallel(way: str, shape: str) -> None:
    t = _Tracked()
    chain = _async_chain(t) if shape == "parallel" else _async_assign(t)
    stream = cast("Any", chain.astream(0))
    if way == "aclose":
        async with aclosing(stream):
            for _ in range(20):
                await stream.__anext__()
    elif way == "raise":
        with pytest.raises(KeyError):
            await _aread_then_raise(stream)
    else:
        with anyio.CancelScope() as scope:
            async with aclosing(stream):
                n = 0
                async for _ in stream:
                    n += 1
                    if n == 20:
                        scope.cancel()
    assert t.all_closed(), (t.open, t.closed)
    assert not _branch_threads()


def _read_then_raise(stream: Iterator[Any]) -> None:
    for n, _ in enumerate(stream):
        if n == 20:
            raise KeyError("reader failed")


async def _aread_then_raise(stream: Any) -> None:
    async with aclosing(stream):
        n = 0
        async for _ in stream:
            n += 1
            if n == 20:
                raise KeyError("reader failed")


_GC_SCRIPT = """
import anyio, gc, sys, threading, time
sys.path.insert(0, {tests!r})
from test_parallel_streaming import _Tracked, _async_chain, _sync_chain

async def main():
    t = _Tracked()
    stream = _async_chain(t).astream(0)
    n = 0
    async for _ in stream:
        n += 1
        if n == 20:
            break  # no aclosing: the stream is left to the garbage collector
    del stream
    gc.collect()
    for _ in range(200):
        if t.all_closed():
            break
        await anyio.sleep(0.01)
    assert t.all_closed(), (t.open, t.closed)
    await anyio.sleep(0.05)

for backend in ("asyncio", "trio"):
    anyio.run(main, backend=backend)
t = _Tracked()
for n, _ in enumerate(_sync_chain(t).stream(0)):
    if n == 20:
        break
gc.collect()
assert t.all_closed(), (t.open, t.closed)
assert not [th for th in threading.enumerate() if th.name == "runnables-parallel-branch"]
print("ok")
"""


def test_a_stream_through_a_parallel_left_to_the_garbage_collector_under_dev_mode() -> None:
    script = _GC_SCRIPT.format(tests=str(ROOT / "tests"))
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert done.stderr == ""


# -------------------------------------------------------------------------------------- errors


def test_an_error_in_one_branch_stops_the_others_and_the_input() -> None:
    t = _Tracked()

    def fails(chunks: Iterator[int]) -> Iterator[int]:
        for chunk in chunks:
            if chunk == 10:
                raise KeyError("branch failed")
            yield chunk

    chain = RunnableLambda(t.source("source")) | {"ok": t.relay("ok"), "bad": fails}
    with pytest.raises(KeyError, match="branch failed") as info:
        list(chain.stream(0))
    assert "raised in runnable 'fails'" in "".join(getattr(info.value, "__notes__", []))
    assert t.all_closed(), (t.open, t.closed)
    assert not _branch_threads()


@pytest.mark.anyio
async def test_an_error_in_one_branch_stops_the_others_and_the_input_async() -> None:
    t = _Tracked()
    stuck = anyio.Event()

    async def fails(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for chunk in chunks:
            if chunk == 10:
                raise KeyError("branch failed")
            yield chunk

    async def never_ends(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for chunk in chunks:
            yield chunk
            if chunk == 5:
                await stuck.wait()  # cancelled when its sibling fails

    chain = RunnableLambda(t.asource("source")) | {
        "ok": t.arelay("ok"),
        "bad": fails,
        "stuck": never_ends,
    }
    with pytest.raises(KeyError, match="branch failed"):
        async for _ in chain.astream(0):
            pass
    assert t.all_closed(), (t.open, t.closed)


def test_an_error_in_the_input_stops_the_branches() -> None:
    t = _Tracked()

    def broken(x: int) -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("input failed")

    chain = RunnableLambda(broken) | {"a": t.relay("a"), "b": t.relay("b")}
    with pytest.raises(ValueError, match="input failed"):
        list(chain.stream(0))
    assert t.all_closed(), (t.open, t.closed)
    assert not _branch_threads()


@pytest.mark.anyio
async def test_an_error_in_the_input_stops_the_branches_async() -> None:
    t = _Tracked()

    async def broken(x: int) -> AsyncIterator[int]:
        yield 1
        yield 2
        raise ValueError("input failed")

    chain = RunnableLambda(broken) | {"a": t.arelay("a"), "b": t.relay("b")}
    with pytest.raises(ValueError, match="input failed"):
        async for _ in chain.astream(0):
            pass
    assert t.all_closed(), (t.open, t.closed)


# ------------------------------------------------------------------------------------- budget


class _Concurrency:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def _budget_chain(c: _Concurrency) -> Runnable[Any, Any]:
    def source(x: int) -> Iterator[int]:
        for i in range(30):
            with c:
                time.sleep(0.0005)
            yield i

    def relay(chunks: Iterator[int]) -> Iterator[int]:
        for chunk in chunks:
            with c:
                time.sleep(0.0005)
            yield chunk

    def whole(x: int) -> int:
        with c:
            time.sleep(0.001)
        return x

    return RunnableLambda(source) | {
        "a": RunnableGenerator(relay),
        "b": RunnableGenerator(relay),
        "c": RunnableLambda(whole),
    }


@pytest.mark.parametrize("limit", [1, 2])
def test_max_concurrency_is_one_budget_for_a_streaming_parallel(limit: int) -> None:
    c = _Concurrency()
    chunks = list(_budget_chain(c).stream(0, {"max_concurrency": limit}))
    assert len(chunks) == 61
    assert c.most <= limit


@pytest.mark.anyio
@pytest.mark.parametrize("limit", [1, 2])
async def test_max_concurrency_is_one_budget_for_a_streaming_parallel_async(limit: int) -> None:
    c = _Concurrency()
    chunks = [chunk async for chunk in _budget_chain(c).astream(0, {"max_concurrency": limit})]
    assert len(chunks) == 61
    assert c.most <= limit


# ------------------------------------------------------------------------- events and models


@pytest.mark.anyio
async def test_events_show_the_parser_streaming_while_the_model_streams() -> None:
    model = FakeListChatModel(responses=["one two three"])
    chain = model | {"text": StrOutputParser(), "raw": RunnablePassthrough()}
    events = [
        (e["event"], e["name"])
        async for e in chain.astream_events("hi", include_names=["StrOutputParser"])
    ]
    assert events[0] == ("on_parser_start", "StrOutputParser")
    kinds = [
        e["event"]
        async for e in chain.astream_events("hi")
        if e["event"] in ("on_parser_stream", "on_chat_model_end")
    ]
    assert kinds.index("on_parser_stream") < kinds.index("on_chat_model_end")


def test_sync_model_into_a_dict_of_parser_and_passthrough_streams() -> None:
    model = FakeListChatModel(responses=["one two three"])
    chain = model | {"text": StrOutputParser(), "raw": RunnablePassthrough()}
    chunks = list(chain.stream("hi"))
    assert [c["text"] for c in chunks if "text" in c] == ["one", " ", "two", " ", "three"]
    assert len([c for c in chunks if "raw" in c]) == 5
    assert chain.invoke("hi")["text"] == "one two three"


# ------------------------------------------------------------------------------------- assign


def _dict_chunks(x: str) -> Iterator[dict[str, str]]:
    for word in x.split():
        yield AddableDict({"text": word + " "})


async def _adict_chunks(x: str) -> AsyncIterator[dict[str, str]]:
    for word in x.split():
        yield AddableDict({"text": word + " "})


def test_assign_passes_its_input_through_as_it_arrives() -> None:
    chain = RunnableLambda(_dict_chunks) | RunnablePassthrough.assign(
        size=lambda d: len(d["text"]), up=RunnableGenerator(_upper_dicts)
    )
    chunks = list(chain.stream("a b"))
    assert chunks[:2] == [{"text": "a "}, {"text": "b "}]
    assert _by_key(chunks[2:]) == {"up": ["A ", "B "], "size": [4]}
    assert chain.invoke("a b") == {"text": "a b ", "size": 4, "up": "A B "}


def _upper_dicts(chunks: Iterator[dict[str, str]]) -> Iterator[str]:
    for chunk in chunks:
        yield chunk["text"].upper()


@pytest.mark.anyio
async def test_assign_passes_its_input_through_as_it_arrives_async() -> None:
    chain = RunnableLambda(_adict_chunks) | RunnablePassthrough.assign(
        size=lambda d: len(d["text"])
    )
    chunks = [chunk async for chunk in chain.astream("a b")]
    assert chunks == [{"text": "a "}, {"text": "b "}, {"size": 4}]


def test_assign_drops_assigned_keys_from_passed_chunks_and_refuses_a_non_dict() -> None:
    def chunks(x: int) -> Iterator[dict[str, int]]:
        yield AddableDict({"a": 1, "b": 2})
        yield AddableDict({"b": 3})

    chain = RunnableLambda(chunks) | RunnablePassthrough.assign(b=lambda d: d["b"] * 10)
    assert list(chain.stream(0)) == [{"a": 1}, {"b": 50}]
    not_dicts = RunnableLambda(_words) | RunnablePassthrough.assign(n=lambda d: 1)
    with pytest.raises(TypeError, match="needs a dict input"):
        list(not_dicts.stream("a b"))


# -------------------------------------------------------------------------- against LangChain


def _lc_dict_chunks(x: str) -> Iterator[Any]:
    from langchain_core.runnables.utils import AddableDict as LCAddableDict

    for word in x.split():
        yield LCAddableDict({"text": word + " "})


def test_assign_streams_as_langchain_does() -> None:
    lc = pytest.importorskip("langchain_core.runnables")
    ours = RunnableLambda(_dict_chunks) | RunnablePassthrough.assign(
        size=lambda d: len(d["text"]), shout=lambda d: d["text"].upper()
    )
    theirs = lc.RunnableLambda(_lc_dict_chunks) | lc.RunnablePassthrough.assign(
        size=lambda d: len(d["text"]), shout=lambda d: d["text"].upper()
    )
    our_chunks = [dict(c) for c in ours.stream("a b c")]
    their_chunks = [dict(c) for c in theirs.stream("a b c")]
    assert our_chunks[:3] == their_chunks[:3] == [{"text": w + " "} for w in "abc"]
    assert sorted(map(str, our_chunks[3:])) == sorted(map(str, their_chunks[3:]))
    assert ours.invoke("a b c") == theirs.invoke("a b c")


def test_parallel_after_a_generator_streams_as_langchain_does() -> None:
    lc = pytest.importorskip("langchain_core.runnables")
    ours = RunnableLambda(_words) | {
        "up": RunnableGenerator(_upper_each),
        "same": RunnablePassthrough(),
        "whole": lambda s: s.strip(),
    }
    theirs = lc.RunnableLambda(_words) | {
        "up": lc.RunnableGenerator(_upper_each),
        "same": lc.RunnablePassthrough(),
        "whole": lambda s: s.strip(),
    }
    assert _by_key(list(ours.stream("a b c"))) == _by_key(list(theirs.stream("a b c")))
    ours = RunnableLambda(_awords) | {
        "up": RunnableGenerator(_aupper_each),
        "same": RunnablePassthrough(),
        "whole": lambda s: s.strip(),
    }
    theirs = lc.RunnableLambda(_awords) | {
        "up": lc.RunnableGenerator(_aupper_each),
        "same": lc.RunnablePassthrough(),
        "whole": lambda s: s.strip(),
    }

    async def chunks(runnable: Any) -> list[dict[str, Any]]:
        return [c async for c in runnable.astream("a b c")]

    ours_async = anyio.run(chunks, ours)
    theirs_async = anyio.run(chunks, theirs)  # (langchain-core runs on asyncio only)
    assert _by_key(ours_async) == _by_key(theirs_async)
    assert _by_key(ours_async) == {
        "up": ["A ", "B ", "C "],
        "same": ["a ", "b ", "c "],
        "whole": ["a b c"],
    }


# ------------------------------------------------------------------------------------- invoke


def _nested(levels: int) -> Runnable[Any, Any]:
    nested: Runnable[Any, Any] = RunnableLambda(lambda x: x + 1)
    for _ in range(levels):
        nested = RunnableParallel(a=nested, b=RunnableLambda(lambda x: x))
    return nested


def _unwrap(out: Any, levels: int) -> Any:
    for _ in range(levels):
        out = out["a"]
    return out


def test_a_thousand_nested_parallels_invoke() -> None:
    assert _unwrap(_nested(1000).invoke(0), 1000) == 1


@pytest.mark.anyio
async def test_a_thousand_nested_parallels_ainvoke() -> None:
    assert _unwrap(await _nested(1000).ainvoke(0), 1000) == 1


@pytest.mark.anyio
async def test_deeply_nested_parallels_ainvoke() -> None:
    """The async twin of `test_review_s13.test_deeply_nested_parallels_invoke`."""
    nested: Runnable[Any, Any] = RunnableLambda(lambda x: x + 1)
    for _ in range(300):
        nested = RunnableParallel(a=nested)
    out: Any = await nested.ainvoke(0)
    assert _unwrap(out, 300) == 1


def test_deeply_nested_parallels_fail_with_the_inner_error() -> None:
    def boom(x: int) -> int:
        raise KeyError("deep")

    nested: Runnable[Any, Any] = RunnableLambda(boom)
    for _ in range(400):
        nested = RunnableParallel(a=nested)
    with pytest.raises(KeyError, match="deep"):
        nested.invoke(0)


def test_a_failing_branch_stops_a_streaming_branch_nested_in_a_sibling() -> None:
    started = threading.Event()
    finished: list[bool] = []

    def tokens(x: int) -> Iterator[int]:
        for i in range(2_000):
            started.set()
            time.sleep(0.001)
            yield i
        finished.append(True)

    def fails(x: int) -> int:
        started.wait(5)
        raise KeyError("sibling failed")

    inner = RunnableParallel(t=RunnableLambda(tokens), u=RunnableLambda(lambda x: x))
    fan = RunnableParallel(inner=inner, b=RunnableLambda(fails))
    with pytest.raises(KeyError, match="sibling failed"):
        fan.invoke(1)
    assert not finished
    # The parallel works again afterwards: the stop belonged to that one call.
    ok = RunnableParallel(inner=inner, b=RunnableLambda(lambda x: x))
    assert ok.invoke(1)["b"] == 1


def test_the_sibling_failure_is_raised_never_the_stop_of_the_others() -> None:
    """Whichever branch the fan-out sees end first, the error raised is the failure that
    stopped the others, never their internal stop."""

    def tokens(x: int) -> Iterator[int]:
        while True:
            yield x

    def fails(x: int) -> int:
        raise KeyError("sibling failed")

    fan = RunnableParallel(
        a=RunnableLambda(tokens), b=RunnableLambda(fails), c=RunnableLambda(tokens)
    )
    for _ in range(50):
        with pytest.raises(KeyError, match="sibling failed"):
            fan.invoke(1)
