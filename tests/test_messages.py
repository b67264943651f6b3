"""Tests for `runnables.messages`: construction, chunk merging, serialisation and coercion."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    MessageContent,
    SystemMessage,
    ToolCall,
    ToolMessage,
    convert_to_message,
    convert_to_messages,
    get_buffer_string,
    message_from_dict,
    message_to_dict,
    messages_from_dict,
    messages_to_dict,
)

# --------------------------------------------------------------------------- construction


def test_positional_and_keyword_content_are_equivalent() -> None:
    assert HumanMessage("hi") == HumanMessage(content="hi")
    assert HumanMessage("hi").content == "hi"


def test_defaults() -> None:
    message = AIMessage("hello")
    assert message.additional_kwargs == {}
    assert message.response_metadata == {}
    assert message.name is None
    assert message.id is None
    assert message.tool_calls == []
    assert message.usage_metadata is None


def test_default_containers_are_not_shared() -> None:
    assert AIMessage("a").additional_kwargs is not AIMessage("b").additional_kwargs
    assert AIMessage("a").tool_calls is not AIMessage("b").tool_calls


def test_types() -> None:
    assert HumanMessage("x").type == "human"
    assert SystemMessage("x").type == "system"
    assert AIMessage("x").type == "ai"
    assert AIMessageChunk("x").type == "AIMessageChunk"
    assert ToolMessage("x", tool_call_id="1").type == "tool"
    assert ChatMessage("x", role="critic").type == "chat"
    assert HumanMessage.type == "human"


def test_tool_message_fields() -> None:
    message = ToolMessage("boom", tool_call_id="call-1", status="error")
    assert message.tool_call_id == "call-1"
    assert message.status == "error"
    assert ToolMessage("ok", tool_call_id="c").status == "success"


def test_tool_message_requires_tool_call_id() -> None:
    with pytest.raises(TypeError, match="tool_call_id"):
        ToolMessage("x")  # type: ignore[call-arg]


def test_chat_message_requires_role() -> None:
    with pytest.raises(TypeError, match="role"):
        ChatMessage("x")  # type: ignore[call-arg]


def test_base_message_is_abstract() -> None:
    with pytest.raises(TypeError, match="BaseMessage is abstract; use one of HumanMessage"):
        BaseMessage("x")


def test_messages_are_frozen() -> None:
    message = HumanMessage("hi")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        message.content = "bye"  # type: ignore[misc]


def test_messages_are_unhashable() -> None:
    for message in (
        HumanMessage("x"),
        AIMessage("x"),
        AIMessageChunk("x"),
        ToolMessage("x", tool_call_id="1"),
        ChatMessage("x", role="r"),
        SystemMessage("x"),
    ):
        with pytest.raises(TypeError, match="unhashable"):
            hash(message)
    with pytest.raises(TypeError, match="unhashable"):
        hash(ToolCall("f", {}))


# --------------------------------------------------------------------------- equality


def test_equality_compares_every_field() -> None:
    assert AIMessage("x", id="1") == AIMessage("x", id="1")
    assert AIMessage("x", id="1") != AIMessage("x", id="2")
    assert AIMessage("x") != AIMessage("y")
    assert AIMessage("x", additional_kwargs={"a": 1}) != AIMessage("x")
    assert AIMessage("x", tool_calls=[ToolCall("f", {"a": 1})]) == AIMessage(
        "x", tool_calls=[ToolCall("f", {"a": 1})]
    )
    assert AIMessage("x", tool_calls=[ToolCall("f", {"a": 1})]) != AIMessage(
        "x", tool_calls=[ToolCall("f", {"a": 2})]
    )


def test_equality_distinguishes_classes() -> None:
    human: BaseMessage = HumanMessage("x")
    assert human != AIMessage("x")
    assert human != SystemMessage("x")
    assert AIMessage("x") != AIMessageChunk("x")


# --------------------------------------------------------------------------- text and repr


def test_text_of_string_content() -> None:
    assert HumanMessage("hello").text == "hello"


def test_text_joins_text_parts_and_skips_others() -> None:
    message = HumanMessage(
        [
            "a",
            {"type": "text", "text": "b"},
            {"type": "image_url", "image_url": {"url": "http://x"}},
            {"type": "text", "text": 3},
        ]
    )
    assert message.text == "ab"


def test_repr_omits_defaults() -> None:
    assert repr(AIMessage("hello")) == "AIMessage(content='hello')"
    assert repr(HumanMessage("hi", id="m1")) == "HumanMessage(content='hi', id='m1')"
    assert repr(ToolMessage("r", tool_call_id="c")) == "ToolMessage(content='r', tool_call_id='c')"
    assert repr(ToolMessage("r", tool_call_id="c", status="error")) == (
        "ToolMessage(content='r', tool_call_id='c', status='error')"
    )
    assert repr(ToolCall("f", {"a": 1})) == "ToolCall(name='f', args={'a': 1})"


def test_pretty_repr() -> None:
    rendered = AIMessage(
        "done", name="bot", tool_calls=[ToolCall("f", {"a": 1}, "c1")]
    ).pretty_repr()
    lines = rendered.splitlines()
    assert lines[0].strip("=") == " AI Message "
    assert len(lines[0]) == 80
    assert lines[1:4] == ["Name: bot", "", "done"]
    assert lines[4:] == ["Tool Calls:", "  f (c1): {'a': 1}"]
    assert HumanMessage("hi").pretty_repr().splitlines()[1:] == ["", "hi"]


def test_pretty_print(capsys: pytest.CaptureFixture[str]) -> None:
    HumanMessage("hi").pretty_print()
    assert capsys.readouterr().out == HumanMessage("hi").pretty_repr() + "\n"


# --------------------------------------------------------------------------- chunks


def test_chunk_string_content_concatenates() -> None:
    assert AIMessageChunk("Hel") + AIMessageChunk("lo") == AIMessageChunk("Hello")


def test_chunk_list_content_concatenates() -> None:
    left = AIMessageChunk([{"type": "text", "text": "a"}])
    right = AIMessageChunk(["b"])
    assert (left + right).content == [{"type": "text", "text": "a"}, "b"]


def test_chunk_mixed_content() -> None:
    assert (AIMessageChunk("a") + AIMessageChunk(["b"])).content == ["a", "b"]
    assert (AIMessageChunk(["a"]) + AIMessageChunk("b")).content == ["a", "b"]
    assert (AIMessageChunk("") + AIMessageChunk(["b"])).content == ["b"]
    assert (AIMessageChunk(["a"]) + AIMessageChunk("")).content == ["a"]


def test_chunk_kwargs_merge() -> None:
    left = AIMessageChunk(
        "",
        additional_kwargs={"call": {"name": "sea", "args": '{"q'}, "n": 1, "keep": "x"},
        response_metadata={"model": "m", "nested": {"a": 1}},
    )
    right = AIMessageChunk(
        "",
        additional_kwargs={"call": {"name": "rch", "args": '": 1}'}, "n": 2, "keep": None},
        response_metadata={"finish_reason": "stop", "nested": {"b": 2}},
    )
    merged = left + right
    assert merged.additional_kwargs == {
        "call": {"name": "search", "args": '{"q": 1}'},
        "n": 2,
        "keep": "x",
    }
    assert merged.response_metadata == {
        "model": "m",
        "nested": {"a": 1, "b": 2},
        "finish_reason": "stop",
    }


def test_chunk_merge_none_is_absent() -> None:
    left = AIMessageChunk("", additional_kwargs={"a": None, "b": 1})
    right = AIMessageChunk("", additional_kwargs={"a": 5, "b": None})
    assert (left + right).additional_kwargs == {"a": 5, "b": 1}


def test_chunk_merge_does_not_mutate_operands() -> None:
    left = AIMessageChunk("a", additional_kwargs={"d": {"x": "1"}})
    right = AIMessageChunk("b", additional_kwargs={"d": {"x": "2"}})
    _ = left + right
    assert left.additional_kwargs == {"d": {"x": "1"}}
    assert right.additional_kwargs == {"d": {"x": "2"}}


def test_chunk_ids_names_and_tool_calls() -> None:
    first = AIMessageChunk("", tool_calls=[ToolCall("a", {})])
    second = AIMessageChunk("", id="run-1", name="bot", tool_calls=[ToolCall("b", {"x": 1})])
    third = AIMessageChunk("", id="run-2", name="other")
    merged = first + second + third
    assert merged.id == "run-1"
    assert merged.name == "bot"
    assert merged.tool_calls == [ToolCall("a", {}), ToolCall("b", {"x": 1})]


def test_chunk_usage_metadata_adds_up() -> None:
    merged = (
        AIMessageChunk("", usage_metadata={"input_tokens": 3})
        + AIMessageChunk("")
        + AIMessageChunk("", usage_metadata={"input_tokens": 1, "output_tokens": 4})
    )
    assert merged.usage_metadata == {"input_tokens": 4, "output_tokens": 4}


def test_sum_of_many_chunks() -> None:
    chunks = [AIMessageChunk(piece) for piece in ["The ", "quick ", "brown ", "fox"]]
    total = sum(chunks[1:], chunks[0])
    assert isinstance(total, AIMessageChunk)
    assert total == AIMessageChunk("The quick brown fox")


def test_chunk_addition_is_associative_for_strings() -> None:
    a, b, c = AIMessageChunk("a", id="1"), AIMessageChunk("b"), AIMessageChunk("c", id="2")
    assert (a + b) + c == a + (b + c)


@pytest.mark.parametrize("other", [AIMessage("x"), HumanMessage("x"), "x", 1, None])
def test_chunk_addition_rejects_other_types(other: object) -> None:
    with pytest.raises(TypeError, match="can only add AIMessageChunk to AIMessageChunk, not"):
        AIMessageChunk("a") + other  # type: ignore[operator]


def test_full_message_cannot_be_added() -> None:
    with pytest.raises(TypeError):
        AIMessage("a") + AIMessageChunk("b")  # type: ignore[operator]


def test_chunk_to_message() -> None:
    chunk = AIMessageChunk(
        "hi",
        id="1",
        name="n",
        additional_kwargs={"a": 1},
        response_metadata={"b": 2},
        tool_calls=[ToolCall("f", {})],
        usage_metadata={"total_tokens": 2},
    )
    message = chunk.to_message()
    assert type(message) is AIMessage
    assert message == AIMessage(
        "hi",
        id="1",
        name="n",
        additional_kwargs={"a": 1},
        response_metadata={"b": 2},
        tool_calls=[ToolCall("f", {})],
        usage_metadata={"total_tokens": 2},
    )


# --------------------------------------------------------------------------- serialisation

ALL_KINDS: list[BaseMessage] = [
    HumanMessage("hi", name="me", id="h1"),
    SystemMessage([{"type": "text", "text": "be nice"}, "really"]),
    AIMessage(
        "hello",
        additional_kwargs={"x": [1, {"y": None}]},
        response_metadata={"model": "m"},
        tool_calls=[ToolCall("search", {"q": "cats"}, "call-1"), ToolCall("noop", {})],
        usage_metadata={"input_tokens": 3, "output_tokens": 5},
    ),
    AIMessageChunk("par", id="c1"),
    ToolMessage("42", tool_call_id="call-1", status="error"),
    ChatMessage("hmm", role="critic"),
]


def test_to_dict_shape() -> None:
    assert message_to_dict(HumanMessage("hi")) == {
        "type": "human",
        "data": {
            "content": "hi",
            "additional_kwargs": {},
            "response_metadata": {},
            "name": None,
            "id": None,
        },
    }
    data = message_to_dict(AIMessage("x", tool_calls=[ToolCall("f", {"a": 1}, "i")]))["data"]
    assert data["tool_calls"] == [{"name": "f", "args": {"a": 1}, "id": "i", "type": "tool_call"}]
    assert data["usage_metadata"] is None
    tool = message_to_dict(ToolMessage("r", tool_call_id="c"))
    assert tool["type"] == "tool"
    assert tool["data"]["tool_call_id"] == "c"
    assert tool["data"]["status"] == "success"


def test_round_trip_every_class() -> None:
    dumped = messages_to_dict(ALL_KINDS)
    assert [entry["type"] for entry in dumped] == [
        "human",
        "system",
        "ai",
        "AIMessageChunk",
        "tool",
        "chat",
    ]
    restored = messages_from_dict(dumped)
    assert restored == ALL_KINDS
    assert [type(m) for m in restored] == [type(m) for m in ALL_KINDS]


def test_round_trip_through_json() -> None:
    assert messages_from_dict(json.loads(json.dumps(messages_to_dict(ALL_KINDS)))) == ALL_KINDS


def test_single_message_round_trip() -> None:
    for message in ALL_KINDS:
        assert message_from_dict(message_to_dict(message)) == message


def test_to_dict_does_not_alias_the_message() -> None:
    message = AIMessage("x", additional_kwargs={"nested": {"a": 1}})
    dumped = message_to_dict(message)
    dumped["data"]["additional_kwargs"]["nested"]["a"] = 2
    assert message.additional_kwargs == {"nested": {"a": 1}}


def test_unknown_type_names_it_and_known_types() -> None:
    with pytest.raises(ValueError, match=r"unknown message type 'robot'; known types: 'human'"):
        messages_from_dict([{"type": "robot", "data": {"content": "x"}}])


def test_unknown_subclass_cannot_be_serialised() -> None:
    @attrs.frozen(repr=False, unsafe_hash=False)
    class ShoutMessage(HumanMessage):
        pass

    with pytest.raises(TypeError, match="cannot serialise ShoutMessage"):
        messages_to_dict([ShoutMessage("HI")])


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"type": "human", "data": {"content": 5}},
            r"expected a string or a list of parts, got int @ \$\[0\]\.data\.content",
        ),
        (
            {"type": "human", "data": {"content": ["a", 3]}},
            r"expected content part 1 to be a string or dict, got int @ \$\[0\]\.data\.content",
        ),
        (
            {"type": "human", "data": {}},
            r"required field missing @ \$\[0\]\.data\.content",
        ),
        (
            {"type": "human", "data": {"content": "x", "name": 3}},
            r"expected a string, got int @ \$\[0\]\.data\.name",
        ),
        (
            {"type": "human", "data": {"content": "x", "colour": "red"}},
            r"extra fields found \(colour\) @ \$\[0\]\.data",
        ),
        (
            {"type": "human", "data": {"content": "x", "additional_kwargs": []}},
            r"expected a mapping, got list @ \$\[0\]\.data\.additional_kwargs",
        ),
        (
            {"type": "human", "data": {"content": "x", "response_metadata": {1: 2}}},
            r"expected string keys, got int @ \$\[0\]\.data\.response_metadata",
        ),
        (
            {"type": "tool", "data": {"content": "x"}},
            r"required field missing @ \$\[0\]\.data\.tool_call_id",
        ),
        (
            {"type": "tool", "data": {"content": "x", "tool_call_id": "c", "status": "ok"}},
            r"expected one of 'success', 'error', got 'ok' @ \$\[0\]\.data\.status",
        ),
        (
            {"type": "ai", "data": {"content": "x", "tool_calls": [{"name": "f"}]}},
            r"required field missing @ \$\[0\]\.data\.tool_calls\[0\]\.args",
        ),
        (
            {"type": "ai", "data": {"content": "x", "usage_metadata": {"input_tokens": "3"}}},
            r"expected an integer, got str @ \$\[0\]\.data\.usage_metadata\['input_tokens'\]",
        ),
        (
            {"type": "ai", "data": {"content": "x", "usage_metadata": {"input_tokens": True}}},
            r"expected an integer, got bool",
        ),
        (
            {"type": "chat", "data": {"content": "x"}},
            r"required field missing @ \$\[0\]\.data\.role",
        ),
    ],
)
def test_bad_data_names_the_field(entry: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        messages_from_dict([entry])


def test_bad_data_reports_every_problem() -> None:
    entry = {"type": "tool", "data": {"content": 1, "name": 2}}
    with pytest.raises(ValueError, match="invalid ToolMessage data") as info:
        messages_from_dict([entry])
    text = str(info.value)
    assert "$[0].data.content" in text
    assert "$[0].data.name" in text
    assert "$[0].data.tool_call_id" in text


def test_bad_envelope() -> None:
    with pytest.raises(TypeError, match=r"\$\[1\]: expected a mapping with 'type' and 'data'"):
        messages_from_dict([message_to_dict(HumanMessage("x")), "oops"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="expected exactly the keys 'type' and 'data'"):
        messages_from_dict([{"type": "human"}])
    with pytest.raises(TypeError, match=r"\$\[0\]\.data: expected a mapping of fields, got str"):
        messages_from_dict([{"type": "human", "data": "hi"}])
    with pytest.raises(ValueError, match="unknown message type 3"):
        message_from_dict({"type": 3, "data": {}})


# hypothesis: random messages survive the round trip, including through JSON.

_keys = st.text(max_size=8)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_keys, children, max_size=3),
    max_leaves=8,
)
_json_dicts = st.dictionaries(_keys, _json, max_size=3)
_content: st.SearchStrategy[MessageContent] = st.text(max_size=20) | st.lists(
    st.text(max_size=10) | _json_dicts, max_size=3
)
_optional_text = st.none() | st.text(max_size=10)
_tool_calls = st.lists(
    st.builds(ToolCall, name=st.text(max_size=8), args=_json_dicts, id=_optional_text),
    max_size=3,
)
_usage = st.none() | st.dictionaries(_keys, st.integers(), max_size=3)


def _common() -> dict[str, st.SearchStrategy[Any]]:
    return {
        "content": _content,
        "additional_kwargs": _json_dicts,
        "response_metadata": _json_dicts,
        "name": _optional_text,
        "id": _optional_text,
    }


_messages: st.SearchStrategy[BaseMessage] = st.one_of(
    st.builds(HumanMessage, **_common()),
    st.builds(SystemMessage, **_common()),
    st.builds(AIMessage, **_common(), tool_calls=_tool_calls, usage_metadata=_usage),
    st.builds(AIMessageChunk, **_common(), tool_calls=_tool_calls, usage_metadata=_usage),
    st.builds(
        ToolMessage,
        **_common(),
        tool_call_id=st.text(max_size=8),
        status=st.sampled_from(["success", "error"]),
    ),
    st.builds(ChatMessage, **_common(), role=st.text(max_size=8)),
)


@given(st.lists(_messages, max_size=5))
def test_round_trip_property(messages: list[BaseMessage]) -> None:
    dumped = messages_to_dict(messages)
    assert messages_from_dict(dumped) == messages
    assert messages_from_dict(json.loads(json.dumps(dumped))) == messages


@given(st.lists(st.text(max_size=5), min_size=1, max_size=8))
def test_sum_of_chunks_property(pieces: list[str]) -> None:
    chunks = [AIMessageChunk(piece) for piece in pieces]
    assert sum(chunks[1:], chunks[0]) == AIMessageChunk("".join(pieces))


# --------------------------------------------------------------------------- coercion


def test_convert_message_is_returned_unchanged() -> None:
    message = AIMessage("x")
    assert convert_to_message(message) is message


def test_convert_string_is_human() -> None:
    assert convert_to_message("hi") == HumanMessage("hi")


@pytest.mark.parametrize(
    ("role", "cls"),
    [
        ("human", HumanMessage),
        ("user", HumanMessage),
        ("ai", AIMessage),
        ("assistant", AIMessage),
        ("system", SystemMessage),
    ],
)
def test_convert_role_pairs(role: str, cls: type[BaseMessage]) -> None:
    assert convert_to_message((role, "text")) == cls("text")


def test_convert_pair_with_list_content() -> None:
    content: MessageContent = [{"type": "text", "text": "a"}]
    assert convert_to_message(("user", content)) == HumanMessage(content)


def test_convert_dicts() -> None:
    assert convert_to_message({"role": "user", "content": "hi"}) == HumanMessage("hi")
    assert convert_to_message({"role": "assistant", "content": "yo", "id": "1"}) == AIMessage(
        "yo", id="1"
    )
    assert convert_to_message(
        {"role": "tool", "content": "42", "tool_call_id": "c1"}
    ) == ToolMessage("42", tool_call_id="c1")
    assert convert_to_message(
        {"role": "ai", "content": "", "tool_calls": [{"name": "f", "args": {}, "id": "c"}]}
    ) == AIMessage("", tool_calls=[ToolCall("f", {}, "c")])
    assert convert_to_message(
        {"role": "ai", "content": "", "tool_calls": [ToolCall("f", {}, "c")]}
    ) == AIMessage("", tool_calls=[ToolCall("f", {}, "c")])


def test_convert_rejects_tool_pair() -> None:
    with pytest.raises(ValueError, match="cannot carry a tool_call_id"):
        convert_to_message(("tool", "42"))


def test_convert_rejects_unknown_role() -> None:
    with pytest.raises(
        ValueError, match=r"unknown message role 'wizard'; allowed roles: 'human', 'user'"
    ):
        convert_to_message(("wizard", "x"))
    with pytest.raises(ValueError, match="unknown message role 'wizard'"):
        convert_to_message({"role": "wizard", "content": "x"})


def test_convert_rejects_bad_pairs() -> None:
    with pytest.raises(ValueError, match=r"must be \(role, content\), got 3 items"):
        convert_to_message(("human", "a", "b"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="invalid content for role 'human'"):
        convert_to_message(("human", 5))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown message role 5"):
        convert_to_message((5, "x"))  # type: ignore[arg-type]


def test_convert_rejects_bad_dicts() -> None:
    with pytest.raises(ValueError, match="needs a 'role' key, got keys 'content'"):
        convert_to_message({"content": "x"})
    with pytest.raises(ValueError, match=r"extra fields found \(colour\)"):
        convert_to_message({"role": "user", "content": "x", "colour": "red"})
    with pytest.raises(ValueError, match=r"required field missing @ \$\.tool_call_id"):
        convert_to_message({"role": "tool", "content": "x"})
    with pytest.raises(ValueError, match=r"required field missing @ \$\.content"):
        convert_to_message({"role": "user"})


@pytest.mark.parametrize("value", [5, None, 1.5, object()])
def test_convert_rejects_other_types(value: object) -> None:
    with pytest.raises(TypeError, match=r"cannot convert .* to a message"):
        convert_to_message(value)  # type: ignore[arg-type]


def test_convert_to_messages_wraps_single_values() -> None:
    assert convert_to_messages("hi") == [HumanMessage("hi")]
    assert convert_to_messages(AIMessage("x")) == [AIMessage("x")]
    assert convert_to_messages({"role": "system", "content": "s"}) == [SystemMessage("s")]


def test_convert_to_messages_sequences() -> None:
    assert convert_to_messages(
        [
            ("system", "be brief"),
            "hi",
            AIMessage("hello"),
            {"role": "user", "content": "bye"},
        ]
    ) == [SystemMessage("be brief"), HumanMessage("hi"), AIMessage("hello"), HumanMessage("bye")]
    assert convert_to_messages((HumanMessage("a"), "b")) == [HumanMessage("a"), HumanMessage("b")]
    assert convert_to_messages([]) == []


def test_convert_to_messages_rejects_bad_items() -> None:
    with pytest.raises(TypeError, match="cannot convert int to a message"):
        convert_to_messages(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="cannot convert int to a message"):
        convert_to_messages(3)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- buffer string


def test_get_buffer_string() -> None:
    messages = [
        SystemMessage("be nice"),
        HumanMessage("hi"),
        AIMessage("hello"),
        AIMessageChunk("more"),
        ToolMessage("42", tool_call_id="c"),
        ChatMessage("looks good", role="critic"),
        HumanMessage(["multi", {"type": "text", "text": "part"}]),
    ]
    assert get_buffer_string(messages) == (
        "System: be nice\n"
        "Human: hi\n"
        "AI: hello\n"
        "AI: more\n"
        "Tool: 42\n"
        "critic: looks good\n"
        "Human: multipart"
    )


def test_get_buffer_string_prefixes() -> None:
    messages = [HumanMessage("q"), AIMessage("a")]
    assert get_buffer_string(messages, human_prefix="User", ai_prefix="Bot") == "User: q\nBot: a"


def test_get_buffer_string_empty() -> None:
    assert get_buffer_string([]) == ""


def test_langchains_message_dicts_are_read() -> None:
    """A history or request body written by LangChain (`message_to_dict`) loads: the `type`
    inside its data, `example`, a tool message's `artifact` and nested token details."""
    from langchain_core import messages as lc

    from runnables.messages import (
        AIMessage,
        HumanMessage,
        ToolCall,
        ToolMessage,
        messages_from_dict,
    )

    written = lc.messages_to_dict(
        [
            lc.HumanMessage("hi", id="h1"),
            lc.AIMessage(
                "",
                tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1"}],
                usage_metadata={
                    "input_tokens": 3,
                    "output_tokens": 2,
                    "total_tokens": 5,
                    "input_token_details": {"cache_read": 1},
                },
            ),
            lc.ToolMessage("done", tool_call_id="c1", artifact={"rows": 2}),
            lc.ToolMessage("plain", tool_call_id="c2"),
        ]
    )
    human, ai, tool, plain = messages_from_dict(written)
    assert human == HumanMessage("hi", id="h1")
    assert isinstance(ai, AIMessage)
    assert ai.tool_calls == [ToolCall("f", {"a": 1}, "c1")]
    assert ai.usage_metadata == {
        "input_tokens": 3,
        "output_tokens": 2,
        "total_tokens": 5,
        "input_token_details.cache_read": 1,
    }
    assert tool == ToolMessage(
        "done", tool_call_id="c1", additional_kwargs={"artifact": {"rows": 2}}
    )
    assert plain == ToolMessage("plain", tool_call_id="c2")


