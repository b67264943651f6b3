"""`RunnablePassthrough(func)` side-effect taps, and Graph's first_node/last_node/to_json/print_ascii."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.conftest import Recorder

from runnables import RunnableBranch, RunnableConfig, RunnableLambda, RunnablePassthrough


def words(text: str) -> Iterator[str]:
    for word in text.split():
        yield word + " "


def test_tap_sees_the_input_which_passes_unchanged() -> None:
    seen: list[object] = []
    tap = RunnablePassthrough(seen.append)
    assert tap.invoke({"a": 1}) == {"a": 1}
    assert tap.batch([1, 2]) == [1, 2]
    assert sorted(seen[1:]) == [1, 2]
    assert seen[0] == {"a": 1}


def test_tap_of_a_stream_sees_the_chunks_added_up_once_at_the_end() -> None:
    seen: list[str] = []
    chain = RunnableLambda(words) | RunnablePassthrough(seen.append)
    chunks = []
    for chunk in chain.stream("a b c"):
        chunks.append(chunk)
        assert seen == []  # not before the stream has ended
    assert chunks == ["a ", "b ", "c "]
    assert seen == ["a b c "]


def test_tap_receives_the_config_when_it_asks() -> None:
    seen: list[list[str]] = []

    def tap(value: int, config: RunnableConfig) -> None:
        seen.append(config.get("tags", []))

    RunnablePassthrough(tap).invoke(1, {"tags": ["t"]})
    assert seen == [["t"]]


@pytest.mark.anyio
async def test_func_and_afunc_each_get_the_config_if_they_ask() -> None:
    seen: list[object] = []

    def tap(value: int, config: RunnableConfig) -> None:
        seen.append(("sync", config.get("tags")))

    async def atap(value: int) -> None:
        seen.append(("async", value))

    both = RunnablePassthrough(tap, afunc=atap)
    assert both.invoke(1, {"tags": ["t"]}) == 1
    assert await both.ainvoke(2, {"tags": ["t"]}) == 2
    assert seen == [("sync", ["t"]), ("async", 2)]


def test_tap_runs_as_a_leaf_its_runnables_are_children() -> None:
    recorder = Recorder()

    def tap(value: int) -> None:
        RunnableLambda(lambda x: x, name="inner").invoke(value)

    RunnablePassthrough(tap).invoke(1, {"callbacks": [recorder]})
    starts = [name for kind, name, _ in recorder.events if kind == "start"]
    assert starts == ["RunnablePassthrough", "inner"]


def test_tap_error_is_the_users_own() -> None:
    def tap(value: int) -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        RunnablePassthrough(tap).invoke(1)


@pytest.mark.anyio
async def test_async_taps() -> None:
    seen: list[tuple[str, object]] = []

    async def atap(value: object) -> None:
        seen.append(("async", value))

    def tap(value: object) -> None:
        seen.append(("sync", value))

    assert await RunnablePassthrough(tap, afunc=atap).ainvoke(1) == 1
    assert await RunnablePassthrough(tap).ainvoke(2) == 2
    assert await RunnablePassthrough(atap).ainvoke(3) == 3
    assert RunnablePassthrough(afunc=atap).invoke(4) == 4
    chain = RunnableLambda(words) | RunnablePassthrough(afunc=atap)
    assert [c async for c in chain.astream("x y")] == ["x ", "y "]
    assert seen == [("async", 1), ("sync", 2), ("async", 3), ("async", 4), ("async", "x y ")]


def test_tap_refuses_generators_and_a_sync_afunc() -> None:
    with pytest.raises(TypeError, match="not a generator"):
        RunnablePassthrough(words)
    with pytest.raises(TypeError, match="afunc must be an async function"):
        RunnablePassthrough(afunc=print)  # type: ignore[arg-type]


def test_plain_passthrough_is_unchanged() -> None:
    assert RunnablePassthrough() == RunnablePassthrough()
    assert list(RunnablePassthrough().stream("abc")) == ["abc"]


# --------------------------------------------------------------------------------- graph


def first(x: int) -> int:
    return x


def second(x: int) -> int:
    return x


def test_first_and_last_node() -> None:
    graph = (RunnableLambda(first) | {"a": second, "b": second}).get_graph()
    start, end = graph.first_node(), graph.last_node()
    assert start is not None
    assert end is not None
    assert (start.id, start.name, start.data) == ("n0", "firstInput", None)
    assert end.name == "RunnableParallel<a,b>Output"


def test_to_json() -> None:
    is_big = RunnableLambda(lambda x: x > 1, name="is_big")
    graph = RunnableBranch((is_big, RunnableLambda(second)), RunnableLambda(first)).get_graph()
    data = graph.to_json()
    json.dumps(data)  # JSON as it is
    types = [(node["type"], node["data"]) for node in data["nodes"]]
    assert types[0] == ("schema", "RunnableBranchInput")
    assert ("runnable", {"id": ["runnables", "RunnableLambda"], "name": "second"}) in types
    assert {"source": 0, "target": 1, "conditional": True} in data["edges"]
    assert all(set(edge) <= {"source", "target", "conditional"} for edge in data["edges"])


def test_to_json_numbers_nodes_as_langchain_does() -> None:
    from langchain_core.runnables import RunnableLambda as LangChainLambda

    ours = (RunnableLambda(first) | RunnableLambda(second)).get_graph().to_json()
    theirs = (LangChainLambda(first) | LangChainLambda(second)).get_graph().to_json()
    assert [node["id"] for node in ours["nodes"]] == [node["id"] for node in theirs["nodes"]]
    assert ours["nodes"][1]["id"] == 1
    assert (
        ours["edges"]
        == sorted(theirs["edges"], key=lambda edge: edge["source"])
        == [
            {"source": 0, "target": 1},
            {"source": 1, "target": 2},
            {"source": 2, "target": 3},
        ]
    )


def test_print_ascii(capsys: pytest.CaptureFixture[str]) -> None:
    graph = (RunnableLambda(first) | RunnableLambda(second)).get_graph()
    graph.print_ascii()
    assert capsys.readouterr().out == graph.draw_ascii()
