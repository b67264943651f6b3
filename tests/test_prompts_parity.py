"""Prompts side by side with langchain-core's: message templates that add, every form of a
chat prompt's entries, few-shot prompts, missing variables, and placeholders given a string.

Where we deliberately differ the test says so and why (see docs/migrating.md).
"""

from __future__ import annotations

from operator import add
from typing import Any

import pytest

from runnables.errors import PromptInputError, RunnablesError, RunnablesValueError
from runnables.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    message_to_dict,
)
from runnables.prompts import (
    AIMessagePromptTemplate,
    ChatMessagePromptTemplate,
    ChatPromptTemplate,
    FewShotChatMessagePromptTemplate,
    FewShotPromptTemplate,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    PromptTemplate,
    StringPromptValue,
    SystemMessagePromptTemplate,
)

lc = pytest.importorskip("langchain_core.prompts")
lc_messages = pytest.importorskip("langchain_core.messages")
lc_chat = pytest.importorskip("langchain_core.prompts.chat")


def _shape(messages: list[Any]) -> list[tuple[str, Any]]:
    """Messages as (kind, content), comparable across the two libraries."""
    return [(message.type, message.content) for message in messages]


def _theirs(value: object) -> object:
    """Our message objects as langchain-core's (other values unchanged)."""
    if isinstance(value, BaseMessage):
        return lc_messages.messages_from_dict([message_to_dict(value)])[0]
    if isinstance(value, list):
        return [_theirs(item) for item in value]
    return value


# ------------------------------------------------------------------ missing variables


MISSING: list[tuple[str, Any, Any]] = [
    ("text invoke", lambda m: m.PromptTemplate.from_template("a {x}").invoke({}), None),
    ("text format", lambda m: m.PromptTemplate.from_template("a {x}").format(), None),
    (
        "chat invoke",
        lambda m: m.ChatPromptTemplate.from_messages([("human", "a {x}")]).invoke({"y": 1}),
        None,
    ),
    (
        "chat format",
        lambda m: m.ChatPromptTemplate.from_messages([("human", "a {x}")]).format_messages(),
        None,
    ),
    (
        "placeholder",
        lambda m: m.ChatPromptTemplate.from_messages([m.MessagesPlaceholder("h")]).invoke({}),
        None,
    ),
    ("placeholder alone", lambda m: m.MessagesPlaceholder("h").format_messages(), None),
    (
        "mustache",
        lambda m: m.PromptTemplate.from_template("{{x}}", template_format="mustache").invoke({}),
        None,
    ),
]


@pytest.mark.parametrize(("case", "call", "_"), MISSING, ids=[case for case, _, _ in MISSING])
def test_a_missing_variable_is_a_key_error_as_in_langchain(case: str, call: Any, _: Any) -> None:
    import runnables.prompts as ours

    with pytest.raises(KeyError):
        call(lc)
    with pytest.raises(KeyError) as caught:
        call(ours)
    error = caught.value
    # Still what caught it before: a ValueError and a RunnablesError, with a plain message.
    assert isinstance(error, PromptInputError)
    assert isinstance(error, RunnablesValueError)
    assert isinstance(error, RunnablesError)
    assert str(error).startswith(("prompt ", "messages placeholder ")), str(error)
    assert "needs" in str(error)


def test_the_missing_variable_message_names_what_is_missing_and_what_was_given() -> None:
    prompt = PromptTemplate.from_template("{greeting}, {name}")
    with pytest.raises(KeyError) as caught:
        prompt.invoke({"greting": "hi", "name": "Ann"})
    assert str(caught.value) == (
        "prompt 'PromptTemplate' needs variables ['greeting']; got ['greting', 'name']"
    )


# ------------------------------------------------------------------ message templates that add