@pytest.mark.parametrize(
    "metadata",
    [
        [{"model_provider": "openai"}] * 3,
        [{"id": "resp-1", "output_version": "v1"}, {"id": "resp-1", "output_version": "v1"}],
        [{"index": "lc_txt_0"}, {"index": "lc_txt_0"}, {"index": "lc_txt_1"}],
        [{"model_name": "gpt"}, {"model_name": "-4o"}, {"finish_reason": "stop"}],
        [
            {"nested": {"model_provider": "x", "text": "a"}},
            {"nested": {"model_provider": "x", "text": "b"}},
        ],
        [{"id": "a"}, {"id": "b"}, {"id": "b"}],
    ],
)
def test_streamed_metadata_adds_up_as_langchains_does(metadata: list[dict[str, Any]]) -> None:
    """A provider's name or an answer's id repeated in every chunk is kept once, other strings
    join (`model_provider` used to read "openaiopenaiopenai")."""
    from langchain_core import messages as lc

    from runnables.messages import AIMessageChunk

    ours = [AIMessageChunk(str(i), response_metadata=m) for i, m in enumerate(metadata)]
    theirs = [lc.AIMessageChunk(str(i), response_metadata=m) for i, m in enumerate(metadata)]
    expected = sum(theirs[1:], theirs[0]).response_metadata
    assert sum(ours[1:], ours[0]).response_metadata == expected
    assert AIMessageChunk.__add__(ours[0], ours[1:]).response_metadata == expected
