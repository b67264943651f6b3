"""`from_langchain`: LangChain runnables (real langchain-core components) inside typed chains."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import attrs
import langchain_core.documents as lc_documents
import langchain_core.messages as lc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.output_parsers import StrOutputParser as LCStrOutputParser
from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate
from langchain_core.runnables import RunnableGenerator as LCRunnableGenerator
from langchain_core.runnables import RunnableLambda as LCRunnableLambda
from tests.conftest import Peak, Recorder

from runnables import RunnableLambda
from runnables.documents import Document
from runnables.langchain import (
    from_langchain,
    from_langchain_value,
    to_langchain_value,
)
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate, ChatPromptValue


def fake_model(text: str = "hello there world") -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([lc.AIMessage(content=text, id="m1")] * 50))


def lc_chain() -> Any:
    return LCChatPromptTemplate.from_template("say {x}") | fake_model() | LCStrOutputParser()


# -------------------------------------------------------------------- values both ways


OUR_VALUES: list[Any] = [
    HumanMessage("hi", id="h1", name="ann", additional_kwargs={"k": 1}),
    SystemMessage("be brief", response_metadata={"r": "x"}),
    ChatMessage("hello", role="critic"),
    AIMessage(
        "calling",
        id="a1",
        tool_calls=[ToolCall("search", {"q": "cats", "n": 2}, "call-1")],
        usage_metadata={
            "input_tokens": 3,
            "output_tokens": 4,
            "total_tokens": 7,
            "input_token_details.cache_read": 1,
        },
        response_metadata={"model_name": "m"},
    ),
    AIMessageChunk("par", id="c1", tool_calls=[ToolCall("f", {"a": [1, 2]}, "t1")]),
    ToolMessage("42", tool_call_id="call-1", status="error", additional_kwargs={"artifact": [1]}),
    Document("text", {"source": "a.txt"}, id="d1"),
    ChatPromptValue([HumanMessage("q"), AIMessage("a")]),
    {"docs": [Document("x")], "pair": (HumanMessage("p"), 3), "n": None},
]


@pytest.mark.parametrize("value", OUR_VALUES, ids=lambda v: type(v).__name__)
def test_values_cross_to_langchain_and_back_unchanged(value: Any) -> None:
    assert from_langchain_value(to_langchain_value(value)) == value


def test_langchain_fields_we_lack_travel_in_additional_kwargs() -> None:
    message = lc.AIMessage(
        content="x",
        tool_calls=[lc.ToolCall(name="f", args={"a": 1}, id="t1")],
        invalid_tool_calls=[{"name": "g", "args": "{oops", "id": "t2", "error": "bad json"}],
        usage_metadata={
            "input_tokens": 1,
            "output_tokens": 2,
            "total_tokens": 3,
            "output_token_details": {"reasoning": 1},
        },
    )
    ours = from_langchain_value(message)
    assert ours.tool_calls == [ToolCall("f", {"a": 1}, "t1")]
    assert ours.additional_kwargs["invalid_tool_calls"][0]["args"] == "{oops"
    assert ours.usage_metadata["output_token_details.reasoning"] == 1
    assert to_langchain_value(ours) == message
    tool = lc.ToolMessage(content="r", tool_call_id="t1", artifact={"raw": b"\x00"})
    assert to_langchain_value(from_langchain_value(tool)) == tool
    doc = lc_documents.Document(page_content="p", metadata={"m": 1}, id="d")
    assert to_langchain_value(from_langchain_value(doc)) == doc


_json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
_json_dicts = st.dictionaries(st.text(max_size=5), _json_scalars, max_size=3)


@given(
    content=st.text(max_size=8) | st.lists(st.text(max_size=3), max_size=2),
    extra=_json_dicts,
    metadata=_json_dicts,
    name=st.none() | st.text(max_size=3),
    id=st.none() | st.text(max_size=3),
    tokens=st.none() | st.tuples(st.integers(0, 9), st.integers(0, 9), st.integers(0, 9)),
)
def test_a_streamed_text_chunk_converts_as_its_constructor_would(
    content: Any,
    extra: dict[str, Any],
    metadata: dict[str, Any],
    name: str | None,
    id: str | None,
    tokens: tuple[int, int, int] | None,
) -> None:
    usage = None
    if tokens is not None:
        usage = lc.UsageMetadata(
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            total_tokens=tokens[0] + tokens[1],
            input_token_details={"cache_read": tokens[2]},
        )
    theirs = lc.AIMessageChunk(
        content=content,
        additional_kwargs=extra,
        response_metadata=metadata,
        name=name,
        id=id,
        usage_metadata=usage,
    )
    ours = from_langchain_value(theirs)
    # Streamed, a chunk takes the short way (its slots filled in): the same value again.
    streamed = from_langchain(
        LCRunnableLambda(lambda _: theirs), input_type=str, output_type=AIMessageChunk
    )
    assert list(streamed.stream("q")) == [ours]
    flat = None
    if tokens is not None:
        flat = {
            "input_tokens": tokens[0],
            "output_tokens": tokens[1],
            "total_tokens": tokens[0] + tokens[1],
            "input_token_details.cache_read": tokens[2],
        }
    assert ours == AIMessageChunk(
        theirs.content,
        additional_kwargs=extra,
        response_metadata=metadata,
        name=name,
        id=id,
        usage_metadata=flat,
    )
    assert set(attrs.asdict(ours, recurse=False)) == {f.name for f in attrs.fields(AIMessageChunk)}
    assert ours.additional_kwargs is not theirs.additional_kwargs
    assert ours.response_metadata is not theirs.response_metadata
    assert to_langchain_value(ours) == theirs


def test_a_streamed_chunk_is_a_frozen_chunk_of_its_own() -> None:
    model = from_langchain(fake_model("a b"), input_type=str, output_type=AIMessageChunk)
    first, _, last = model.stream("q")
    assert type(first) is AIMessageChunk
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.content = "changed"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    for field in ("additional_kwargs", "response_metadata", "tool_calls", "tool_call_chunks"):
        assert getattr(first, field) is not getattr(last, field), field
    assert first.tool_calls is not first.invalid_tool_calls
    assert (first + last).content == "ab"


def test_streamed_chunks_keep_their_tool_call_pieces() -> None:
    piece = lc.AIMessageChunk(
        content="",
        id="c1",
        tool_call_chunks=[lc.ToolCallChunk(name="f", args='{"a": ', id="t1", index=0)],
    )
    rest = lc.AIMessageChunk(
        content="", tool_call_chunks=[lc.ToolCallChunk(name=None, args="1}", id=None, index=0)]
    )
    ours = [from_langchain_value(chunk) for chunk in (piece, rest)]
    assert [c.tool_call_chunks[0].args for c in ours] == ['{"a": ', "1}"]
    assert (ours[0] + ours[1]).tool_calls == [ToolCall("f", {"a": 1}, "t1")]


def test_a_message_without_a_counterpart_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="FunctionMessage has no counterpart"):
        from_langchain_value([lc.FunctionMessage(content="x", name="f")])


# -------------------------------------------------------------------- calls


def test_every_sync_call_form_through_a_typed_chain() -> None:
    model = from_langchain(fake_model(), input_type=ChatPromptValue, output_type=AIMessage)
    chain = ChatPromptTemplate.from_template("say {x}") | model | StrOutputParser()
    assert chain.invoke({"x": 1}) == "hello there world"
    assert chain.batch([{"x": 1}, {"x": 2}]) == ["hello there world"] * 2
    # Chunk by chunk: the fake model streams words and spaces.
    assert list(chain.stream({"x": 1})) == ["hello", " ", "there", " ", "world"]
    chunks = list(model.stream(ChatPromptValue([HumanMessage("q")])))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert model.name == "GenericFakeChatModel"
    assert model.run_type == "chat_model"


@pytest.mark.anyio
async def test_every_async_call_form(anyio_backend: str) -> None:
    wrapped = from_langchain(lc_chain(), input_type=dict, output_type=str)
    chain = wrapped | RunnableLambda(str.upper)
    assert await chain.ainvoke({"x": 1}) == "HELLO THERE WORLD"
    assert await chain.abatch([{"x": 1}] * 3) == ["HELLO THERE WORLD"] * 3
    chunks = [c async for c in wrapped.astream({"x": 1})]
    assert chunks == ["hello", " ", "there", " ", "world"]


def test_wrapping_something_else_is_refused() -> None:
    with pytest.raises(TypeError, match="wraps a LangChain Runnable, got builtin_function"):
        from_langchain(len, input_type=str, output_type=int)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


@pytest.mark.anyio
async def test_max_concurrency_is_one_budget_for_the_wrapped_calls(
    anyio_backend: str, peak: Peak
) -> None:
    def hold(x: int) -> int:
        peak.hold_sync(0.02)
        return x

    wrapped = from_langchain(LCRunnableLambda(hold), input_type=int, output_type=int)
    parallel = {"a": wrapped, "b": wrapped}
    chain = RunnableLambda(lambda x: x) | parallel  # type: ignore[var-annotated]  # pyright: ignore[reportUnknownLambdaType]
    results = await chain.abatch([1, 2, 3, 4], {"max_concurrency": 3})
    assert results == [{"a": i, "b": i} for i in (1, 2, 3, 4)]
    assert peak.total == 8
    assert peak.peak <= 3
    assert wrapped.batch([1, 2, 3, 4, 5], {"max_concurrency": 2}) == [1, 2, 3, 4, 5]
    assert peak.peak <= 3


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_cancelling_the_call_cancels_the_wrapped_coroutine(anyio_backend: str) -> None:
    # asyncio only: LangChain's async methods run on asyncio (under trio the sync ones run in
    # worker threads, which cannot be interrupted).
    seen: list[str] = []
    entered = anyio.Event()

    async def forever(x: int) -> int:
        entered.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return x

    wrapped = from_langchain(LCRunnableLambda(forever), input_type=int, output_type=int)
    async with anyio.create_task_group() as group:
        group.start_soon(wrapped.ainvoke, 1)
        await entered.wait()
        group.cancel_scope.cancel()
    assert seen == ["cancelled"]


# -------------------------------------------------------------------- observability


def test_inner_langchain_runs_are_children_of_the_wrapper_run(recorder: Recorder) -> None:
    wrapped = from_langchain(lc_chain(), input_type=dict, output_type=str)
    chain = RunnableLambda(lambda d: d) | wrapped.with_config(run_name="inner")  # type: ignore[var-annotated]  # pyright: ignore[reportUnknownLambdaType]
    assert chain.invoke({"x": 1}, {"callbacks": [recorder], "tags": ["t"]}) == "hello there world"
    outer = recorder.one("RunnableSequence")
    wrapper = recorder.one("inner")  # the wrapped LCEL chain's own run
    prompt = recorder.one("ChatPromptTemplate")
    model = recorder.one("GenericFakeChatModel")
    parser = recorder.one("StrOutputParser")
    assert wrapper.parent_id == outer.id
    assert prompt.parent_id == model.parent_id == parser.parent_id == wrapper.id
    assert set(wrapper.child_ids) == {prompt.id, model.id, parser.id}
    assert prompt.run_type == "prompt"
    assert model.run_type == "chat_model"
    assert parser.run_type == "parser"
    assert isinstance(prompt.outputs, ChatPromptValue)  # converted to ours
    assert model.outputs == AIMessage("hello there world", id="m1")
    assert "t" in model.tags
    kinds = recorder.kinds("GenericFakeChatModel")
    assert (kinds[0], kinds[-1]) == ("start", "end")


@pytest.mark.anyio
async def test_inner_runs_in_astream_events_with_parent_ids(anyio_backend: str) -> None:
    wrapped = from_langchain(lc_chain(), input_type=dict, output_type=str).with_config(
        run_name="wrapped"
    )
    chain = RunnableLambda(lambda d: d) | wrapped  # type: ignore[var-annotated]  # pyright: ignore[reportUnknownLambdaType]
    events = [e async for e in chain.astream_events({"x": 1})]
    ids = {e["name"]: e["run_id"] for e in events if e["event"].endswith("_start")}
    by_name = {(e["event"], e["name"]): e for e in events}
    model_start = by_name[("on_chat_model_start", "GenericFakeChatModel")]
    assert model_start["parent_ids"] == [ids["RunnableSequence"], ids["wrapped"]]
    assert model_start["data"]["input"] == {"messages": [[HumanMessage("say 1")]]}
    streamed = [
        e["data"]["chunk"]
        for e in events
        if e["event"] == "on_chat_model_stream" and e["name"] == "GenericFakeChatModel"
    ]
    assert [c.content for c in streamed] == ["hello", " ", "there", " ", "world"]
    parser_chunks = [e["data"]["chunk"] for e in events if e["event"] == "on_parser_stream"]
    assert "".join(parser_chunks) == "hello there world"
    end = by_name[("on_parser_end", "StrOutputParser")]
    assert end["data"]["input"] == AIMessageChunk("hello there world", id="m1")
    names = [e["name"] for e in events if e["event"].endswith("_start")]
    assert names == ["RunnableSequence", "RunnableLambda", "wrapped", "ChatPromptTemplate",
                     "GenericFakeChatModel", "StrOutputParser"]  # fmt: skip


@pytest.mark.anyio
async def test_inner_runs_in_astream_log(anyio_backend: str) -> None:
    wrapped = from_langchain(lc_chain(), input_type=dict, output_type=str)
    state: Any = None
    async for patch in wrapped.astream_log({"x": 1}):
        state = patch if state is None else state + patch
    logs = state.state["logs"]
    assert {"ChatPromptTemplate", "GenericFakeChatModel", "StrOutputParser"} <= set(logs)
    # A parser's output is logged in LangChain's shape, as for runnables' own parsers.
    assert logs["StrOutputParser"]["final_output"] == {"output": "hello there world"}
    assert state.state["final_output"] == "hello there world"


def test_no_listener_no_langchain_callbacks() -> None:
    seen: list[Any] = []

    def look(x: int, config: Any) -> int:
        seen.append(config.get("callbacks"))
        return x

    wrapped = from_langchain(LCRunnableLambda(look), input_type=int, output_type=int)
    assert wrapped.invoke(1) == 1
    handlers = seen[0].handlers if seen[0] is not None else []
    assert handlers == []


def test_an_error_in_langchain_reaches_the_caller_unchanged(recorder: Recorder) -> None:
    def boom(x: int) -> int:
        raise KeyError(x)

    inner = LCRunnableLambda(lambda x: x) | LCRunnableLambda(boom)
    wrapped = from_langchain(inner, input_type=int, output_type=int)
    with pytest.raises(KeyError) as info:
        wrapped.invoke(5, {"callbacks": [recorder]})
    assert "RunnableSequence" in "".join(getattr(info.value, "__notes__", []))
    assert recorder.kinds("boom") == ["start", "error"]
    assert isinstance(recorder.one("boom").error, KeyError)


def test_run_ids_given_reach_langchain() -> None:
    run_id = uuid.uuid4()
    got: list[Any] = []

    class Catch:
        def on_start(self, run: Any) -> None:
            got.append((run.name, run.id, run.parent_id))

    wrapped = from_langchain(lc_chain(), input_type=dict, output_type=str)
    wrapped.invoke({"x": 1}, {"callbacks": [Catch()], "run_id": run_id})
    time.sleep(0)  # delivered before invoke returns
    assert got[0] == ("RunnableSequence", run_id, None)
    assert all(parent == run_id for _, _, parent in got[1:])


def test_importing_runnables_imports_no_bridge_dependency() -> None:
    import subprocess
    import sys

    code = (
        "import sys, runnables, runnables.messages, runnables.tracing; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('langchain_core', 'opentelemetry')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("traced", [False, True])
def test_a_stream_through_a_chain_closes_the_wrapped_stream_however_it_ends(traced: bool) -> None:
    closed: list[str] = []

    def replies(inputs: Iterator[str]) -> Iterator[Any]:
        try:
            for _ in inputs:
                yield lc.AIMessageChunk(content="a")
                yield lc.FunctionMessage(content="x", name="f")  # has no counterpart in ours
        finally:
            closed.append("closed")

    wrapped = from_langchain(LCRunnableGenerator(replies), input_type=str, output_type=Any)
    chain = wrapped | StrOutputParser()
    config: Any = {"callbacks": [Recorder()]} if traced else None
    chunks = chain.stream("q", config)
    assert next(chunks) == "a"
    chunks.close()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    assert closed == ["closed"]
    with pytest.raises(TypeError, match="FunctionMessage has no counterpart"):
        list(chain.stream("q", config))
    assert closed == ["closed", "closed"]


@pytest.mark.anyio
async def test_an_abandoned_stream_closes_the_wrapped_stream(anyio_backend: str) -> None:
    closed: list[str] = []

    def numbers(inputs: Iterator[int]) -> Iterator[int]:
        try:
            for first in inputs:
                yield from range(first, first + 100)
        finally:
            closed.append("sync")

    async def anumbers(inputs: AsyncIterator[int]) -> AsyncIterator[int]:
        try:
            async for first in inputs:
                for n in range(first, first + 100):
                    yield n
        finally:
            closed.append("async")

    wrapped = from_langchain(
        LCRunnableGenerator(numbers, anumbers), input_type=int, output_type=int
    )
    stream = wrapped.astream(5)
    async for n in stream:
        assert n == 5
        break
    await stream.aclose()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    chunks = wrapped.stream(7)
    assert next(chunks) == 7
    chunks.close()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    expected = "async" if anyio_backend == "asyncio" else "sync"
    assert closed == [expected, "sync"]
