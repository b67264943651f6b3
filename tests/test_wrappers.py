"""Generic wrappers and helpers: bind, as_tool, get_name, JSON schemas, get_prompts, pipe(name=),
RouterRunnable, RunnableMap and the config helpers."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import attrs
import pytest
from tests.conftest import Recorder
from typing_extensions import NotRequired, TypedDict

from runnables import (
    ConfigurableField,
    RouterRunnable,
    RunnableConfig,
    RunnableLambda,
    RunnableMap,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
    RunnablesError,
    ensure_config,
    get_config_list,
    merge_configs,
    patch_config,
    run_in_executor,
    runnable,
)
from runnables.messages import ToolCall, ToolMessage
from runnables.models import FakeListChatModel
from runnables.prompts import ChatPromptTemplate, PromptTemplate
from runnables.tools import Tool


def add(x: int, *, k: int = 1) -> int:
    return x + k


async def aadd(x: int, *, k: int = 1) -> int:
    return x + k


def split(text: str, sep: str = " ") -> Iterator[str]:
    yield from text.split(sep)


# ------------------------------------------------------------------------------------ bind


def test_bind_gives_a_lifted_function_its_keywords() -> None:
    bound = RunnableLambda(add).bind(k=10)
    assert bound.invoke(1) == 11
    assert bound.batch([1, 2]) == [11, 12]
    assert bound.name == "add"
    assert (bound.input_type, bound.output_type) == (int, int)
    assert RunnableLambda(add).invoke(1) == 2  # the original is unchanged


def test_bind_is_a_value() -> None:
    assert RunnableLambda(add).bind(k=2) == RunnableLambda(add).bind(k=2)
    assert hash(RunnableLambda(add).bind(k=2)) == hash(RunnableLambda(add).bind(k=2))
    assert RunnableLambda(add).bind(k=2) != RunnableLambda(add).bind(k=3)


def test_bind_streams_a_generator_with_its_keywords() -> None:
    assert list(RunnableLambda(split).bind(sep=",").stream("a,b,c")) == ["a", "b", "c"]


@pytest.mark.anyio
async def test_bind_reaches_async_functions() -> None:
    assert await RunnableLambda(aadd).bind(k=5).ainvoke(1) == 6
    assert await RunnableLambda(add, aadd).bind(k=7).ainvoke(1) == 8


def test_bind_through_with_config_keeps_the_config() -> None:
    recorder = Recorder()
    bound = RunnableLambda(add).with_config(run_name="adder").bind(k=3)
    assert bound.invoke(1, {"callbacks": [recorder]}) == 4
    assert [name for kind, name, _ in recorder.events if kind == "start"] == ["adder"]


def test_bind_refuses_a_keyword_the_function_does_not_take() -> None:
    with pytest.raises(TypeError, match=r"cannot bind \['z'\] to function 'add'.*\['k'\]"):
        RunnableLambda(add).bind(z=1)
    with pytest.raises(TypeError, match="with_config"):
        RunnableLambda(add).bind(config={})


def test_bind_refuses_runnables_that_take_no_keywords() -> None:
    with pytest.raises(RunnablesError, match="RunnableSequence takes no call keywords"):
        (RunnableLambda(add) | RunnableLambda(add)).bind(k=1)


def _sub(x: int, *, k: int = 1) -> int:
    return x - k


def _broken(x: int, *, k: int = 1) -> int:
    raise ValueError(x)


def test_bind_reaches_every_runnable_of_a_wrapper() -> None:
    """A wrapper binds the runnables it may run (LangChain passes the keywords to whichever
    runs): fallbacks, retry, map, configurable fields and alternatives."""
    which = ConfigurableField(id="op")
    chooser = RunnableLambda(add).configurable_alternatives(which, sub=RunnableLambda(_sub))
    assert chooser.bind(k=10).invoke(1) == 11
    assert chooser.bind(k=10).invoke(1, {"configurable": {"op": "sub"}}) == -9
    built = RunnableLambda(add).configurable_alternatives(which, sub=lambda: RunnableLambda(_sub))
    assert built.bind(k=10).invoke(1, {"configurable": {"op": "sub"}}) == -9
    assert built.bind(k=10) == built.bind(k=10)
    guarded = RunnableLambda(_broken).with_fallbacks([RunnableLambda(_sub)])
    assert guarded.bind(k=5).invoke(1) == -4
    assert RunnableLambda(_broken).with_fallbacks([RunnableLambda(add)]).bind(k=5).batch([1]) == [6]
    assert RunnableLambda(add).with_retry().bind(k=2).invoke(1) == 3
    assert RunnableLambda(add).map().bind(k=2).invoke([1, 2]) == [3, 4]
    assert list(RunnableLambda(add).map().bind(k=2).stream([1])) == [[3]]


def test_bind_reaches_a_configured_model() -> None:
    model = FakeListChatModel(responses=["a"])
    fields = model.configurable_fields(responses=ConfigurableField(id="responses"))
    bound = fields.bind(stop=["x"])
    assert bound.invoke("q", {"configurable": {"responses": ["b"]}}).content == "b"
    assert bound.default == model.bind(stop=["x"])  # type: ignore[attr-defined]


def test_bind_through_a_wrapper_refuses_what_one_of_its_runnables_does_not_take() -> None:
    """Checked when binding, for every runnable the wrapper may run, not at the call that
    happens to choose the one that refuses."""
    guarded = RunnableLambda(add).with_fallbacks([RunnableLambda(len)])
    with pytest.raises(TypeError, match="len"):
        guarded.bind(k=1)
    chooser = RunnableLambda(add).configurable_alternatives(
        ConfigurableField(id="op"), plain=RunnableLambda(lambda x: x)
    )
    with pytest.raises(TypeError, match=r"cannot bind \['k'\]"):
        chooser.bind(k=1)
    with pytest.raises(RunnablesError, match="RunnableSequence takes no call keywords"):
        RunnableLambda(add).configurable_alternatives(
            ConfigurableField(id="op"), seq=RunnableLambda(add) | RunnableLambda(add)
        ).bind(k=1)


def test_bind_on_a_model_is_the_models_own() -> None:
    model = FakeListChatModel(responses=["hi"]).bind(stop=["x"])
    assert model.options == {"stop": ["x"]}


# --------------------------------------------------------------------------------- as_tool


class Question(TypedDict):
    """Unused: the runnable's own docstring describes the tool."""

    text: str
    times: NotRequired[int]


