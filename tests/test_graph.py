"""`get_graph()`: nodes, edges, mermaid and ascii drawings (api.md §1)."""

from __future__ import annotations

from typing import Any

from runnables import RunnableBranch, RunnableLambda, RunnableParallel, runnable
from runnables.graph import Edge, Graph, Node


@runnable
def shout(text: str) -> str:
    return text.upper()


@runnable
def strip(text: str) -> str:
    return text.strip()


@runnable
def length(text: str) -> int:
    return len(text)


@runnable
def words(text: str) -> int:
    return len(text.split())


def _names(graph: Graph) -> list[str]:
    return [node.name for node in graph.nodes]


def _pairs(graph: Graph) -> set[tuple[str, str]]:
    by_id = {node.id: node.name for node in graph.nodes}
    return {(by_id[edge.source], by_id[edge.target]) for edge in graph.edges}


def _check_well_formed(graph: Graph) -> None:
    ids = [node.id for node in graph.nodes]
    assert len(set(ids)) == len(ids)
    for edge in graph.edges:
        assert edge.source in ids
        assert edge.target in ids
        # nodes are in top-down order: every edge points down
        assert ids.index(edge.source) < ids.index(edge.target)
    assert graph.nodes[0].data is None
    assert graph.nodes[-1].data is None


def test_lambda_is_one_node_between_its_ends() -> None:
    graph = shout.get_graph()
    assert graph == Graph(
        nodes=(Node("n0", "shoutInput"), Node("n1", "shout", shout), Node("n2", "shoutOutput")),
        edges=(Edge("n0", "n1"), Edge("n1", "n2")),
    )
    _check_well_formed(graph)


def test_anonymous_lambda() -> None:
    anonymous = RunnableLambda(lambda x: x)
    graph = anonymous.get_graph()
    name = anonymous.name
    assert _names(graph) == [f"{name}Input", name, f"{name}Output"]


def test_three_step_sequence_is_a_chain() -> None:
    chain = strip | shout | length
    graph = chain.get_graph()
    assert _names(graph) == ["stripInput", "strip", "shout", "length", "lengthOutput"]
    assert [node.data for node in graph.nodes] == [None, strip, shout, length, None]
    assert len(graph.edges) == 4
    assert not any(edge.conditional for edge in graph.edges)
    assert graph.edges == tuple(
        Edge(f"n{index}", f"n{index + 1}") for index in range(len(graph.nodes) - 1)
    )
    _check_well_formed(graph)


def test_parallel_inside_a_sequence_fans_out_and_in() -> None:
    chain = strip | RunnableParallel({"chars": length, "words": words}) | RunnableLambda(str)
    graph = chain.get_graph()
    assert _names(graph) == ["stripInput", "strip", "length", "words", "str", "strOutput"]
    assert _pairs(graph) == {
        ("stripInput", "strip"),
        ("strip", "length"),
        ("strip", "words"),
        ("length", "str"),
        ("words", "str"),
        ("str", "strOutput"),
    }
    assert len(graph.edges) == 6
    _check_well_formed(graph)


def test_parallel_at_the_ends_fans_from_input_and_into_output() -> None:
    graph = RunnableParallel({"chars": length, "words": words}).get_graph()
    assert _names(graph)[1:3] == ["length", "words"]
    assert _pairs(graph) == {
        (_names(graph)[0], "length"),
        (_names(graph)[0], "words"),
        ("length", _names(graph)[-1]),
        ("words", _names(graph)[-1]),
    }
    _check_well_formed(graph)


def test_two_parallels_in_a_row_meet_at_one_junction() -> None:
    first = RunnableParallel({"a": strip, "b": shout})
    second: RunnableParallel[Any] = RunnableParallel({"c": length, "d": words})

    def pick_a(values: dict[str, Any]) -> Any:
        return values["a"]

    graph = (first | RunnableLambda(pick_a) | second).get_graph()
    assert len(graph.nodes) == 7
    assert not any(node.data is None for node in graph.nodes[1:-1])
    graph = (first | second).get_graph()
    junctions = [node for node in graph.nodes[1:-1] if node.data is None]
    assert len(junctions) == 1
    assert len(graph.edges) == 2 + 2 + 2 + 2
    _check_well_formed(graph)


