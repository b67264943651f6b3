"""Message utilities: trim, filter, merge and convert give langchain-core's results on the same
inputs (random ones, through hypothesis), and are runnables when called without messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
    convert_to_openai_messages,
    filter_messages,
    merge_message_runs,
    messages_to_dict,
    trim_messages,
)
from runnables.prompts import ChatPromptTemplate, MessagesPlaceholder

lc_messages = pytest.importorskip("langchain_core.messages")

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------ random messages

texts = st.text(alphabet="ab \n", max_size=12)
ids = st.none() | st.sampled_from(["i1", "i2", "i3"])
names = st.none() | st.sampled_from(["ann", "bob"])
parts = st.one_of(
    texts,
    texts.map(lambda t: {"type": "text", "text": t}),
    st.just({"type": "image_url", "image_url": {"url": "http://x/y.png"}}),
)


def contents(min_parts: int = 0) -> st.SearchStrategy[Any]:
    return texts | st.lists(parts, min_size=min_parts, max_size=3)


calls = st.builds(
    ToolCall,
    name=st.sampled_from(["f", "g"]),
    args=st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2),
    id=st.sampled_from(["c1", "c2", "c3"]),
)
usage = st.none() | st.builds(
    lambda i, o: {"input_tokens": i, "output_tokens": o, "total_tokens": i + o},
    st.integers(0, 5),
    st.integers(0, 5),
)


def message_strategy(
    *, named: bool = True, min_parts: int = 0, roles: Sequence[str] = ("critic", "judge")
) -> st.SearchStrategy[BaseMessage]:
    common: dict[str, Any] = {"id": ids, "name": names if named else st.none()}
    content = contents(min_parts)
    return st.one_of(
        st.builds(SystemMessage, content, **common),
        st.builds(HumanMessage, content, **common),
        st.builds(
            AIMessage,
            content,
            tool_calls=st.lists(calls, max_size=2),
            usage_metadata=usage,
            response_metadata=st.sampled_from([{}, {"model": "m"}]),
            **common,
        ),
        st.builds(
            ToolMessage,
            content,
            tool_call_id=st.sampled_from(["c1", "c2", "c3"]),
            **common,
        ),
        st.builds(ChatMessage, content, role=st.sampled_from(list(roles)), **common),
    )


conversations = st.lists(message_strategy(), max_size=8)


# ------------------------------------------------------------------------ the two libraries


def to_lc(messages: Sequence[BaseMessage]) -> list[Any]:
    return list(lc_messages.messages_from_dict(messages_to_dict(messages)))


def neutral(message: Any) -> dict[str, Any]:
    """A message of either library as plain data (LangChain's extra defaults left out)."""
    tool_calls = [
        (c["name"], c["args"], c["id"]) if isinstance(c, dict) else (c.name, c.args, c.id)
        for c in getattr(message, "tool_calls", [])
    ]
    usage_metadata = getattr(message, "usage_metadata", None)
    return {
        "type": message.type,
        "content": message.content,
        "name": message.name,
        "id": message.id,
        "additional_kwargs": message.additional_kwargs,
        "response_metadata": message.response_metadata,
        "tool_calls": tool_calls,
        "usage": dict(usage_metadata) if usage_metadata else None,
        "tool_call_id": getattr(message, "tool_call_id", None),
        "role": getattr(message, "role", None),
    }


def same(ours: Sequence[BaseMessage], theirs: Sequence[Any]) -> None:
    assert [neutral(m) for m in ours] == [neutral(m) for m in theirs]


def chars(messages: list[Any]) -> int:
    """A token counter for both libraries: one per message plus one per character."""
    return sum(len(message.text) + 1 for message in messages)


def chars_of_one(message: BaseMessage) -> int:
    return len(message.text) + 1


# ------------------------------------------------------------------------ trim


type_choices = st.none() | st.sampled_from(["human", "ai", ("human", "system"), "tool"])


@SETTINGS
@given(
    conversation=conversations,
    max_tokens=st.integers(0, 40),
    strategy=st.sampled_from(["first", "last"]),
    counter=st.sampled_from(["len", "chars", "chars_of_one"]),
    allow_partial=st.booleans(),
    include_system=st.booleans(),
    start_on=type_choices,
    end_on=type_choices,
)
@example(  # a text ending in a newline: its last piece is empty, and fits anywhere
    conversation=[AIMessage("\n")],
    max_tokens=1,
    strategy="last",
    counter="chars",
    allow_partial=True,
    include_system=False,
    start_on=None,
    end_on=None,
)
def test_trim_matches_langchain(
    conversation: list[BaseMessage],
    max_tokens: int,
    strategy: Any,
    counter: str,
    allow_partial: bool,
    include_system: bool,
    start_on: Any,
    end_on: Any,
) -> None:
    if strategy == "first":
        start_on, include_system = None, False
    ours_counter: Any = {"len": len, "chars": chars, "chars_of_one": chars_of_one}[counter]
    lc_counter: Any = len if counter == "len" else chars  # the one-message form, added up
    options: dict[str, Any] = {
        "max_tokens": max_tokens,
        "strategy": strategy,
        "allow_partial": allow_partial,
        "include_system": include_system,
        "start_on": start_on,
        "end_on": end_on,
    }
    ours = trim_messages(conversation, token_counter=ours_counter, **options)
    theirs = lc_messages.trim_messages(to_lc(conversation), token_counter=lc_counter, **options)
    same(ours, theirs)


def test_trim_keeps_the_system_message_and_the_last_turns() -> None:
    conversation = [
        SystemMessage("rules"),
        HumanMessage("q1"),
        AIMessage("a1"),
        HumanMessage("q2"),
        AIMessage("a2"),
    ]
    assert trim_messages(
        conversation, max_tokens=3, token_counter=len, include_system=True, start_on="human"
    ) == [SystemMessage("rules"), HumanMessage("q2"), AIMessage("a2")]
    assert trim_messages(conversation, max_tokens=2, token_counter=len, strategy="first") == [
        SystemMessage("rules"),
        HumanMessage("q1"),
    ]


def test_trim_partial_keeps_the_lines_that_fit() -> None:
    conversation = [HumanMessage("line one\nline two\nline three"), AIMessage("ok")]
    kept = trim_messages(conversation, max_tokens=18, token_counter=chars, allow_partial=True)
    assert kept == [HumanMessage("line three"), AIMessage("ok")]


def test_trim_refuses_options_that_do_not_go_together() -> None:
    with pytest.raises(RunnablesValueError, match="start_on is only valid with strategy='last'"):
        trim_messages([], max_tokens=1, token_counter=len, strategy="first", start_on="human")
    with pytest.raises(RunnablesValueError, match="include_system is only valid"):
        trim_messages([], max_tokens=1, token_counter=len, strategy="first", include_system=True)
    with pytest.raises(RunnablesTypeError, match="max_tokens must be an int, got '3'"):
        trim_messages([], max_tokens="3", token_counter=len)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    with pytest.raises(RunnablesTypeError, match="token_counter must be a function, got int"):
        trim_messages([], max_tokens=3, token_counter=3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    with pytest.raises(RunnablesTypeError, match="expected message type tags or BaseMessage"):
        trim_messages([], max_tokens=3, token_counter=len, end_on=[3])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]


def test_called_without_messages_each_utility_is_a_runnable_in_a_chain() -> None:
    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("human", "{q}")])
    trimmer = trim_messages(max_tokens=2, token_counter=len)
    assert trimmer.name == "trim_messages"
    chain = prompt | trimmer | merge_message_runs() | filter_messages(exclude_types="ai")
    history = [HumanMessage("a"), AIMessage("b"), HumanMessage("c")]
    assert chain.invoke({"history": history, "q": "d"}) == [HumanMessage("c\nd")]


