"""A wrapped LangChain stream read by `StrOutputParser` in an untraced sync stream: the text of
LangChain's own chunks is passed on (ours are not built only to read their text), with the
same chunks, the same failing step named and every stream closed as when the two steps
stream one after the other (traced, or async)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import langchain_core.messages as lc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.prompt_values import ChatPromptValue as LCChatPromptValue
from langchain_core.runnables import RunnableGenerator as LCRunnableGenerator
from tests.conftest import Peak, Recorder, python_calls

from runnables import RunnableGenerator, RunnableLambda, RunnableSequence
from runnables.langchain import from_langchain
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptValue


def fake_model(words: int) -> GenericFakeChatModel:
    text = " ".join(f"w{i}" for i in range(words))
    return GenericFakeChatModel(messages=itertools.repeat(lc.AIMessage(content=text, id="m")))


def replying(*chunks: Any) -> Any:
    """A LangChain runnable streaming `chunks` (raising a new copy of one that is an exception)."""

    def replies(inputs: Iterator[Any]) -> Iterator[Any]:
        for _ in inputs:
            for chunk in chunks:
                if isinstance(chunk, Exception):
                    raise type(chunk)(*chunk.args)
                yield chunk

    async def areplies(inputs: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for _ in inputs:
            for chunk in chunks:
                if isinstance(chunk, Exception):
                    raise type(chunk)(*chunk.args)
                yield chunk

    return LCRunnableGenerator(replies, areplies)


def outcome(chunks: Callable[[], Iterator[Any]]) -> tuple[list[Any], Any]:
    """The chunks streamed, and the failure that ended the stream (type, text, notes)."""
    seen: list[Any] = []
    try:
        for chunk in chunks():
            seen.append(chunk)
    except Exception as exc:
        return seen, (type(exc), str(exc), getattr(exc, "__notes__", None))
    return seen, None


def test_the_text_chunks_of_a_model_are_not_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    import runnables.langchain._convert as convert

    converted: list[Any] = []
    real = convert.from_lc_chunk

    def counting(value: Any) -> Any:
        converted.append(value)
        return real(value)

    monkeypatch.setattr(convert, "from_lc_chunk", counting)
    for module in ("runnables.langchain._wrap", "runnables.langchain._text"):
        monkeypatch.setattr(f"{module}.from_lc_chunk", counting)
    model = from_langchain(fake_model(3), input_type=ChatPromptValue, output_type=lc.AIMessage)
    chain = model | StrOutputParser()
    assert list(chain.stream(ChatPromptValue([]))) == ["w0", " ", "w1", " ", "w2"]
    assert converted == []
    # Alone (its chunks are the output) or traced (each step's chunks are seen), they are.
    assert len(list(model.stream(ChatPromptValue([])))) == len(converted) == 5
    assert "".join(chain.stream(ChatPromptValue([]), {"callbacks": [Recorder()]})) == "w0 w1 w2"
    assert len(converted) == 10


def test_a_parser_reading_a_model_costs_few_python_calls_per_chunk() -> None:
    """Deterministic (calls counted, not timed): what a chunk costs beyond LangChain's own."""

    def ours(words: int) -> Callable[[], object]:
        wrapped = from_langchain(fake_model(words), input_type=ChatPromptValue, output_type=Any)
        chain = wrapped | StrOutputParser()
        return lambda: list(chain.stream(ChatPromptValue([])))

    def theirs(words: int) -> Callable[[], object]:
        model = fake_model(words)
        return lambda: list(model.stream(LCChatPromptValue(messages=[])))

    extra_chunks = 2 * 300
    per_chunk = (
        python_calls(ours(310)) - python_calls(ours(10))
        - (python_calls(theirs(310)) - python_calls(theirs(10)))
    ) / extra_chunks  # fmt: skip
    # 4: the sequence's two stream layers, the bridge's (naming a failing step) and the text
    # of each chunk (converting each chunk, then reading its text in the parser, took 7).
    # Below 5, not 4: whatever else runs on this thread meanwhile (a finalizer the garbage
    # collector calls) is counted too.
    assert per_chunk < 5, per_chunk


