"""Hostile prompt templates: refused when built, and rendering reads nothing but named values.

Issue #10: a field nested in a format spec (``{q:{history[0].__class__...}}``) used to be
resolved by `str.format` with full attribute and index access. Templates now hold plain
``{name}`` fields and ``{{``/``}}`` escapes only, parsed once at construction.
"""

from __future__ import annotations

import datetime
import pickle
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runnables.errors import RunnablesValueError
from runnables.messages import HumanMessage, SystemMessage
from runnables.prompts import (
    AIMessagePromptTemplate,
    ChatPromptTemplate,
    HumanMessagePromptTemplate,
    PromptTemplate,
    PromptTemplateError,
    SystemMessagePromptTemplate,
)

SETTINGS = settings(max_examples=300, deadline=None)

EXPLOIT = "{q:{history[0].__class__.__ne__.__globals__[sys].modules[os].environ[OPENAI_API_KEY]}}"


class Probe:
    """A value that logs every way it is touched: attributes, items, str, repr and format."""

    __slots__ = ("_events", "_label")

    def __init__(self, label: str, events: list[tuple[str, str, object]]) -> None:
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_events", events)

    def _log(self, kind: str, detail: object) -> None:
        events: list[tuple[str, str, object]] = object.__getattribute__(self, "_events")
        events.append((kind, object.__getattribute__(self, "_label"), detail))

    def __getattribute__(self, name: str) -> Any:
        Probe._log(self, "getattr", name)
        return object.__getattribute__(self, name)

    def __getitem__(self, key: object) -> Probe:
        Probe._log(self, "getitem", key)
        return self

    def __format__(self, spec: str) -> str:
        Probe._log(self, "format", spec)
        return f"<{object.__getattribute__(self, '_label')}>"

    def __str__(self) -> str:
        Probe._log(self, "str", None)
        return f"<{object.__getattribute__(self, '_label')}>"

    def __repr__(self) -> str:
        Probe._log(self, "repr", None)
        return f"Probe({object.__getattribute__(self, '_label')!r})"


# ------------------------------------------------------------------ the exploits


def _chat_builders() -> list[Callable[[str], object]]:
    base = ChatPromptTemplate.from_messages([("system", "hello")])
    return [
        PromptTemplate,
        PromptTemplate.from_template,
        lambda t: PromptTemplate.from_template("ok {x}") + t,
        ChatPromptTemplate.from_template,
        lambda t: ChatPromptTemplate.from_messages([("system", t)]),
        lambda t: ChatPromptTemplate.from_messages([("human", "fine"), ("ai", t)]),
        lambda t: ChatPromptTemplate.from_messages([t]),
        lambda t: ChatPromptTemplate.from_messages([PromptTemplate(t)]),
        lambda t: ChatPromptTemplate.from_messages([HumanMessagePromptTemplate.from_template(t)]),
        lambda t: ChatPromptTemplate.from_messages([("placeholder", t)]),
        SystemMessagePromptTemplate.from_template,
        AIMessagePromptTemplate.from_template,
        lambda t: base + ("user", t),  # noqa: RUF005
        lambda t: base + [("assistant", t)],  # noqa: RUF005
        lambda t: base + t,
    ]


@pytest.mark.parametrize("build", _chat_builders())
@pytest.mark.parametrize("template", [EXPLOIT, "{d:{y.token}}", "{x.__class__}", "{x[0]}"])
def test_exploits_refused_by_every_builder(build: Callable[[str], object], template: str) -> None:
    with pytest.raises(PromptTemplateError, match=r"prompt template: field '\{.*at position"):
        build(template)


def test_exploit_never_reaches_the_environment_even_with_the_values_at_hand() -> None:
    # Before the fix this rendered os.environ["OPENAI_API_KEY"] into the prompt.
    with pytest.raises(PromptTemplateError, match="nested field in its format spec") as info:
        PromptTemplate.from_template("Answer: " + EXPLOIT)
    assert info.value.position == len("Answer: ")


def test_datetime_attribute_is_not_written_into_the_prompt() -> None:
    with pytest.raises(PromptTemplateError):
        PromptTemplate.from_template("{d:{y.year}}")
    prompt = PromptTemplate.from_template("{d} and {y}")
    when = datetime.date(2024, 5, 6)
    assert prompt.format(d=when, y=when) == "2024-05-06 and 2024-05-06"


def test_message_template_with_a_raw_string_never_reaches_str_format() -> None:
    with pytest.raises(
        TypeError, match=r"HumanMessagePromptTemplate needs a PromptTemplate, got str"
    ):
        HumanMessagePromptTemplate(EXPLOIT)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def test_chat_constructor_parses_every_entry() -> None:
    entries: list[Any] = [("system", "{x.__class__}")]
    with pytest.raises(PromptTemplateError, match="attribute access"):
        ChatPromptTemplate(entries)
    with pytest.raises(PromptTemplateError, match="conversion"):
        ChatPromptTemplate(["ok", "{x!r}"])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    built = ChatPromptTemplate(["hi {x}"])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    assert built.format_messages(x="{y}") == [HumanMessage("hi {y}")]