@pytest.mark.anyio
async def test_the_runnable_form_works_async() -> None:
    trimmer = trim_messages(max_tokens=1, token_counter=len)
    assert await trimmer.ainvoke([HumanMessage("a"), HumanMessage("b")]) == [HumanMessage("b")]


# ------------------------------------------------------------------------ filter


tag_or_class = st.sampled_from(["human", "ai", "system", "tool", "chat", AIMessage, HumanMessage])


@SETTINGS
@given(
    conversation=conversations,
    include_names=st.none() | st.lists(st.sampled_from(["ann", "bob"]), max_size=2),
    exclude_names=st.none() | st.lists(st.sampled_from(["ann", "bob"]), max_size=1),
    include_types=st.none() | st.lists(tag_or_class, max_size=2),
    exclude_types=st.none() | st.lists(tag_or_class, max_size=2),
    include_ids=st.none() | st.lists(st.sampled_from(["i1", "i2"]), max_size=2),
    exclude_ids=st.none() | st.lists(st.sampled_from(["i2", "i3"]), max_size=1),
    exclude_tool_calls=st.none() | st.booleans() | st.lists(st.sampled_from(["c1", "c2"])),
)
def test_filter_matches_langchain(conversation: list[BaseMessage], **options: Any) -> None:
    lc_options = dict(options)
    for key in ("include_types", "exclude_types"):
        if lc_options[key]:
            lc_options[key] = [
                getattr(lc_messages, t.__name__) if isinstance(t, type) else t
                for t in lc_options[key]
            ]
    same(
        filter_messages(conversation, **options),
        lc_messages.filter_messages(to_lc(conversation), **lc_options),
    )


