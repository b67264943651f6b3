"""Mustache templates (``template_format="mustache"``): rendered as langchain-core renders them,
and safe: lookups walk dict keys and list indexes of the given values only, partials and
delimiter changes are refused, and a function is never called.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runnables.errors import RunnablesTypeError
from runnables.messages import HumanMessage, SystemMessage
from runnables.prompts import ChatPromptTemplate, PromptTemplate, PromptTemplateError

lc_mustache = pytest.importorskip("langchain_core.utils.mustache")
lc_string = pytest.importorskip("langchain_core.prompts.string")
lc_prompts = pytest.importorskip("langchain_core.prompts")

SETTINGS = settings(max_examples=300, deadline=None)


def _mustache(template: str) -> PromptTemplate:
    return PromptTemplate.from_template(template, template_format="mustache")


# ------------------------------------------------------------------ examples


CASES: list[tuple[str, dict[str, Any]]] = [
    (
        "Hello {{name}}! {{{raw}}} {{& raw}} <{{x.y}}>",
        {"name": "<b>&\"'", "raw": "<i>", "x": {"y": 0}},
    ),
    (
        "{{#items}}\n- {{name}}\n{{/items}}\ndone {{^items}}none{{/items}}",
        {"items": [{"name": "a"}, {"name": "b"}]},
    ),
    ("  {{#flag}}  \nyes {{.}}\n  {{/flag}}  \n{{! a comment }}\nend", {"flag": True}),
    (
        "{{#p}}{{name}} {{age}}{{/p}} {{p.missing}} {{n}} {{f}} {{none}} {{l.1}} {{l.9}}",
        {"p": {"name": "x"}, "age": 3, "n": 0, "f": False, "none": None, "l": [1, 2]},
    ),
    ("{{#list}}{{.}},{{/list}}", {"list": ["a", 1, 2.5]}),
    ("{{#empty}}never{{/empty}}{{^empty}}empty{{/empty}}", {"empty": []}),
    ("{{#s}}in {{s}}{{/s}}", {"s": "text"}),
    (
        "{{#outer}}{{#inner}}{{v}}-{{w}}{{/inner}}{{/outer}}",
        {"outer": {"w": "W", "inner": [{"v": 1}, {"v": 2}]}},
    ),
]


@pytest.mark.parametrize(("template", "values"), CASES, ids=[c[0][:30] for c in CASES])
def test_renders_as_langchain(template: str, values: dict[str, Any]) -> None:
    prompt = _mustache(template)
    assert prompt.format(**values) == lc_mustache.render(template, values)
    assert set(prompt.input_variables) == lc_string.mustache_template_vars(template)
    theirs = lc_prompts.PromptTemplate.from_template(template, template_format="mustache")
    assert prompt.invoke(values).to_string() == theirs.invoke(values).to_string()


def test_chat_prompts_take_mustache() -> None:
    messages: list[Any] = [
        ("system", "You are {{role}}."),
        ("human", [{"type": "text", "text": "{{#qs}}{{.}}? {{/qs}}"}]),
        ("ai", "ok"),
        ("placeholder", "{{history}}"),
    ]
    prompt = ChatPromptTemplate.from_messages(messages, template_format="mustache")
    theirs = lc_prompts.ChatPromptTemplate.from_messages(messages, template_format="mustache")
    assert sorted(prompt.input_variables) == sorted(theirs.input_variables) == ["qs", "role"]
    values = {"role": "<kind>", "qs": ["why", "how"]}
    got = prompt.invoke(values).to_messages()
    expected = theirs.invoke(values).to_messages()
    assert [(m.type, m.content) for m in got] == [(m.type, m.content) for m in expected]
    built = ChatPromptTemplate([("system", "{{a}}"), "{{b}}"], template_format="mustache")
    assert built.format_messages(a=1, b=2) == [SystemMessage("1"), HumanMessage("2")]


def test_a_mustache_input_schema_takes_any_value() -> None:
    schema = _mustache("{{#people}}{{name}}{{/people}} {{title}}").input_schema.json_schema()
    assert schema["required"] == ["people", "title"]
    assert set(schema["properties"]) == {"people", "title"}
    assert "type" not in schema["properties"]["people"]


def test_an_unknown_template_format_is_refused() -> None:
    with pytest.raises(ValueError, match="jinja2 is not supported"):
        PromptTemplate.from_template("{{ x }}", template_format="jinja2")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# ------------------------------------------------------------------ what is refused

REFUSED = [
    ("{{>partial}}", "partial", 0),
    ("a {{=<% %>=}}", "delimiters", 2),
    ("{{#a}}x", "never closed", 0),
    ("{{#a}}x{{/b}}", "closes 'a'", 7),
    ("x{{/a}}", "never opened", 1),
    ("{{ }}", "empty tag", 0),
    ("{{x", "never closed", 0),
    ("{{{x}}", "needs '}}}'", 0),
]


@pytest.mark.parametrize(("template", "message", "position"), REFUSED)
def test_refused_when_built_naming_the_tag(template: str, message: str, position: int) -> None:
    with pytest.raises(PromptTemplateError, match=message) as caught:
        _mustache(template)
    assert caught.value.position == position


def test_functions_are_never_called() -> None:
    calls: list[object] = []

    def spy(*args: object) -> str:
        calls.append(args)
        return "called"

    with pytest.raises(RunnablesTypeError, match="functions are never called"):
        _mustache("{{#f}}text{{/f}}").format(f=spy)
    # As a plain variable a function is text, like any other value: str(), never a call.
    assert _mustache("{{f}}").format(f=spy) != "called"
    assert calls == []


class Probe:
    """A value that logs each attribute read, item read and conversion to text."""

    def __init__(self, events: list[str]) -> None:
        object.__setattr__(self, "_events", events)

    def __getattribute__(self, name: str) -> Any:
        object.__getattribute__(self, "_events").append(f"getattr {name}")
        return object.__getattribute__(self, name)

    def __getitem__(self, key: object) -> Any:
        object.__getattribute__(self, "_events").append(f"getitem {key}")
        return "item"

    def __str__(self) -> str:
        object.__getattribute__(self, "_events").append("str")
        return "probe"


@pytest.mark.parametrize(
    "template",
    [
        "{{x.__class__}}",
        "{{x.__init__.__globals__}}",
        "{{x.0}}",
        "{{#x}}{{__class__.__name__}}{{/x}}",
        "{{#x.__class__}}leak{{/x.__class__}}",
        "{{&x.__dict__}}",
    ],
)
def test_lookups_never_reach_into_objects(template: str) -> None:
    events: list[str] = []
    text = _mustache(template).format(x=Probe(events))
    assert "leak" not in text
    assert "Probe" not in text
    # isinstance checks may read __class__; nothing else of the object is touched.
    assert set(events) <= {"getattr __class__"}, events


def test_dict_keys_are_data_and_may_look_like_attributes() -> None:
    assert _mustache("{{d.__class__}}").format(d={"__class__": "just a key"}) == "just a key"
    assert _mustache("{{d.keys}}").format(d={"a": 1}) == ""


# ------------------------------------------------------------------ properties

_NAME = st.sampled_from(["a", "b", "c", "item", "a.b", "b.c", "list.0", "."])
_TEXT = st.text(st.characters(exclude_characters="{}", codec="utf-8"), max_size=6)


@st.composite
def _template(draw: st.DrawFn, depth: int = 0, outer: tuple[str, ...] = ()) -> str:
    """A template; a section never nests in one of the same name (LangChain's renderer then
    closes the outer one early, a bug of chevron's it inherits)."""
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["text", "newline", "var", "raw", "amp", "comment", "section"]))
        if kind == "text":
            parts.append(draw(_TEXT))
        elif kind == "newline":
            parts.append(draw(st.sampled_from(["\n", "  \n", "\n  "])))
        elif kind == "var":
            parts.append("{{" + draw(_NAME) + "}}")
        elif kind == "raw":
            parts.append("{{{" + draw(_NAME) + "}}}")
        elif kind == "amp":
            parts.append("{{& " + draw(_NAME) + " }}")
        elif kind == "comment":
            parts.append("{{! " + draw(_TEXT) + " }}")
        elif depth < 2:
            name = draw(st.sampled_from([n for n in ("a", "b", "list", "a.b") if n not in outer]))
            sigil = draw(st.sampled_from("#^"))
            pad = draw(st.sampled_from(["", "\n", "  \n"]))
            inner = draw(_template(depth + 1, (*outer, name)))
            parts.append(f"{{{{{sigil}{name}}}}}{pad}{inner}{pad}{{{{/{name}}}}}")
    return "".join(parts)