ADDITIONS: list[tuple[str, Any]] = [
    ("template + str", lambda m: m.SystemMessagePromptTemplate.from_template("a {x}") + "{q}"),
    (
        "template + template",
        lambda m: (
            m.SystemMessagePromptTemplate.from_template("a {x}")
            + m.HumanMessagePromptTemplate.from_template("b {q}")
        ),
    ),
    (
        "template + message",
        lambda m: m.HumanMessagePromptTemplate.from_template("a {x} {q}") + m.AIMessage("hi"),
    ),
    (
        "template + list",
        lambda m: add(m.AIMessagePromptTemplate.from_template("a {x}"), ["{q}", ("system", "r")]),
    ),
    (
        "template + chat prompt",
        lambda m: (
            m.SystemMessagePromptTemplate.from_template("a {x}")
            + m.ChatPromptTemplate.from_messages([("ai", "{q}")])
        ),
    ),
    (
        "chat + chat",
        lambda m: (
            m.ChatPromptTemplate.from_messages([("system", "s {x}")])
            + m.ChatPromptTemplate.from_messages([("human", "h {q}")])
        ),
    ),
    ("chat + str", lambda m: m.ChatPromptTemplate.from_messages([("system", "s {x}")]) + "{q}"),
    (
        "chat + message",
        lambda m: m.ChatPromptTemplate.from_messages([("system", "s {x} {q}")]) + m.AIMessage("a"),
    ),
    (
        "chat + list",
        lambda m: add(
            m.ChatPromptTemplate.from_messages([("system", "s {x}")]),
            ["h {q}", ("ai", "y"), m.HumanMessage("fixed")],
        ),
    ),
    (
        "chat + message template",
        lambda m: (
            m.ChatPromptTemplate.from_messages([("system", "s {x}")])
            + m.HumanMessagePromptTemplate.from_template("{q}")
        ),
    ),
]


@pytest.mark.parametrize(("case", "build"), ADDITIONS, ids=[case for case, _ in ADDITIONS])
def test_adding_to_message_templates_and_chat_prompts_matches_langchain(
    case: str, build: Any
) -> None:
    import runnables.messages
    import runnables.prompts

    class Ours:
        AIMessage = runnables.messages.AIMessage
        HumanMessage = runnables.messages.HumanMessage

    for name in runnables.prompts.__all__:
        setattr(Ours, name, getattr(runnables.prompts, name))

    class Theirs:
        AIMessage = lc_messages.AIMessage
        HumanMessage = lc_messages.HumanMessage
        ChatPromptTemplate = lc.ChatPromptTemplate
        SystemMessagePromptTemplate = lc.SystemMessagePromptTemplate
        HumanMessagePromptTemplate = lc.HumanMessagePromptTemplate
        AIMessagePromptTemplate = lc.AIMessagePromptTemplate

    mine, theirs = build(Ours), build(Theirs)
    assert isinstance(mine, ChatPromptTemplate)
    assert sorted(mine.input_variables) == sorted(theirs.input_variables) == ["q", "x"]
    values = {"x": "1", "q": "2"}
    assert _shape(mine.invoke(values).to_messages()) == _shape(theirs.invoke(values).to_messages())


def test_a_tuple_added_to_a_chat_prompt_is_one_message() -> None:
    # Deliberate: LangChain iterates the tuple as a list of entries (the role becomes a
    # human message of its own); a (role, template) tuple is one message everywhere else.
    base = ChatPromptTemplate.from_messages([("system", "s")])
    prompt = add(base, ("ai", "said {x}"))
    assert prompt.format_messages(x=1) == [SystemMessage("s"), AIMessage("said 1")]
    theirs = add(lc.ChatPromptTemplate.from_messages([("system", "s")]), ("ai", "said {x}"))
    assert _shape(theirs.format_messages(x=1)) == [
        ("system", "s"),
        ("human", "ai"),
        ("human", "said 1"),
    ]


def test_message_templates_take_the_template_format() -> None:
    template = SystemMessagePromptTemplate.from_template("hi {{name}}", template_format="mustache")
    assert isinstance(template, SystemMessagePromptTemplate)
    assert template.format_messages(name="<Ann>") == [SystemMessage("hi &lt;Ann&gt;")]
    theirs = lc.SystemMessagePromptTemplate.from_template("hi {{name}}", template_format="mustache")
    assert theirs.format_messages(name="<Ann>")[0].content == "hi &lt;Ann&gt;"


def test_chat_message_prompt_template_matches_langchain() -> None:
    mine = ChatMessagePromptTemplate.from_template("{verdict}, {name}", role="critic")
    theirs = lc_chat.ChatMessagePromptTemplate.from_template("{verdict}, {name}", role="critic")
    assert mine.input_variables == ["verdict", "name"]
    assert theirs.input_variables == ["name", "verdict"]  # LangChain sorts them
    (message,) = mine.format_messages(verdict="fine", name="Ann")
    (expected,) = theirs.format_messages(verdict="fine", name="Ann")
    assert (message.type, message.content, message.role) == ("chat", "fine, Ann", "critic")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    assert (expected.type, expected.content, expected.role) == ("chat", "fine, Ann", "critic")
    prompt = ChatPromptTemplate.from_messages([mine, ("human", "{question}")])
    assert prompt.input_variables == ["verdict", "name", "question"]
    with pytest.raises(TypeError, match="needs a role"):
        ChatMessagePromptTemplate.from_template("x")


