"""Chat prompts as a migrating (or hostile) LangChain user writes them: list content and dict
entries are templates, errors say which message, ``input_variables`` is checked, and partial
values cannot be confused with placeholders.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import AIMessage, HumanMessage, SystemMessage
from runnables.prompts import (
    ChatPromptTemplate,
    MessagesPlaceholder,
    PromptTemplate,
    PromptTemplateError,
)

lc_prompts = pytest.importorskip("langchain_core.prompts")

# ------------------------------------------------------------------ list content and dicts

MULTIMODAL: list[Any] = [
    ("system", [{"type": "text", "text": "You answer {style}."}]),
    (
        "human",
        [
            {"type": "text", "text": "What is in {what}?", "cache_control": {"type": "{cache}"}},
            "plain {extra}",
            {"type": "image_url", "image_url": {"url": "https://img/{image}", "detail": "low"}},
            {"type": "image_url", "image_url": "data:image/png;base64,{data}"},
            {"image_url": "https://bare/{image}"},
            {"type": "custom", "nested": {"list": ["{deep}", 1, True, None]}},
        ],
    ),
    {"role": "assistant", "content": "Noted: {style}"},
    {"role": "user", "content": [{"type": "text", "text": "and {extra}?"}]},
]
VALUES = {
    "style": "briefly",
    "what": "{this} picture",
    "cache": "ephemeral",
    "extra": "{{x}}",
    "image": "cat.png",
    "data": "AAAA",
    "deep": "d",
}


def test_list_content_and_dict_entries_render_as_langchain_renders_them() -> None:
    mine = ChatPromptTemplate.from_messages(MULTIMODAL)
    theirs = lc_prompts.ChatPromptTemplate.from_messages(MULTIMODAL)
    assert sorted(mine.input_variables) == sorted(theirs.input_variables) == sorted(VALUES)
    got = mine.invoke(VALUES).to_messages()
    expected = theirs.invoke(VALUES).to_messages()
    assert [type(m).__name__ for m in got] == [type(m).__name__ for m in expected]
    assert [m.content for m in got] == [m.content for m in expected]
    assert isinstance(got[2], AIMessage)
    assert got[1].content[2] == {
        "type": "image_url",
        "image_url": {"url": "https://img/cat.png", "detail": "low"},
    }


def test_list_content_variables_are_required_and_in_the_input_schema() -> None:
    prompt = ChatPromptTemplate.from_messages([("human", [{"type": "text", "text": "{q}"}])])
    assert prompt.input_variables == ["q"]
    assert prompt.input_schema.json_schema()["required"] == ["q"]
    with pytest.raises(ValueError, match=r"needs variables \['q'\]; got \['r'\]"):
        prompt.invoke({"r": 1})
    assert prompt.invoke("hello").to_messages() == [
        HumanMessage([{"type": "text", "text": "hello"}])
    ]


def test_bad_list_parts_are_refused_naming_the_message_and_the_part() -> None:
    with pytest.raises(RunnablesTypeError, match=r"content\[1\]: a content part must be") as info:
        ChatPromptTemplate.from_messages([("human", ["ok", 5])])
    assert "in chat prompt message 0 ('human')" in info.value.__notes__
    deep: Any = "{x}"
    for _ in range(40):
        deep = {"k": deep}
    with pytest.raises(RunnablesValueError, match="nested deeper than 16 levels"):
        ChatPromptTemplate.from_messages([("human", [deep])])


_NAME = st.sampled_from(["a", "b", "topic", "x_1"])
_LITERAL = st.text(st.characters(blacklist_characters="{}", codec="utf-8"), max_size=6)
_VALUE = st.text(max_size=8)


@st.composite
def _templates(draw: st.DrawFn) -> str:
    pieces = draw(
        st.lists(st.one_of(_LITERAL, _NAME.map("{{{}}}".format), st.just("{{")), max_size=4)
    )
    return "".join(pieces)


# LangChain takes at most one variable in an image url given as a string, and no empty url.
_URL = st.builds("https://img/{}".format, st.one_of(_LITERAL, _NAME.map("{{{}}}".format)))
_PARTS = st.one_of(
    _templates(),
    st.builds(lambda t: {"type": "text", "text": t}, _templates()),
    st.builds(lambda t, u: {"type": "text", "text": t, "extra": u}, _templates(), _templates()),
    st.builds(
        lambda t, d: {"type": "image_url", "image_url": {"url": t, "detail": d}},
        _URL,
        st.sampled_from(["low", "high", "auto"]),
    ),
    st.builds(lambda t: {"type": "image_url", "image_url": t}, _URL),
    st.builds(lambda t, u: {"type": "other", "a": {"b": [t, u, 1]}}, _templates(), _templates()),
)


@given(
    st.sampled_from(["human", "ai", "system"]),
    st.lists(_PARTS, min_size=1, max_size=4),
    st.dictionaries(_NAME, _VALUE, min_size=4, max_size=4),
    st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_any_list_content_matches_langchain(
    role: str, parts: list[Any], values: dict[str, str], as_dict: bool
) -> None:
    entry: Any = {"role": role, "content": parts} if as_dict else (role, parts)
    if as_dict and role == "human":
        entry["role"] = "user"
    mine = ChatPromptTemplate.from_messages([entry])
    theirs = lc_prompts.ChatPromptTemplate.from_messages([entry])
    assert sorted(mine.input_variables) == sorted(theirs.input_variables)
    (got,) = mine.format_messages(**values)
    (expected,) = theirs.format_messages(**values)
    assert (type(got).__name__, got.content) == (type(expected).__name__, expected.content)


# ------------------------------------------------------------------ precise errors


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{x:{y}", r"field '\{x:\{y\}' at position 0 .* is never closed \(the '\{' at position 3"),
        ("say {x:{y}}!", r"field '\{x:\{y\}\}' at position 4 .* nested field in its format spec"),
        ("{a[{i}]} tail", r"field '\{a\[\{i\}\]\}' at position 0 .* uses indexing"),
    ],
)
def test_nested_fields_are_quoted_whole(template: str, message: str) -> None:
    with pytest.raises(PromptTemplateError, match=message):
        PromptTemplate(template)


def test_a_bad_message_template_names_its_message_index_and_role() -> None:
    with pytest.raises(PromptTemplateError) as info:
        ChatPromptTemplate.from_messages(
            [("system", "ok {a}"), ("placeholder", "{history}"), ("ai", "fine\n {b.c}")]
        )
    assert str(info.value).startswith(
        "chat prompt message 2 ('ai'): prompt template: field '{b.c}' at position 6 "
        "(line 2, column 2) uses attribute access"
    )
    assert info.value.position == 6
    with pytest.raises(PromptTemplateError, match=r"^chat prompt message 0 \('human'\): "):
        ChatPromptTemplate.from_messages(["{x!r}"])
    with pytest.raises(PromptTemplateError, match=r"^chat prompt message 1 \('user'\): "):
        ChatPromptTemplate.from_messages(["ok", {"role": "user", "content": "{0}"}])
    with pytest.raises(RunnablesValueError, match="unknown message role") as unknown:
        ChatPromptTemplate.from_messages(["ok", ("wizard", "{x}")])
    assert unknown.value.__notes__ == ["in chat prompt message 1 ('wizard')"]


# ------------------------------------------------------------------ input_variables


def test_langchain_keyword_spelling_is_accepted_and_checked() -> None:
    prompt = PromptTemplate(input_variables=["topic", "n"], template="{n} jokes about {topic}")
    assert prompt == PromptTemplate.from_template("{n} jokes about {topic}")
    assert prompt.format(topic="cats", n=2) == "2 jokes about cats"
    assert prompt.partial(n=3).input_variables == ["topic"]
    partial = PromptTemplate(
        input_variables=["topic"], template="{n} {topic}", partial_variables={"n": 1}
    )
    assert partial.input_variables == ["topic"]
    with pytest.raises(RunnablesValueError, match=r"used by the template but not listed: \['n'\]"):
        PromptTemplate(input_variables=["topic"], template="{n} {topic}")
    with pytest.raises(RunnablesValueError, match=r"not in the template: \['tpoic'\]"):
        PromptTemplate(input_variables=["tpoic"], template="about")
    with pytest.raises(RunnablesTypeError, match="a list of names, got the string 'topic'"):
        PromptTemplate(input_variables="topic", template="{topic}")  # type: ignore[arg-type]


# ------------------------------------------------------------------ partials and placeholders


def test_a_value_given_at_call_time_wins_over_a_partial_one_as_in_langchain() -> None:
    entries: list[Any] = [("placeholder", "{history}"), ("human", "{a} {b}")]
    mine = ChatPromptTemplate.from_messages(entries).partial(a="partial", history=[("ai", "p")])
    theirs = lc_prompts.ChatPromptTemplate.from_messages(entries).partial(
        a="partial", history=[("ai", "p")]
    )
    assert mine.input_variables == theirs.input_variables == ["b"]
    for given_values in ({"b": "B"}, {"a": "given", "b": "B", "history": [("human", "h")]}):
        got = [m.content for m in mine.format_messages(**given_values)]
        assert got == [m.content for m in theirs.format_messages(**given_values)]
    assert mine.format_messages(a="given", b="B")[1] == HumanMessage("given B")


def test_a_name_cannot_be_both_a_placeholder_and_a_text_variable() -> None:
    with pytest.raises(RunnablesValueError, match="'history' is both the placeholder of message 0"):
        ChatPromptTemplate.from_messages([("placeholder", "{history}"), ("human", "{history}")])
    with pytest.raises(RunnablesValueError, match="both the placeholder of message 1"):
        ChatPromptTemplate.from_messages(
            [("system", [{"type": "text", "text": "{h}"}]), MessagesPlaceholder("h")]
        )


def test_a_partial_placeholder_value_must_be_messages() -> None:
    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("human", "{q}")])
    with pytest.raises(RunnablesTypeError, match="'history' fills the placeholder of message 0"):
        prompt.partial(history=5)
    assert prompt.partial(history=[SystemMessage("s")]).format_messages(q="x")[0] == (
        SystemMessage("s")
    )


def test_adding_chat_prompts_with_different_partial_values_is_refused() -> None:
    left = ChatPromptTemplate.from_messages([("human", "{a}")]).partial(a="1")
    same = ChatPromptTemplate.from_messages([("ai", "{a}")]).partial(a="1")
    assert (left + same).format_messages() == [HumanMessage("1"), AIMessage("1")]
    with pytest.raises(RunnablesValueError, match=r"different partial values for \['a'\]"):
        left + ChatPromptTemplate.from_messages([("ai", "{a}")]).partial(a="2")
