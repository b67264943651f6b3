"""BaseChatModel / BaseLLM hooks and the fake models."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import attrs
import pytest

from runnables import RunnableLambda, RunnableParallel
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from runnables.models import (
    BaseChatModel,
    BaseLLM,
    FakeListChatModel,
    FakeListLLM,
    GenericFakeChatModel,
    LanguageModelInput,
)
from runnables.models.fake import split_tokens

pytestmark = pytest.mark.filterwarnings("error")


# ---------------------------------------------------------------- helper models


@attrs.frozen
class GenerateOnly(BaseChatModel):
    """Answers with the text of the last message; records what it was called with."""

    calls: list[tuple[list[BaseMessage], list[str] | None, dict[str, Any]]] = attrs.field(
        factory=list, eq=False, hash=False, kw_only=True
    )

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        self.calls.append((messages, stop, kwargs))
        return AIMessage(f"re: {messages[-1].text}")


@attrs.frozen
class StreamOnly(BaseChatModel):
    def _stream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        for word in ["a", "b", "c"]:
            yield AIMessageChunk(word, response_metadata={"n": 1} if word == "a" else {})


@attrs.frozen
class AsyncGenerateOnly(BaseChatModel):
    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        await anyio.sleep(0)
        return AIMessage(f"async {len(messages)} stop={stop} kw={sorted(kwargs)}")


@attrs.frozen
class AsyncStreamOnly(BaseChatModel):
    async def _astream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        for word in ["x", "y"]:
            await anyio.sleep(0)
            yield AIMessageChunk(word)


@attrs.frozen
class NoHooks(BaseChatModel):
    pass


@attrs.frozen
class EchoLLM(BaseLLM):
    def _generate(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        text = prompt.upper()
        for s in stop or []:
            text = text.split(s)[0]
        return text + "".join(f" {k}={v}" for k, v in sorted(kwargs.items()))


@attrs.frozen
class StreamLLM(BaseLLM):
    def _stream_chunks(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[str]:
        yield from prompt.split()


@attrs.frozen
class PromptValue:
    """Stands for runnables.prompts.ChatPromptValue (duck-typed)."""

    messages: tuple[BaseMessage, ...]

    def to_string(self) -> str:
        return "\n".join(m.text for m in self.messages)

    def to_messages(self) -> list[BaseMessage]:
        return list(self.messages)


async def collect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


# ---------------------------------------------------------------- the base


def test_generate_only_streams_one_chunk() -> None:
    model = GenerateOnly()
    chunks = list(model.stream("hi"))
    assert chunks == [AIMessageChunk("re: hi")]
    assert type(model.invoke("hi")) is AIMessage


@pytest.mark.anyio
async def test_generate_only_streams_one_chunk_async() -> None:
    model = GenerateOnly()
    assert await collect(model.astream("hi")) == [AIMessageChunk("re: hi")]
    assert await model.ainvoke("yo") == AIMessage("re: yo")


def test_stream_only_invokes_with_chunks_added_up() -> None:
    model = StreamOnly()
    result = model.invoke("hi")
    assert type(result) is AIMessage
    assert result == AIMessage("abc", response_metadata={"n": 1})
    assert [c.content for c in model.stream("hi")] == ["a", "b", "c"]
    assert all(type(c) is AIMessageChunk for c in model.stream("hi"))


@pytest.mark.anyio
async def test_stream_only_async_paths() -> None:
    model = StreamOnly()
    assert (await model.ainvoke("hi")).content == "abc"
    assert [c.content for c in await collect(model.astream("hi"))] == ["a", "b", "c"]


@pytest.mark.anyio
async def test_async_only_hooks() -> None:
    assert (await AsyncGenerateOnly().ainvoke("hi")).text.startswith("async 1")
    assert [c.content for c in await collect(AsyncStreamOnly().astream("hi"))] == ["x", "y"]
    assert await AsyncStreamOnly().ainvoke("hi") == AIMessage("xy")
    assert await collect(AsyncGenerateOnly().astream("hi")) == [
        AIMessageChunk("async 1 stop=None kw=[]")
    ]


def test_async_only_hooks_from_sync_calls() -> None:
    assert AsyncGenerateOnly().invoke("hi").content == "async 1 stop=None kw=[]"
    assert [c.content for c in AsyncStreamOnly().stream("hi")] == ["x", "y"]
    assert AsyncStreamOnly().invoke("hi") == AIMessage("xy")
    assert list(AsyncGenerateOnly().stream("hi")) == [AIMessageChunk("async 1 stop=None kw=[]")]


def test_no_hooks_is_a_clear_error() -> None:
    with pytest.raises(NotImplementedError, match="NoHooks implements none of _generate"):
        NoHooks().invoke("hi")


def test_bind_options_reach_hooks() -> None:
    model = GenerateOnly()
    bound = model.bind(stop=["\n"], temperature=0.5).bind(max_tokens=10)
    assert isinstance(bound, GenerateOnly)
    assert bound.options == {"stop": ["\n"], "temperature": 0.5, "max_tokens": 10}
    assert model.options == {}
    bound.invoke("hi")
    _, stop, kwargs = bound.calls[-1]
    assert stop == ["\n"]
    assert kwargs == {"temperature": 0.5, "max_tokens": 10}
    list(bound.stream("hi"))
    assert bound.calls[-1][1:] == (["\n"], {"temperature": 0.5, "max_tokens": 10})


@pytest.mark.anyio
async def test_bind_options_reach_async_hooks() -> None:
    result = await AsyncGenerateOnly().bind(stop=["x"], top_p=1).ainvoke("hi")
    assert result.content == "async 1 stop=['x'] kw=['top_p']"


@pytest.mark.parametrize(
    "model",
    [FakeListChatModel(["x"]), FakeListLLM(["x"]), GenericFakeChatModel([AIMessage("x")])],
)
def test_the_fake_models_refuse_options_a_real_model_would_not_know(
    model: BaseChatModel | BaseLLM,
) -> None:
    with pytest.raises(TypeError, match=r"'temprature' \(did you mean 'temperature'\?\)"):
        model.bind(temprature=0.2)
    model.bind(stop=["y"], temperature=0.2, tools=[], tool_choice="auto")


def test_a_model_whose_hooks_take_any_keywords_takes_any_option() -> None:
    assert GenerateOnly().bind(temprature=0.2).options == {"temprature": 0.2}


def test_bind_keeps_equality_and_hash() -> None:
    a = FakeListChatModel(["x"])
    assert a == FakeListChatModel(["x"])
    assert hash(a) == hash(FakeListChatModel(["x"]))
    assert a.bind(temperature=1) != a
    assert a.bind(temperature=1) == FakeListChatModel(["x"]).bind(temperature=1)
    hash(a.bind(stop=["x"]))  # options do not take part in the hash


def test_input_conversion() -> None:
    model = GenerateOnly()
    model.invoke("plain")
    assert model.calls[-1][0] == [HumanMessage("plain")]
    value = PromptValue((SystemMessage("sys"), HumanMessage("q")))
    model.invoke(value)
    assert model.calls[-1][0] == [SystemMessage("sys"), HumanMessage("q")]
    model.invoke([("system", "s"), ("human", "h"), HumanMessage("m")])
    assert model.calls[-1][0] == [SystemMessage("s"), HumanMessage("h"), HumanMessage("m")]
    model.invoke([{"role": "user", "content": "d"}])
    assert model.calls[-1][0] == [HumanMessage("d")]


@pytest.mark.parametrize("bad", [3, None, {"role": "user"}, b"bytes", 2.5])
def test_bad_input_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match=rf"GenerateOnly got {type(bad).__name__}.*accepts a str"):
        GenerateOnly().invoke(bad)


def test_llm_input_conversion_and_output() -> None:
    llm = EchoLLM()
    assert llm.invoke("hello") == "HELLO"
    assert llm.invoke(PromptValue((SystemMessage("a"), HumanMessage("b")))) == "A\nB"
    assert llm.invoke([("system", "s"), ("human", "h")]) == "SYSTEM: S\nHUMAN: H"
    assert llm.bind(stop=["L"], temperature=0).invoke("hello") == "HE temperature=0"
    assert list(llm.stream("hi")) == ["HI"]
    assert llm.run_type == "llm"
    with pytest.raises(TypeError, match="EchoLLM got int"):
        llm.invoke(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def test_stream_only_llm_invokes() -> None:
    assert StreamLLM().invoke("a b c") == "abc"
    assert list(StreamLLM().stream("a b c")) == ["a", "b", "c"]


def test_names_and_run_types() -> None:
    model = FakeListChatModel(["x"])
    assert model.name == "FakeListChatModel"
    assert model.run_type == "chat_model"
    assert model.with_config(run_name="my_llm").name == "my_llm"
    assert FakeListLLM(["x"]).name == "FakeListLLM"


def test_schemas() -> None:
    model = FakeListChatModel(["x"])
    schema = model.input_schema.json_schema()
    assert schema["title"] == "FakeListChatModelInput"
    kinds = [option.get("type") for option in schema["anyOf"]]
    assert "string" in kinds
    assert "array" in kinds
    assert model.input_schema.validate("hello") == "hello"
    out = model.output_schema.json_schema()
    assert out["title"] == "FakeListChatModelOutput"
    assert "content" in out["properties"]
    assert model.output_schema.type is AIMessage
    llm_out = FakeListLLM(["x"]).output_schema.json_schema()
    assert llm_out == {"title": "FakeListLLMOutput", "type": "string"}


def test_language_model_input_alias_accepts_the_three_shapes() -> None:
    inputs: list[LanguageModelInput] = [
        "s",
        PromptValue((HumanMessage("h"),)),
        [("human", "h")],
        [HumanMessage("h")],
    ]
    assert [FakeListLLM(["ok"]).invoke(i) for i in inputs] == ["ok"] * 4


def test_composes_with_lambdas() -> None:
    make = RunnableLambda(lambda topic: [("system", "be brief"), ("human", topic)])

    def text(message: AIMessage) -> str:
        return message.text

    chain = make | GenerateOnly() | text
    assert chain.invoke("cats") == "re: cats"
    chunks = list((make | FakeListChatModel(["one two"])).stream("x"))
    assert [c.content for c in chunks] == ["one", " ", "two"]


def test_callbacks_see_a_chat_model_run(recorder: Any) -> None:
    model = FakeListChatModel(["a b"])
    list(model.stream("x", {"callbacks": [recorder]}))
    assert recorder.kinds("FakeListChatModel") == ["start", "stream", "stream", "stream", "end"]
    run = recorder.one("FakeListChatModel")
    assert run.run_type == "chat_model"
    assert run.outputs == AIMessageChunk("a b")


# ---------------------------------------------------------------- fakes


def test_split_tokens() -> None:
    assert split_tokens("Hello  world") == ["Hello", "  ", "world"]
    assert split_tokens(" a\n\tb ") == [" ", "a", "\n\t", "b", " "]
    assert split_tokens("") == []


def test_fake_chat_cycles_responses() -> None:
    model = FakeListChatModel(["one", "two"])
    assert [model.invoke("x").content for _ in range(5)] == ["one", "two", "one", "two", "one"]


def test_fake_llm_cycles_responses() -> None:
    llm = FakeListLLM(["a", "b", "c"])
    assert [llm.invoke("x") for _ in range(4)] == ["a", "b", "c", "a"]
    llm.reset()
    assert llm.invoke("x") == "a"


def test_copies_share_the_position() -> None:
    model = FakeListChatModel(["one", "two", "three"])
    assert model.invoke("x").content == "one"
    assert model.bind(temperature=0).invoke("x").content == "two"
    assert model.with_config(run_name="n").invoke("x").content == "three"


def test_fake_streams_tokens_with_whitespace_runs() -> None:
    model = FakeListChatModel(["Hello  world"])
    chunks = list(model.stream("x"))
    assert [c.content for c in chunks] == ["Hello", "  ", "world"]
    assert all(type(c) is AIMessageChunk for c in chunks)
    assert list(FakeListLLM(["Hello  world"]).stream("x")) == ["Hello", "  ", "world"]


@pytest.mark.anyio
async def test_fake_streams_tokens_async() -> None:
    chunks = await collect(FakeListChatModel(["a  b c"]).astream("x"))
    assert [c.content for c in chunks] == ["a", "  ", "b", " ", "c"]
    assert await collect(FakeListLLM(["Hello  world"]).astream("x")) == ["Hello", "  ", "world"]


def test_fake_counter_is_thread_safe() -> None:
    model = FakeListLLM([str(i) for i in range(10)])
    results = model.batch(["x"] * 200, {"max_concurrency": 16})
    assert sorted(results) == sorted([str(i) for i in range(10)] * 20)


def test_fake_validates_arguments() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        FakeListChatModel([])
    with pytest.raises(TypeError, match="not one string"):
        FakeListChatModel("abc")
    with pytest.raises(ValueError, match="sleep must be >= 0"):
        FakeListLLM(["x"], sleep=-1)


def test_fake_sleep_sync() -> None:
    model = FakeListChatModel(["a b"], sleep=0.1)
    start = time.perf_counter()
    model.invoke("x")
    assert time.perf_counter() - start >= 0.1
    start = time.perf_counter()
    assert len(list(model.stream("x"))) == 3
    assert time.perf_counter() - start >= 0.1
    start = time.perf_counter()
    FakeListLLM(["a"], sleep=0.1).invoke("x")
    assert time.perf_counter() - start >= 0.1


@pytest.mark.anyio
async def test_fake_sleep_async_does_not_block_the_loop() -> None:
    model = FakeListChatModel(["a"], sleep=0.2)
    events: list[str] = []

    async def call() -> None:
        events.append("start")
        await model.ainvoke("x")
        events.append("end")

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(call)
    assert time.perf_counter() - start >= 0.2
    # A sleep that blocked the loop would end each call before the next one could start.
    assert events == ["start"] * 5 + ["end"] * 5
    start = time.perf_counter()
    await collect(FakeListLLM(["a b"], sleep=0.1).astream("x"))
    assert time.perf_counter() - start >= 0.1


def test_token_sleep_makes_streaming_visible() -> None:
    model = FakeListChatModel(["a b c d"], token_sleep=0.05)
    start = time.perf_counter()
    times = [time.perf_counter() - start for _ in model.stream("x")]
    assert len(times) == 7
    assert times[0] < times[-1] - 0.2  # the first token came well before the last


@pytest.mark.anyio
async def test_token_sleep_async() -> None:
    model = FakeListLLM(["a b"], token_sleep=0.05)
    start = time.perf_counter()
    first: float | None = None
    async for _ in model.astream("x"):
        if first is None:
            first = time.perf_counter() - start
    assert first is not None
    assert time.perf_counter() - start >= first + 0.09


def test_max_concurrency_bounds_batch() -> None:
    model = FakeListChatModel(["a"], sleep=0.1)
    start = time.perf_counter()
    model.batch(["x"] * 6, {"max_concurrency": 2})
    assert time.perf_counter() - start >= 0.3


@pytest.mark.anyio
async def test_max_concurrency_bounds_abatch() -> None:
    model = FakeListChatModel(["a"], sleep=0.1)
    start = time.perf_counter()
    await model.abatch(["x"] * 6, {"max_concurrency": 2})
    assert time.perf_counter() - start >= 0.3


def _parallel_of_models(sleep: float) -> RunnableParallel[Any]:
    model = FakeListChatModel(["a"], sleep=sleep)
    return RunnableParallel(a=model, b=model, c=model)


def test_models_hold_a_slot_of_the_shared_budget() -> None:
    # 2 inputs x 3 branches = 6 model calls, at most 2 at once anywhere below the batch.
    chain = _parallel_of_models(0.1)
    start = time.perf_counter()
    chain.batch(["x", "y"], {"max_concurrency": 2})
    assert time.perf_counter() - start >= 0.3


@pytest.mark.anyio
async def test_models_hold_a_slot_of_the_shared_budget_async() -> None:
    chain = _parallel_of_models(0.1)
    start = time.perf_counter()
    await chain.abatch(["x", "y"], {"max_concurrency": 2})
    assert time.perf_counter() - start >= 0.3


@attrs.frozen
class Counting(BaseChatModel):
    lock: Any = attrs.field(factory=threading.Lock, eq=False, hash=False)
    state: list[int] = attrs.field(factory=lambda: [0, 0], eq=False, hash=False)

    def _stream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        with self.lock:
            self.state[0] += 1
            self.state[1] = max(self.state[1], self.state[0])
        try:
            for word in ["a", "b"]:
                time.sleep(0.02)
                yield AIMessageChunk(word)
        finally:
            with self.lock:
                self.state[0] -= 1


def test_streaming_model_holds_its_slot_while_streaming() -> None:
    model = Counting()
    branches = RunnableParallel({str(i): model for i in range(4)})
    branches.invoke("x", {"max_concurrency": 1})
    assert model.state[1] == 1
    list(branches.stream("x", {"max_concurrency": 2}))
    assert model.state[1] <= 2


@pytest.mark.anyio
async def test_streaming_model_holds_its_slot_async() -> None:
    model = Counting()
    branches = RunnableParallel({str(i): model for i in range(4)})
    await collect(branches.astream("x", {"max_concurrency": 1}))
    assert model.state[1] == 1


def test_batch_return_exceptions_keeps_going() -> None:
    inputs: list[Any] = ["a", 5, "c"]
    results = GenerateOnly().batch(inputs, return_exceptions=True)
    assert results[0] == AIMessage("re: a")
    assert isinstance(results[1], TypeError)
    assert results[2] == AIMessage("re: c")


def test_fake_is_a_sequence_step_for_prompt_values() -> None:
    def prompt(topic: str) -> PromptValue:
        return PromptValue((HumanMessage(f"tell me about {topic}"),))

    chain = RunnableLambda(prompt) | FakeListLLM(["fine"])
    assert chain.invoke("cats") == "fine"


def test_with_real_prompt_values() -> None:
    prompts: Any = pytest.importorskip("runnables.prompts")
    chat_prompt = prompts.ChatPromptTemplate.from_messages(
        [("system", "be brief"), ("human", "joke about {topic}")]
    )
    model = GenerateOnly()
    assert (chat_prompt | model).invoke({"topic": "cats"}) == AIMessage("re: joke about cats")
    assert model.calls[-1][0] == [SystemMessage("be brief"), HumanMessage("joke about cats")]
    text_prompt = prompts.PromptTemplate.from_template("say {word}")
    assert (text_prompt | EchoLLM()).invoke({"word": "hi"}) == "SAY HI"
    chunks = list((chat_prompt | FakeListChatModel(["a  b"])).stream({"topic": "x"}))
    assert [c.content for c in chunks] == ["a", "  ", "b"]
    refs = [o.get("$ref") for o in model.input_schema.json_schema()["anyOf"]]
    assert "#/$defs/ChatPromptValue" in refs
    assert "#/$defs/StringPromptValue" in refs


def test_one_stop_sequence_given_as_a_string_is_one_sequence() -> None:
    seen: list[object] = []

    @attrs.frozen
    class Echo(BaseChatModel):
        def _generate(self, messages: Any, stop: Any = None, **kwargs: Any) -> AIMessage:
            seen.append(stop)
            return AIMessage(content="ok")

    Echo().bind(stop="END").invoke("hi")
    Echo().bind(stop=["END", "STOP"]).invoke("hi")
    assert seen == [["END"], ["END", "STOP"]]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda m: m.with_config(tags=["t"]),
        lambda m: m.with_retry(),
        lambda m: m.with_config(tags=["t"]).with_retry(),
    ],
)
def test_bind_through_a_wrapper_binds_the_model_inside(wrap: Any) -> None:
    model = FakeListChatModel(["x"])
    bound = wrap(model).bind(temperature=0)
    assert bound.invoke("q") == AIMessage(content="x")
    with pytest.raises(TypeError, match="did you mean 'temperature'"):
        wrap(model).bind(temprature=0)