# ------------------------------------------------------------------ each class of bad field


@pytest.mark.parametrize(
    ("template", "problem", "position"),
    [
        ("{a.b}", r"'\{a\.b\}' at position 0 \(line 1, column 1\) uses attribute access", 0),
        ("x {a[0]}", r"'\{a\[0\]\}' at position 2 .* uses indexing", 2),
        ("{a]}", "uses indexing", 0),
        ("{a!r}", r"uses a conversion \('!r', '!s' or '!a'\)", 0),
        ("{a!s}", "uses a conversion", 0),
        ("{a!a}", "uses a conversion", 0),
        ("{a:>10}", r"has a format spec \(':\.\.\.'\), format the value before", 0),
        ("{n:.2f}", "has a format spec", 0),
        ("{a:{b}}", "has a nested field in its format spec", 0),
        ("{a:>{w}}", "has a nested field in its format spec", 0),
        ("{a{b}", "is never closed", 0),
        ("{}", r"has no name \(positional fields are not allowed\)", 0),
        ("{0}", "is positional", 0),
        ("{ a }", "is not a plain name", 0),
        ("{a-b}", "is not a plain name", 0),
        ("line\n  {a.b}", r"at position 7 \(line 2, column 3\)", 7),
        ("ok {a} {{ }} {b!r}", r"field '\{b!r\}' at position 13", 13),
    ],
)
def test_bad_fields_are_named_with_their_position(
    template: str, problem: str, position: int
) -> None:
    with pytest.raises(PromptTemplateError, match=problem) as info:
        PromptTemplate.from_template(template)
    assert info.value.position == position
    assert isinstance(info.value, RunnablesValueError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("template", "message", "position"),
    [
        ("a } b", r"single '\}' at position 2 \(line 1, column 3\); write '\}\}'", 2),
        ("{a}}", r"single '\}' at position 3", 3),
        ("}}}", r"single '\}' at position 2", 2),
        ("x {a", r"'\{' at position 2 \(line 1, column 3\) is never closed", 2),
        ("{{{", r"'\{' at position 2 .* is never closed", 2),
        ("{a.b", "is never closed", 0),
    ],
)
def test_unbalanced_braces_are_named_with_their_position(
    template: str, message: str, position: int
) -> None:
    with pytest.raises(PromptTemplateError, match=message) as info:
        PromptTemplate.from_template(template)
    assert info.value.position == position


def test_long_fields_are_shortened_in_the_message() -> None:
    with pytest.raises(PromptTemplateError) as info:
        PromptTemplate.from_template("{a." + "b" * 10_000 + "}")
    assert len(str(info.value)) < 300


def test_error_survives_pickle() -> None:
    with pytest.raises(PromptTemplateError) as info:
        PromptTemplate.from_template("hi {a.b}")
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is PromptTemplateError
    assert (str(copy), copy.position) == (str(info.value), 3)


def test_template_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="a prompt template must be a str, got int"):
        PromptTemplate(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def test_error_module_is_public() -> None:
    assert PromptTemplateError.__module__ == "runnables.prompts"


# ------------------------------------------------------------------ values are data, not templates


def test_values_with_braces_are_inserted_verbatim() -> None:
    prompt = PromptTemplate.from_template("{a}|{b}")
    text = prompt.format(a="{b}", b="{a.__class__}{{}}{")
    assert text == "{b}|{a.__class__}{{}}{"


def test_partial_values_with_braces_are_inserted_verbatim() -> None:
    prompt = PromptTemplate.from_template("{a} {b} {c}").partial(a="{c}", b=lambda: "{0}")
    assert prompt.format(c="}") == "{c} {0} }"


def test_chat_values_and_fixed_messages_are_never_parsed() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            SystemMessage("fixed {a.b} {"),
            ("human", "{q}"),
            {"role": "assistant", "content": "dict {q}"},
            ("human", [{"type": "text", "text": "parts {q}"}, "{q}"]),
            {"role": "tool", "content": "not a template {x!r}", "tool_call_id": "1"},
        ]
    )
    assert prompt.input_variables == ["q"]
    messages = prompt.format_messages(q="{q} {history[0]}")
    assert messages[0] == SystemMessage("fixed {a.b} {")
    assert messages[1] == HumanMessage("{q} {history[0]}")
    assert messages[2].content == "dict {q} {history[0]}"
    assert messages[3].content == [
        {"type": "text", "text": "parts {q} {history[0]}"},
        {"type": "text", "text": "{q} {history[0]}"},
    ]
    assert messages[4].content == "not a template {x!r}"


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        (
            {"role": "assistant", "content": "dict {x!r}"},
            r"chat prompt message 1 \('assistant'\): prompt template: field '\{x!r\}'",
        ),
        (("human", [{"type": "text", "text": "{x.y}"}]), r"message 1 \('human'\): content\[0\]"),
        (("ai", ["ok", "{x[0]}"]), r"message 1 \('ai'\): content\[1\]\.text: prompt"),
        (
            ("human", [{"type": "image_url", "image_url": {"url": "{u.__class__}"}}]),
            r"content\[0\]\.image_url\.url: prompt template: field '\{u\.__class__\}'",
        ),
        (
            ("human", [{"type": "x", "meta": {"a": ["{b:{c}}"]}}]),
            r"content\[0\]\.meta\.a\[0\]: prompt template: field '\{b:\{c\}\}'",
        ),
    ],
)
def test_dict_entries_and_list_content_are_parsed_by_the_safe_parser(
    entry: Any, where: str
) -> None:
    with pytest.raises(PromptTemplateError, match=where):
        ChatPromptTemplate.from_messages([("system", "fine {y}"), entry])