def test_renamed_runnable_shows_its_new_name() -> None:
    named = words.with_config(run_name="counter")
    graph = named.get_graph()
    assert _names(graph) == ["counterInput", "counter", "counterOutput"]
    assert graph.nodes[1].data is words
    assert "counter" in graph.draw_mermaid()
    # inside a sequence too, and through further wrappers
    graph = (strip | named.with_retry()).get_graph()
    assert _names(graph) == ["stripInput", "strip", "counter", "counterOutput"]


def test_wrappers_show_the_wrapped_runnable() -> None:
    chain = strip | shout
    assert _names(chain.with_retry().get_graph()) == _names(chain.get_graph())
    assert _names(chain.with_config(tags=["x"]).get_graph()) == _names(chain.get_graph())
    fallback = shout.with_fallbacks([strip])
    assert _names(fallback.get_graph()) == ["shoutInput", "shout", "shoutOutput"]
    assert _names(chain.with_fallbacks([chain]).get_graph()) == _names(chain.get_graph())
    each = shout.map().get_graph()
    assert [node.data for node in each.nodes] == [None, shout, None]


def test_branch_edges_are_conditional() -> None:
    branch = RunnableBranch((lambda text: text.isupper(), strip), shout)
    graph = branch.get_graph()
    assert _names(graph)[1:3] == ["strip", "shout"]
    conditional = {(edge.source, edge.target) for edge in graph.edges if edge.conditional}
    assert conditional == {("n0", "n1"), ("n0", "n2")}
    assert "n0 -.-> n1;" in graph.draw_mermaid()
    assert "-.-> strip" in graph.draw_ascii()


def test_mermaid_has_every_node_and_edge() -> None:
    chain = strip | RunnableParallel({"chars": length, "words": words}) | RunnableLambda(str)
    graph = chain.get_graph()
    text = graph.draw_mermaid()
    lines = text.splitlines()
    assert lines[0] == "graph TD;"
    assert len(lines) == 1 + len(graph.nodes) + len(graph.edges)
    for node in graph.nodes:
        assert any(line.strip().startswith(node.id) and f'"{node.name}"' in line for line in lines)
    for edge in graph.edges:
        assert f"\t{edge.source} --> {edge.target};" in lines


def test_mermaid_escapes_labels() -> None:
    odd = RunnableLambda(lambda x: x, name='say "hi" <now> #1')
    text = odd.get_graph().draw_mermaid()
    assert '"say #quot;hi#quot; #lt;now#gt; #35;1"' in text
    for line in text.splitlines()[1:]:
        label = line.partition('"')[2].rpartition('"')[0]
        assert '"' not in label
        assert "<" not in label


def test_ascii_has_every_node_name() -> None:
    chain = strip | RunnableParallel({"chars": length, "words": words}) | RunnableLambda(str)
    graph = chain.get_graph()
    text = graph.draw_ascii()
    for node in graph.nodes:
        assert node.name in text
    assert text.splitlines()[0] == "stripInput"
    assert "  --> strip" in text.splitlines()


def test_ascii_tells_apart_nodes_that_share_a_name() -> None:
    text = (shout | strip | shout).get_graph().draw_ascii()
    assert "shout (n1)" in text
    assert "shout (n3)" in text


def test_graphs_are_deterministic() -> None:
    def build() -> Graph:
        chain = strip | RunnableParallel({"chars": length, "words": words}) | RunnableLambda(str)
        return chain.get_graph()

    first, second = build(), build()
    assert first.nodes == second.nodes
    assert first.edges == second.edges
    assert first.draw_mermaid() == second.draw_mermaid()
    assert first.draw_ascii() == second.draw_ascii()