_ai_chunks = st.builds(
    lc.AIMessageChunk,
    content=st.text(max_size=4) | st.lists(st.text(max_size=3), max_size=2),
    id=st.none() | st.just("c1"),
)
_tool_pieces = st.builds(
    lambda args: lc.AIMessageChunk(
        content="", tool_call_chunks=[lc.ToolCallChunk(name="f", args=args, id="t", index=0)]
    ),
    st.sampled_from(['{"a": ', "1}", "{}", "not json"]),
)
_chunks = st.lists(
    _ai_chunks
    | _tool_pieces
    | st.text(max_size=3)
    | st.builds(lambda text: lc.HumanMessageChunk(content=text), st.text(max_size=3))
    | st.just({"not": "text"})  # the parser's failure
    | st.just(lc.FunctionMessage(content="x", name="f"))  # has no counterpart: the model's
    | st.just(KeyError("model failed")),
    max_size=6,
)


@given(chunks=_chunks, run_name=st.none() | st.just("named"))
def test_the_chunks_and_the_failing_step_are_those_of_the_two_steps(
    chunks: list[Any], run_name: str | None
) -> None:
    chain = from_langchain(replying(*chunks), input_type=str, output_type=Any) | StrOutputParser()
    config: Any = {"run_name": run_name} if run_name else {}
    fast = outcome(lambda: chain.stream("q", config))
    traced = outcome(lambda: chain.stream("q", {**config, "callbacks": [Recorder()]}))
    assert fast == traced  # (a run name names the sequence's run, never its steps)
    if fast[1] is not None:
        step = ("StrOutputParser" if fast[1][0] is not KeyError and (
            "output parser needs a str" in fast[1][1]) else "replies")  # fmt: skip
        assert fast[1][2] == [f"raised in runnable {step!r}"]


@pytest.mark.parametrize(
    ("chunks", "step"),
    [
        ((lc.AIMessageChunk(content="a"), KeyError("x")), "replies"),
        ((lc.AIMessageChunk(content="a"), lc.FunctionMessage(content="x", name="f")), "replies"),
        ((lc.AIMessageChunk(content="a"), 3), "StrOutputParser"),
    ],
    ids=["model", "conversion", "parser"],
)
def test_the_failing_step_is_named_once(chunks: tuple[Any, ...], step: str) -> None:
    chain = from_langchain(replying(*chunks), input_type=str, output_type=Any) | StrOutputParser()
    streamed, failure = outcome(lambda: chain.stream("q"))
    assert streamed == ["a"]
    assert failure[2] == [f"raised in runnable {step!r}"]


def test_a_stream_closed_early_closes_the_model_and_every_step() -> None:
    closed: list[str] = []

    def replies(inputs: Iterator[str]) -> Iterator[Any]:
        try:
            for _ in inputs:
                yield from (lc.AIMessageChunk(content=c) for c in "abc")
        finally:
            closed.append("model")

    def careless(chunks: Iterator[str]) -> Iterator[str]:  # never closes its input
        try:
            for chunk in chunks:  # noqa: UP028 - (`yield from` would close its input)
                yield chunk
        finally:
            closed.append("generator")

    model = from_langchain(LCRunnableGenerator(replies), input_type=str, output_type=Any)
    chunks = (model | StrOutputParser() | RunnableGenerator(careless)).stream("q")
    assert next(chunks) == "a"
    chunks.close()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    assert closed == ["generator", "model"]