def repeat(question: Question) -> str:
    """Repeat the text."""
    return question["text"] * question.get("times", 1)


@attrs.frozen
class Pair:
    x: int
    y: int = 2


@dataclasses.dataclass
class DataPair:
    x: int
    y: int = 3


def test_as_tool_reads_a_typeddict_input() -> None:
    tool = RunnableLambda(repeat).as_tool()
    assert isinstance(tool, Tool)
    assert tool.name == "repeat"
    assert tool.description == "Repeat the text."
    assert tool.args == {
        "text": {"title": "Text", "type": "string"},
        "times": {"title": "Times", "type": "integer"},
    }
    assert tool.args_schema.json_schema()["required"] == ["text"]
    assert tool.invoke({"text": "ab"}) == "ab"
    assert tool.invoke({"text": "ab", "times": 2}) == "abab"


def test_as_tool_builds_an_attrs_or_dataclass_input() -> None:
    mul = RunnableLambda(lambda p: p.x * p.y).with_types(input_type=Pair, output_type=int)
    tool = mul.as_tool(name="mul", description="Multiply.")
    assert tool.args["y"]["default"] == 2
    assert tool.invoke({"x": 3}) == 6
    data = RunnableLambda(lambda p: p.x * p.y).with_types(input_type=DataPair)
    assert data.as_tool(name="mul").invoke({"x": 2}) == 6


def test_as_tool_of_a_plain_input_takes_one_argument() -> None:
    tool = RunnableLambda(str.upper).with_types(input_type=str).as_tool(name="up")
    assert list(tool.args) == ["__arg1"]
    assert tool.invoke("hi") == "HI"
    assert tool.invoke({"__arg1": "yo"}) == "YO"


def test_as_tool_with_arg_types_for_a_dict_input() -> None:
    adder = RunnableLambda(lambda d: d["a"] + d["b"]).with_types(input_type=dict)
    with pytest.raises(TypeError, match="arg_types"):
        adder.as_tool(name="add")
    tool = adder.as_tool(name="add", arg_types={"a": int, "b": int})
    assert tool.args == {
        "a": {"title": "A", "type": "integer"},
        "b": {"title": "B", "type": "integer"},
    }
    assert tool.invoke(ToolCall("add", {"a": 1, "b": 2}, "c1")) == ToolMessage(
        "3", tool_call_id="c1", name="add"
    )
    with pytest.raises(RunnablesError, match="expected int"):
        tool.invoke({"a": "1", "b": 2})


def test_as_tool_with_args_schema() -> None:
    tool = RunnableLambda(lambda d: d["text"]).as_tool(Question, name="echo")
    assert sorted(tool.args) == ["text", "times"]
    assert tool.invoke({"text": "x"}) == "x"


