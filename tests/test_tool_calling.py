"""Tool calling and structured output on chat models (issue #12 item 1), with the fake models."""

from __future__ import annotations

import dataclasses
import functools
import json
import operator
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typing_extensions import TypedDict

from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
    add_ai_message_chunks,
    message_from_dict,
    message_to_dict,
    messages_from_dict,
    messages_to_dict,
)
from runnables.models import FakeListChatModel, GenericFakeChatModel
from runnables.parsers import OutputParserException
from runnables.tools import convert_to_openai_tool, tool


@tool
def add(a: int, b: int = 2) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


@attrs.frozen
class Person:
    """A person."""

    name: str
    age: int


class Movie(TypedDict):
    """A movie."""

    title: str
    year: int


@dataclasses.dataclass(frozen=True)
class Point:
    """A point."""

    x: float
    y: float


def multiply(a: int, b: int) -> int:
    """Multiply two numbers."""
    return a * b


def summed(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    return functools.reduce(operator.add, chunks)


# --------------------------------------------------------------------------- chunks


def test_tool_call_chunks_add_up_by_index() -> None:
    first = AIMessageChunk("", tool_call_chunks=[ToolCallChunk("add", '{"a"', "c1", 0)], id="r")
    second = AIMessageChunk(
        "",
        tool_call_chunks=[ToolCallChunk(None, ": 1}", None, 0), ToolCallChunk("neg", "", "c2", 1)],
    )
    total = first + second
    assert total.tool_call_chunks == [
        ToolCallChunk("add", '{"a": 1}', "c1", 0),
        ToolCallChunk("neg", "", "c2", 1),
    ]
    assert total.tool_calls == [ToolCall("add", {"a": 1}, "c1"), ToolCall("neg", {}, "c2")]
    assert total.invalid_tool_calls == []
    assert total.id == "r"


def test_a_chunk_whose_args_are_not_yet_json_holds_an_invalid_call() -> None:
    chunk = AIMessageChunk("", tool_call_chunks=[ToolCallChunk("add", '{"a": ', "c1", 0)])
    assert chunk.tool_calls == []
    (bad,) = chunk.invalid_tool_calls
    assert (bad.name, bad.args, bad.id) == ("add", '{"a": ', "c1")
    assert bad.error == "the arguments are not a complete JSON object"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ("{oops}", "the arguments are not JSON"),
        ("[1, 2]", "the arguments are not a complete JSON object"),
        ("{} }", "the arguments are not JSON: Extra data"),
    ],
)
def test_args_that_are_not_a_json_object_make_an_invalid_tool_call(args: str, error: str) -> None:
    message = AIMessageChunk("", tool_call_chunks=[ToolCallChunk("f", args, "c", 0)]).to_message()
    assert type(message) is AIMessage
    assert message.tool_calls == []
    (bad,) = message.invalid_tool_calls
    assert bad.args == args
    assert bad.error is not None
    assert bad.error.startswith(error)


def test_chunks_with_other_ids_at_one_index_stay_apart() -> None:
    total = AIMessageChunk("", tool_call_chunks=[ToolCallChunk("f", "{}", "a", 0)]) + (
        AIMessageChunk("", tool_call_chunks=[ToolCallChunk("g", "{}", "b", 0)])
    )
    assert [call.name for call in total.tool_calls] == ["f", "g"]


def test_chunks_without_an_index_never_merge() -> None:
    chunk = AIMessageChunk("", tool_calls=[ToolCall("f", {"x": 1}, "c")])
    assert chunk.tool_call_chunks == [ToolCallChunk("f", '{"x": 1}', "c", None)]
    assert (chunk + chunk).tool_calls == [ToolCall("f", {"x": 1}, "c")] * 2


def test_a_chunk_adds_a_list_of_chunks_at_once() -> None:
    chunks = [AIMessageChunk(f"{i} ", usage_metadata={"output_tokens": 1}) for i in range(5)]
    total = chunks[0] + chunks[1:]
    assert total == summed(chunks) == add_ai_message_chunks(*chunks)
    assert total.content == "0 1 2 3 4 "
    assert total.usage_metadata == {"output_tokens": 5}


def test_adding_something_else_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="can only add AIMessageChunk to AIMessageChunk, not str"):
        AIMessageChunk("a") + "b"  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"not HumanMessage \(item 1\)"):
        add_ai_message_chunks(AIMessageChunk("a"), HumanMessage("b"))  # type: ignore[arg-type]


