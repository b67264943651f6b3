"""Tools: `@tool` and `Tool` (api.md §6)."""

from __future__ import annotations

import pickle
from typing import Any

import anyio
import attrs
import pytest

from conftest import Peak, Recorder
from runnables import RunnableConfig, RunnableLambda, RunnableParallel
from runnables.messages import ToolCall, ToolMessage
from runnables.schema import SchemaError
from runnables.tools import Tool, tool


@tool
def some_tool(x: int, y: str) -> dict:  # type: ignore[type-arg]  # the seed's spelling
    """Some_tool."""
    return {"x": x, "y": y}


@tool
def search(query: str, limit: int = 3, lang: str | None = None) -> list[str]:
    """Search the web for a query.

    This second paragraph is not part of the description.

    Args:
        query: What to look
            for.
        limit: How many results.
        lang: A language code, or None for any.

    Returns:
        The results.
    """
    return [f"{query}:{lang or '*'}:{i}" for i in range(limit)]


@tool("shout", description="Shouts the text.")
def loud(text: str) -> str:
    return text.upper() + "!"


@tool(name="adder")
async def add(a: int, b: int = 1) -> int:
    """Add two numbers."""
    await anyio.sleep(0)
    return a + b


@attrs.frozen
class Point:
    x: float
    y: float


@tool
def norm(p: Point, scale: float = 1.0) -> float:
    """Length of a point."""
    return float((p.x**2 + p.y**2) ** 0.5 * scale)


# --------------------------------------------------------------------------- the seed


def test_seed_some_tool() -> None:
    assert some_tool.invoke({"x": 1, "y": "2"}) == {"x": 1, "y": "2"}
    with pytest.raises(SchemaError, match=r"\$\.x"):
        some_tool.invoke({"x": "1", "y": "2"})
    assert some_tool.name == "some_tool"
    assert some_tool.description == "Some_tool."
    assert some_tool.run_type == "tool"
    assert isinstance(some_tool, Tool)


def test_seed_some_tool_schema_matches_langchain() -> None:
    assert some_tool.args == {
        "x": {"title": "X", "type": "integer"},
        "y": {"title": "Y", "type": "string"},
    }
    schema = some_tool.args_schema.json_schema()
    assert schema == {
        "title": "some_tool",
        "description": "Some_tool.",
        "type": "object",
        "properties": some_tool.args,
        "required": ["x", "y"],
        "additionalProperties": False,
    }
    assert some_tool.input_schema.json_schema() == schema
    assert some_tool.input_schema.title == "some_tool"


# --------------------------------------------------------------------------- schemas


def test_schema_from_signature_defaults_optional_and_docstring() -> None:
    assert search.description == "Search the web for a query."
    assert search.args == {
        "query": {"title": "Query", "type": "string", "description": "What to look for."},
        "limit": {
            "title": "Limit",
            "type": "integer",
            "description": "How many results.",
            "default": 3,
        },
        "lang": {
            "title": "Lang",
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "A language code, or None for any.",
            "default": None,
        },
    }
    assert search.args_schema.json_schema()["required"] == ["query"]
    assert search.output_schema.json_schema() == {
        "title": "searchOutput",
        "type": "array",
        "items": {"type": "string"},
    }


def test_name_and_description_options() -> None:
    assert loud.name == "shout"
    assert loud.description == "Shouts the text."
    assert loud.args_schema.title == "shout"
    assert add.name == "adder"
    assert add.description == "Add two numbers."
    named = Tool(lambda_free, name="other", description="d")
    assert (named.name, named.description) == ("other", "d")


def lambda_free(v: int) -> int:
    return v


def test_tool_without_docstring_or_annotations() -> None:
    def bare(a, b=2):  # type: ignore[no-untyped-def]
        return (a, b)

    t = tool(bare)
    assert t.description == ""
    assert t.args == {"a": {"title": "A"}, "b": {"title": "B", "default": 2}}
    assert t.invoke({"a": [1]}) == ([1], 2)
    assert "description" not in t.args_schema.json_schema()


def test_structured_argument_types() -> None:
    assert norm.invoke({"p": {"x": 3, "y": 4}}) == 5.0
    assert norm.invoke({"p": {"x": 3, "y": 4}, "scale": 2}) == 10.0
    with pytest.raises(SchemaError, match=r"\$\.p: missing required key 'y'"):
        norm.invoke({"p": {"x": 3}})
    with pytest.raises(SchemaError, match=r"\$\.p\.x: expected float, got str"):
        norm.invoke({"p": {"x": "3", "y": 1}})


