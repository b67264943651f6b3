"""runnables.schema against hostile data: very deep nesting and ambiguous unions.

No ``from __future__ import annotations`` here: TypedDicts cannot see ``NotRequired``
inside postponed annotations.
"""

import dataclasses
import datetime
import decimal
import enum
import uuid
from typing import Any, Literal, Optional

import attrs
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typing_extensions import NotRequired, TypedDict

from runnables.schema import SchemaError, json_schema, unstructure, validate

DEPTH = 100_000
#: Far past the recursion limit, yet quick (DEPTH itself takes seconds per test).
DEEP = 5_000


@attrs.frozen
class Node:
    name: str
    children: list["Node"] = attrs.Factory(list)


class Chain(TypedDict):
    name: str
    next: NotRequired["Chain"]


@dataclasses.dataclass
class Link:
    value: int
    next: Optional["Link"] = None


def _nest(leaf: dict[str, Any], wrap: Any, depth: int = DEEP) -> dict[str, Any]:
    data = leaf
    for _ in range(depth):
        data = wrap(data)
    return data


def _deep_node(name: object) -> dict[str, Any]:
    return _nest({"name": name}, lambda inner: {"name": "n", "children": [inner]}, DEPTH)


# --- depth ------------------------------------------------------------------------------


def test_deep_attrs_data_validates() -> None:
    node = validate(Node, _deep_node("leaf"))
    depth = 0
    while node.children:
        (node,) = node.children
        depth += 1
    assert (depth, node) == (DEPTH, Node("leaf"))


def test_deep_typeddict_and_optional_data_validate() -> None:
    chain = validate(Chain, _nest({"name": "end"}, lambda inner: {"name": "x", "next": inner}))
    links = validate(Link, _nest({"value": 1}, lambda inner: {"value": 0, "next": inner}))
    depth = 0
    while "next" in chain:
        chain = chain["next"]
        assert links.next is not None
        links = links.next
        depth += 1
    assert (depth, chain, links) == (DEEP, {"name": "end"}, Link(1))


def test_deep_bad_leaf_is_reported_with_an_abbreviated_path() -> None:
    with pytest.raises(SchemaError) as info:
        validate(Node, _deep_node(5))
    head = "$" + ".children[0]" * 5
    tail = "[0]" + ".children[0]" * 4 + ".name"
    assert info.value.errors == [f"{head}…({2 * DEPTH - 19:,} more)…{tail}: expected str, got int"]
    assert "(paths longer than 40 segments are abbreviated)" in str(info.value)


def test_deep_failures_inside_unions_keep_their_paths() -> None:
    data = _nest({"value": "one"}, lambda inner: {"value": 0, "next": inner})
    with pytest.raises(SchemaError) as info:
        validate(Link, data)
    (error,) = info.value.errors
    assert error.startswith("$.next.next.next.next.next.next.next.next.next.next…(4,981 more)…")
    assert error.endswith(f"…{'.next' * 9}.value: expected int, got str")


def test_paths_up_to_forty_segments_are_shown_whole() -> None:
    data = {"value": "x"}
    for _ in range(39):
        data = {"value": 0, "next": data}
    with pytest.raises(SchemaError) as info:
        validate(Link, data)
    assert info.value.errors == ["$" + ".next" * 39 + ".value: expected int, got str"]
    assert "abbreviated" not in str(info.value)


def test_deep_data_with_many_errors_lists_them_all() -> None:
    data = _nest({"name": 0}, lambda inner: {"name": 1, "children": [inner]})
    with pytest.raises(SchemaError) as info:
        validate(Node, data)
    assert len(info.value.errors) == DEEP + 1
    assert info.value.errors[0] == "$.name: expected str, got int"


def test_recursive_types_have_ref_schemas_that_accept_deep_values() -> None:
    schema = json_schema(Node)
    assert schema["properties"]["children"]["items"] == {"$ref": "#"}
    assert json_schema(Link)["properties"]["next"]["anyOf"][0] == {"$ref": "#"}
    assert json_schema(list[Chain])["$defs"]["Chain"]["properties"]["next"] == {
        "title": "Next",
        "$ref": "#/$defs/Chain",
    }
    shallow = {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}
    jsonschema.Draft202012Validator(schema).validate(shallow)