_contents = st.one_of(
    st.text(max_size=3),
    st.lists(
        st.one_of(
            st.text(max_size=2),
            st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=2)}),
        ),
        max_size=2,
    ),
)
_metadata = st.dictionaries(
    st.sampled_from(["a", "b"]),
    st.one_of(
        st.none(),
        st.text(max_size=2),
        st.integers(0, 3),
        st.fixed_dictionaries({"k": st.text(max_size=2)}),
    ),
    max_size=2,
)
_call_chunks = st.lists(
    st.builds(
        ToolCallChunk,
        st.one_of(st.none(), st.sampled_from(["f", "g"])),
        st.one_of(st.none(), st.sampled_from(["{", '"a": 1', "}", ""])),
        st.one_of(st.none(), st.sampled_from(["x", "y", ""])),
        st.one_of(st.none(), st.integers(0, 2)),
    ),
    max_size=2,
)
_chunks = st.builds(
    AIMessageChunk,
    _contents,
    additional_kwargs=_metadata,
    response_metadata=_metadata,
    id=st.one_of(st.none(), st.sampled_from(["r1", "r2"])),
    tool_call_chunks=_call_chunks,
    usage_metadata=st.one_of(
        st.none(), st.fixed_dictionaries({"output_tokens": st.integers(0, 5)})
    ),
)


@given(st.lists(_chunks, min_size=1, max_size=6))
def test_adding_in_one_pass_equals_adding_pairwise(chunks: list[AIMessageChunk]) -> None:
    assert add_ai_message_chunks(*chunks) == summed(chunks)


# --------------------------------------------------------------------------- messages


def test_tool_messages_round_trip_through_dicts() -> None:
    conversation = [
        HumanMessage("what is 1 + 2?"),
        AIMessage(
            "",
            tool_calls=[ToolCall("add", {"a": 1, "b": 2}, "c1")],
            invalid_tool_calls=[InvalidToolCall("add", "{oops", "c2", "not JSON")],
        ),
        ToolMessage("3", tool_call_id="c1", name="add"),
        ToolMessage("bad arguments", tool_call_id="c2", status="error"),
        AIMessageChunk("", tool_call_chunks=[ToolCallChunk("add", '{"a": 1}', "c3", 0)]),
    ]
    data = json.loads(json.dumps(messages_to_dict(conversation)))
    assert messages_from_dict(data) == conversation
    assert data[1]["data"]["tool_calls"] == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "c1", "type": "tool_call"}
    ]


def test_a_tool_answers_a_tool_call_with_a_tool_message() -> None:
    message = AIMessage("", tool_calls=[ToolCall("add", {"a": 1, "b": 5}, "c1")])
    answer = add.invoke(message.tool_calls[0])
    assert answer == ToolMessage("6", tool_call_id="c1", name="add")
    assert message_from_dict(message_to_dict(answer)) == answer


def test_a_tool_call_type_is_fixed() -> None:
    with pytest.raises(ValueError, match="'type' must be in"):
        ToolCall("f", {}, type="other")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the fake model


MESSAGE = AIMessage(
    "Let me add.",
    id="run-1",
    tool_calls=[ToolCall("add", {"a": 1, "b": [2, {"c": "d e"}]}, "c1"), ToolCall("neg", {}, "c2")],
    response_metadata={"finish_reason": "tool_calls"},
    usage_metadata={"input_tokens": 3, "output_tokens": 4},
    additional_kwargs={"extra": 1},
)


def test_generic_fake_model_replays_its_messages() -> None:
    model = GenericFakeChatModel(messages=iter([MESSAGE, "plain text"]))
    assert model.invoke("hi") == MESSAGE
    assert model.bind(temperature=0).invoke("hi") == AIMessage("plain text")
    with pytest.raises(ValueError, match="no message left to answer with"):
        model.invoke("hi")


def test_generic_fake_model_streams_chunks_that_add_up_to_the_message() -> None:
    model = GenericFakeChatModel(messages=iter([MESSAGE, MESSAGE]))
    chunks = list(model.stream("hi"))
    assert len(chunks) > 6
    assert [chunk.content for chunk in chunks[:3]] == ["Let", " ", "me"]
    assert any(chunk.tool_call_chunks for chunk in chunks)
    assert summed(chunks).to_message() == MESSAGE
    assert add_ai_message_chunks(*chunks).to_message() == MESSAGE
    assert model.invoke("hi") == MESSAGE


