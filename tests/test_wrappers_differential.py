"""Wrappers and helpers compared with langchain-core on the same inputs: bind, as_tool,
get_name, pipe(name=), get_prompts, RouterRunnable, RunnableMap, passthrough taps, the config
helpers, Graph's ends and JSON, and Annotated tool descriptions.

Deliberate differences, each checked below: `ensure_config` gives `callbacks: []` (typed as a
list; LangChain's None), a key outside `RunnableConfig` is refused (LangChain moves it into
`configurable`), `bind` on a runnable that takes no call keywords is refused (LangChain drops
them silently), `as_tool()`'s default description is the function's docstring (LangChain
writes "Takes {schema}."), schema titles are `nameInput` (LangChain's `name_input`), and the
graph's JSON names its runnables `["runnables", class]`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

lc = pytest.importorskip("langchain_core.runnables")
lc_config = pytest.importorskip("langchain_core.runnables.config")
lc_prompts = pytest.importorskip("langchain_core.prompts")
lc_tools = pytest.importorskip("langchain_core.tools")

import runnables as ours  # noqa: E402
from runnables.prompts import PromptTemplate  # noqa: E402
from runnables.tools import tool  # noqa: E402


def add(x: int, k: int = 1) -> int:
    return x + k


def words(text: str) -> Iterator[str]:
    for word in text.split():
        yield word + " "


class Question(TypedDict):
    text: str
    times: int


def repeat(question: Question) -> str:
    """Repeat the text."""
    return question["text"] * question["times"]


# LangChain's pydantic models cannot resolve this module's string annotations.
repeat.__annotations__ = {"question": Question, "return": str}


def test_bind_on_a_function() -> None:
    assert ours.RunnableLambda(add).bind(k=10).invoke(1) == lc.RunnableLambda(add).bind(
        k=10
    ).invoke(1)
    assert ours.RunnableLambda(add).bind(k=3).batch([1, 2]) == lc.RunnableLambda(add).bind(
        k=3
    ).batch([1, 2])


@pytest.mark.parametrize(
    ("suffix", "name"), [(None, None), ("input", None), ("Output", "Parser"), ("x", "lower")]
)
def test_get_name(suffix: str | None, name: str | None) -> None:
    for theirs, mine in [
        (lc.RunnableLambda(add), ours.RunnableLambda(add)),
        (lc.RunnablePassthrough(), ours.RunnablePassthrough()),
        (lc.RunnableLambda(lambda x: x), ours.RunnableLambda(lambda x: x)),
    ]:
        assert mine.get_name(suffix, name=name) == theirs.get_name(suffix, name=name)


def test_pipe_with_a_name() -> None:
    theirs = lc.RunnableLambda(add).pipe(lc.RunnableLambda(add), name="two")
    mine = ours.RunnableLambda(add).pipe(add, name="two")
    assert (mine.name, mine.invoke(1)) == (theirs.name, theirs.invoke(1))


def test_get_prompts() -> None:
    theirs = lc_prompts.PromptTemplate.from_template("a {x}") | lc.RunnableLambda(str)
    mine = PromptTemplate.from_template("a {x}") | ours.RunnableLambda(str)
    assert [p.template for p in mine.get_prompts()] == [p.template for p in theirs.get_prompts()]


def test_input_jsonschema_of_a_typed_function() -> None:
    theirs = lc.RunnableLambda(add).get_input_jsonschema()
    mine = ours.RunnableLambda(add).get_input_jsonschema()
    assert mine["type"] == theirs["type"] == "integer"
    assert (mine["title"], theirs["title"]) == ("addInput", "add_input")  # deliberate


def test_router() -> None:
    theirs = lc.RouterRunnable({"inc": lc.RunnableLambda(add), "split": lc.RunnableLambda(words)})
    mine = ours.RouterRunnable({"inc": add, "split": words})
    for input in ({"key": "inc", "input": 1}, {"key": "split", "input": "a b"}):
        assert mine.invoke(input) == theirs.invoke(input)
        assert list(mine.stream(input)) == list(theirs.stream(input))
    assert mine.batch([{"key": "inc", "input": 2}]) == theirs.batch([{"key": "inc", "input": 2}])
    for runnable in (theirs, mine):
        with pytest.raises(ValueError, match="'nope'"):
            runnable.invoke({"key": "nope", "input": 1})


def test_runnable_map() -> None:
    assert ours.RunnableMap(a=add, b=add).invoke(1) == lc.RunnableMap(
        a=lc.RunnableLambda(add), b=lc.RunnableLambda(add)
    ).invoke(1)


def test_passthrough_tap() -> None:
    seen: dict[str, list[object]] = {"ours": [], "theirs": []}
    theirs = lc.RunnableLambda(words) | lc.RunnablePassthrough(seen["theirs"].append)
    mine = ours.RunnableLambda(words) | ours.RunnablePassthrough(seen["ours"].append)
    assert mine.invoke("a b") == theirs.invoke("a b")
    assert list(mine.stream("c d")) == list(theirs.stream("c d"))
    assert seen["ours"] == seen["theirs"] == ["a b ", "c d "]


def test_merge_and_patch_configs() -> None:
    configs: list[Any] = [
        {"tags": ["b", "a"], "metadata": {"x": 1}, "recursion_limit": 10, "run_name": "one"},
        None,
        {"tags": ["a", "c"], "metadata": {"y": 2}, "configurable": {"k": 1}, "recursion_limit": 25},
        {"max_concurrency": 3},
    ]
    assert ours.merge_configs(*configs) == lc_config.merge_configs(*configs)
    base: Any = {"run_name": "a", "configurable": {"x": 1}, "tags": ["t"]}
    patches: list[dict[str, Any]] = [
        {"recursion_limit": 5},
        {"configurable": {"y": 2}, "max_concurrency": 2},
        {"run_name": "b"},
    ]
    for patch in patches:
        mine = ours.patch_config(base, **patch)
        theirs = lc_config.patch_config(base, **patch)
        assert {**mine, "callbacks": None} == theirs  # deliberate: [] for no callbacks


def test_ensure_config_and_get_config_list() -> None:
    assert {**ours.ensure_config({"tags": ["a"]}), "callbacks": None} == lc_config.ensure_config(
        {"tags": ["a"]}
    )
    with pytest.raises(TypeError, match="unknown RunnableConfig key"):
        ours.ensure_config({"model": "x"})  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportArgumentType]
    assert lc_config.ensure_config({"model": "x"})["configurable"] == {"model": "x"}  # type: ignore[typeddict-unknown-key]
    import uuid

    run_id = uuid.uuid4()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mine = ours.get_config_list({"run_id": run_id}, 2)
        theirs = lc_config.get_config_list({"run_id": run_id}, 2)
    assert [c.get("run_id") for c in mine] == [c.get("run_id") for c in theirs]
    for length in (0, 3):
        assert len(ours.get_config_list(None, length)) == len(
            lc_config.get_config_list(None, length)
        )


@pytest.mark.anyio
async def test_run_in_executor() -> None:
    assert await ours.run_in_executor(None, add, 1, k=2) == await lc_config.run_in_executor(
        None, add, 1, k=2
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # langchain-core runs on asyncio only


@pytest.mark.filterwarnings("ignore:This API is in beta")
def test_as_tool_of_a_typeddict_input() -> None:
    theirs = lc.RunnableLambda(repeat).as_tool()
    mine = ours.RunnableLambda(repeat).as_tool()
    assert mine.name == theirs.name
    assert mine.args == theirs.args
    assert mine.invoke({"text": "a", "times": 2}) == theirs.invoke({"text": "a", "times": 2})
    assert mine.description == "Repeat the text."  # deliberate: LangChain's is "Takes {...}."


@pytest.mark.filterwarnings("ignore:This API is in beta")
def test_as_tool_with_arg_types() -> None:
    theirs = lc.RunnableLambda(lambda d: d["a"] + d["b"]).as_tool(
        name="add", arg_types={"a": int, "b": int}
    )
    mine = ours.RunnableLambda(lambda d: d["a"] + d["b"]).as_tool(
        name="add", arg_types={"a": int, "b": int}
    )
    assert mine.args == theirs.args
    assert mine.invoke({"a": 1, "b": 2}) == theirs.invoke({"a": 1, "b": 2})


@pytest.mark.filterwarnings("ignore:This API is in beta")
def test_as_tool_of_a_string_input_as_the_model_sees_it() -> None:
    from langchain_core.utils.function_calling import convert_to_openai_tool as lc_convert

    from runnables.tools import convert_to_openai_tool

    theirs = lc.RunnableLambda(str.upper).with_types(input_type=str).as_tool(name="up")
    mine = ours.RunnableLambda(str.upper).with_types(input_type=str).as_tool(name="up")
    assert mine.invoke("hi") == theirs.invoke("hi")
    their_parameters = lc_convert(theirs)["function"]["parameters"]
    my_parameters = convert_to_openai_tool(mine)["function"]["parameters"]
    assert list(my_parameters["properties"]) == list(their_parameters["properties"]) == ["__arg1"]
    assert my_parameters["required"] == their_parameters["required"]


def count(text: Annotated[str, "the text to count in"], minimum: int = 1) -> int:
    """Count the words."""
    return len([word for word in text.split() if len(word) >= minimum])


def test_annotated_description() -> None:
    theirs = lc_tools.tool(count).args
    mine = tool(count).args
    assert mine["text"]["description"] == theirs["text"]["description"]
    assert mine == theirs


def test_graph_ends_and_json() -> None:
    theirs = (lc.RunnableLambda(add) | {"a": lc.RunnableLambda(add)}).get_graph()
    mine = (ours.RunnableLambda(add) | {"a": add}).get_graph()
    their_first, my_first = theirs.first_node(), mine.first_node()
    their_last, my_last = theirs.last_node(), mine.last_node()
    assert their_first is not None
    assert my_first is not None
    assert their_last is not None
    assert my_last is not None
    assert (my_first.name, their_first.name) == ("addInput", "add_input")  # deliberate titles
    assert my_last.data is None
    their_json, my_json = theirs.to_json(), mine.to_json()
    # (node order differs: ours is top-down, LangChain's the order nodes were added in)
    assert sorted(n["type"] for n in my_json["nodes"]) == sorted(
        n["type"] for n in their_json["nodes"]
    )
    names = sorted(n["data"]["name"] for n in my_json["nodes"] if n["type"] == "runnable")
    assert names == sorted(
        n["data"]["name"] for n in their_json["nodes"] if n["type"] == "runnable"
    )
    assert len(my_json["edges"]) == len(their_json["edges"])