@pytest.mark.anyio
async def test_as_tool_async_and_nested_runs() -> None:
    recorder = Recorder()
    tool = RunnableLambda(add).with_types(input_type=int).as_tool(name="inc")
    assert await tool.ainvoke({"__arg1": 1}, {"callbacks": [recorder]}) == 2
    starts = [name for kind, name, _ in recorder.events if kind == "start"]
    assert starts == ["inc", "add"]


# ------------------------------------------------------------------- names, schemas, prompts


def test_get_name() -> None:
    r = RunnableLambda(add)
    assert r.get_name() == "add"
    assert r.get_name("input") == "add_input"
    assert r.get_name("input", name="Parser") == "ParserInput"
    assert RunnablePassthrough().get_name("output") == "RunnablePassthroughOutput"


def test_json_schemas() -> None:
    r = RunnableLambda(add)
    assert r.get_input_jsonschema() == {"title": "addInput", "type": "integer"}
    assert r.get_output_jsonschema() == {"title": "addOutput", "type": "integer"}


def test_get_prompts_finds_every_prompt_in_order() -> None:
    first = PromptTemplate.from_template("say {x}")
    second = ChatPromptTemplate.from_template("then {text}")
    chain = first | RunnableLambda(lambda v: {"text": v.to_string()}) | second
    assert chain.get_prompts() == [first, second]
    assert RunnableLambda(add).get_prompts() == []


def test_pipe_with_a_name() -> None:
    chain = RunnableLambda(add).pipe(add, add, name="three")
    assert isinstance(chain, RunnableSequence)
    assert chain.name == "three"
    assert chain.invoke(0) == 3
    assert RunnableLambda(add).pipe(name="one").name == "one"


# ------------------------------------------------------------------------ router and map


def test_router_routes_by_key() -> None:
    router = RouterRunnable({"inc": add, "double": RunnableLambda(lambda x: x * 2)})
    assert router.invoke({"key": "inc", "input": 1}) == 2
    assert router.invoke({"key": "double", "input": 4}) == 8
    assert router.batch([{"key": "inc", "input": 1}, {"key": "double", "input": 1}]) == [2, 2]
    assert list(router.stream({"key": "double", "input": 3})) == [6]
    assert router == RouterRunnable({"inc": add, "double": router.runnables["double"]})


def test_router_streams_the_chosen_runnable() -> None:
    router = RouterRunnable({"split": RunnableLambda(split)})
    assert list(router.stream({"key": "split", "input": "a b c"})) == ["a", "b", "c"]


@pytest.mark.anyio
async def test_router_async() -> None:
    router = RouterRunnable({"split": RunnableLambda(split), "inc": aadd})
    assert await router.ainvoke({"key": "inc", "input": 1}) == 2
    assert [c async for c in router.astream({"key": "split", "input": "a b"})] == ["a", "b"]


def test_router_refuses_an_unknown_key_naming_the_known_ones() -> None:
    router = RouterRunnable({"a": add})
    with pytest.raises(ValueError, match=r"no runnable for key 'b'; known keys: \['a'\]"):
        router.invoke({"key": "b", "input": 1})
    with pytest.raises(TypeError, match="'key' and 'input'"):
        router.invoke({"input": 1})  # type: ignore[typeddict-item]  # pyright: ignore[reportArgumentType]


def test_router_adds_no_run_of_its_own() -> None:
    recorder = Recorder()
    RouterRunnable({"a": add}).invoke({"key": "a", "input": 1}, {"callbacks": [recorder]})
    assert [name for kind, name, _ in recorder.events if kind == "start"] == ["add"]


def test_runnable_map_is_runnable_parallel() -> None:
    assert RunnableMap is RunnableParallel
    assert RunnableMap(a=add, b=add).invoke(1) == {"a": 2, "b": 2}


# ------------------------------------------------------------------------- config helpers


def test_ensure_config_fills_the_defaults() -> None:
    assert ensure_config() == {
        "tags": [],
        "metadata": {},
        "callbacks": [],
        "recursion_limit": 25,
        "configurable": {},
    }
    tags = ["a"]
    config = ensure_config({"tags": tags, "max_concurrency": None})
    assert config["tags"] == ["a"]
    assert config["tags"] is not tags
    assert "max_concurrency" not in config


def test_ensure_config_refuses_unknown_keys() -> None:
    with pytest.raises(TypeError, match=r"unknown RunnableConfig key\(s\) \['model'\]"):
        ensure_config({"model": "x"})  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportArgumentType]