def test_unsupported_signatures() -> None:
    def star(*args: int) -> int:
        return 0

    def kw(**kwargs: int) -> int:
        return 0

    def gen(x: int) -> Any:
        yield x

    with pytest.raises(TypeError, match="args"):
        tool(star)
    with pytest.raises(TypeError, match="kwargs"):
        tool(kw)
    with pytest.raises(TypeError, match="generator"):
        tool(gen)
    with pytest.raises(TypeError, match="name"):
        tool(lambda x: x)
    with pytest.raises(TypeError, match="callable"):
        Tool(42)  # type: ignore[call-overload]


# --------------------------------------------------------------------------- invocation


def test_dict_invocation_and_defaults() -> None:
    assert search.invoke({"query": "q"}) == ["q:*:0", "q:*:1", "q:*:2"]
    assert search.invoke({"query": "q", "limit": 1, "lang": "en"}) == ["q:en:0"]
    assert search.invoke({"query": "q", "lang": None, "limit": 0}) == []


def test_string_invocation() -> None:
    assert loud.invoke("hi") == "HI!"
    assert search.invoke("q") == ["q:*:0", "q:*:1", "q:*:2"]  # one required argument
    with pytest.raises(ValueError, match=r"\['x', 'y'\]"):
        some_tool.invoke("x")


def test_errors_name_the_bad_argument() -> None:
    with pytest.raises(SchemaError) as bad:
        search.invoke({"query": 1, "limit": "many"})
    message = str(bad.value)
    assert "$.query" in message
    assert "$.limit" in message
    with pytest.raises(SchemaError, match="missing required key 'query'"):
        search.invoke({"limit": 1})
    with pytest.raises(SchemaError, match=r"\$\.extra: unexpected key"):
        search.invoke({"query": "q", "extra": 1})
    with pytest.raises(SchemaError, match=r"\$\.limit: expected int, got bool"):
        search.invoke({"query": "q", "limit": True})
    with pytest.raises(TypeError, match="dict of arguments"):
        search.invoke(42)  # type: ignore[call-overload]


def test_errors_from_the_function_are_reraised_unchanged() -> None:
    class Boom(Exception):
        pass

    @tool
    def explode(x: int) -> int:
        """Explodes."""
        raise Boom(x)

    with pytest.raises(Boom) as info:
        explode.invoke({"x": 1})
    assert any("explode" in note for note in getattr(info.value, "__notes__", []))


def test_tool_call_input_gives_a_tool_message() -> None:
    message = some_tool.invoke(ToolCall("some_tool", {"x": 1, "y": "2"}, "call-1"))
    assert message == ToolMessage('{"x": 1, "y": "2"}', tool_call_id="call-1", name="some_tool")
    assert loud.invoke(ToolCall("shout", {"text": "a"}, "c")) == ToolMessage(
        "A!", tool_call_id="c", name="shout"
    )
    as_dict: Any = {"type": "tool_call", "name": "shout", "args": {"text": "b"}, "id": "d"}
    assert loud.invoke(as_dict) == ToolMessage("B!", tool_call_id="d", name="shout")
    with pytest.raises(SchemaError, match=r"\$\.x"):
        some_tool.invoke(ToolCall("some_tool", {"x": "1", "y": "2"}, "call-1"))


def test_batch_and_stream() -> None:
    assert loud.batch(["a", "b"]) == ["A!", "B!"]
    assert list(some_tool.stream({"x": 1, "y": "2"})) == [{"x": 1, "y": "2"}]
    assert add.batch([{"a": 1}, {"a": 2, "b": 5}]) == [2, 7]


def test_config_parameter_receives_the_run_config() -> None:
    @tool
    def tagged(x: int, config: RunnableConfig) -> list[str]:
        """Returns the tags."""
        return [*config.get("tags", []), str(x)]

    assert "config" not in tagged.args
    assert tagged.invoke({"x": 1}, {"tags": ["t"]}) == ["t", "1"]
    assert tagged.invoke({"x": 2}) == ["2"]


# --------------------------------------------------------------------------- async tools


def test_async_tool_sync_invoke() -> None:
    assert add.invoke({"a": 1}) == 2
    assert add.invoke({"a": 1, "b": 2}) == 3


@pytest.mark.anyio
async def test_async_tool_ainvoke(anyio_backend: str) -> None:
    assert await add.ainvoke({"a": 1}) == 2
    assert await add.abatch([{"a": 1}, {"a": 2}]) == [2, 3]
    assert [c async for c in add.astream({"a": 3})] == [4]
    with pytest.raises(SchemaError, match=r"\$\.a"):
        await add.ainvoke({"a": "1"})
    message = await add.ainvoke(ToolCall("adder", {"a": 1}, "i"))
    assert message == ToolMessage("2", tool_call_id="i", name="adder")


@pytest.mark.anyio
async def test_sync_tool_ainvoke(anyio_backend: str) -> None:
    assert await some_tool.ainvoke({"x": 1, "y": "2"}) == {"x": 1, "y": "2"}
    assert await loud.ainvoke("x") == "X!"