def test_generic_fake_model_streams_invalid_calls_back() -> None:
    message = AIMessage("", invalid_tool_calls=[InvalidToolCall("f", "{x", "c", None)])
    chunks = list(GenericFakeChatModel(messages=iter([message])).stream("hi"))
    total = summed(chunks).to_message()
    assert total.tool_calls == []
    assert [(bad.name, bad.args, bad.id) for bad in total.invalid_tool_calls] == [("f", "{x", "c")]


@pytest.mark.anyio
async def test_generic_fake_model_async() -> None:
    model = GenericFakeChatModel(messages=iter([MESSAGE, MESSAGE]))
    assert await model.ainvoke("hi") == MESSAGE
    chunks = [chunk async for chunk in model.astream("hi")]
    assert summed(chunks).to_message() == MESSAGE


def test_generic_fake_model_refuses_what_is_not_a_message() -> None:
    with pytest.raises(TypeError, match="not one"):
        GenericFakeChatModel(messages="hello")  # type: ignore[arg-type]
    model = GenericFakeChatModel(messages=iter([HumanMessage("x")]))  # type: ignore[list-item]
    with pytest.raises(TypeError, match="message 1 is a HumanMessage; give AIMessages or strings"):
        model.invoke("hi")


# --------------------------------------------------------------------------- bind_tools


def test_bind_tools_binds_the_openai_form_of_every_kind_of_tool() -> None:
    model = FakeListChatModel(["x"]).bind_tools(
        [add, multiply, Person, Movie, Point, {"title": "noop", "type": "object"}]
    )
    tools = model.options["tools"]
    assert [item["function"]["name"] for item in tools] == [
        "add",
        "multiply",
        "Person",
        "Movie",
        "Point",
        "noop",
    ]
    assert tools[0] == {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two numbers.",
            "parameters": {
                "type": "object",
                "properties": {
                    "a": {"type": "integer", "description": "The first number."},
                    "b": {"type": "integer", "description": "The second number.", "default": 2},
                },
                "required": ["a"],
                "additionalProperties": False,
            },
        },
    }
    assert tools[2]["function"]["description"] == "A person."
    assert tools[3]["function"]["parameters"]["required"] == ["title", "year"]
    assert "tool_choice" not in model.options
    assert model.invoke("hi") == AIMessage("x")


def test_a_property_called_title_is_kept() -> None:
    movie = convert_to_openai_tool(Movie)["function"]["parameters"]
    assert movie["properties"]["title"] == {"type": "string"}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("add", {"type": "function", "function": {"name": "add"}}),
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("any", "required"),
        (
            {"type": "function", "function": {"name": "add"}},
            {"type": "function", "function": {"name": "add"}},
        ),
    ],
)
def test_tool_choice_as_langchain_spells_it(choice: Any, expected: Any) -> None:
    model = FakeListChatModel(["x"]).bind_tools([add, multiply], tool_choice=choice)
    assert model.options["tool_choice"] == expected


def test_tool_choice_true_names_the_only_tool() -> None:
    model = FakeListChatModel(["x"]).bind_tools([add], tool_choice=True)
    assert model.options["tool_choice"] == {"type": "function", "function": {"name": "add"}}
    with pytest.raises(ValueError, match="tool_choice=True needs exactly one tool, got 2"):
        FakeListChatModel(["x"]).bind_tools([add, multiply], tool_choice=True)