def test_filter_drops_excluded_tool_calls_and_their_results() -> None:
    conversation = [
        AIMessage("", tool_calls=[ToolCall("f", {}, "c1"), ToolCall("g", {}, "c2")]),
        ToolMessage("f done", tool_call_id="c1"),
        ToolMessage("g done", tool_call_id="c2"),
    ]
    assert filter_messages(conversation, exclude_tool_calls=["c1"]) == [
        AIMessage("", tool_calls=[ToolCall("g", {}, "c2")]),
        ToolMessage("g done", tool_call_id="c2"),
    ]
    assert filter_messages(conversation, exclude_tool_calls=True) == []


# ------------------------------------------------------------------------ merge


@SETTINGS
@given(
    # LangChain drops every name on a merge and refuses chat messages of different roles:
    # both deliberate differences (tested below), so they are left out here. An empty list
    # content followed by a string loses the string in LangChain: so are empty lists.
    conversation=st.lists(message_strategy(named=False, min_parts=1, roles=["critic"]), max_size=8),
    separator=st.sampled_from(["\n", "", " | "]),
)
def test_merge_matches_langchain(conversation: list[BaseMessage], separator: str) -> None:
    same(
        merge_message_runs(conversation, chunk_separator=separator),
        lc_messages.merge_message_runs(to_lc(conversation), chunk_separator=separator),
    )


def test_merge_joins_runs_and_adds_up_tool_calls() -> None:
    merged = merge_message_runs(
        [
            SystemMessage("be brief"),
            SystemMessage("be kind"),
            AIMessage(
                "a", tool_calls=[ToolCall("f", {}, "c1")], usage_metadata={"input_tokens": 1}
            ),
            AIMessageChunk(
                "b", tool_calls=[ToolCall("g", {}, "c2")], usage_metadata={"input_tokens": 2}
            ),
            ToolMessage("f", tool_call_id="c1"),
            ToolMessage("g", tool_call_id="c2"),
        ]
    )
    assert merged == [
        SystemMessage("be brief\nbe kind"),
        AIMessage(
            "a\nb",
            tool_calls=[ToolCall("f", {}, "c1"), ToolCall("g", {}, "c2")],
            usage_metadata={"input_tokens": 3},
        ),
        ToolMessage("f", tool_call_id="c1"),
        ToolMessage("g", tool_call_id="c2"),
    ]


def test_merge_keeps_a_shared_name_and_speakers_apart() -> None:
    # LangChain drops the name on every merge, and raises on chat messages of two roles;
    # here a name all the parts share is kept, and different roles stay separate messages.
    assert merge_message_runs([HumanMessage("a", name="ann"), HumanMessage("b", name="ann")]) == [
        HumanMessage("a\nb", name="ann")
    ]
    assert merge_message_runs([HumanMessage("a", name="ann"), HumanMessage("b")]) == [
        HumanMessage("a\nb")
    ]
    two_roles = [ChatMessage("a", role="critic"), ChatMessage("b", role="judge")]
    assert merge_message_runs(two_roles) == two_roles


def test_merge_keeps_a_string_after_an_empty_list() -> None:
    # LangChain loses "b" here ([] + "b" gives []).
    assert merge_message_runs([HumanMessage([]), HumanMessage("b")]) == [HumanMessage(["b"])]


# ------------------------------------------------------------------------ OpenAI format


@SETTINGS
@given(conversation=conversations, text_format=st.sampled_from(["string", "block"]))
def test_openai_format_matches_langchain(conversation: list[BaseMessage], text_format: Any) -> None:
    ours = convert_to_openai_messages(conversation, text_format=text_format)
    theirs = lc_messages.convert_to_openai_messages(to_lc(conversation), text_format=text_format)
    assert ours == theirs
    assert json.loads(json.dumps(ours)) == ours


def test_openai_format_of_one_message_and_of_message_likes() -> None:
    assert convert_to_openai_messages(HumanMessage("hi")) == {"role": "user", "content": "hi"}
    assert convert_to_openai_messages("hi") == {"role": "user", "content": "hi"}
    assert convert_to_openai_messages([("ai", "yo"), ("system", "s")]) == [
        {"role": "assistant", "content": "yo"},
        {"role": "system", "content": "s"},
    ]
    with pytest.raises(RunnablesValueError, match="text_format must be 'string' or 'block'"):
        convert_to_openai_messages("hi", text_format="html")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType, reportCallIssue]


def test_utilities_take_a_prompt_value_and_refuse_a_bare_string() -> None:
    value = ChatPromptTemplate.from_messages([("human", "a"), ("human", "b")]).invoke({})
    assert merge_message_runs(value) == [HumanMessage("a\nb")]
    with pytest.raises(
        RunnablesTypeError, match="expected a sequence of messages or a prompt value, got str"
    ):
        filter_messages("hi")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType, reportCallIssue]
