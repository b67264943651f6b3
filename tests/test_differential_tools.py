"""Tool calls and structured output compared with langchain-core where the shapes must match.

Deliberate differences, each checked below: a chunk whose args are not yet a complete JSON
object counts them among its `invalid_tool_calls` (LangChain guesses a partial object), and
structured output that does not fit raises (LangChain's parsers may answer None).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from typing_extensions import TypedDict

lc_messages = pytest.importorskip("langchain_core.messages")
lc_tool = pytest.importorskip("langchain_core.messages.tool")
lc_fake = pytest.importorskip("langchain_core.language_models.fake_chat_models")
lc_function_calling = pytest.importorskip("langchain_core.utils.function_calling")
lc_tools = pytest.importorskip("langchain_core.tools")

from runnables.messages import (  # noqa: E402
    AIMessage,
    AIMessageChunk,
    ToolCall,
    ToolCallChunk,
    add_ai_message_chunks,
    message_to_dict,
)
from runnables.models import GenericFakeChatModel  # noqa: E402
from runnables.schema import unstructure  # noqa: E402
from runnables.tools import convert_to_openai_tool, tool  # noqa: E402

#: Streams of tool call chunks, as (name, args, id, index) per chunk.
STREAMS: dict[str, list[list[tuple[str | None, str | None, str | None, int | None]]]] = {
    "one call in pieces": [
        [("add", "", "c1", 0)],
        [(None, '{"a"', None, 0)],
        [(None, ": 1, ", None, 0)],
        [(None, '"b": 2}', None, 0)],
    ],
    "two interleaved calls": [
        [("f", '{"x":', "a", 0), ("g", "", "b", 1)],
        [(None, " [1]}", None, 0)],
        [(None, '{"y": null}', None, 1)],
    ],
    "names and ids repeated": [
        [("f", "{", "a", 0)],
        [("f", "}", "a", 0)],
    ],
    "same index, other id": [
        [("f", "{}", "a", 0)],
        [("g", "{}", "b", 0)],
    ],
    "no index": [
        [("f", "{}", "a", None)],
        [("g", '{"k": 1}', "b", None)],
    ],
    "id only later": [
        [("f", '{"k"', None, 0)],
        [(None, ": 2}", "late", 0)],
    ],
}


def _ours(stream: list[list[tuple[Any, ...]]]) -> list[AIMessageChunk]:
    return [
        AIMessageChunk("", tool_call_chunks=[ToolCallChunk(*piece) for piece in chunk])
        for chunk in stream
    ]


def _theirs(stream: list[list[tuple[Any, ...]]]) -> list[Any]:
    return [
        lc_messages.AIMessageChunk(
            content="",
            tool_call_chunks=[
                lc_tool.tool_call_chunk(name=n, args=a, id=i, index=x) for n, a, i, x in chunk
            ],
        )
        for chunk in stream
    ]


@pytest.mark.parametrize("name", list(STREAMS))
def test_tool_call_chunks_add_up_as_in_langchain(name: str) -> None:
    ours = _ours(STREAMS[name])
    theirs = _theirs(STREAMS[name])
    total, their_total = ours[0], theirs[0]
    for chunk, their_chunk in zip(ours[1:], theirs[1:], strict=True):
        total += chunk
        their_total += their_chunk
    assert [unstructure(chunk) for chunk in total.tool_call_chunks] == their_total.tool_call_chunks
    assert [unstructure(call) for call in total.tool_calls] == their_total.tool_calls
    assert total.invalid_tool_calls == []
    assert add_ai_message_chunks(*ours) == total


def test_a_tool_call_has_langchains_dict_shape() -> None:
    ours = ToolCall("add", {"a": 1}, "c1")
    theirs = lc_tool.tool_call(name="add", args={"a": 1}, id="c1")
    assert unstructure(ours) == theirs
    message = AIMessage("", tool_calls=[ours])
    their_message = lc_messages.AIMessage(content="", tool_calls=[theirs])
    our_data = message_to_dict(message)["data"]
    their_data = lc_messages.message_to_dict(their_message)["data"]
    assert our_data["tool_calls"] == their_data["tool_calls"]
    assert our_data["invalid_tool_calls"] == their_data["invalid_tool_calls"] == []


def test_a_chunk_built_from_tool_calls_gets_the_same_chunks() -> None:
    ours = AIMessageChunk("", tool_calls=[ToolCall("f", {"x": [1, "y"]}, "c")])
    theirs = lc_messages.AIMessageChunk(
        content="", tool_calls=[lc_tool.tool_call(name="f", args={"x": [1, "y"]}, id="c")]
    )
    assert [unstructure(chunk) for chunk in ours.tool_call_chunks] == theirs.tool_call_chunks


def test_a_partial_chunk_differs_deliberately() -> None:
    stream = [[("f", '{"a": [1', "c", 0)]]
    (ours,) = _ours(stream)
    (theirs,) = _theirs(stream)
    assert theirs.tool_calls[0]["args"] == {"a": [1]}  # LangChain guesses the partial object
    assert ours.tool_calls == []  # we do not: the call is not complete yet
    assert ours.invalid_tool_calls[0].args == '{"a": [1'


class Movie(TypedDict):
    """A movie."""

    title: str
    year: int


def _describe(function: dict[str, Any]) -> tuple[Any, ...]:
    parameters = function["parameters"]
    types = {key: value.get("type") for key, value in parameters["properties"].items()}
    return function["name"], function["description"], parameters.get("required"), types


def test_openai_tools_have_langchains_shape() -> None:
    def multiply(a: int, b: float = 2.0) -> float:
        """Multiply two numbers."""
        return a * b

    pairs = [(Movie, Movie), (multiply, multiply), (tool(multiply), lc_tools.tool(multiply))]
    for value, their_value in pairs:
        ours = convert_to_openai_tool(value)
        theirs = lc_function_calling.convert_to_openai_tool(their_value)
        assert ours["type"] == theirs["type"] == "function"
        assert _describe(ours["function"]) == _describe(theirs["function"])


class _ToolCallingFake(lc_fake.GenericFakeChatModel):  # type: ignore[misc]
    """LangChain's fake chat model, given the `bind_tools` its structured output needs."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self


def test_include_raw_has_langchains_keys() -> None:
    args = {"title": "Alien", "year": 1979}
    call = lc_tool.tool_call(name="Movie", args=args, id="c")
    their_model = _ToolCallingFake(
        messages=iter([lc_messages.AIMessage(content="", tool_calls=[call])])
    )
    theirs = their_model.with_structured_output(Movie, include_raw=True)
    ours = GenericFakeChatModel(
        messages=iter([AIMessage("", tool_calls=[ToolCall("Movie", args, "c")])])
    ).with_structured_output(Movie, include_raw=True)
    their_result = theirs.invoke("x")
    our_result = ours.invoke("x")
    assert list(our_result) == list(their_result) == ["raw", "parsed", "parsing_error"]
    assert our_result["parsed"] == their_result["parsed"] == args
    assert our_result["parsing_error"] is their_result["parsing_error"] is None