def test_rendering_only_formats_the_named_values() -> None:
    events: list[tuple[str, str, object]] = []
    prompt = ChatPromptTemplate.from_messages([("system", "{a} {{b}}"), ("human", "{b}{a}")])
    values = {name: Probe(name, events) for name in ("a", "b", "c")}
    messages = prompt.format_messages(**values)
    assert [m.content for m in messages] == ["<a> {b}", "<b><a>"]
    assert events == [("format", "a", ""), ("format", "b", ""), ("format", "a", "")]


# ------------------------------------------------------------------ properties

_NAMES = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True),
    st.sampled_from(["class", "__class__", "_", "é", "变量", "history", "d"]),
)
_LITERAL = st.text(st.characters(exclude_characters="{}", codec="utf-8"), max_size=8)


@attrs.frozen
class _Piece:
    """One piece of a plain template: its text, its variable if a field, what it renders to."""

    text: str
    name: str | None
    expected: Callable[[dict[str, str]], str]


def _literal(text: str) -> _Piece:
    return _Piece(text, None, lambda _values: text)


def _escape(brace: str) -> _Piece:
    return _Piece(brace * 2, None, lambda _values: brace)


def _field(name: str) -> _Piece:
    return _Piece("{" + name + "}", name, lambda values: values[name])


_PIECES = st.lists(
    st.one_of(_LITERAL.map(_literal), st.sampled_from("{}").map(_escape), _NAMES.map(_field)),
    max_size=12,
)
_VALUE = st.one_of(st.text(max_size=6), st.sampled_from(["{", "}", "{a}", "{{x}}", "{0!r}"]))


@SETTINGS
@given(pieces=_PIECES, data=st.data())
def test_plain_templates_render_exactly(pieces: list[_Piece], data: st.DataObject) -> None:
    template = "".join(piece.text for piece in pieces)
    prompt = PromptTemplate.from_template(template)
    names = list(dict.fromkeys(piece.name for piece in pieces if piece.name is not None))
    assert prompt.input_variables == names
    values = {name: data.draw(_VALUE, label=name) for name in names}
    assert prompt.format(**values) == "".join(piece.expected(values) for piece in pieces)


@SETTINGS
@given(pieces=_PIECES, data=st.data())
def test_plain_templates_render_as_langchain_does(
    pieces: list[_Piece], data: st.DataObject
) -> None:
    from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate
    from langchain_core.prompts import PromptTemplate as LCPromptTemplate

    template = "".join(piece.text for piece in pieces)
    ours = PromptTemplate.from_template(template)
    theirs = LCPromptTemplate.from_template(template)
    assert sorted(ours.input_variables) == sorted(theirs.input_variables)
    values: dict[str, Any] = {
        name: data.draw(st.one_of(_VALUE, st.integers(), st.floats()), label=name)
        for name in ours.input_variables
    }
    assert ours.format(**values) == theirs.format(**values)
    messages = [("system", template), ("human", "{extra} " + template)]
    values["extra"] = "{extra}"
    ours_chat = ChatPromptTemplate.from_messages(messages).format_messages(**values)
    theirs_chat = LCChatPromptTemplate.from_messages(messages).format_messages(**values)
    assert [m.content for m in ours_chat] == [m.content for m in theirs_chat]


# Random mixes of the characters that mean something to str.format, and names worth probing.
_HOSTILE = st.lists(
    st.one_of(
        st.sampled_from(["{", "}", ".", "[", "]", "!", ":", "__", "r", "s", "a", "0", " "]),
        st.sampled_from(["x", "y", "__class__", "__globals__", "environ", ">10", ".2f"]),
    ),
    max_size=16,
).map("".join)


def _built_or_refused(template: str) -> PromptTemplate | PromptTemplateError:
    try:
        return PromptTemplate.from_template(template)
    except PromptTemplateError as error:
        return error


@SETTINGS
@given(template=st.one_of(_HOSTILE, st.text(max_size=30)))
def test_hostile_templates_are_refused_or_read_only_named_values(template: str) -> None:
    prompt = _built_or_refused(template)
    if isinstance(prompt, PromptTemplateError):
        assert template[prompt.position] in "{}"
        return
    events: list[tuple[str, str, object]] = []
    names = prompt.input_variables
    probes = {name: Probe(name, events) for name in [*names, "x", "y", "a", "r", "s", "__class__"]}
    text = prompt.format(**probes)
    assert {label for _, label, _ in events} == set(names)
    assert {(kind, detail) for kind, _, detail in events} <= {("format", "")}
    assert text == template.format(**{name: f"<{name}>" for name in names})