def test_prompt_plus_prompt_matches_langchain() -> None:
    def build(module: Any) -> list[Any]:
        def text(template: str, **kwargs: Any) -> Any:
            return module.PromptTemplate.from_template(template, **kwargs)

        return [
            text("a {x}") + text(" b {y}"),
            text("a {x}") + " b {y}",
            text("a {{x}}", template_format="mustache") + " {{y}}",
        ]

    import runnables.prompts

    for mine, theirs in zip(build(runnables.prompts), build(lc), strict=True):
        assert mine.template == theirs.template
        assert sorted(mine.input_variables) == sorted(theirs.input_variables) == ["x", "y"]
        assert mine.format(x="<1>", y="2") == theirs.format(x="<1>", y="2")
    mixed = PromptTemplate.from_template("{{y}}", template_format="mustache")
    with pytest.raises(ValueError, match="f-string prompt and a mustache prompt"):
        PromptTemplate.from_template("a {x}") + mixed
    with pytest.raises(ValueError):  # noqa: PT011 - LangChain's message is its own
        lc.PromptTemplate.from_template("a {x}") + lc.PromptTemplate.from_template(
            "{{y}}", template_format="mustache"
        )


# ------------------------------------------------------------------ chat prompt entries

ACCEPTED: list[Any] = [
    "plain {a}",
    ("human", "h {a}"),
    ("user", "u {a}"),
    ("ai", "a {a}"),
    ("assistant", "b {a}"),
    ("system", "s {a}"),
    ("placeholder", "{history}"),
    ("placeholder", ["{needed}", True]),
    {"role": "user", "content": "d {a}"},
    {"role": "system", "content": [{"type": "text", "text": "t {a}"}]},
    ("human", [{"type": "text", "text": "list {a}"}]),
]


def _accepted_pairs() -> list[tuple[Any, Any]]:
    ours: list[Any] = [
        *ACCEPTED,
        HumanMessage("fixed human"),
        SystemMessagePromptTemplate.from_template("sys template {a}"),
        AIMessagePromptTemplate.from_template("ai template {a}"),
        MessagesPlaceholder("more", optional=True),
    ]
    theirs: list[Any] = [
        *ACCEPTED,
        lc_messages.HumanMessage("fixed human"),
        lc.SystemMessagePromptTemplate.from_template("sys template {a}"),
        lc.AIMessagePromptTemplate.from_template("ai template {a}"),
        lc.MessagesPlaceholder("more", optional=True),
    ]
    return list(zip(ours, theirs, strict=True))


@pytest.mark.parametrize("pair", _accepted_pairs(), ids=repr)
def test_every_entry_langchain_accepts_is_accepted(pair: tuple[Any, Any]) -> None:
    mine_entry, their_entry = pair
    for build_mine, build_theirs in (
        (ChatPromptTemplate, lc.ChatPromptTemplate),
        (ChatPromptTemplate.from_messages, lc.ChatPromptTemplate.from_messages),
    ):
        mine = build_mine([("system", "start"), mine_entry])
        theirs = build_theirs([("system", "start"), their_entry])
        assert sorted(mine.input_variables) == sorted(theirs.input_variables)
        values: dict[str, Any] = {
            "a": "1",
            "history": [("ai", "before")],
            "needed": [("human", "needed")],
            "more": [HumanMessage("more")],
        }
        their_values = {key: _theirs(value) for key, value in values.items()}
        assert _shape(mine.invoke(values).to_messages()) == _shape(
            theirs.invoke(their_values).to_messages()
        )


REFUSED: list[Any] = [
    ("system",),
    ("system", "a", "b"),
    ("developer", "hi"),
    ("tool", "hi"),
    ("function", "hi"),
    ("robot", "hi"),
    ("placeholder", "history"),
    3,
    None,
]


@pytest.mark.parametrize("entry", REFUSED, ids=repr)
def test_every_entry_langchain_refuses_is_refused_when_built(entry: Any) -> None:
    with pytest.raises((ValueError, TypeError, NotImplementedError)):
        lc.ChatPromptTemplate([entry])
    with pytest.raises(RunnablesError) as caught:
        ChatPromptTemplate([entry])
    assert "chat prompt message 0" in " ".join(
        [str(caught.value), *getattr(caught.value, "__notes__", [])]
    )


