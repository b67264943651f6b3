"""Prompt templates: formatting, variables, partials, placeholders, schemas, composition."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from runnables import RunnableLambda, RunnableParallel
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from runnables.parsers import StrOutputParser
from runnables.prompts import (
    AIMessagePromptTemplate,
    ChatPromptTemplate,
    ChatPromptValue,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    PromptTemplate,
    PromptTemplateError,
    PromptValue,
    StringPromptValue,
    SystemMessagePromptTemplate,
)


async def _acollect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


# ------------------------------------------------------------------ PromptTemplate


def test_prompt_template_formats() -> None:
    prompt = PromptTemplate.from_template("tell me a joke about {topic}")
    assert prompt.input_variables == ["topic"]
    assert prompt.invoke({"topic": "bears"}) == StringPromptValue("tell me a joke about bears")
    assert prompt.format(topic="cats") == "tell me a joke about cats"
    assert prompt.format_prompt(topic="x") == StringPromptValue("tell me a joke about x")


def test_prompt_variables_in_order_of_appearance_once() -> None:
    prompt = PromptTemplate.from_template("{b} and {a} and {b} again")
    assert prompt.input_variables == ["b", "a"]
    assert prompt.invoke({"a": 1, "b": 2}).text == "2 and 1 and 2 again"


def test_escaped_braces() -> None:
    prompt = PromptTemplate.from_template('{{"key": "{value}"}} and }}{{')
    assert prompt.input_variables == ["value"]
    assert prompt.invoke({"value": "v"}).text == '{"key": "v"} and }{'


def test_no_variables() -> None:
    prompt = PromptTemplate.from_template("just text {{x}}")
    assert prompt.input_variables == []
    assert prompt.invoke({}).text == "just text {x}"


@pytest.mark.parametrize(
    "template", ["{}", "{a.b}", "{a[0]}", "{0}", "unclosed {a", "a } b", "{a!r}", "{a:>3}"]
)
def test_bad_templates_rejected(template: str) -> None:
    with pytest.raises(PromptTemplateError, match="prompt template"):
        PromptTemplate.from_template(template)


def test_missing_variable_names_missing_and_given() -> None:
    prompt = PromptTemplate.from_template("tell me a joke about {topic}")
    with pytest.raises(ValueError, match=r"needs variables \['topic'\]; got \['topik'\]") as info:
        prompt.invoke({"topik": "bears"})
    assert str(info.value) == "prompt 'PromptTemplate' needs variables ['topic']; got ['topik']"


def test_missing_several_variables() -> None:
    prompt = PromptTemplate.from_template("{a} {b} {c}")
    with pytest.raises(ValueError, match=r"needs variables \['a', 'c'\]; got \['b', 'z'\]"):
        prompt.invoke({"z": 1, "b": 2})


def test_extra_keys_ignored() -> None:
    prompt = PromptTemplate.from_template("hi {name}")
    assert prompt.invoke({"name": "Ann", "other": 3}).text == "hi Ann"


def test_single_variable_accepts_string() -> None:
    prompt = PromptTemplate.from_template("tell me about {topic}")
    assert prompt.invoke("bears").text == "tell me about bears"  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def test_string_input_needs_exactly_one_variable() -> None:
    prompt = PromptTemplate.from_template("{a} {b}")
    with pytest.raises(TypeError, match="exactly one"):
        prompt.invoke("x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    with pytest.raises(TypeError, match="needs a dict input, got int"):
        prompt.invoke(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def test_partial_variables() -> None:
    prompt = PromptTemplate.from_template("{greeting}, {name}!")
    hello = prompt.partial(greeting="Hello")
    assert hello.input_variables == ["name"]
    assert prompt.input_variables == ["greeting", "name"]  # unchanged original
    assert hello.invoke({"name": "Bob"}).text == "Hello, Bob!"
    assert hello.invoke("Bob").text == "Hello, Bob!"  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert hello.invoke({"name": "Bob", "greeting": "Hi"}).text == "Hi, Bob!"  # input wins
    built = PromptTemplate.from_template(
        "{greeting}, {name}!", partial_variables={"greeting": "Yo"}
    )
    assert built.invoke({"name": "B"}).text == "Yo, B!"


def test_callable_partial_called_at_each_format() -> None:
    calls: list[int] = []

    def now() -> str:
        calls.append(1)
        return f"t{len(calls)}"

    prompt = PromptTemplate.from_template("at {time}: {x}").partial(time=now)
    assert prompt.invoke({"x": 1}).text == "at t1: 1"
    assert prompt.invoke({"x": 1}).text == "at t2: 1"


def test_prompt_template_add() -> None:
    combined = PromptTemplate.from_template("a {x} ") + PromptTemplate.from_template("b {y}")
    assert combined.input_variables == ["x", "y"]
    assert combined.invoke({"x": 1, "y": 2}).text == "a 1 b 2"
    assert (combined + " c {z}").input_variables == ["x", "y", "z"]


def test_prompt_template_is_a_value() -> None:
    a = PromptTemplate.from_template("hi {x}")
    b = PromptTemplate("hi {x}")
    assert a == b
    assert hash(a) == hash(b)
    assert a != PromptTemplate("hi {y}")
    assert a.partial(x=1) == b.partial(x=1)
    assert "hi {x}" in repr(a)


def test_prompt_properties_and_schemas() -> None:
    prompt = PromptTemplate.from_template("tell me a joke about {topic}")
    assert prompt.name == "PromptTemplate"
    assert prompt.run_type == "prompt"
    assert prompt.with_config(run_name="my_prompt").name == "my_prompt"
    assert prompt.input_schema.json_schema() == {
        "title": "PromptInput",
        "type": "object",
        "properties": {"topic": {"title": "Topic", "type": "string"}},
        "required": ["topic"],
    }
    assert prompt.input_schema.validate({"topic": "x"}) == {"topic": "x"}
    assert prompt.output_schema.type is StringPromptValue
    out = prompt.output_schema.json_schema()
    assert out["properties"] == {"text": {"title": "Text", "type": "string"}}
    assert prompt.partial(topic="x").input_schema.json_schema()["properties"] == {}


@pytest.mark.anyio
async def test_prompt_template_async() -> None:
    prompt = PromptTemplate.from_template("about {topic}")
    assert (await prompt.ainvoke({"topic": "a"})).text == "about a"
    assert await prompt.abatch([{"topic": "a"}, {"topic": "b"}]) == [
        StringPromptValue("about a"),
        StringPromptValue("about b"),
    ]
    assert await _acollect(prompt.astream({"topic": "s"})) == [StringPromptValue("about s")]
    with pytest.raises(ValueError, match=r"needs variables \['topic'\]; got \[\]"):
        await prompt.ainvoke({})


def test_prompt_template_sync_methods() -> None:
    prompt = PromptTemplate.from_template("about {topic}")
    assert prompt.batch([{"topic": "a"}, {"topic": "b"}]) == [
        StringPromptValue("about a"),
        StringPromptValue("about b"),
    ]
    assert list(prompt.stream({"topic": "s"})) == [StringPromptValue("about s")]
    # A prompt waits for its whole input: the parts a parallel streams are merged first.
    parts = RunnableParallel(topic=lambda _: "a", extra=lambda _: 1)
    assert list((parts | prompt).stream(None)) == [StringPromptValue("about a")]
    results = prompt.batch([{"topic": "a"}, {}], return_exceptions=True)
    assert results[0] == StringPromptValue("about a")
    assert isinstance(results[1], ValueError)


# ------------------------------------------------------------------ prompt values


def test_string_prompt_value() -> None:
    value = StringPromptValue("hello")
    assert isinstance(value, PromptValue)
    assert value.to_string() == "hello"
    assert value.to_messages() == [HumanMessage("hello")]
    assert repr(value) == "StringPromptValue(text='hello')"
    assert hash(value) == hash(StringPromptValue("hello"))


def test_chat_prompt_value() -> None:
    value = ChatPromptValue([SystemMessage("be nice"), HumanMessage("hi"), AIMessage("hello")])
    assert isinstance(value, PromptValue)
    assert value.to_string() == "System: be nice\nHuman: hi\nAI: hello"
    assert value.to_messages() == [SystemMessage("be nice"), HumanMessage("hi"), AIMessage("hello")]
    assert value.to_messages() is not value.messages
    assert repr(value) == (
        "ChatPromptValue(messages=[SystemMessage(content='be nice'), "
        "HumanMessage(content='hi'), AIMessage(content='hello')])"
    )
    assert value == ChatPromptValue(
        (SystemMessage("be nice"), HumanMessage("hi"), AIMessage("hello"))
    )
    with pytest.raises(TypeError):
        hash(value)


# ------------------------------------------------------------------ ChatPromptTemplate


def test_chat_from_template() -> None:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    value = prompt.invoke({"topic": "bears"})
    assert value == ChatPromptValue([HumanMessage("tell me a joke about bears")])
    assert value.to_string() == "Human: tell me a joke about bears"
    assert prompt.input_variables == ["topic"]
    assert prompt.name == "ChatPromptTemplate"
    assert prompt.run_type == "prompt"


def test_chat_from_messages_roles() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are {role}"),
            ("human", "{question}"),
            ("user", "and {more}"),
            ("ai", "I think {answer}"),
            ("assistant", "ok"),
        ]
    )
    assert prompt.input_variables == ["role", "question", "more", "answer"]
    messages = prompt.invoke(
        {"role": "a cat", "question": "why?", "more": "how?", "answer": "yes"}
    ).to_messages()
    assert messages == [
        SystemMessage("You are a cat"),
        HumanMessage("why?"),
        HumanMessage("and how?"),
        AIMessage("I think yes"),
        AIMessage("ok"),
    ]


def test_chat_messages_templates_and_static_messages() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            SystemMessagePromptTemplate.from_template("sys {a}"),
            HumanMessage("fixed {not_a_variable}"),
            HumanMessagePromptTemplate.from_template("human {b}"),
            AIMessagePromptTemplate(PromptTemplate("ai {c}")),
            "plain {d}",
            PromptTemplate.from_template("pt {e}"),
        ]
    )
    assert prompt.input_variables == ["a", "b", "c", "d", "e"]
    assert prompt.format_messages(a=1, b=2, c=3, d=4, e=5) == [
        SystemMessage("sys 1"),
        HumanMessage("fixed {not_a_variable}"),
        HumanMessage("human 2"),
        AIMessage("ai 3"),
        HumanMessage("plain 4"),
        HumanMessage("pt 5"),
    ]


def test_chat_escaped_braces() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "json like {{x: {y}}}")])
    assert prompt.invoke({"y": 1}).to_messages() == [SystemMessage("json like {x: 1}")]


def test_chat_unknown_role_and_bad_entries() -> None:
    with pytest.raises(ValueError, match="unknown message role 'robot'"):
        ChatPromptTemplate.from_messages([("robot", "hi")])
    with pytest.raises(TypeError, match="cannot use int"):
        ChatPromptTemplate.from_messages([42])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    with pytest.raises(ValueError, match="single variable"):
        ChatPromptTemplate.from_messages([("placeholder", "{a} and {b}")])


def test_messages_placeholder_required() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "be {mood}"), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    assert prompt.input_variables == ["mood", "history", "question"]
    value = prompt.invoke(
        {
            "mood": "nice",
            "history": [("human", "hi"), AIMessage("hello"), "a string"],
            "question": "and?",
        }
    )
    assert value.to_messages() == [
        SystemMessage("be nice"),
        HumanMessage("hi"),
        AIMessage("hello"),
        HumanMessage("a string"),
        HumanMessage("and?"),
    ]
    with pytest.raises(
        ValueError, match=r"needs variables \['history'\]; got \['mood', 'question'\]"
    ):
        prompt.invoke({"mood": "x", "question": "y"})


def test_messages_placeholder_optional() -> None:
    optional = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history", optional=True), ("human", "{question}")]
    )
    assert optional.input_variables == ["question"]
    assert optional.invoke({"question": "q"}).to_messages() == [HumanMessage("q")]
    assert optional.invoke("q").to_messages() == [HumanMessage("q")]  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert optional.invoke({"question": "q", "history": [AIMessage("a")]}).to_messages() == [
        AIMessage("a"),
        HumanMessage("q"),
    ]
    # ("placeholder", "{name}") is an optional placeholder
    tupled = ChatPromptTemplate.from_messages([("placeholder", "{history}"), ("human", "{q}")])
    assert tupled.messages[0] == MessagesPlaceholder("history", optional=True)
    assert tupled.invoke({"q": "x"}).to_messages() == [HumanMessage("x")]
    assert tupled.invoke({"q": "x", "history": None}).to_messages() == [HumanMessage("x")]


def test_messages_placeholder_direct() -> None:
    placeholder = MessagesPlaceholder("msgs")
    assert placeholder.format_messages(msgs=[HumanMessage("a")]) == [HumanMessage("a")]
    with pytest.raises(ValueError, match="'msgs' needs a value"):
        placeholder.format_messages()
    with pytest.raises(ValueError, match="got None"):
        placeholder.format_messages(msgs=None)


def test_chat_prompt_to_string_and_messages() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You are {role}"), ("human", "{q}")])
    value = prompt.invoke({"role": "helpful", "q": "hi"})
    assert isinstance(value, ChatPromptValue)
    assert value.to_string() == "System: You are helpful\nHuman: hi"
    assert value.to_messages() == [SystemMessage("You are helpful"), HumanMessage("hi")]
    assert prompt.format(role="r", q="q") == "System: You are r\nHuman: q"


def test_chat_missing_variable_message() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You are {role}"), ("human", "{q}")])
    with pytest.raises(ValueError, match="needs variables") as info:
        prompt.invoke({"rol": "x", "q": "y"})
    assert (
        str(info.value) == "prompt 'ChatPromptTemplate' needs variables ['role']; got ['q', 'rol']"
    )


def test_chat_partial() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You are {role}"), ("human", "{q}")])
    partial = prompt.partial(role="a pirate")
    assert partial.input_variables == ["q"]
    assert partial.invoke("ahoy?").to_messages()[0] == SystemMessage("You are a pirate")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    built = ChatPromptTemplate.from_template("{a}{b}", partial_variables={"a": "x"})
    assert built.invoke({"b": "y"}).to_messages() == [HumanMessage("xy")]


def test_chat_add() -> None:
    first = ChatPromptTemplate.from_messages([("system", "be {mood}")])
    second = ChatPromptTemplate.from_messages([("human", "{q}")])
    combined = first + second
    assert combined.input_variables == ["mood", "q"]
    assert combined.invoke({"mood": "kind", "q": "hi"}).to_messages() == [
        SystemMessage("be kind"),
        HumanMessage("hi"),
    ]
    more = combined + ("ai", "answer {x}")  # noqa: RUF005 - ChatPromptTemplate.__add__
    assert more.input_variables == ["mood", "q", "x"]
    listed = first + [HumanMessage("fixed"), MessagesPlaceholder("h", optional=True)]  # noqa: RUF005
    assert listed.format_messages(mood="m") == [SystemMessage("be m"), HumanMessage("fixed")]
    assert (first.partial(mood="x") + second).input_variables == ["q"]


def test_chat_schemas() -> None:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    assert prompt.input_schema.json_schema() == {
        "title": "PromptInput",
        "type": "object",
        "properties": {"topic": {"title": "Topic", "type": "string"}},
        "required": ["topic"],
    }
    assert prompt.output_schema.type is ChatPromptValue
    assert prompt.output_schema.title == "ChatPromptTemplateOutput"
    out = prompt.output_schema.json_schema()
    assert out["properties"]["messages"]["type"] == "array"

    with_history = ChatPromptTemplate.from_messages(
        [
            MessagesPlaceholder("history", optional=True),
            MessagesPlaceholder("examples"),
            ("human", "{q}"),
        ]
    )
    schema = with_history.input_schema.json_schema()
    assert schema["title"] == "PromptInput"
    assert schema["required"] == ["examples", "q"]
    assert schema["properties"]["q"] == {"title": "Q", "type": "string"}
    history = schema["properties"]["history"]
    assert history["type"] == "array"
    refs = {item["$ref"] for item in history["items"]["anyOf"]}
    assert "#/$defs/HumanMessage" in refs
    assert "#/$defs/AIMessage" in refs
    data = with_history.input_schema.validate(
        {"q": "x", "examples": [{"content": "hi"}], "history": []}
    )
    assert data["q"] == "x"


def test_chat_is_a_value() -> None:
    a = ChatPromptTemplate.from_messages([("system", "s {x}"), ("human", "{y}")])
    b = ChatPromptTemplate.from_messages([("system", "s {x}"), ("human", "{y}")])
    assert a == b
    assert hash(a) == hash(b)
    assert a != ChatPromptTemplate.from_messages([("system", "s {x}")])


@pytest.mark.anyio
async def test_chat_async() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "s"), ("human", "{q}")])
    value = await prompt.ainvoke({"q": "hi"})
    assert value.to_messages() == [SystemMessage("s"), HumanMessage("hi")]
    chunks = await _acollect(prompt.astream({"q": "x"}))
    assert len(chunks) == 1
    assert chunks[0].to_messages()[1] == HumanMessage("x")
    with pytest.raises(ValueError, match="needs variables"):
        await prompt.ainvoke({})


# ------------------------------------------------------------------ composition


def _model_answer(prompt: PromptValue) -> str:
    return f"echo: {prompt.to_string()}"


def _fake_model(prompt: PromptValue) -> AIMessage:
    return AIMessage(_model_answer(prompt))


def _fake_streaming_model(prompt: PromptValue) -> Iterator[AIMessageChunk]:
    for word in _model_answer(prompt).split(" "):
        yield AIMessageChunk(word + " ")


def test_prompt_into_model() -> None:
    prompt = ChatPromptTemplate.from_template("joke about {topic}")
    chain = prompt | RunnableLambda(_fake_model) | StrOutputParser()
    assert chain.invoke({"topic": "bears"}) == "echo: Human: joke about bears"
    assert chain.input_schema.json_schema()["title"] == "PromptInput"
    string_chain = PromptTemplate.from_template("joke about {topic}") | RunnableLambda(_fake_model)
    answer = string_chain.invoke({"topic": "x"})
    assert isinstance(answer, BaseMessage)
    assert answer.text == "echo: joke about x"


def test_prompt_model_parser_streams() -> None:
    prompt = ChatPromptTemplate.from_template("joke about {topic}")
    chain = prompt | RunnableLambda(_fake_streaming_model) | StrOutputParser()
    assert list(chain.stream({"topic": "bears"})) == [
        "echo: ",
        "Human: ",
        "joke ",
        "about ",
        "bears ",
    ]
    assert chain.invoke({"topic": "bears"}) == "echo: Human: joke about bears "
    assert chain.batch([{"topic": "a"}, {"topic": "b"}]) == [
        "echo: Human: joke about a ",
        "echo: Human: joke about b ",
    ]


@pytest.mark.anyio
async def test_prompt_model_parser_async() -> None:
    prompt = ChatPromptTemplate.from_template("joke about {topic}")
    chain = prompt | RunnableLambda(_fake_streaming_model) | StrOutputParser()
    assert await _acollect(chain.astream({"topic": "cats"})) == [
        "echo: ",
        "Human: ",
        "joke ",
        "about ",
        "cats ",
    ]
    assert await chain.ainvoke({"topic": "cats"}) == "echo: Human: joke about cats "
    assert await chain.abatch([{"topic": "a"}]) == ["echo: Human: joke about a "]
    with pytest.raises(ValueError, match="needs variables") as info:
        await chain.ainvoke({"topc": "x"})
    assert "raised in runnable 'ChatPromptTemplate'" in getattr(info.value, "__notes__", [])