def test_bind_tools_refuses_bad_input_saying_where() -> None:
    model = FakeListChatModel(["x"])
    with pytest.raises(
        ValueError, match=r"tool_choice 'sub' is not one of the bound tools \['add'\]"
    ):
        model.bind_tools([add], tool_choice="sub")
    with pytest.raises(TypeError, match=r"tools\[1\]: cannot use int 3 as a tool"):
        model.bind_tools([add, 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"tools\[0\]: a JSON Schema tool needs a 'title'"):
        model.bind_tools([{"type": "object"}])
    with pytest.raises(TypeError, match="wrap it in a list"):
        model.bind_tools(add)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- structured output


def _calling(name: str, args: dict[str, Any]) -> AIMessage:
    return AIMessage("", tool_calls=[ToolCall(name, args, "c1")])


def test_structured_output_to_an_attrs_class() -> None:
    model = GenericFakeChatModel(messages=iter([_calling("Person", {"name": "Ada", "age": 36})]))
    structured = model.with_structured_output(Person)
    assert structured.invoke("who?") == Person("Ada", 36)
    bound = structured.steps[0]  # type: ignore[attr-defined]
    assert bound.options["tool_choice"] == {"type": "function", "function": {"name": "Person"}}


def test_structured_output_to_a_typeddict_a_dataclass_and_a_dict() -> None:
    model = GenericFakeChatModel(
        messages=iter(
            [
                _calling("Movie", {"title": "Alien", "year": 1979}),
                _calling("Point", {"x": 1, "y": 2.5}),
                _calling("answer", {"anything": [1]}),
            ]
        )
    )
    assert model.with_structured_output(Movie).invoke("x") == {"title": "Alien", "year": 1979}
    assert model.with_structured_output(Point).invoke("x") == Point(1.0, 2.5)
    schema = {"title": "answer", "type": "object", "properties": {"anything": {}}}
    assert model.with_structured_output(schema).invoke("x") == {"anything": [1]}


def test_structured_output_streams_its_one_value() -> None:
    message = _calling("Person", {"name": "Ada", "age": 36})
    model = GenericFakeChatModel(messages=iter([message]))
    assert list(model.with_structured_output(Person).stream("x")) == [Person("Ada", 36)]


@pytest.mark.anyio
async def test_structured_output_async() -> None:
    message = _calling("Person", {"name": "Ada", "age": 36})
    model = GenericFakeChatModel(messages=iter([message, message]))
    structured = model.with_structured_output(Person)
    assert await structured.ainvoke("x") == Person("Ada", 36)
    assert [value async for value in structured.astream("x")] == [Person("Ada", 36)]


def test_structured_output_that_does_not_fit_raises_naming_the_path() -> None:
    model = GenericFakeChatModel(
        messages=iter([_calling("Person", {"name": "Ada", "age": "old"}), AIMessage("no")])
    )
    with pytest.raises(OutputParserException, match=r"does not fit Person: \$\.age: expected int"):
        model.with_structured_output(Person).invoke("x")
    with pytest.raises(OutputParserException, match="made no call of the tool 'Person'"):
        model.with_structured_output(Person).invoke("x")


def test_include_raw_gives_the_message_the_value_and_the_error() -> None:
    good = _calling("Person", {"name": "Ada", "age": 36})
    bad = AIMessage("", invalid_tool_calls=[InvalidToolCall("Person", "{nope", "c", "not JSON")])
    model = GenericFakeChatModel(messages=iter([good, bad]))
    structured = model.with_structured_output(Person, include_raw=True)
    assert structured.invoke("x") == {
        "raw": good,
        "parsed": Person("Ada", 36),
        "parsing_error": None,
    }
    result = structured.invoke("x")
    assert result["raw"] == bad
    assert result["parsed"] is None
    assert isinstance(result["parsing_error"], OutputParserException)
    assert "malformed arguments" in str(result["parsing_error"])


def test_json_mode_and_json_schema_read_the_text() -> None:
    model = GenericFakeChatModel(
        messages=iter(
            ['{"name": "Ada", "age": 36}', '```json\n{"title": "Alien", "year": 1979}\n```']
        )
    )
    json_mode = model.with_structured_output(Person, method="json_mode")
    assert json_mode.invoke("x") == Person("Ada", 36)
    assert json_mode.steps[0].options == {"response_format": {"type": "json_object"}}  # type: ignore[attr-defined]
    json_schema = model.with_structured_output(Movie, method="json_schema")
    assert json_schema.invoke("x") == {"title": "Alien", "year": 1979}
    response_format = json_schema.steps[0].options["response_format"]  # type: ignore[attr-defined]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Movie"
    assert response_format["json_schema"]["schema"]["required"] == ["title", "year"]


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method must be 'function_calling'"):
        FakeListChatModel(["x"]).with_structured_output(Person, method="xml")  # type: ignore[call-overload]


def test_structured_output_schema_is_the_type() -> None:
    structured = FakeListChatModel(["x"]).with_structured_output(Person)
    assert structured.output_schema.json_schema()["required"] == ["name", "age"]


def test_include_raw_has_an_object_schema() -> None:
    structured = FakeListChatModel(["x"]).with_structured_output(Person, include_raw=True)
    assert structured.output_schema.json_schema()["type"] == "object"


def test_a_message_dict_takes_call_objects() -> None:
    from runnables.messages import convert_to_message

    bad = InvalidToolCall("f", "{x", "c2", "not JSON")
    message = convert_to_message(
        {
            "role": "ai",
            "content": "",
            "tool_calls": [ToolCall("f", {}, "c1")],
            "invalid_tool_calls": [bad],
        }
    )
    assert message == AIMessage("", tool_calls=[ToolCall("f", {}, "c1")], invalid_tool_calls=[bad])