def test_a_one_tuple_is_refused_when_built_not_when_invoked() -> None:
    with pytest.raises(ValueError, match=r"must be \(role, content\), got 1 items"):
        ChatPromptTemplate([("system",)])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]


@pytest.mark.parametrize("value", [("system", "hi"), "hi"], ids=repr)
def test_a_bare_tuple_or_string_is_refused_with_the_fix(value: Any) -> None:
    # Deliberate: LangChain iterates them (two human messages "system" and "hi", or one per
    # character); that is never what was meant.
    with pytest.raises(TypeError, match=r"needs a list of messages.*write \["):
        ChatPromptTemplate.from_messages(value)


def test_a_placeholder_of_more_than_one_variable_is_refused() -> None:
    # Deliberate: LangChain strips the outer braces and names the placeholder "a} and {b".
    with pytest.raises(ValueError, match="must be a single variable like"):
        ChatPromptTemplate.from_messages([("placeholder", "{a} and {b}")])


def test_placeholder_forms_match_langchain() -> None:
    for optional_form in (("placeholder", "{h}"), ("placeholder", ("{h}", True))):
        mine = ChatPromptTemplate.from_messages([optional_form])
        theirs = lc.ChatPromptTemplate.from_messages([optional_form])
        assert mine.input_variables == theirs.input_variables == []
        assert mine.invoke({}).to_messages() == []
        assert theirs.invoke({}).to_messages() == []
    mine = ChatPromptTemplate.from_messages([("placeholder", ["{h}", False])])
    theirs = lc.ChatPromptTemplate.from_messages([("placeholder", ["{h}", False])])
    assert mine.input_variables == theirs.input_variables == ["h"]
    mustache = ChatPromptTemplate.from_messages(
        [("placeholder", "{{h}}")], template_format="mustache"
    )
    # Deliberate: LangChain strips one brace pair and names this placeholder "{h}".
    assert mustache.invoke({"h": [("ai", "x")]}).to_messages() == [AIMessage("x")]


def test_n_messages_keeps_the_last_ones_as_in_langchain() -> None:
    history = [("human", "1"), ("ai", "2"), ("human", "3")]
    mine = MessagesPlaceholder("h", n_messages=2).format_messages(h=history)
    theirs = lc.MessagesPlaceholder("h", n_messages=2).format_messages(h=history)
    assert _shape(mine) == _shape(theirs) == [("ai", "2"), ("human", "3")]


@pytest.mark.parametrize(
    "value", ["hello", HumanMessage("hi"), ("ai", "x")], ids=["str", "message", "tuple"]
)
def test_a_placeholder_refuses_what_is_not_a_list_as_langchain_does(value: Any) -> None:
    with pytest.raises(ValueError, match="should be a list of base messages"):
        lc.MessagesPlaceholder("h").format_messages(h=_theirs(value))
    with pytest.raises(ValueError, match="needs a list of messages") as caught:
        MessagesPlaceholder("h").format_messages(h=value)
    assert "wrap a single message in a list" in str(caught.value)
    prompt = ChatPromptTemplate.from_messages([("system", "s"), MessagesPlaceholder("h")])
    with pytest.raises(ValueError, match="needs a list of messages"):
        prompt.invoke({"h": value})


# ------------------------------------------------------------------ few-shot

EXAMPLES = [{"q": "2+2", "a": "4"}, {"q": "2+3", "a": "5", "unused": "x"}]


def test_few_shot_text_prompt_matches_langchain() -> None:
    kwargs: dict[str, Any] = {
        "examples": EXAMPLES,
        "prefix": "Answer {style}.",
        "suffix": "Q: {input}\nA:",
        "example_separator": "\n--\n",
    }
    mine = FewShotPromptTemplate(
        example_prompt=PromptTemplate.from_template("Q: {q}\nA: {a}"), **kwargs
    )
    theirs = lc.FewShotPromptTemplate(
        example_prompt=lc.PromptTemplate.from_template("Q: {q}\nA: {a}"), **kwargs
    )
    assert sorted(mine.input_variables) == sorted(theirs.input_variables) == ["input", "style"]
    values = {"style": "briefly", "input": "3+3"}
    assert mine.invoke(values).to_string() == theirs.invoke(values).to_string()
    assert mine.format(**values) == theirs.format(**values)
    # (LangChain's FewShotPromptTemplate.partial fails in 1.8: its copy does not validate.)
    assert mine.partial(style="tersely").format(input="1") == theirs.format(
        style="tersely", input="1"
    )
    no_prefix = FewShotPromptTemplate(
        examples=EXAMPLES,
        example_prompt=PromptTemplate.from_template("{q}={a}"),
        suffix="{input}=",
    )
    assert no_prefix.format(input="1+1") == "2+2=4\n\n2+3=5\n\n1+1="
    # a prompt of one variable takes a plain string, as every LangChain prompt does
    their_no_prefix = lc.FewShotPromptTemplate(
        examples=EXAMPLES,
        example_prompt=lc.PromptTemplate.from_template("{q}={a}"),
        suffix="{input}=",
    )
    assert no_prefix.invoke("1+1") == StringPromptValue("2+2=4\n\n2+3=5\n\n1+1=")
    assert their_no_prefix.invoke("1+1").to_string() == no_prefix.invoke("1+1").to_string()
    with pytest.raises(KeyError):
        mine.invoke({"style": "x"})