def test_errors_raised_by_user_code_are_reported_and_chained() -> None:
    @attrs.frozen
    class Positive:
        n: int = attrs.field(validator=attrs.validators.gt(0))

    with pytest.raises(SchemaError) as info:
        validate(list[Positive], [{"n": 1}, {"n": -1}])
    assert info.value.errors == ["$[1]: ValueError: 'n' must be > 0: -1"]
    assert isinstance(info.value.__cause__, ValueError)


# --- unions -----------------------------------------------------------------------------

WHEN = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
IDENT = uuid.UUID("12345678-1234-5678-1234-567812345678")


class Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("members", "raw", "expected"),
    [
        # a string with a format becomes the formatted member, whatever the order
        ((str, datetime.datetime), "2024-01-02T03:04:05Z", WHEN),
        ((str, datetime.datetime), "soon", "soon"),
        ((str, datetime.date), "2024-01-02", datetime.date(2024, 1, 2)),
        ((str, datetime.time), "03:04", datetime.time(3, 4)),
        ((str, uuid.UUID), str(IDENT), IDENT),
        ((str, decimal.Decimal), "1.50", decimal.Decimal("1.50")),
        ((str, decimal.Decimal), "1.5.0", "1.5.0"),
        # constants first
        ((str, Color), "red", Color.RED),
        ((str, Literal["a"]), "a", "a"),
        ((int, Literal[1]), 1.0, 1),
        # a base64 string stays a str: any short word is valid base64
        ((str, bytes), "abcd", "abcd"),
        ((decimal.Decimal, bytes), "1234", decimal.Decimal("1234")),
        ((bytes, int), "aGk=", b"hi"),
        # numbers keep their written form when both int and float are members
        ((int, float), 1, 1),
        ((int, float), 1.0, 1.0),
        ((int, float), 1.5, 1.5),
        ((int, str), 2.0, 2),
        # formats rank among themselves: date-time, date, time, uuid, decimal
        ((decimal.Decimal, datetime.time), "1200", datetime.time(12, 0)),
    ],
)
def test_union_rule_is_independent_of_declaration_order(
    members: tuple[Any, Any], raw: object, expected: object
) -> None:
    first, second = members
    for tp in (first | second, second | first):
        result = validate(tp, raw)
        assert (type(result), result) == (type(expected), expected)


def test_equal_ranks_keep_declaration_order() -> None:
    # list and tuple are both JSON arrays: the first declared one that accepts wins,
    # even though Python says the two unions are equal
    assert validate(list[int] | tuple[int, ...], [1, 2]) == [1, 2]
    assert validate(tuple[int, ...] | list[int], [1, 2]) == (1, 2)
    assert validate(list[int | str], [1.0]) == [1]
    assert validate(list[str | tuple[int]], [[1]]) == [(1,)]


def test_python_values_pick_their_own_member() -> None:
    assert validate(str | bytes, b"hi") == b"hi"
    assert validate(str | datetime.datetime, WHEN) == WHEN
    assert validate(list[int] | set[int], {1}) == {1}


def test_documented_round_trip_exceptions() -> None:
    # the str member loses a string that parses as a more specific member
    for value in ("2024-01-02T03:04:05+00:00", str(IDENT), "12", "red"):
        assert validate(str | datetime.datetime | uuid.UUID | decimal.Decimal | Color, value) != (
            value
        )
    # bytes beside str come back as str from JSON (but not from Python)
    assert validate(str | bytes, unstructure(b"hi")) == "aGk="
    # tuples beside lists come back as the first declared array member
    assert validate(list[int] | tuple[int, int], unstructure((1, 2))) == [1, 2]


# --- integers and JSON Schema -----------------------------------------------------------


@pytest.mark.parametrize(
    ("tp", "raw"),
    [
        (int, 1.0),
        (int, -0.0),
        (int, 1e20),
        (int, 1.5),
        (int, True),
        (int, float("inf")),
        (float, 1),
        (float, False),
        (Literal[1], 1.0),
        (Literal[1], True),
        (Literal[True], 1),
        (Literal[1, "a"], 1.0),
        (int | None, 2.0),
        (dict[str, int], {"a": 3.0}),
    ],
)
def test_numbers_agree_with_jsonschema(tp: object, raw: object) -> None:
    accepted = jsonschema.Draft202012Validator(json_schema(tp)).is_valid(raw)
    try:
        result = validate(tp, raw)
    except SchemaError:
        assert not accepted
    else:
        assert accepted
        assert result == raw


# --- data that contains itself ------------------------------------------------------------


