"""The LangChain bridges against the real langchain-core, for what a new user found amiss:
a callback must not change a wrapped model's answer, LangChain handlers hear the runs of a
wrapped LCEL chain as LangChain tells them, and `max_concurrency` crosses into LangChain."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage as LCAIMessage
from langchain_core.messages import AIMessageChunk as LCAIMessageChunk
from langchain_core.messages import BaseMessage as LCBaseMessage
from langchain_core.messages import HumanMessage as LCHumanMessage
from langchain_core.messages import HumanMessageChunk as LCHumanMessageChunk
from langchain_core.messages import SystemMessage as LCSystemMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableLambda as LCRunnableLambda
from langchain_core.runnables import RunnableParallel as LCRunnableParallel

from conftest import Peak
from runnables import RunnableLambda
from runnables.langchain import from_langchain, from_langchain_value, to_langchain_value
from runnables.messages import AIMessage, AIMessageChunk, HumanMessage


class WholeOrStreamed(BaseChatModel):
    """A chat model whose whole answer (id, usage, metadata) differs from its streamed one."""

    @property
    def _llm_type(self) -> str:
        return "whole-or-streamed"

    def _generate(
        self, messages: list[LCBaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        message = LCAIMessage(
            content="whole",
            id="provider-id",
            usage_metadata={"input_tokens": 9, "output_tokens": 2, "total_tokens": 11},
            response_metadata={"finish_reason": "stop"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self, messages: list[LCBaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        for piece in ("stre", "amed"):
            chunk = ChatGenerationChunk(message=LCAIMessageChunk(content=piece))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


class Ends:
    """A runnables callback that keeps the runs that end."""

    def __init__(self) -> None:
        self.runs: list[Any] = []

    def on_end(self, run: Any) -> None:
        self.runs.append(run)


class Tokens:
    """A runnables callback that keeps the chunks the runs stream."""

    def __init__(self) -> None:
        self.chunks: list[Any] = []

    def on_stream(self, run: Any, chunk: Any) -> None:
        self.chunks.append((run.name, chunk))


def _whole(message: AIMessage) -> tuple[Any, ...]:
    return message.content, message.id, message.usage_metadata, message.response_metadata


def test_a_callback_does_not_make_a_wrapped_chat_model_stream_its_invoke() -> None:
    model = from_langchain(WholeOrStreamed(), input_type=str, output_type=AIMessage)
    alone = model.invoke("hi")
    assert _whole(alone) == (
        "whole",
        "provider-id",
        {"input_tokens": 9, "output_tokens": 2, "total_tokens": 11},
        {"finish_reason": "stop"},
    )
    ends = Ends()
    assert _whole(model.invoke("hi", {"callbacks": [ends]})) == _whole(alone)
    assert _whole(model.invoke("hi", {"callbacks": [Tokens()]})) == _whole(alone)
    assert [run.name for run in ends.runs] == ["WholeOrStreamed"]


@pytest.mark.anyio
async def test_a_callback_does_not_make_a_wrapped_chat_model_stream_its_ainvoke() -> None:
    model = from_langchain(WholeOrStreamed(), input_type=str, output_type=AIMessage)
    alone = await model.ainvoke("hi")
    assert _whole(await model.ainvoke("hi", {"callbacks": [Ends()]})) == _whole(alone)
    assert alone.id == "provider-id"


@pytest.mark.anyio
async def test_a_wrapped_chat_models_invoke_under_astream_events_is_its_whole_answer() -> None:
    model = from_langchain(WholeOrStreamed(), input_type=str, output_type=AIMessage)
    # A step that invokes the wrapped model: under events its invoke stays an invoke.
    step = RunnableLambda(lambda text, config: model.invoke(text, config))
    events = [event async for event in step.astream_events("hi")]
    assert _whole(events[-1]["data"]["output"]) == _whole(model.invoke("hi"))


def _model_tokens(tokens: Tokens) -> str:
    return "".join(str(chunk.content) for name, chunk in tokens.chunks if name == "WholeOrStreamed")


def test_a_streamed_wrapped_chain_still_tells_of_its_models_tokens() -> None:
    lc_chain = LCRunnableLambda(lambda text: text) | WholeOrStreamed()
    chain = from_langchain(lc_chain, input_type=str, output_type=AIMessage)
    tokens = Tokens()
    chunks = list(chain.stream("hi", {"callbacks": [tokens]}))
    assert "".join(str(chunk.content) for chunk in chunks) == "streamed"
    assert _model_tokens(tokens) == "streamed"
    invoked = Tokens()
    assert _whole(chain.invoke("hi", {"callbacks": [invoked]})) == _whole(
        from_langchain(WholeOrStreamed(), input_type=str, output_type=AIMessage).invoke("hi")
    )
    assert _model_tokens(invoked) == ""


@pytest.mark.anyio
async def test_an_astreamed_wrapped_chain_still_tells_of_its_models_tokens() -> None:
    lc_chain = LCRunnableLambda(lambda text: text) | WholeOrStreamed()
    chain = from_langchain(lc_chain, input_type=str, output_type=AIMessage)
    tokens = Tokens()
    chunks = [chunk async for chunk in chain.astream("hi", {"callbacks": [tokens]})]
    assert "".join(str(chunk.content) for chunk in chunks) == "streamed"
    assert _model_tokens(tokens) == "streamed"


def test_chat_openai_with_a_callback_asks_for_the_whole_answer() -> None:
    from langchain_openai import ChatOpenAI

    from openai_server import OpenAIServer, Reply

    with OpenAIServer() as server:
        lc_model = ChatOpenAI(
            base_url=server.base_url,
            api_key="sk-test",  # pyright: ignore[reportArgumentType]
            model="gpt-test",
            max_retries=0,
        )
        model = from_langchain(lc_model, input_type=str, output_type=AIMessage)
        usage = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
        server.script(Reply("one", usage=usage), Reply("two", usage=usage))
        plain = model.invoke("hi")
        traced = model.invoke("hi", {"callbacks": [Ends()]})
        assert [request.body.get("stream", False) for request in server.requests] == [False, False]
        assert plain.usage_metadata == traced.usage_metadata
        assert traced.usage_metadata is not None
        assert traced.response_metadata["model_name"] == "gpt-test"


# ------------------------------------------- LangChain handlers, runs of a wrapped chain


def _children(chain: Any, inputs: dict[str, str], *, wrapped: bool) -> list[tuple[Any, ...]]:
    from langchain_core.tracers.run_collector import RunCollectorCallbackHandler

    collector = RunCollectorCallbackHandler()
    if wrapped:
        typed = from_langchain(chain, input_type=dict[str, str], output_type=object)
        typed.invoke(inputs, {"callbacks": [collector]})
    else:
        chain.invoke(inputs, {"callbacks": [collector]})
    (root,) = collector.traced_runs
    return [(run.name, run.run_type, run.inputs, run.error) for run in root.child_runs]


def test_a_langchain_handler_hears_a_chat_model_inside_a_wrapped_chain() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate

    chain = LCChatPromptTemplate.from_template("joke {t}") | FakeListChatModel(responses=["ha"])
    theirs = _children(chain, {"t": "cats"}, wrapped=False)
    ours = _children(chain, {"t": "cats"}, wrapped=True)
    assert [child[:2] for child in ours] == [
        ("ChatPromptTemplate", "prompt"),
        ("FakeListChatModel", "llm"),
    ]
    assert ours[1][2:] == theirs[1][2:]  # the same messages, no error


def test_a_langchain_handler_hears_a_text_models_prompts_inside_a_wrapped_chain() -> None:
    from langchain_core.language_models.fake import FakeListLLM
    from langchain_core.prompts import PromptTemplate as LCPromptTemplate

    chain = LCPromptTemplate.from_template("joke {t}") | FakeListLLM(responses=["ho"])
    ours = _children(chain, {"t": "dogs"}, wrapped=True)
    assert ours == _children(chain, {"t": "dogs"}, wrapped=False)
    assert ours[1][:3] == ("FakeListLLM", "llm", {"prompts": ["joke dogs"]})


# --------------------------------------------------------------- max_concurrency


def _four_at_once(peak: Peak) -> Any:
    def hold(x: int) -> int:
        peak.hold_sync(0.02)
        return x

    steps = {name: LCRunnableLambda(hold) for name in "abcd"}
    parallel = LCRunnableParallel(steps)  # pyright: ignore[reportUnknownVariableType]
    return from_langchain(parallel, input_type=int, output_type=dict[str, int])


def test_max_concurrency_holds_inside_a_wrapped_langchain_runnable(peak: Peak) -> None:
    wrapped = _four_at_once(peak)
    assert wrapped.invoke(1, {"max_concurrency": 1}) == dict.fromkeys("abcd", 1)
    assert (peak.total, peak.peak) == (4, 1)
    peak.together = 2  # two at once, then never more
    assert wrapped.invoke(2, {"max_concurrency": 2}) == dict.fromkeys("abcd", 2)
    assert (peak.total, peak.peak) == (8, 2)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_max_concurrency_holds_inside_a_wrapped_langchain_runnable_on_trio(
    anyio_backend: str, peak: Peak
) -> None:
    # On trio the wrapped call is LangChain's sync one, in a worker thread: its executor
    # keeps the limit. (On asyncio it is LangChain's `ainvoke`, whose RunnableParallel
    # gathers every step at once, whatever `max_concurrency` says, as LangChain alone does.)
    wrapped = _four_at_once(peak)
    peak.together = 2
    assert await wrapped.ainvoke(1, {"max_concurrency": 2}) == dict.fromkeys("abcd", 1)
    assert (peak.total, peak.peak) == (4, 2)


# ------------------------------------------------------------------ value round trips


@pytest.mark.parametrize(
    "message",
    [
        LCAIMessage(content="x", example=True),
        LCAIMessageChunk(content="x", example=True),
        LCHumanMessage(content="x", example=True),
        LCSystemMessage(content="x", example=True),
    ],
    ids=lambda message: type(message).__name__,
)
def test_langchains_example_flag_crosses_both_ways(message: LCBaseMessage) -> None:
    ours = from_langchain_value(message)
    assert ours.additional_kwargs == {"example": True}
    assert to_langchain_value(ours) == message
    assert getattr(to_langchain_value(ours), "example", False) is True


def test_a_streamed_chunk_with_the_example_flag_keeps_it() -> None:
    from runnables.langchain._convert import from_lc_chunk

    chunk = LCAIMessageChunk(content="x", example=True)
    assert to_langchain_value(from_lc_chunk(chunk)) == chunk


def test_what_does_not_cross_is_as_documented() -> None:
    # Chunk positions and chunks of other messages than AI ones have no place in runnables.
    last = from_langchain_value(LCAIMessageChunk(content="", chunk_position="last"))
    assert isinstance(last, AIMessageChunk)
    assert to_langchain_value(last).chunk_position is None
    human = from_langchain_value(LCHumanMessageChunk(content="hi"))
    assert type(human) is HumanMessage
    assert to_langchain_value(human) == LCHumanMessage(content="hi")


# ---------------------------------------------------------------- without langchain-core


def test_importing_the_bridge_without_langchain_core_says_what_to_install() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['langchain_core'] = None  # as if it were not installed\n"
        "try:\n"
        "    import runnables.langchain\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error, sep=': ')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "ImportError: runnables.langchain needs langchain-core: pip install 'runnables[langchain]'"
    )


@pytest.mark.anyio
async def test_a_langchain_handler_hears_a_chat_model_inside_a_wrapped_chain_async() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate
    from langchain_core.tracers.run_collector import RunCollectorCallbackHandler

    chain = LCChatPromptTemplate.from_template("joke {t}") | FakeListChatModel(responses=["ha"])
    typed = from_langchain(chain, input_type=dict[str, str], output_type=object)
    collector = RunCollectorCallbackHandler()
    await typed.ainvoke({"t": "cats"}, {"callbacks": [collector]})
    (root,) = collector.traced_runs
    assert [(run.name, run.run_type, run.error) for run in root.child_runs] == [
        ("ChatPromptTemplate", "prompt", None),
        ("FakeListChatModel", "llm", None),
    ]
    assert root.child_runs[1].inputs == _children(chain, {"t": "cats"}, wrapped=False)[1][2]


def test_declared_types_may_be_any_type_expression() -> None:
    from collections.abc import Sequence

    from langchain_core.language_models.fake_chat_models import (
        FakeListChatModel as LCFakeListChatModel,
    )

    from runnables.langchain import from_langchain
    from runnables.messages import AIMessage, BaseMessage
    from runnables.prompts import ChatPromptValue

    either = from_langchain(
        LCFakeListChatModel(responses=["ok"]),
        input_type=str | ChatPromptValue,
        output_type=AIMessage,
    )
    assert either.invoke("hi").content == "ok"
    assert "anyOf" in either.input_schema.json_schema()
    listed = from_langchain(
        LCFakeListChatModel(responses=["ok"]),
        input_type=Sequence[BaseMessage],
        output_type=AIMessage,
    )
    assert listed.input_schema.json_schema()["type"] == "array"


def test_to_langchain_reports_the_langchain_types_its_values_cross_as() -> None:
    from langchain_core.documents import Document as LCDocument
    from langchain_core.messages import AIMessage as LCAIMessage
    from langchain_core.prompt_values import ChatPromptValue as LCChatPromptValue

    from runnables import RunnableLambda
    from runnables.langchain import to_langchain
    from runnables.models import FakeListChatModel
    from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore

    model = to_langchain(FakeListChatModel(["x"]))
    assert model.OutputType is LCAIMessage
    assert isinstance(model.invoke("hi"), model.OutputType)
    assert model.get_output_jsonschema()["title"] == "AIMessage"
    assert "anyOf" in model.get_input_jsonschema()
    assert LCChatPromptValue in typing.get_args(model.InputType)
    retriever = InMemoryVectorStore.from_texts(["a"], HashingEmbeddings()).as_retriever()
    docs = to_langchain(retriever)
    assert docs.OutputType == list[LCDocument]
    assert docs.get_output_jsonschema()["type"] == "array"
    plain = to_langchain(RunnableLambda(_length))
    assert plain.get_output_jsonschema()["type"] == "integer"


def _length(text: str) -> int:
    return len(text)