def test_few_shot_takes_langchains_input_variables_and_names_itself_in_errors() -> None:
    kwargs: dict[str, Any] = {"examples": EXAMPLES[:1], "suffix": "{input}", "prefix": "{style}"}
    mine = FewShotPromptTemplate(
        example_prompt=PromptTemplate.from_template("{q}={a}"),
        input_variables=["input", "style"],
        **kwargs,
    )
    theirs = lc.FewShotPromptTemplate(
        example_prompt=lc.PromptTemplate.from_template("{q}={a}"),
        input_variables=["input", "style"],
        **kwargs,
    )
    assert mine.format(input="x", style="s") == theirs.format(input="x", style="s")
    with pytest.raises(ValueError, match=r"not in the template: \['inpt'\]"):
        FewShotPromptTemplate(
            example_prompt=PromptTemplate.from_template("{q}={a}"),
            input_variables=["inpt", "style"],
            **kwargs,
        )
    with pytest.raises(KeyError) as caught:
        mine.invoke({"input": "x"})
    assert (
        str(caught.value)
        == "prompt 'FewShotPromptTemplate' needs variables ['style']; got ['input']"
    )


def test_few_shot_examples_are_inserted_verbatim() -> None:
    # Deliberate: LangChain formats the joined text again, so an example's braces become
    # template fields there (a KeyError here, or another variable's value).
    examples = [{"q": "what is {input}?", "a": "a {placeholder}"}]
    mine = FewShotPromptTemplate(
        examples=examples, example_prompt=PromptTemplate.from_template("{q} {a}"), suffix="{input}"
    )
    assert mine.format(input="x") == "what is {input}? a {placeholder}\n\nx"
    theirs = lc.FewShotPromptTemplate(
        examples=examples,
        example_prompt=lc.PromptTemplate.from_template("{q} {a}"),
        suffix="{input}",
    )
    with pytest.raises(KeyError):
        theirs.format(input="x")


def test_few_shot_refuses_examples_missing_a_variable_when_built() -> None:
    with pytest.raises(KeyError, match=r"examples\[1\] lacks \['a'\]"):
        FewShotPromptTemplate(
            examples=[{"q": "1", "a": "2"}, {"q": "3"}],
            example_prompt=PromptTemplate.from_template("{q} {a}"),
            suffix="",
        )
    with pytest.raises(TypeError, match="list of dicts"):
        FewShotPromptTemplate(
            examples={"q": "1"},  # type: ignore[dict-item]  # pyright: ignore[reportArgumentType]
            example_prompt=PromptTemplate.from_template("{q}"),
            suffix="",
        )


def test_few_shot_chat_prompt_matches_langchain() -> None:
    mine_examples = FewShotChatMessagePromptTemplate(
        examples=EXAMPLES,
        example_prompt=ChatPromptTemplate.from_messages([("human", "{q}"), ("ai", "{a}")]),
    )
    theirs_examples = lc.FewShotChatMessagePromptTemplate(
        examples=EXAMPLES,
        example_prompt=lc.ChatPromptTemplate.from_messages([("human", "{q}"), ("ai", "{a}")]),
    )
    assert mine_examples.input_variables == theirs_examples.input_variables == []
    assert _shape(mine_examples.invoke({}).to_messages()) == _shape(
        theirs_examples.invoke({}).to_messages()
    )
    assert mine_examples.format() == theirs_examples.format()
    mine = ChatPromptTemplate.from_messages(
        [("system", "You add {how}."), mine_examples, ("human", "{input}")]
    )
    theirs = lc.ChatPromptTemplate.from_messages(
        [("system", "You add {how}."), theirs_examples, ("human", "{input}")]
    )
    assert sorted(mine.input_variables) == sorted(theirs.input_variables) == ["how", "input"]
    values = {"how": "well", "input": "4+4"}
    assert _shape(mine.invoke(values).to_messages()) == _shape(theirs.invoke(values).to_messages())
    single = FewShotChatMessagePromptTemplate(
        examples=EXAMPLES, example_prompt=HumanMessagePromptTemplate.from_template("{q}")
    )
    assert single.format_messages() == [HumanMessage("2+2"), HumanMessage("2+3")]
    added = SystemMessagePromptTemplate.from_template("sys") + single + "{input}"
    assert _shape(added.format_messages(input="x")) == [
        ("system", "sys"),
        ("human", "2+2"),
        ("human", "2+3"),
        ("human", "x"),
    ]


