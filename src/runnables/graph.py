"""`Graph`: a runnable's structure as nodes and edges, drawable as mermaid or plain text.

`graph_of(runnable)` (what `runnable.get_graph()` returns) walks the primitives: a sequence
chains its steps, a parallel (or an assign's mapper) fans out to its branches and back in, a
branch fans out along conditional edges, and a binding, retry, fallbacks or each shows the
runnable it wraps. Anything else is one node. Every graph starts at an input node and ends at
an output node, named after the runnable's input and output schemas (``shoutInput`` ...
``tokensOutput``). Node ids are ``n0``, ``n1``, ... in top-down order, so a graph and its
drawings are deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any, Union, cast

import attrs

from runnables._core.base import RunnableBase
from runnables._primitives.binding import RunnableBinding
from runnables._primitives.branch import RunnableBranch
from runnables._primitives.each import RunnableEach
from runnables._primitives.fallbacks import RunnableWithFallbacks
from runnables._primitives.parallel import RunnableParallel
from runnables._primitives.passthrough import RunnableAssign
from runnables._primitives.retry import RunnableRetry
from runnables._primitives.sequence import RunnableSequence
from runnables._primitives.tuple_ import RunnableTuple

__all__ = ["Edge", "Graph", "Node", "graph_of"]


@attrs.frozen
class Node:
    """One node: a runnable (`data`), or `data=None` for the input and output ends (and for the
    junction drawn between two fan-outs that follow each other)."""

    id: str
    name: str
    data: RunnableBase[Any, Any] | None = attrs.field(default=None, hash=False)


@attrs.frozen
class Edge:
    """An edge from node id `source` to node id `target`; `conditional` when it is one branch
    of a `RunnableBranch`."""

    source: str
    target: str
    conditional: bool = False


@attrs.frozen
class Graph:
    """A runnable's structure: `nodes` in top-down order (input first, output last), `edges`."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def draw_mermaid(self) -> str:
        """Mermaid flowchart text: ``graph TD;`` then one line per node, then one per edge."""
        lines = ["graph TD;"]
        for node in self.nodes:
            label = _mermaid_label(node.name)
            shape = f"([{label}])" if node.data is None else f"[{label}]"
            lines.append(f"\t{node.id}{shape};")
        for edge in self.edges:
            arrow = "-.->" if edge.conditional else "-->"
            lines.append(f"\t{edge.source} {arrow} {edge.target};")
        return "\n".join(lines) + "\n"

    def draw_ascii(self) -> str:
        """Plain text, top down: each node's name, then one indented line per edge leaving it
        (``--> target``, or ``-.-> target`` for a conditional edge). A name that several nodes
        share is followed by the node id."""
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.name] = counts.get(node.name, 0) + 1
        labels = {
            node.id: node.name if counts[node.name] == 1 else f"{node.name} ({node.id})"
            for node in self.nodes
        }
        lines: list[str] = []
        for node in self.nodes:
            lines.append(labels[node.id])
            for edge in self.edges:
                if edge.source == node.id:
                    arrow = "-.->" if edge.conditional else "-->"
                    lines.append(f"  {arrow} {labels[edge.target]}")
        return "\n".join(lines) + "\n"

    def print_ascii(self) -> None:
        """Print `draw_ascii()`."""
        print(self.draw_ascii(), end="")

    def first_node(self) -> Node | None:
        """The one node no edge leads to (the input end), or None if there is not exactly one."""
        targets = {edge.target for edge in self.edges}
        found = [node for node in self.nodes if node.id not in targets]
        return found[0] if len(found) == 1 else None

    def last_node(self) -> Node | None:
        """The one node no edge leaves (the output end), or None if there is not exactly one."""
        sources = {edge.source for edge in self.edges}
        found = [node for node in self.nodes if node.id not in sources]
        return found[0] if len(found) == 1 else None

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        """The graph as JSON data, in LangChain's shape: ``{"nodes": [...], "edges": [...]}``.

        A node's id is its position in `nodes` (an int, as LangChain numbers its generated
        ids). A runnable's node is ``{"id", "type": "runnable", "data": {"id": ["runnables",
        class name], "name"}}``, an end or junction is ``{"id", "type": "schema", "data":
        name}``; an edge is ``{"source", "target"}`` plus ``"conditional": true`` if it is.
        """
        position = {node.id: index for index, node in enumerate(self.nodes)}
        nodes: list[dict[str, Any]] = []
        for node in self.nodes:
            if node.data is None:
                nodes.append({"id": position[node.id], "type": "schema", "data": node.name})
            else:
                identity = ["runnables", type(node.data).__name__]
                data = {"id": identity, "name": node.name}
                nodes.append({"id": position[node.id], "type": "runnable", "data": data})
        edges: list[dict[str, Any]] = []
        for edge in self.edges:
            item: dict[str, Any] = {
                "source": position[edge.source],
                "target": position[edge.target],
            }
            if edge.conditional:
                item["conditional"] = True
            edges.append(item)
        return {"nodes": nodes, "edges": edges}


