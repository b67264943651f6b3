"""The events reference table (docs/reference/events.md) against the code: its event names,
typed forms and `data` keys are those of `runnables.tracing`, and runs of every kind emit
exactly the events it says they emit, with the keys it lists."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from typing_extensions import NotRequired, get_type_hints

from runnables import RunnableBase, RunnableLambda, dispatch_custom_event, tracing
from runnables.documents import Document
from runnables.messages import AIMessage
from runnables.models import FakeListChatModel, FakeListLLM
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate, ChatPromptValue, StringPromptValue
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore
from runnables.tools import tool

PAGE = Path(__file__).resolve().parent.parent / "docs" / "reference" / "events.md"
ROW = re.compile(r"^\| `(on_\w+)` \| (.*?) \| (.*?) \| `(\w+)`, data `(.*?)` \|$", re.MULTILINE)
NAMES_IN_HINTS = {
    "AIMessage": AIMessage,
    "ChatPromptValue": ChatPromptValue,
    "Document": Document,
    "StringPromptValue": StringPromptValue,
}


class Row(typing.NamedTuple):
    when: str
    keys: set[str]
    optional: set[str]
    typed_form: str
    data_form: str


def table() -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for event, when, keys, typed_form, data_form in ROW.findall(PAGE.read_text()):
        listed = re.findall(r"`(\w+)(\??)`", keys)
        rows[event] = Row(
            when,
            {key for key, _ in listed},
            {key for key, mark in listed if mark},
            typed_form,
            data_form,
        )
    return rows


def spelled(hint: Any) -> str:
    """A type hint as the table writes it: `EndData[AIMessage | None]`, `StreamData[Any]`."""
    if hint is Any:
        return "Any"
    if hint is type(None):
        return "None"
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " | ".join(spelled(arg) for arg in args)
    if origin is None:
        return str(hint.__name__)
    inner = ", ".join(spelled(arg) for arg in args)
    return f"{getattr(origin, '__name__', origin)}[{inner}]"


def keys_of(payload: type) -> tuple[set[str], set[str]]:
    """A payload TypedDict's keys, and those marked `NotRequired` (read from the annotations:
    with postponed annotations, `__optional_keys__` does not see the marks)."""
    hints = get_type_hints(payload, localns=NAMES_IN_HINTS, include_extras=True)
    return set(hints), {key for key, hint in hints.items() if get_origin(hint) is NotRequired}


def event_classes() -> dict[str, type]:
    """Each member of the `StreamEvent` union, by the event name its `event` Literal holds."""
    classes: dict[str, type] = {}
    for member in get_args(tracing.StreamEvent):
        hints = get_type_hints(member, localns=NAMES_IN_HINTS)
        (name,) = get_args(hints["event"])
        classes[name] = member
    return classes


def test_the_table_names_every_event_and_its_typed_forms() -> None:
    rows, classes = table(), event_classes()
    assert sorted(rows) == sorted(classes)
    for name, row in rows.items():
        cls = classes[name]
        assert getattr(tracing, row.typed_form) is cls, name
        data = get_type_hints(cls, localns=NAMES_IN_HINTS)["data"]
        assert spelled(data) == row.data_form, name
        if data is Any:  # a custom event's payload is the user's own value
            assert not row.keys, name
            continue
        assert (row.keys, row.optional) == keys_of(get_origin(data) or data), name


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def explode(a: int) -> int:
    """Always fails."""
    raise ValueError(a)


def _reports(value: str) -> str:
    dispatch_custom_event("report", {"value": value})
    return value


def every_kind() -> list[tuple[RunnableBase[Any, Any], object]]:
    """A runnable of each run kind with its input, each as the root and below a chain step."""
    prompt = ChatPromptTemplate.from_template("say {word}")
    store = InMemoryVectorStore.from_texts(["a b"], HashingEmbeddings())
    alone: list[tuple[RunnableBase[Any, Any], object]] = [
        (prompt, {"word": "hi"}),
        (FakeListChatModel(["a b"]), "hi"),
        (FakeListLLM(["a b"]), "hi"),
        (FakeListChatModel(["a b"]) | StrOutputParser(), "hi"),
        (StrOutputParser(), "a b"),
        (store.as_retriever(k=1), "a"),
        (add, {"a": 1, "b": 2}),
        (explode, {"a": 1}),
        (RunnableLambda(str.upper), "a"),
        (RunnableLambda(_reports), "a"),
    ]
    below: list[tuple[RunnableBase[Any, Any], object]] = [
        (RunnableLambda(lambda value: value) | runnable, value) for runnable, value in alone
    ]
    return alone + below


async def events_of(runnable: RunnableBase[Any, Any], value: object) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    try:
        async for event in runnable.astream_events(value):
            seen.append(dict(event))
    except ValueError:
        assert seen[-1]["event"] == "on_tool_error"
    return seen


@pytest.mark.anyio
async def test_runs_of_every_kind_emit_what_the_table_says(anyio_backend: str) -> None:
    rows = table()
    observed: dict[str, list[set[str]]] = {}
    for runnable, value in every_kind():
        for event in await events_of(runnable, value):
            assert set(event) == {
                "event",
                "name",
                "run_id",
                "parent_ids",
                "tags",
                "metadata",
                "data",
            }
            observed.setdefault(event["event"], []).append(set(event["data"]))
    never = {name for name, row in rows.items() if row.when.startswith("never")}
    assert sorted(observed) == sorted(set(rows) - never)
    for name, key_sets in observed.items():
        row = rows[name]
        if row.data_form == "Any":  # the payload as given: its keys are the user's
            continue
        for keys in key_sets:
            assert row.keys - row.optional <= keys <= row.keys, (name, keys)
        for key in row.optional - {"tool_call_id"}:  # None for a tool not run on a tool call
            assert any(key in keys for keys in key_sets), (name, key)