def test_a_list_that_contains_itself_is_refused_with_both_paths() -> None:
    looped: list[Any] = []
    looped.append({"name": "a", "children": looped})
    with pytest.raises(SchemaError) as info:
        validate(list[Node], looped)
    assert info.value.errors == ["$[0].children: the data contains itself: this is the object at $"]


def test_a_dict_that_contains_itself_deep_down_is_refused() -> None:
    top: dict[str, Any] = {"name": "top", "children": []}
    middle: dict[str, Any] = {"name": "middle", "children": [top]}
    top["children"].append({"name": "leaf"})
    top["children"].append(middle)
    with pytest.raises(SchemaError) as info:
        validate(Node, top)
    assert info.value.errors == [
        "$.children[1].children[0]: the data contains itself: this is the object at $"
    ]


def test_cycles_through_typeddicts_unions_and_optionals_are_refused() -> None:
    chain: dict[str, Any] = {"name": "a"}
    chain["next"] = {"name": "b", "next": chain}
    link: dict[str, Any] = {"value": 1}
    link["next"] = link
    with pytest.raises(SchemaError, match=r"\$\.next\.next: the data contains itself"):
        validate(Chain, chain)
    with pytest.raises(SchemaError, match=r"\$\.next: the data contains itself: .* at \$$"):
        validate(Link, link)


def test_a_cycle_far_down_deep_data_is_found() -> None:
    top: dict[str, Any] = {"name": "top", "children": []}
    node = top
    for _ in range(DEEP):
        child: dict[str, Any] = {"name": "n", "children": []}
        node["children"].append(child)
        node = child
    node["children"].append(top)
    with pytest.raises(SchemaError) as info:
        validate(Node, top)
    (error,) = info.value.errors
    assert error.endswith(".children[0]: the data contains itself: this is the object at $")


def test_shared_objects_that_are_not_cycles_validate() -> None:
    shared = {"name": "shared"}
    tree = validate(
        Node, {"name": "top", "children": [shared, {"name": "x", "children": [shared]}]}
    )
    assert tree.children[0] == tree.children[1].children[0] == Node("shared")


@st.composite
def _trees_with_a_loop(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """A Node tree where one node lists one of its ancestors (or itself) as a child; the
    paths of that child and of the ancestor."""
    tree = draw(
        st.recursive(
            st.fixed_dictionaries({"name": st.text(max_size=3)}),
            lambda kids: st.fixed_dictionaries(
                {"name": st.text(max_size=3), "children": st.lists(kids, max_size=3)}
            ),
            max_leaves=12,
        )
    )
    branches: list[tuple[dict[str, Any], str, list[str]]] = []
    pending: list[tuple[dict[str, Any], str, list[str]]] = [(tree, "$", ["$"])]
    while pending:
        node, path, ancestors = pending.pop()
        branches.append((node, path, ancestors))
        for index, kid in enumerate(node.get("children", [])):
            here = f"{path}.children[{index}]"
            pending.append((kid, here, [*ancestors, here]))
    node, path, ancestors = draw(st.sampled_from(branches))
    target = draw(st.sampled_from(ancestors))
    kids = node.setdefault("children", [])
    loop_path = f"{path}.children[{len(kids)}]"
    found: Any = tree
    for segment in target.split(".children[")[1:]:
        found = found["children"][int(segment.rstrip("]"))]
    kids.append(found)
    return tree, loop_path, target


@given(_trees_with_a_loop())
@settings(max_examples=60, deadline=None)
def test_any_loop_is_reported_at_the_repeat_naming_the_ancestor(
    case: tuple[dict[str, Any], str, str],
) -> None:
    tree, loop_path, target = case
    with pytest.raises(SchemaError) as info:
        validate(Node, tree)
    assert f"{loop_path}: the data contains itself: this is the object at {target}" in (
        info.value.errors
    )
    with pytest.raises(SchemaError) as written:
        unstructure(tree)
    assert "the data contains itself" in str(written.value)


def test_unstructure_names_the_loop_in_classes_and_the_depth_otherwise() -> None:
    @attrs.define
    class Box:
        items: list[Any]

    box = Box([1])
    box.items.append(box)
    with pytest.raises(SchemaError) as info:
        unstructure(box)
    assert info.value.errors == ["$.items[1]: the data contains itself: this is the object at $"]
    assert isinstance(info.value.__cause__, RecursionError)
    with pytest.raises(SchemaError, match=r"\$: nested too deeply to write out"):
        unstructure(_nest({"name": "x"}, lambda inner: {"name": "n", "children": [inner]}))