def test_a_generator_after_the_parser_borrows_the_model_s_slot(
    peak: Peak, in_thread: Callable[..., Any]
) -> None:
    def replies(inputs: Iterator[str]) -> Iterator[Any]:
        for _ in inputs:
            for text in "abc":
                peak.hold_sync(0.005)
                yield lc.AIMessageChunk(content=text)

    def inner(text: str) -> str:
        peak.hold_sync(0.005)
        return text

    def per_chunk(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            yield "".join(RunnableLambda(inner).batch([chunk] * 2))

    model = from_langchain(LCRunnableGenerator(replies), input_type=str, output_type=Any)
    chain = model | StrOutputParser() | RunnableGenerator(per_chunk)
    assert in_thread(lambda: list(chain.stream("q", {"max_concurrency": 1})), 20) == [
        "aa",
        "bb",
        "cc",
    ]
    assert peak.peak == 1
    assert peak.total == 3 + 6


# ------------------------------------------------- the failing step of a long untraced chain


LENGTH = 12


def _long_chain(at: int, *, bridge: bool) -> RunnableSequence[Any, Any]:
    """`LENGTH` steps named `s1`, `s2`, ... (a mix of whole-input and streaming steps, sync and
    async), step `at` failing; with `bridge`, a wrapped model and its parser come first."""
    steps: list[Any] = []
    for position in range(1, LENGTH + 1):
        fails = position == at
        if position % 3 == 0:

            def whole(x: str, fails: bool = fails) -> str:
                if fails:
                    raise KeyError("whole")
                return x

            steps.append(RunnableLambda(whole, name=f"s{position}"))
        elif position % 3 == 1:

            def gen(chunks: Iterator[str], fails: bool = fails) -> Iterator[str]:
                for chunk in chunks:
                    if fails:
                        raise KeyError("gen")
                    yield chunk

            async def agen(chunks: AsyncIterator[str], fails: bool = fails) -> AsyncIterator[str]:
                async for chunk in chunks:
                    if fails:
                        raise KeyError("agen")
                    yield chunk

            steps.append(RunnableGenerator(gen, agen, name=f"s{position}"))
        else:

            def lifted(chunks: Iterator[str], fails: bool = fails) -> Iterator[str]:
                for chunk in chunks:
                    if fails:
                        raise KeyError("lifted")
                    yield chunk

            steps.append(RunnableGenerator(lifted, name=f"s{position}"))
    if bridge:
        failing = KeyError("model") if at == 0 else lc.AIMessageChunk(content="ok")
        model = from_langchain(
            replying(lc.AIMessageChunk(content="a"), failing), input_type=str, output_type=Any
        )
        steps = [model, StrOutputParser(), *steps]
    return RunnableSequence(*steps)


_POSITIONS = list(range(1, LENGTH + 1))


@pytest.mark.parametrize("bridge", [False, True])
@pytest.mark.parametrize("at", _POSITIONS)
def test_every_failing_position_of_a_long_stream_is_named(at: int, bridge: bool) -> None:
    chain = _long_chain(at, bridge=bridge)
    with pytest.raises(KeyError) as info:
        list(chain.stream("a"))
    assert info.value.__notes__ == [f"raised in runnable 's{at}'"]
    with pytest.raises(KeyError) as info:
        list(chain.transform(iter(["a", "b"])))
    assert info.value.__notes__ == [f"raised in runnable 's{at}'"]


@pytest.mark.anyio
@pytest.mark.parametrize("bridge", [False, True])
@pytest.mark.parametrize("at", _POSITIONS)
async def test_every_failing_position_of_a_long_astream_is_named(
    at: int, bridge: bool, anyio_backend: str
) -> None:
    chain = _long_chain(at, bridge=bridge)
    with pytest.raises(KeyError) as info:
        async for _ in chain.astream("a"):
            pass
    assert info.value.__notes__ == [f"raised in runnable 's{at}'"]


def test_the_model_failing_first_in_a_long_stream_is_named() -> None:
    chain = _long_chain(0, bridge=True)
    with pytest.raises(KeyError) as info:
        list(chain.stream("a"))
    assert info.value.__notes__ == ["raised in runnable 'replies'"]