_DRAWN_AS_BOUND = (RunnableBinding, RunnableRetry, RunnableWithFallbacks, RunnableEach)
_Wrapper = Union[  # noqa: UP007
    RunnableBinding[Any, Any],
    RunnableRetry[Any, Any],
    RunnableWithFallbacks[Any, Any],
    RunnableEach[Any, Any],
]


def graph_of(runnable: RunnableBase[Any, Any]) -> Graph:
    """The graph of `runnable`: its input node, its structure, its output node."""
    ends = runnable
    while isinstance(ends, (RunnableRetry, RunnableWithFallbacks)):  # same schemas as inside
        ends = ends.bound
    build = _Builder()
    start = build.node(ends.input_schema.title, None)
    entries, exits = build.add(runnable, None)
    build.link((start,), entries, runnable)
    end = build.node(ends.output_schema.title, None)
    build.link(exits, ((end, False),), runnable)
    return build.graph()


def _mermaid_label(name: str) -> str:
    """`name` as a quoted mermaid label, with the characters mermaid reads escaped."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        name = name.replace(char, code)
    return '"' + " ".join(name.splitlines()) + '"'


# (node index, is the edge into it conditional)
_Entries = tuple[tuple[int, bool], ...]
_Exits = tuple[int, ...]


class _Builder:
    """Nodes and edges by insertion index; `graph()` orders them top down and names them."""

    def __init__(self) -> None:
        self.nodes: list[tuple[str, RunnableBase[Any, Any] | None]] = []
        self.edges: list[tuple[int, int, bool]] = []

    def node(self, name: str, data: RunnableBase[Any, Any] | None) -> int:
        self.nodes.append((name, data))
        return len(self.nodes) - 1

    def link(self, exits: _Exits, entries: _Entries, into: RunnableBase[Any, Any]) -> None:
        """Edges from every exit to every entry, through one junction node if both fan."""
        if len(exits) > 1 and len(entries) > 1:
            junction = self.node(into.input_schema.title, None)
            self.edges.extend((source, junction, False) for source in exits)
            exits = (junction,)
        self.edges.extend((s, t, c) for s in exits for t, c in entries)

    def add(self, runnable: RunnableBase[Any, Any], name: str | None) -> tuple[_Entries, _Exits]:
        """Add `runnable`'s nodes (a leaf named `name` if given); its entries and exits."""
        if isinstance(runnable, RunnableSequence):
            steps: Sequence[RunnableBase[Any, Any]] = runnable.steps
            entries, exits = self.add(steps[0], None)
            for step in steps[1:]:
                step_entries, step_exits = self.add(step, None)
                self.link(exits, step_entries, step)
                exits = step_exits
            return entries, exits
        if isinstance(runnable, RunnableParallel) and runnable.branches:
            return self.fan([branch for _, branch in runnable.branches], conditional=False)
        if isinstance(runnable, RunnableTuple):
            return self.add(runnable.bound, None)
        if isinstance(runnable, RunnableAssign) and runnable.bound.branches:
            return self.fan([branch for _, branch in runnable.bound.branches], conditional=False)
        if isinstance(runnable, RunnableBranch):
            targets = [target for _, target in runnable.branches]
            return self.fan([*targets, runnable.default], conditional=True)
        if isinstance(runnable, _DRAWN_AS_BOUND):
            # Wrappers drawn as the runnable they wrap, under their own name.
            wrapper = cast("_Wrapper", runnable)
            return self.add(wrapper.bound, name or wrapper.name)
        index = self.node(name or runnable.name, runnable)
        return ((index, False),), (index,)

    def fan(
        self, branches: Sequence[RunnableBase[Any, Any]], *, conditional: bool
    ) -> tuple[_Entries, _Exits]:
        entries: list[tuple[int, bool]] = []
        exits: list[int] = []
        for branch in branches:
            branch_entries, branch_exits = self.add(branch, None)
            entries.extend((index, conditional or c) for index, c in branch_entries)
            exits.extend(branch_exits)
        return tuple(entries), tuple(exits)

    def graph(self) -> Graph:
        """Order the nodes top down (ties by insertion), number them, and freeze."""
        incoming = [0] * len(self.nodes)
        outgoing: list[list[int]] = [[] for _ in self.nodes]
        for source, target, _ in self.edges:
            incoming[target] += 1
            outgoing[source].append(target)
        ready = [index for index, count in enumerate(incoming) if count == 0]
        heapq.heapify(ready)
        order: list[int] = []
        while ready:
            index = heapq.heappop(ready)
            order.append(index)
            for target in outgoing[index]:
                incoming[target] -= 1
                if incoming[target] == 0:
                    heapq.heappush(ready, target)
        ids = {index: f"n{position}" for position, index in enumerate(order)}
        nodes = tuple(Node(ids[i], self.nodes[i][0], self.nodes[i][1]) for i in order)
        edges = sorted(
            (Edge(ids[s], ids[t], c) for s, t, c in self.edges),
            key=lambda edge: (int(edge.source[1:]), int(edge.target[1:])),
        )
        return Graph(nodes, tuple(edges))