@pytest.mark.anyio
async def test_few_shot_prompts_run_async() -> None:
    prompt = FewShotPromptTemplate(
        examples=EXAMPLES, example_prompt=PromptTemplate.from_template("{q}={a}"), suffix="{x}="
    )
    assert (await prompt.ainvoke({"x": "1"})).to_string() == "2+2=4\n\n2+3=5\n\n1="
    chat = FewShotChatMessagePromptTemplate(
        examples=EXAMPLES[:1], example_prompt=ChatPromptTemplate.from_messages([("ai", "{a}")])
    )
    assert (await chat.ainvoke({})).to_messages() == [AIMessage("4")]


# ------------------------------------------------------------------ names, schemas and ids

lc_runnables = pytest.importorskip("langchain_core.runnables")


def word_count(text: str) -> int:
    return len(text.split())


def test_schema_titles_follow_the_contract_and_the_schemas_match_langchain() -> None:
    from runnables import RunnableLambda

    mine, theirs = RunnableLambda(word_count), lc_runnables.RunnableLambda(word_count)
    # Deliberate (the API contract fixes `word_countInput`): only the title differs.
    assert theirs.get_input_jsonschema() == {"title": "word_count_input", "type": "string"}
    assert mine.input_schema.json_schema() == {"title": "word_countInput", "type": "string"}
    assert theirs.get_output_jsonschema() == {"title": "word_count_output", "type": "integer"}
    assert mine.output_schema.json_schema() == {"title": "word_countOutput", "type": "integer"}
    prompt = PromptTemplate.from_template("{x}")
    assert prompt.output_schema.title == "PromptTemplateOutput"
    assert lc.PromptTemplate.from_template("{x}").get_output_jsonschema()["title"] == (
        "PromptTemplateOutput"
    )


def test_pick_of_a_missing_key_is_an_error_here_and_none_in_langchain() -> None:
    from runnables import RunnablePick

    # Deliberate: a typo'd key would flow on as None.
    assert lc_runnables.RunnablePick("x").invoke({"a": 1}) is None
    with pytest.raises(KeyError, match="key 'x' not in input keys"):
        RunnablePick("x").invoke({"a": 1})
    assert RunnablePick(["x", "a"]).invoke({"a": 1}) == lc_runnables.RunnablePick(
        ["x", "a"]
    ).invoke({"a": 1})


def test_names_fallbacks_and_ids_differ_as_documented() -> None:
    from runnables import RunnableLambda
    from runnables.models import FakeListChatModel

    sequence = RunnableLambda(word_count) | RunnableLambda(str)
    their_sequence = lc_runnables.RunnableLambda(word_count) | lc_runnables.RunnableLambda(str)
    # Deliberate: .name is always a name (LangChain's get_name()).
    assert sequence.name == their_sequence.get_name() == "RunnableSequence"
    assert their_sequence.name is None

    def fail(_: str) -> str:
        raise ValueError

    fallbacks = RunnableLambda(fail).with_fallbacks([RunnableLambda(str.upper)])
    their_fallbacks = lc_runnables.RunnableLambda(fail).with_fallbacks(
        [lc_runnables.RunnableLambda(str.upper)]
    )
    # Deliberate: fallbacks keep the wrapped runnable's name (and kind).
    assert fallbacks.name == "fail"
    assert their_fallbacks.get_name() == "RunnableWithFallbacks"
    assert fallbacks.invoke("a") == their_fallbacks.invoke("a") == "A"

    # Deliberate: no invented message id; equal answers stay equal.
    model = FakeListChatModel(["hi"])
    assert model.invoke("x").id is None
    assert model.invoke("x") == model.invoke("y")
