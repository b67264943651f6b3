"""Output parsers: parsing, streaming, errors, schemas and composition with a fake model."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest

from runnables import RunnableLambda
from runnables.messages import AIMessage, AIMessageChunk, HumanMessage
from runnables.parsers import (
    AttrsOutputParser,
    BaseOutputParser,
    CommaSeparatedListOutputParser,
    JsonOutputParser,
    OutputParserException,
    StrOutputParser,
    parse_json_markdown,
    parse_partial_json,
)
from runnables.prompts import ChatPromptTemplate, PromptValue
from runnables.schema import SchemaError


async def _acollect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


async def _aiter(values: list[Any]) -> AsyncIterator[Any]:
    for value in values:
        yield value


def _chunks(texts: list[str]) -> list[AIMessageChunk]:
    return [AIMessageChunk(text) for text in texts]


# ------------------------------------------------------------------ common


@pytest.mark.parametrize(
    "parser",
    [
        StrOutputParser(),
        JsonOutputParser(),
        CommaSeparatedListOutputParser(),
    ],
)
def test_names_and_run_type(parser: Any) -> None:
    assert parser.run_type == "parser"
    assert parser.name == type(parser).__name__
    assert parser.input_schema.title == f"{type(parser).__name__}Input"


def test_attrs_parser_name() -> None:
    assert AttrsOutputParser(Person).name == "AttrsOutputParser"
    assert AttrsOutputParser(Person).run_type == "parser"


def test_parsers_are_values() -> None:
    assert StrOutputParser() == StrOutputParser()
    assert hash(JsonOutputParser()) == hash(JsonOutputParser())
    assert AttrsOutputParser(Person) == AttrsOutputParser(Person)


def test_bad_input_type() -> None:
    with pytest.raises(TypeError, match="needs a str or a message, got int"):
        StrOutputParser().invoke(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# ------------------------------------------------------------------ StrOutputParser


def test_str_parser_invoke() -> None:
    parser = StrOutputParser()
    assert parser.invoke("hello") == "hello"
    assert parser.invoke(AIMessage("hi there")) == "hi there"
    assert parser.invoke(AIMessage(["a", {"type": "text", "text": "b"}])) == "ab"
    assert parser.invoke(HumanMessage("h")) == "h"
    assert parser.batch(["a", AIMessage("b")]) == ["a", "b"]
    assert parser.output_schema.json_schema() == {
        "title": "StrOutputParserOutput",
        "type": "string",
    }
    assert "anyOf" in parser.input_schema.json_schema()


def test_str_parser_streams_chunk_by_chunk() -> None:
    parser = StrOutputParser()
    assert list(parser.transform(iter(_chunks(["Hel", "lo", "", "!"])))) == ["Hel", "lo", "", "!"]
    assert list(parser.transform(iter(["a", "b"]))) == ["a", "b"]
    assert list(parser.stream(AIMessage("whole"))) == ["whole"]


@pytest.mark.anyio
async def test_str_parser_async() -> None:
    parser = StrOutputParser()
    assert await parser.ainvoke(AIMessage("x")) == "x"
    assert await _acollect(parser.atransform(_aiter(_chunks(["a", "b"])))) == ["a", "b"]
    assert await _acollect(parser.astream("s")) == ["s"]


def test_str_parser_is_lazy() -> None:
    seen: list[str] = []

    def source() -> Iterator[AIMessageChunk]:
        for text in ["a", "b", "c"]:
            seen.append(text)
            yield AIMessageChunk(text)

    out = StrOutputParser().transform(source())
    assert next(out) == "a"
    assert seen == ["a"]
    assert list(out) == ["b", "c"]


# ------------------------------------------------------------------ JsonOutputParser


def test_json_invoke() -> None:
    parser = JsonOutputParser()
    assert parser.invoke('{"a": 1, "b": [true, null]}') == {"a": 1, "b": [True, None]}
    assert parser.invoke(AIMessage("  [1, 2]  ")) == [1, 2]
    assert parser.invoke("42") == 42


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"a": 1}\n```',
        '```\n{"a": 1}\n```',
        'Here you go:\n```json\n{"a": 1}\n```\nAnything else?',
        '```JSON {"a": 1}```',
        '```json\n{"a": 1}',  # unclosed fence
        '  {"a": 1}\n',
    ],
)
def test_json_fences(text: str) -> None:
    assert JsonOutputParser().invoke(text) == {"a": 1}
    assert parse_json_markdown(text) == {"a": 1}


def test_json_error_has_text_and_position() -> None:
    with pytest.raises(OutputParserException) as info:
        JsonOutputParser().invoke('{"a": 1,\n "b": }')
    error = info.value
    assert isinstance(error, ValueError)
    assert "line 2 column 7 (char 15)" in str(error)
    assert '\'{"a": 1,\\n "b": }\'' in str(error)
    assert error.llm_output == '{"a": 1,\n "b": }'


def test_json_error_position_inside_fence() -> None:
    text = 'Sure:\n```json\n{"a": oops}\n```'
    with pytest.raises(OutputParserException, match=r"line 3 column 7 \(char 20\)"):
        JsonOutputParser().invoke(text)
    assert text[20] == "o"


def test_json_error_on_empty() -> None:
    with pytest.raises(OutputParserException, match="Expecting value"):
        JsonOutputParser().invoke("   ")


def test_json_streaming_partials() -> None:
    parser = JsonOutputParser()
    chunks = ['{"na', 'me": "Al', 'ice", "tags": ["a', '", "b"], "age": 3', "0}"]
    assert list(parser.transform(iter(chunks))) == [
        {},
        {"name": "Al"},
        {"name": "Alice", "tags": ["a"]},
        {"name": "Alice", "tags": ["a", "b"], "age": 3},
        {"name": "Alice", "tags": ["a", "b"], "age": 30},
    ]


def test_json_streaming_only_yields_changes() -> None:
    parser = JsonOutputParser()
    chunks = ['{"a": 1', ", ", '"b', '": ', "2", "}", "\n"]
    out = list(parser.transform(iter(_chunks(chunks))))
    assert out == [{"a": 1}, {"a": 1, "b": 2}]
    assert all(a != b for a, b in itertools.pairwise(out))


def test_json_streaming_with_fence_and_text() -> None:
    parser = JsonOutputParser()
    chunks = [
        "Sure! Here",
        " it is:\n``",
        "`js",
        "on\n[1, ",
        "2",
        ', {"x": "y',
        '"}]\n`',
        "``\nBye",
    ]
    out = list(parser.transform(iter(chunks)))
    assert out == [[1], [1, 2], [1, 2, {"x": "y"}]]
    assert out[-1] == parser.invoke("".join(chunks))


def test_json_streaming_final_equals_full_parse() -> None:
    text = json.dumps({"k": [1, 2, {"deep": 'value with "quotes" and \\n'}], "n": None})
    chunks = [text[i : i + 3] for i in range(0, len(text), 3)]
    out = list(JsonOutputParser().transform(iter(chunks)))
    assert out[-1] == json.loads(text)
    assert len(out) > 3


def test_json_streaming_scalar_arrives_at_end() -> None:
    assert list(JsonOutputParser().transform(iter(["4", "2"]))) == [42]


def test_json_streaming_error_at_end() -> None:
    out = JsonOutputParser().transform(iter(['{"a": 1', "} trailing"]))
    assert next(out) == {"a": 1}
    with pytest.raises(OutputParserException, match="Extra data"):
        list(out)


@pytest.mark.anyio
async def test_json_async() -> None:
    parser = JsonOutputParser()
    assert await parser.ainvoke('```json\n{"a": 1}\n```') == {"a": 1}
    chunks = ['{"a": "x', 'y"', ', "b": [1', "]}"]
    assert await _acollect(parser.atransform(_aiter(_chunks(chunks)))) == [
        {"a": "x"},
        {"a": "xy"},
        {"a": "xy", "b": [1]},
    ]
    with pytest.raises(OutputParserException):
        await parser.ainvoke("nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "b', {"a": "b"}),
        ('{"a": [1, 2', {"a": [1, 2]}),
        ('{"a": {"b": tr', {"a": {}}),
        ('{"a": 1, "b', {"a": 1}),
        ('["x", "y\\', ["x", "y"]),
        ('{"a": "line\nbreak', {"a": "line\nbreak"}),
        ("[", []),
    ],
)
def test_parse_partial_json(text: str, expected: Any) -> None:
    assert parse_partial_json(text) == expected


def test_parse_partial_json_rejects_garbage() -> None:
    with pytest.raises(OutputParserException, match="Expecting value at line 1 column 7"):
        parse_partial_json('{"a": ]')
    with pytest.raises(OutputParserException, match="Expecting value"):
        parse_partial_json("hello")
    with pytest.raises(OutputParserException, match="no JSON value yet"):
        parse_partial_json(" -")


# ------------------------------------------------------------------ comma list


def test_comma_list_invoke() -> None:
    parser = CommaSeparatedListOutputParser()
    assert parser.invoke("a, b, c") == ["a", "b", "c"]
    assert parser.invoke(AIMessage(" red ,green,  blue ")) == ["red", "green", "blue"]
    assert parser.invoke("one") == ["one"]
    assert parser.invoke("") == []
    assert parser.invoke("a, , b,") == ["a", "b"]
    assert "comma separated" in parser.get_format_instructions()
    assert parser.output_schema.json_schema()["type"] == "array"


def test_comma_list_streams_items() -> None:
    parser = CommaSeparatedListOutputParser()
    chunks = ["ap", "ple, ban", "ana,", " cher", "ry, da", "te"]
    out = list(parser.transform(iter(_chunks(chunks))))
    assert out == [["apple"], ["banana"], ["cherry"], ["date"]]
    assert [item for chunk in out for item in chunk] == parser.invoke("".join(chunks))


def test_comma_list_streams_lazily() -> None:
    def source() -> Iterator[str]:
        yield "a, b"
        yield ", c"
        raise AssertionError("read too far")

    out = CommaSeparatedListOutputParser().transform(source())
    assert next(out) == ["a"]
    assert next(out) == ["b"]


@pytest.mark.anyio
async def test_comma_list_async() -> None:
    parser = CommaSeparatedListOutputParser()
    assert await parser.ainvoke("x,y") == ["x", "y"]
    out = await _acollect(parser.atransform(_aiter(["x, y", ",", " z"])))
    assert out == [["x"], ["y"], ["z"]]


# ------------------------------------------------------------------ attrs


@attrs.frozen
class Address:
    city: str


@attrs.frozen
class Person:
    name: str
    age: int
    addresses: list[Address] = attrs.field(factory=list)


def test_attrs_parser_invoke() -> None:
    parser = AttrsOutputParser(Person)
    assert parser.invoke('{"name": "Ann", "age": 3}') == Person("Ann", 3)
    fenced = 'Result:\n```json\n{"name": "B", "age": 1, "addresses": [{"city": "Oslo"}]}\n```'
    assert parser.invoke(AIMessage(fenced)) == Person("B", 1, [Address("Oslo")])
    assert parser.output_schema.type is Person
    assert parser.schema.title == "Person"


def test_attrs_parser_errors_list_paths() -> None:
    parser = AttrsOutputParser(Person)
    text = '{"name": 1, "age": "3", "addresses": [{"city": 2}]}'
    with pytest.raises(OutputParserException) as info:
        parser.invoke(text)
    message = str(info.value)
    assert "output does not fit Person" in message
    assert "$.name: expected str, got int" in message
    assert "$.age: expected int, got str" in message
    assert "$.addresses[0].city: expected str, got int" in message
    assert isinstance(info.value.__cause__, SchemaError)
    assert info.value.llm_output == text


def test_attrs_parser_missing_and_extra_keys() -> None:
    with pytest.raises(OutputParserException, match=r"\$: missing required key 'age'"):
        AttrsOutputParser(Person).invoke('{"name": "x"}')
    with pytest.raises(OutputParserException, match=r"\$\.zzz: unexpected key"):
        AttrsOutputParser(Person).invoke('{"name": "x", "age": 1, "zzz": 0}')


def test_attrs_parser_bad_json() -> None:
    with pytest.raises(OutputParserException, match="invalid JSON output"):
        AttrsOutputParser(Person).invoke("{name: x}")


def test_attrs_parser_format_instructions() -> None:
    text = AttrsOutputParser(Person).get_format_instructions()
    assert "JSON schema" in text
    body = text.split("```\n")[1].split("\n```")[0]
    schema = json.loads(body)
    assert schema["required"] == ["name", "age"]
    assert schema["properties"]["age"] == {"title": "Age", "type": "integer"}


def test_attrs_parser_stream_waits_for_whole_input() -> None:
    parser = AttrsOutputParser(Person)
    chunks = _chunks(['{"name": ', '"Z", "age"', ": 5}"])
    assert list(parser.transform(iter(chunks))) == [Person("Z", 5)]


@pytest.mark.anyio
async def test_attrs_parser_async() -> None:
    parser = AttrsOutputParser(Person)
    assert await parser.ainvoke('{"name": "A", "age": 2}') == Person("A", 2)
    assert await _acollect(parser.atransform(_aiter(['{"name": "A",', '"age": 2}']))) == [
        Person("A", 2)
    ]
    with pytest.raises(OutputParserException, match=r"\$\.age: expected int, got str"):
        await parser.ainvoke('{"name": "A", "age": "2"}')


# ------------------------------------------------------------------ composition


def _answer(prompt: PromptValue) -> str:
    question = prompt.to_messages()[-1].text
    return {
        "json": '```json\n{"name": "Cat", "age": 7}\n```',
        "list": "red, green, blue",
    }.get(question, f"you said {question}")


def fake_model(prompt: PromptValue) -> AIMessage:
    return AIMessage(_answer(prompt))


def fake_streaming_model(prompt: PromptValue) -> Iterator[AIMessageChunk]:
    text = _answer(prompt)
    for i in range(0, len(text), 4):
        yield AIMessageChunk(text[i : i + 4])


PROMPT = ChatPromptTemplate.from_messages([("system", "be brief"), ("human", "{q}")])


def test_chain_invoke_stream_batch() -> None:
    chain = PROMPT | RunnableLambda(fake_streaming_model) | StrOutputParser()
    assert chain.invoke({"q": "hello"}) == "you said hello"
    assert list(chain.stream({"q": "hello"})) == ["you ", "said", " hel", "lo"]
    assert chain.batch([{"q": "a"}, {"q": "b"}]) == ["you said a", "you said b"]
    plain = PROMPT | RunnableLambda(fake_model) | StrOutputParser()
    assert plain.invoke({"q": "x"}) == "you said x"
    assert list(plain.stream({"q": "x"})) == ["you said x"]


@pytest.mark.anyio
async def test_chain_async() -> None:
    chain = PROMPT | RunnableLambda(fake_streaming_model) | StrOutputParser()
    assert await chain.ainvoke({"q": "hello"}) == "you said hello"
    assert await _acollect(chain.astream({"q": "hello"})) == ["you ", "said", " hel", "lo"]
    assert await chain.abatch([{"q": "a"}]) == ["you said a"]


def test_chain_json_and_list_and_attrs() -> None:
    model = RunnableLambda(fake_streaming_model)
    json_chain = PROMPT | model | JsonOutputParser()
    assert json_chain.invoke({"q": "json"}) == {"name": "Cat", "age": 7}
    streamed = list(json_chain.stream({"q": "json"}))
    assert streamed[-1] == {"name": "Cat", "age": 7}
    assert len(streamed) > 1
    list_chain = PROMPT | model | CommaSeparatedListOutputParser()
    assert list_chain.invoke({"q": "list"}) == ["red", "green", "blue"]
    assert list(list_chain.stream({"q": "list"})) == [["red"], ["green"], ["blue"]]
    attrs_chain = PROMPT | model | AttrsOutputParser(Person)
    assert attrs_chain.invoke({"q": "json"}) == Person("Cat", 7)


@pytest.mark.anyio
async def test_chain_json_async_stream() -> None:
    chain = PROMPT | RunnableLambda(fake_streaming_model) | JsonOutputParser()
    streamed = await _acollect(chain.astream({"q": "json"}))
    assert streamed[-1] == {"name": "Cat", "age": 7}
    assert {"name": "Cat"} in streamed


def test_parser_error_in_chain_names_step() -> None:
    chain = PROMPT | RunnableLambda(fake_model) | JsonOutputParser()
    with pytest.raises(OutputParserException) as info:
        chain.invoke({"q": "not json"})
    assert "raised in runnable 'JsonOutputParser'" in getattr(info.value, "__notes__", [])


# ------------------------------------------------------------------ custom parsers


@attrs.frozen
class UpperParser(BaseOutputParser[str]):
    def parse(self, text: str) -> str:
        return text.upper()


def test_custom_parser_subclass() -> None:
    parser = UpperParser()
    assert parser.invoke(AIMessage("abc")) == "ABC"
    assert parser.run_type == "parser"
    assert parser.name == "UpperParser"
    assert parser.get_format_instructions() == ""
    # no transform hook: the stream is added up first, then parsed once
    assert list(parser.transform(iter(_chunks(["a", "b"])))) == ["AB"]
    assert parser.with_config(run_name="shout").name == "shout"


@pytest.mark.anyio
async def test_custom_parser_async() -> None:
    assert await UpperParser().ainvoke("x") == "X"


def test_json_format_instructions() -> None:
    assert "JSON" in JsonOutputParser().get_format_instructions()