def test_ensure_config_inside_a_run_sees_the_runs_config() -> None:
    @runnable
    def inner(x: int) -> RunnableConfig:
        return ensure_config()

    config = inner.invoke(1, {"tags": ["t"], "metadata": {"m": 1}, "configurable": {"c": 2}})
    assert config["tags"] == ["t"]
    assert config["metadata"] == {"m": 1}
    assert config["configurable"] == {"c": 2}


def test_patch_config() -> None:
    run_id = uuid.uuid4()
    recorder = Recorder()
    base: RunnableConfig = {"run_name": "a", "run_id": run_id, "configurable": {"x": 1}}
    patched = patch_config(base, recursion_limit=5, configurable={"y": 2}, max_concurrency=2)
    assert patched["run_name"] == "a"
    assert patched["run_id"] == run_id
    assert patched["recursion_limit"] == 5
    assert patched["max_concurrency"] == 2
    assert patched["configurable"] == {"x": 1, "y": 2}
    with_callbacks = patch_config(base, callbacks=[recorder], run_name=None)
    assert "run_name" not in with_callbacks
    assert "run_id" not in with_callbacks
    assert with_callbacks["callbacks"] == [recorder]
    with pytest.raises(ValueError, match="recursion_limit"):
        patch_config(None, recursion_limit=0)


def test_merge_configs() -> None:
    merged = merge_configs(
        {"tags": ["b", "a"], "metadata": {"x": 1}, "recursion_limit": 10, "run_name": "one"},
        None,
        {"tags": ["a", "c"], "metadata": {"y": 2}, "configurable": {"k": 1}},
    )
    assert merged == {
        "tags": ["a", "b", "c"],
        "metadata": {"x": 1, "y": 2},
        "recursion_limit": 10,
        "configurable": {"k": 1},
        "run_name": "one",
    }


def test_get_config_list() -> None:
    assert get_config_list(None, 2) == [ensure_config(), ensure_config()]
    assert [c["tags"] for c in get_config_list([{"tags": ["a"]}, {"tags": ["b"]}], 2)] == [
        ["a"],
        ["b"],
    ]
    with pytest.raises(ValueError, match="got 1 configs for 2 inputs"):
        get_config_list([{}], 2)
    with pytest.raises(ValueError, match="length must be >= 0"):
        get_config_list(None, -1)
    run_id = uuid.uuid4()
    with pytest.warns(RuntimeWarning, match="first input"):
        configs = get_config_list({"run_id": run_id}, 3)
    assert [c.get("run_id") for c in configs] == [run_id, None, None]


@pytest.mark.anyio
async def test_run_in_executor_runs_in_another_thread() -> None:
    here = threading.get_ident()

    def where(offset: int, *, scale: int) -> tuple[int, int]:
        return threading.get_ident(), offset * scale

    thread, value = await run_in_executor(None, where, 2, scale=3)
    assert thread != here
    assert value == 6
    with ThreadPoolExecutor(1) as pool:
        thread, value = await run_in_executor(pool, where, 1, scale=1)
    assert thread != here
    assert value == 1


@pytest.mark.anyio
async def test_run_in_executor_keeps_the_run_context_and_errors() -> None:
    async def outer(x: int) -> int:
        return await run_in_executor(None, RunnableLambda(add).invoke, x)

    recorder = Recorder()
    assert await RunnableLambda(outer).ainvoke(1, {"callbacks": [recorder]}) == 2
    assert [name for kind, name, _ in recorder.events if kind == "start"] == ["outer", "add"]

    def stop() -> int:
        raise StopIteration

    with pytest.raises(RuntimeError, match="StopIteration"):
        await run_in_executor({}, stop)


@pytest.mark.filterwarnings("ignore:This API is in beta")
def test_as_tool_of_a_prompt_chain_takes_the_prompts_variables() -> None:
    from langchain_core.language_models import FakeListChatModel as LCModel
    from langchain_core.output_parsers import StrOutputParser as LCParser
    from langchain_core.prompts import PromptTemplate as LCPrompt

    from runnables.parsers import StrOutputParser

    chain = PromptTemplate.from_template("about {topic}") | FakeListChatModel(responses=["x"])
    tool = (chain | StrOutputParser()).as_tool(name="c", description="d")
    theirs = (
        LCPrompt.from_template("about {topic}") | LCModel(responses=["x"]) | LCParser()
    ).as_tool(name="c", description="d")
    assert set(tool.args) == set(theirs.args) == {"topic"}
    assert tool.invoke({"topic": "t"}) == theirs.invoke({"topic": "t"}) == "x"
    assert (
        PromptTemplate.from_template("{a} and {b}")
        .as_tool(name="p")
        .invoke({"a": "1", "b": "2"})
        .to_string()
        == "1 and 2"
    )
