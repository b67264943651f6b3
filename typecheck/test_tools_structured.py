# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Tool calling and structured output: `bind_tools` keeps the model's type, and
`with_structured_output(T)` is a runnable whose output is `T`."""

from __future__ import annotations

import dataclasses
from typing import Any

import attrs
from typing_extensions import TypedDict, assert_type

from runnables import Runnable
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
    add_ai_message_chunks,
)
from runnables.models import (
    FakeListChatModel,
    GenericFakeChatModel,
    LanguageModelInput,
    OpenAIChatModel,
    StructuredOutput,
)
from runnables.tools import tool


@attrs.frozen
class Person:
    name: str
    age: int


class Movie(TypedDict):
    title: str
    year: int


@dataclasses.dataclass
class Point:
    x: float
    y: float


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def multiply(a: int, b: int) -> int:
    return a * b


def bind_tools_keeps_the_model() -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage("x")]))
    assert_type(model.bind_tools([add, multiply, Person, Movie]), GenericFakeChatModel)
    assert_type(model.bind_tools([add], tool_choice="add"), GenericFakeChatModel)
    assert_type(model.bind_tools([add], tool_choice=True), GenericFakeChatModel)
    openai = OpenAIChatModel("m")
    assert_type(openai.bind_tools([{"title": "t", "type": "object"}]), OpenAIChatModel)
    answer = model.bind_tools([add]).invoke("hi")
    assert_type(answer.tool_calls, list[ToolCall])
    assert_type(answer.invalid_tool_calls, list[InvalidToolCall])
    bad = model.bind_tools(add)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    worse = model.bind_tools([add], tool_choice=3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def structured_output_is_typed() -> None:
    model = FakeListChatModel(["{}"])
    person = model.with_structured_output(Person)
    assert_type(person, Runnable[LanguageModelInput, Person])
    assert_type(person.invoke("who?"), Person)
    assert_type(model.with_structured_output(Movie).invoke("x"), Movie)
    assert_type(model.with_structured_output(Point, method="json_schema").invoke("x"), Point)
    as_dict = model.with_structured_output({"title": "t", "type": "object"})
    assert_type(as_dict, Runnable[LanguageModelInput, dict[str, Any]])
    wrong: str = person.invoke("x")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    unknown = model.with_structured_output(Person, method="xml")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]


def include_raw_is_typed() -> None:
    model = FakeListChatModel(["{}"])
    raw = model.with_structured_output(Person, include_raw=True).invoke("x")
    assert_type(raw, StructuredOutput[Person])
    assert_type(raw["raw"], BaseMessage)
    assert_type(raw["parsed"], Person | None)
    assert_type(raw["parsing_error"], BaseException | None)
    from_dict = model.with_structured_output({"title": "t"}, include_raw=True).invoke("x")
    assert_type(from_dict["parsed"], dict[str, Any] | None)
    missing = raw["value"]  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]


def chunks_add_up() -> None:
    first = AIMessageChunk("", tool_call_chunks=[ToolCallChunk("f", "{", "c", 0)])
    assert_type(first + first, AIMessageChunk)
    assert_type(first + [first, first], AIMessageChunk)  # noqa: RUF005 - a chunk adds a list
    assert_type(add_ai_message_chunks(first, first), AIMessageChunk)
    assert_type(first.tool_call_chunks, list[ToolCallChunk])
    not_a_chunk = first + AIMessage("x")  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