_LEAF = st.one_of(
    st.text(st.sampled_from("ab<>&\"' \n"), max_size=4),
    st.integers(-2, 2),
    st.booleans(),
    st.none(),
)
_VALUE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "c", "item"]), inner, max_size=3),
    ),
    max_leaves=8,
)


@SETTINGS
@given(
    template=_template(), values=st.dictionaries(st.sampled_from(["a", "b", "c", "list"]), _VALUE)
)
def test_any_template_renders_as_langchain(template: str, values: dict[str, Any]) -> None:
    prompt = _mustache(template)
    assert set(prompt.input_variables) == lc_string.mustache_template_vars(template)
    assert prompt._parsed.render(values) == lc_mustache.render(template, values)  # pyright: ignore[reportPrivateUsage]


_HOSTILE = st.lists(
    st.sampled_from(
        ["{{", "}}", "{", "}", "#", "^", "/", "!", ">", "=", "&", ".", "x", "a", " ", "\n"]
    ),
    max_size=16,
).map("".join)


def _built_or_refused(template: str) -> PromptTemplate | PromptTemplateError:
    try:
        return _mustache(template)
    except PromptTemplateError as error:
        return error


@SETTINGS
@given(template=st.one_of(_HOSTILE, st.text(max_size=30)))
def test_hostile_templates_are_refused_or_touch_nothing(template: str) -> None:
    prompt = _built_or_refused(template)
    if isinstance(prompt, PromptTemplateError):
        assert template.startswith("{{", prompt.position), (template, prompt.position)
        return
    events: list[str] = []
    values = {name: Probe(events) for name in prompt.input_variables}
    prompt._parsed.render(values)  # pyright: ignore[reportPrivateUsage]
    assert set(events) <= {"getattr __class__", "str"}, events


def test_a_section_inside_one_of_the_same_name_nests() -> None:
    # Deliberate: LangChain's renderer (from chevron) counts only '{{#name}}' when it looks for
    # the end of a section, so an inner '{{^name}}' closes the outer section early.
    template = "{{#list}}({{^list}}none{{/list}}){{/list}}"
    assert _mustache(template).format(list=[""]) == ""
    assert lc_mustache.render(template, {"list": [""]}) == ")"
