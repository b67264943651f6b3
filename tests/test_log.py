"""`astream_log`: JSON Patch ops, `RunLog` states, filters, `:2` names, reprs."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest

from runnables import RunnableLambda, RunnablePassthrough
from runnables.documents import Document
from runnables.tracing import RunLog, RunLogPatch

pytestmark = pytest.mark.anyio

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


async def letters(x: str) -> AsyncIterator[str]:
    for letter in x:
        yield letter


def upper(x: str) -> str:
    return x.upper()


async def patches_of(chain: Any, input: Any, **kwargs: Any) -> list[RunLogPatch]:
    return [patch async for patch in chain.astream_log(input, **kwargs)]


def total(patches: list[RunLogPatch]) -> RunLog:
    log = patches[0] + patches[1]
    for patch in patches[2:]:
        log = log + patch
    return log


async def test_patches_and_final_state() -> None:
    chain = RunnableLambda(upper) | RunnableLambda(letters)
    patches = await patches_of(chain, "ab")
    first = patches[0].ops
    assert len(first) == 1
    assert first[0]["op"] == "replace"
    assert first[0]["path"] == ""
    value = first[0]["value"]
    assert value["name"] == "RunnableSequence"
    assert value["type"] == "chain"
    assert value == {
        "id": value["id"],
        "name": "RunnableSequence",
        "type": "chain",
        "streamed_output": [],
        "final_output": None,
        "logs": {},
    }
    paths = [op["path"] for patch in patches[1:] for op in patch.ops]
    assert paths == [
        "/logs/upper",
        "/logs/upper/streamed_output/-",
        "/logs/letters",
        "/logs/upper/final_output",
        "/logs/upper/end_time",
        "/logs/letters/streamed_output/-",
        "/streamed_output/-",
        "/final_output",
        "/logs/letters/streamed_output/-",
        "/streamed_output/-",
        "/final_output",
        "/logs/letters/final_output",
        "/logs/letters/end_time",
    ]
    state = total(patches).state
    assert state["streamed_output"] == ["A", "B"]
    assert state["final_output"] == "AB"
    assert set(state["logs"]) == {"upper", "letters"}
    entry = state["logs"]["letters"]
    assert entry["final_output"] == {"output": "AB"}
    assert entry["streamed_output"] == ["A", "B"]
    assert entry["streamed_output_str"] == []
    assert entry["tags"] == ["seq:step:2"]
    assert entry["type"] == "chain"
    assert ISO.match(entry["start_time"])
    assert entry["end_time"] is not None
    assert ISO.match(entry["end_time"])
    # applying patches never changed them
    assert patches[0].ops[0]["value"]["logs"] == {}
    assert patches[0].ops[0]["value"]["streamed_output"] == []


async def test_final_output_replaced_only_when_it_changes() -> None:
    async def chunks(x: str) -> AsyncIterator[str]:
        for chunk in ("a", "", "b", ""):
            yield chunk

    patches = await patches_of(RunnableLambda(chunks), "x", include_names=[])
    root_ops = [patch.ops for patch in patches[1:] if patch.ops[0]["path"] == "/streamed_output/-"]
    assert root_ops == [
        (
            {"op": "add", "path": "/streamed_output/-", "value": "a"},
            {"op": "replace", "path": "/final_output", "value": "a"},
        ),
        ({"op": "add", "path": "/streamed_output/-", "value": ""},),
        (
            {"op": "add", "path": "/streamed_output/-", "value": "b"},
            {"op": "replace", "path": "/final_output", "value": "ab"},
        ),
        ({"op": "add", "path": "/streamed_output/-", "value": ""},),
    ]


async def test_repeated_names_are_numbered() -> None:
    chain = RunnableLambda(upper) | RunnableLambda(upper) | RunnableLambda(upper)
    state = total(await patches_of(chain, "a")).state
    assert sorted(state["logs"]) == ["upper", "upper:2", "upper:3"]
    steps = {key: entry["tags"] for key, entry in state["logs"].items()}
    assert steps == {"upper": ["seq:step:1"], "upper:2": ["seq:step:2"], "upper:3": ["seq:step:3"]}


async def test_diff_false_yields_accumulated_logs() -> None:
    chain = RunnableLambda(upper) | RunnableLambda(letters)
    patches = await patches_of(chain, "ab")
    logs = [log async for log in chain.astream_log("ab", diff=False)]
    assert all(isinstance(log, RunLog) for log in logs)
    assert len(logs) == len(patches)
    assert logs[0].state["logs"] == {}
    assert logs[0].state["final_output"] is None
    assert [log.state["final_output"] for log in logs if log.state["final_output"]][-1] == "AB"
    assert logs[-1].state["streamed_output"] == ["A", "B"]
    assert len(logs[-1].ops) == sum(len(patch.ops) for patch in patches)
    # earlier states are not changed by later patches
    assert logs[1].state["streamed_output"] == []


async def test_without_streamed_output_list() -> None:
    chain = RunnableLambda(letters)
    patches = await patches_of(chain, "ab", with_streamed_output_list=False)
    paths = [op["path"] for patch in patches for op in patch.ops]
    assert "/streamed_output/-" not in paths
    state = total(patches).state
    assert state["streamed_output"] == []
    assert state["final_output"] == "ab"


async def test_filters_keep_the_root() -> None:
    chain = RunnableLambda(upper).with_config(run_name="first") | RunnableLambda(
        letters
    ).with_config(tags=["t"])
    state = total(await patches_of(chain, "ab", include_names=["first"])).state
    assert list(state["logs"]) == ["first"]
    assert state["final_output"] == "AB"
    state = total(await patches_of(chain, "ab", include_tags=["t"])).state
    assert list(state["logs"]) == ["letters"]
    state = total(await patches_of(chain, "ab", exclude_types=["chain"])).state
    assert state["logs"] == {}
    assert state["final_output"] == "AB"


async def test_error_ends_the_entry_and_raises() -> None:
    class Boom(Exception):
        pass

    def fail(x: str) -> str:
        raise Boom

    seen: list[RunLogPatch] = []

    async def consume() -> None:
        async for patch in (RunnableLambda(upper) | RunnableLambda(fail)).astream_log("a"):
            seen.append(patch)

    with pytest.raises(Boom):
        await consume()
    state = total(seen).state
    assert state["logs"]["fail"]["final_output"] is None
    assert state["logs"]["fail"]["end_time"] is not None


def test_reprs_and_addition() -> None:
    a = RunLogPatch(
        {
            "op": "replace",
            "path": "",
            "value": {"final_output": None, "logs": {}, "streamed_output": []},
        }
    )
    b = RunLogPatch({"op": "add", "path": "/streamed_output/-", "value": "H"})
    assert repr(b) == "RunLogPatch({'op': 'add', 'path': '/streamed_output/-', 'value': 'H'})"
    log = a + b
    assert isinstance(log, RunLog)
    expected: Any = {"final_output": None, "logs": {}, "streamed_output": ["H"]}
    assert log.state == expected
    assert repr(log) == "RunLog({'final_output': None, 'logs': {}, 'streamed_output': ['H']})"
    assert log.ops == (*a.ops, *b.ops)
    assert a.ops[0]["value"]["streamed_output"] == []  # not changed by the addition
    assert (log + b).state["streamed_output"] == ["H", "H"]
    assert log.state["streamed_output"] == ["H"]
    assert RunLogPatch(*b.ops) == b
    assert a != b


@attrs.define(eq=False)
class Opaque:
    """An object jsonpatch cannot serialise, and that cannot even be deep-copied."""

    payload: Any = attrs.field(factory=threading.Lock)


def test_arbitrary_values_in_ops() -> None:
    thing = Opaque()
    doc = Document(page_content="x")
    a = RunLogPatch({"op": "replace", "path": "", "value": {"logs": {}, "streamed_output": []}})
    b = RunLogPatch(
        {"op": "add", "path": "/logs/x", "value": {"final_output": thing, "docs": [doc]}},
        {"op": "add", "path": "/streamed_output/-", "value": thing},
    )
    state = (a + b).state
    assert state["logs"]["x"]["final_output"] is thing
    assert state["streamed_output"] == [thing]


async def test_seed_like_chain_with_docs() -> None:
    retrievers = pytest.importorskip("runnables.retrievers")
    prompts = pytest.importorskip("runnables.prompts")
    parsers = pytest.importorskip("runnables.parsers")
    models = pytest.importorskip("runnables.models")

    @attrs.frozen
    class Kensho(retrievers.BaseRetriever):  # type: ignore[misc,name-defined]
        def _get_relevant_documents(self, query: str) -> list[Document]:
            return [Document(page_content="harrison worked at kensho")]

    chain = (
        {"context": Kensho().with_config(run_name="Docs"), "question": RunnablePassthrough()}
        | prompts.ChatPromptTemplate.from_template("{context} {question}")
        | models.FakeListChatModel(responses=["Harrison worked at Kensho."]).with_config(
            run_name="my_llm"
        )
        | parsers.StrOutputParser()
    )
    patches = await patches_of(chain, "where did harrison work?", include_names=["Docs"])
    assert patches[0].ops[0]["path"] == ""
    assert patches[1].ops[0]["path"] == "/logs/Docs"
    entry = patches[1].ops[0]["value"]
    assert entry["type"] == "retriever"
    assert entry["tags"] == ["map:key:context"]
    assert [op["path"] for op in patches[2].ops] == [
        "/logs/Docs/final_output",
        "/logs/Docs/end_time",
    ]
    assert patches[2].ops[0]["value"] == {
        "documents": [Document(page_content="harrison worked at kensho")]
    }
    root = patches[3:]
    assert all(patch.ops[0]["path"] == "/streamed_output/-" for patch in root)
    state = total(patches).state
    assert state["final_output"] == "Harrison worked at Kensho."
    assert "".join(state["streamed_output"]) == "Harrison worked at Kensho."
    assert list(state["logs"]) == ["Docs"]
    assert state["logs"]["Docs"]["streamed_output"] == []  # a retriever does not stream
    logs = [log async for log in chain.astream_log("where?", include_names=["Docs"], diff=False)]
    assert logs[-1].state["final_output"] == "Harrison worked at Kensho."

    # the model's tokens are logged as text too
    state = total(await patches_of(chain, "where?", include_names=["my_llm"])).state
    model_entry = state["logs"]["my_llm"]
    assert model_entry["type"] == "chat_model"
    assert "".join(model_entry["streamed_output_str"]) == "Harrison worked at Kensho."
    assert len(model_entry["streamed_output"]) == len(model_entry["streamed_output_str"])


@pytest.mark.parametrize("name", ["a/b", "x~y", "~1/~0", "/", "~"])
async def test_a_run_name_with_json_pointer_characters_is_one_log_key(name: str) -> None:
    """RFC 6901 escapes `/` and `~` in the paths; the state has the name as it is."""
    import jsonpatch

    step = RunnableLambda(letters).with_config(run_name=name)
    chain = step | RunnableLambda(upper).with_config(run_name=name)
    patches = await patches_of(chain, "ab")
    state = total(patches).state
    assert set(state["logs"]) == {name, f"{name}:2"}
    assert state["logs"][name]["streamed_output"] == ["a", "b"]
    assert state["logs"][f"{name}:2"]["final_output"] == {"output": "AB"}
    applied: Any = None
    for patch in patches:
        applied = jsonpatch.apply_patch(applied, patch.ops)
    assert applied == state
    logs = [log async for log in chain.astream_log("ab", diff=False)]
    assert set(logs[-1].state["logs"]) == {name, f"{name}:2"}