def test_async_tool_invoke_from_inside_a_running_loop() -> None:
    async def main() -> int:
        return add.invoke({"a": 5})

    assert anyio.run(main) == 6


# --------------------------------------------------------------------------- runnable behaviour


def test_run_records(recorder: Recorder) -> None:
    some_tool.invoke({"x": 1, "y": "2"}, {"callbacks": [recorder], "tags": ["t"]})
    run = recorder.one("some_tool")
    assert run.run_type == "tool"
    assert run.inputs == {"x": 1, "y": "2"}
    assert run.outputs == {"x": 1, "y": "2"}
    assert run.tags == ["t"]


def test_nested_calls_are_children(recorder: Recorder) -> None:
    def twice(s: str) -> str:
        return s * 2

    inner = RunnableLambda(twice, name="inner")

    @tool
    def outer(text: str) -> str:
        """Calls inner."""
        return inner.invoke(text)

    assert outer.invoke("ab", {"callbacks": [recorder]}) == "abab"
    assert recorder.one("inner").parent_id == recorder.one("outer").id


def test_composition() -> None:
    chain = RunnableLambda(lambda q: {"query": q, "limit": 1}) | search | (lambda r: r[0])
    assert chain.invoke("z") == "z:*:0"

    def lower(s: str) -> str:
        return s.lower()

    parallel = RunnableParallel[str](a=loud, b=lower)
    assert parallel.invoke("Hi") == {"a": "HI!", "b": "hi"}
    seq = loud | (lambda s: len(s))
    assert seq.invoke("abc") == 4
    assert seq.input_schema.title == "shout"


def test_max_concurrency(peak: Peak) -> None:
    @tool
    def slow(x: int) -> int:
        """Slow."""
        peak.hold_sync(0.02)
        return x

    assert slow.batch([{"x": i} for i in range(6)], {"max_concurrency": 2}) == list(range(6))
    assert peak.peak <= 2


@pytest.mark.anyio
async def test_max_concurrency_async(anyio_backend: str, peak: Peak) -> None:
    @tool
    async def slow(x: int) -> int:
        """Slow."""
        peak.enter()
        try:
            await anyio.sleep(0.02)
        finally:
            peak.exit()
        return x

    @tool
    def slow_sync(x: int) -> int:
        """Slow too."""
        peak.hold_sync(0.02)
        return x

    inputs = [{"x": i} for i in range(5)]
    assert await slow.abatch(inputs, {"max_concurrency": 2}) == list(range(5))
    assert await slow_sync.abatch(inputs, {"max_concurrency": 2}) == list(range(5))
    assert peak.peak <= 2


def test_equality_and_hash() -> None:
    assert Tool(lambda_free) == Tool(lambda_free)
    assert hash(Tool(lambda_free)) == hash(Tool(lambda_free))
    assert Tool(lambda_free) != Tool(lambda_free, name="x")


def test_pickle_by_name() -> None:
    assert pickle.loads(pickle.dumps(some_tool)) is some_tool
    copy = pickle.loads(pickle.dumps(Tool(lambda_free, name="n")))
    assert copy == Tool(lambda_free, name="n")
    assert copy.invoke({"v": 3}) == 3


@pytest.mark.anyio
async def test_seed_tool_events(anyio_backend: str) -> None:
    """The seed's event table lists an `on_tool_stream` too; langchain-core 1.8 emits none
    for a tool (tests/test_differential_events.py), and neither do we."""
    events = [e async for e in some_tool.astream_events({"x": 1, "y": "2"}, version="v2")]
    assert [(e["event"], e["name"]) for e in events] == [
        ("on_tool_start", "some_tool"),
        ("on_tool_end", "some_tool"),
    ]
    assert events[0]["data"]["input"] == {"x": 1, "y": "2"}
    assert events[1]["data"]["output"] == {"x": 1, "y": "2"}


def test_a_tool_result_that_is_not_text_reaches_the_model_as_json() -> None:
    import attrs

    from runnables.messages import ToolCall
    from runnables.tools import tool

    @attrs.frozen
    class Row:
        a: int
        label: str

    @tool
    def lookup(x: int) -> dict[str, object]:
        """Look x up."""
        return {"x": x, "ok": True, "none": None, "row": Row(1, "é")}

    @tool
    def count(x: int) -> int:
        """Count to x."""
        return x

    answer = lookup.invoke(ToolCall("lookup", {"x": 1}, id="1"))
    assert answer.content == '{"x": 1, "ok": true, "none": null, "row": {"a": 1, "label": "é"}}'
    assert count.invoke(ToolCall("count", {"x": 3}, id="2")).content == "3"
