"""Tests for runnables.schema: schema output per kind, strict validation, round trips.

No ``from __future__ import annotations`` here: TypedDicts cannot see ``NotRequired``
inside string annotations (a typing limitation), so forward references are quoted.
"""

import collections.abc
import dataclasses
import datetime
import decimal
import enum
import pathlib
import sys
import types
import typing
import uuid
from typing import Annotated, Any, Generic, Literal, NewType, Optional, TypeVar, Union

import attrs
import jsonschema
import pytest
from typing_extensions import NotRequired, Required, TypedDict

from runnables.schema import (
    Description,
    Ge,
    Gt,
    Le,
    Lt,
    MaxLen,
    MinLen,
    Pattern,
    Schema,
    SchemaError,
    json_schema,
    unstructure,
    validate,
)

T = TypeVar("T")


# --- types under test -------------------------------------------------------------------


@attrs.frozen
class PromptInput:
    topic: str


class Color(enum.Enum):
    """A primary-ish colour."""

    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.define
class Item:
    """A line of an order.

    Indented second paragraph.
    """

    name: str = attrs.field(metadata={"description": "What it is."})
    qty: Annotated[int, Ge(0)] = 1
    color: Color = Color.RED
    tags: list[str] = attrs.Factory(list)


@dataclasses.dataclass
class Order:
    items: list[Item]
    when: datetime.datetime
    note: Optional[str] = None  # noqa: UP045 - the typing spelling is under test
    labels: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class Documented:
    """Hand-written docs."""

    x: int = dataclasses.field(default=0, metadata={"description": "The x."})


class Movie(TypedDict):
    title: str
    year: NotRequired[int]


class Partial(TypedDict, total=False):
    a: int
    b: Required[str]


@attrs.define
class Box(Generic[T]):
    value: T
    others: list[T] = attrs.Factory(list)


class TBox(TypedDict, Generic[T]):
    value: T


@attrs.define
class Node:
    value: int
    children: list["Node"] = attrs.Factory(list)


@dataclasses.dataclass
class Tree:
    left: Optional["Tree"] = None
    right: "Tree | None" = None


class Chain(TypedDict):
    name: str
    next: NotRequired["Chain"]


UserId = NewType("UserId", int)


@attrs.define
class Everything:
    """Exercises every leaf kind in one class."""

    s: str
    i: int
    f: float
    b: bool
    n: None
    raw: bytes
    price: decimal.Decimal
    at: datetime.datetime
    day: datetime.date
    clock: datetime.time
    id: uuid.UUID
    path: pathlib.Path
    color: Color
    level: Level
    lit: Literal["a", "b"]
    anything: Any
    pair: tuple[int, str]
    many: tuple[int, ...]
    frozen: frozenset[int]
    seq: collections.abc.Sequence[int]
    mapping: collections.abc.Mapping[str, float]
    user: UserId
    movie: Movie
    box: Box[str]
    either: Union[int, str]  # noqa: UP007


def check(schema: dict[str, Any], *instances: object) -> None:
    """The schema is valid 2020-12 and each instance validates against it."""
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for instance in instances:
        validator.validate(instance)


# --- LangChain-seed style ---------------------------------------------------------------


def test_prompt_input_attrs_class() -> None:
    schema = Schema(PromptInput, "PromptInput").json_schema()
    assert schema == {
        "title": "PromptInput",
        "type": "object",
        "properties": {"topic": {"title": "Topic", "type": "string"}},
        "required": ["topic"],
        "additionalProperties": False,
    }
    check(schema, {"topic": "cats"})


def test_schema_object_from_fields() -> None:
    schema = Schema.object("PromptInput", {"topic": str})
    assert schema.json_schema() == {
        "title": "PromptInput",
        "type": "object",
        "properties": {"topic": {"title": "Topic", "type": "string"}},
        "required": ["topic"],
    }
    check(schema.json_schema(), {"topic": "cats", "other": 1})
    assert schema.validate({"topic": "cats"}) == {"topic": "cats"}
    # prompts ignore (and keep) extra keys
    assert schema.validate({"topic": "cats", "x": 1}) == {"topic": "cats", "x": 1}
    with pytest.raises(SchemaError) as info:
        schema.validate({"topic": 3})
    assert info.value.errors == ["$.topic: expected str, got int"]
    with pytest.raises(SchemaError) as info:
        schema.validate({})
    assert info.value.errors == ["$: missing required key 'topic'"]


def test_schema_object_optional_keys_and_equality() -> None:
    schema = Schema.object("Q", {"question": str, "context": list[str]}, required=["question"])
    assert schema.json_schema() == {
        "title": "Q",
        "type": "object",
        "properties": {
            "question": {"title": "Question", "type": "string"},
            "context": {"title": "Context", "type": "array", "items": {"type": "string"}},
        },
        "required": ["question"],
    }
    assert schema.validate({"question": "?"}) == {"question": "?"}
    assert schema == Schema.object("Q", {"question": str, "context": list[str]}, ["question"])
    assert schema != Schema.object("Q", {"question": str})
    with pytest.raises(ValueError, match="not among the fields"):
        Schema.object("Q", {"a": str}, required=["b"])


def test_schema_object_no_required_keys() -> None:
    schema = Schema.object("Empty", {"a": int}, required=())
    assert schema.json_schema() == {
        "title": "Empty",
        "type": "object",
        "properties": {"a": {"title": "A", "type": "integer"}},
    }
    assert schema.validate({}) == {}


# --- leaves -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (type(None), {"type": "null"}),
        (bytes, {"type": "string", "contentEncoding": "base64"}),
        (datetime.datetime, {"type": "string", "format": "date-time"}),
        (datetime.date, {"type": "string", "format": "date"}),
        (datetime.time, {"type": "string", "format": "time"}),
        (uuid.UUID, {"type": "string", "format": "uuid"}),
        (pathlib.Path, {"type": "string", "format": "path"}),
        (Any, {}),
        (object, {}),
        (UserId, {"type": "integer"}),
        (Literal["a"], {"const": "a", "type": "string"}),
        (Literal[1, 2], {"enum": [1, 2], "type": "integer"}),
        (Literal["a", 1], {"enum": ["a", 1]}),
        (Literal[None], {"const": None, "type": "null"}),
        (Literal[Color.RED], {"const": "red", "type": "string"}),
    ],
)
def test_leaf_schemas(tp: object, expected: dict[str, Any]) -> None:
    schema = json_schema(tp, title="T")
    assert schema == {"title": "T", **expected}
    check(schema)


def test_decimal_schema_is_a_numeric_string() -> None:
    schema = json_schema(decimal.Decimal, title="D")
    assert schema["type"] == "string"
    check(schema, "1.50", "-3", "1e10", ".5")
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid("NaN")
    assert not validator.is_valid(1.5)


def test_default_title_is_the_type_name() -> None:
    assert json_schema(int)["title"] == "int"
    assert json_schema(list[int])["title"] == "list[int]"
    assert json_schema(Box[int])["title"] == "Box[int]"
    assert json_schema(PromptInput)["title"] == "PromptInput"


# --- containers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (list, {"type": "array", "items": {}}),
        (typing.List[str], {"type": "array", "items": {"type": "string"}}),  # noqa: UP006
        (collections.abc.Sequence[int], {"type": "array", "items": {"type": "integer"}}),
        (set[str], {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        (frozenset[int], {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
        (tuple, {"type": "array", "items": {}}),
        (tuple[()], {"type": "array", "maxItems": 0}),
        (
            tuple[int, str],
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            },
        ),
        (dict[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
        (dict, {"type": "object", "additionalProperties": {}}),
        (
            collections.abc.Mapping[str, list[bool]],
            {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "boolean"}},
            },
        ),
        (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),  # noqa: UP045
        (int | str, {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
    ],
)
def test_container_schemas(tp: object, expected: dict[str, Any]) -> None:
    schema = json_schema(tp, title="T")
    assert schema == {"title": "T", **expected}
    check(schema)


def test_non_str_mapping_keys_are_rejected() -> None:
    with pytest.raises(TypeError, match="str keys"):
        json_schema(dict[int, str])


@pytest.mark.parametrize(
    ("tp", "extra"),
    [
        (Annotated[str, MinLen(1), MaxLen(3)], {"type": "string", "minLength": 1, "maxLength": 3}),
        (
            Annotated[list[int], MinLen(1)],
            {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        ),
        (
            Annotated[dict[str, int], MaxLen(2)],
            {"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 2},
        ),
        (Annotated[int, Ge(0), Le(9)], {"type": "integer", "minimum": 0, "maximum": 9}),
        (
            Annotated[float, Gt(0), Lt(1)],
            {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        ),
        (Annotated[str, Pattern("^a")], {"type": "string", "pattern": "^a"}),
        (Annotated[int, Description("How many.")], {"type": "integer", "description": "How many."}),
        (Annotated[int, "foreign metadata is ignored"], {"type": "integer"}),
    ],
)
def test_annotated_schemas(tp: object, extra: dict[str, Any]) -> None:
    schema = json_schema(tp, title="T")
    assert schema == {"title": "T", **extra}
    check(schema)


def test_inapplicable_constraint_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="numbers"):
        json_schema(Annotated[str, Ge(1)])
    with pytest.raises(TypeError, match="strings, arrays and objects"):
        json_schema(Annotated[int, MinLen(1)])


@pytest.mark.parametrize(
    ("tp", "good", "bad", "error"),
    [
        (Annotated[str, MinLen(2)], "ab", "a", "$: length 1 is less than 2"),
        (Annotated[list[int], MaxLen(1)], [1], [1, 2], "$: length 2 is more than 1"),
        (Annotated[int, Ge(0)], 0, -1, "$: -1 is less than 0"),
        (Annotated[int, Gt(0)], 1, 0, "$: 0 is not greater than 0"),
        (Annotated[float, Le(1)], 1.0, 1.5, "$: 1.5 is more than 1"),
        (Annotated[float, Lt(1)], 0.5, 1, "$: 1.0 is not less than 1"),
        (Annotated[str, Pattern("^a")], "abc", "cab", "$: does not match '^a'"),
    ],
)
def test_annotated_validation(tp: object, good: object, bad: object, error: str) -> None:
    assert validate(tp, good) == good
    with pytest.raises(SchemaError) as info:
        validate(tp, bad)
    assert info.value.errors == [error]


# --- named types ------------------------------------------------------------------------


def test_enum_schema_under_defs() -> None:
    schema = json_schema(list[Color], title="Colors")
    assert schema == {
        "title": "Colors",
        "type": "array",
        "items": {"$ref": "#/$defs/Color"},
        "$defs": {
            "Color": {
                "title": "Color",
                "description": "A primary-ish colour.",
                "enum": ["red", "green"],
                "type": "string",
            }
        },
    }
    check(schema, ["red"])
    assert json_schema(Level, title="L") == {"title": "L", "enum": [1, 2], "type": "integer"}


def test_attrs_class_schema() -> None:
    schema = json_schema(Item)
    assert schema == {
        "title": "Item",
        "description": "A line of an order.\n\nIndented second paragraph.",
        "type": "object",
        "properties": {
            "name": {"title": "Name", "type": "string", "description": "What it is."},
            "qty": {"title": "Qty", "type": "integer", "minimum": 0, "default": 1},
            "color": {"title": "Color", "$ref": "#/$defs/Color", "default": "red"},
            "tags": {"title": "Tags", "type": "array", "items": {"type": "string"}},
        },
        "required": ["name"],
        "additionalProperties": False,
        "$defs": {
            "Color": {
                "title": "Color",
                "description": "A primary-ish colour.",
                "enum": ["red", "green"],
                "type": "string",
            }
        },
    }
    check(schema, {"name": "x"}, unstructure(Item("a", 2, Color.GREEN, ["t"])))


def test_dataclass_schema_without_generated_docstring() -> None:
    schema = json_schema(Order)
    assert "description" not in schema
    assert schema["required"] == ["items", "when"]
    assert schema["properties"]["note"] == {
        "title": "Note",
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "default": None,
    }
    assert schema["properties"]["labels"] == {
        "title": "Labels",
        "type": "array",
        "items": {"type": "string"},
        "uniqueItems": True,
    }
    assert schema["properties"]["items"] == {
        "title": "Items",
        "type": "array",
        "items": {"$ref": "#/$defs/Item"},
    }
    assert set(schema["$defs"]) == {"Item", "Color"}
    assert json_schema(Documented) == {
        "title": "Documented",
        "description": "Hand-written docs.",
        "type": "object",
        "properties": {
            "x": {"title": "X", "type": "integer", "default": 0, "description": "The x."}
        },
        "additionalProperties": False,
    }


def test_typeddict_schemas() -> None:
    assert json_schema(Movie) == {
        "title": "Movie",
        "type": "object",
        "properties": {
            "title": {"title": "Title", "type": "string"},
            "year": {"title": "Year", "type": "integer"},
        },
        "required": ["title"],
        "additionalProperties": False,
    }
    partial = json_schema(Partial)
    assert partial["required"] == ["b"]
    assert partial["additionalProperties"] is False
    check(partial, {"b": "x"}, {"a": 1, "b": "y"})


def test_property_titles() -> None:
    tp = Schema.object("T", {"tool_call_id": str, "topic": str, "_private": int, "camelCase": int})
    titles = [p["title"] for p in tp.json_schema()["properties"].values()]
    assert titles == ["Tool Call Id", "Topic", "Private", "CamelCase"]


def test_generic_classes() -> None:
    schema = json_schema(list[Box[int]], title="Boxes")
    assert schema == {
        "title": "Boxes",
        "type": "array",
        "items": {"$ref": "#/$defs/Box_int_"},
        "$defs": {
            "Box_int_": {
                "title": "Box[int]",
                "type": "object",
                "properties": {
                    "value": {"title": "Value", "type": "integer"},
                    "others": {"title": "Others", "type": "array", "items": {"type": "integer"}},
                },
                "required": ["value"],
                "additionalProperties": False,
            }
        },
    }
    assert validate(Box[int], {"value": 1, "others": [2]}) == Box(1, [2])
    with pytest.raises(SchemaError) as info:
        validate(Box[int], {"value": "1", "others": [2, "x"]})
    assert info.value.errors == [
        "$.value: expected int, got str",
        "$.others[1]: expected int, got str",
    ]
    assert json_schema(TBox[str])["properties"] == {"value": {"title": "Value", "type": "string"}}
    assert validate(TBox[str], {"value": "v"}) == {"value": "v"}
    with pytest.raises(TypeError, match="type variable"):
        json_schema(Box)


def test_same_name_different_types_get_distinct_defs() -> None:
    first = attrs.make_class("Dup", {"a": attrs.field(type=int)})
    second = attrs.make_class("Dup", {"b": attrs.field(type=str)})
    schema = json_schema(tuple[first, second], title="Pair")
    assert set(schema["$defs"]) == {"Dup", "Dup_2"}
    check(schema, [{"a": 1}, {"b": "x"}])


def test_recursive_types() -> None:
    schema = json_schema(Node)
    assert schema["properties"]["children"] == {
        "title": "Children",
        "type": "array",
        "items": {"$ref": "#"},
    }
    assert "$defs" not in schema
    value = Node(1, [Node(2, [Node(3)])])
    check(schema, unstructure(value))
    assert validate(Node, unstructure(value)) == value

    nested = json_schema(list[Tree], title="Forest")
    assert nested["items"] == {"$ref": "#/$defs/Tree"}
    left = nested["$defs"]["Tree"]["properties"]["left"]
    assert left["anyOf"] == [{"$ref": "#/$defs/Tree"}, {"type": "null"}]
    tree = Tree(Tree(None, Tree()), None)
    check(nested, [unstructure(tree)])
    assert validate(list[Tree], [unstructure(tree)]) == [tree]

    chain: Chain = {"name": "a", "next": {"name": "b", "next": {"name": "c"}}}
    check(json_schema(Chain), chain)
    assert validate(Chain, chain) == chain
    with pytest.raises(SchemaError) as info:
        validate(Chain, {"name": "a", "next": {"name": "b", "next": {"name": 3}}})
    assert info.value.errors == ["$.next.next.name: expected str, got int"]


def test_unsupported_types_raise_type_error() -> None:
    class Plain:
        pass

    for tp in (Plain, complex, typing.Callable[[int], int], type[int]):
        with pytest.raises(TypeError, match="does not support"):
            json_schema(tp)
        with pytest.raises(TypeError, match="does not support"):
            Schema(tp, "x").validate(1)
    with pytest.raises(TypeError, match="does not support"):
        json_schema(list[Plain])


# --- validation -------------------------------------------------------------------------


def test_strict_primitives() -> None:
    assert validate(int, 3) == 3
    assert type(validate(int, 1.0)) is int  # JSON Schema's "integer" counts 1.0 too
    assert validate(float, 1) == 1.0
    assert isinstance(validate(float, 1), float)
    assert validate(str, "x") == "x"
    assert validate(bool, True) is True
    assert validate(None, None) is None
    for tp, bad, message in [
        (int, "3", "$: expected int, got str"),
        (int, True, "$: expected int, got bool"),
        (int, 1.5, "$: expected int, got float"),
        (str, 1, "$: expected str, got int"),
        (float, "1.5", "$: expected float, got str"),
        (float, False, "$: expected float, got bool"),
        (bool, 1, "$: expected bool, got int"),
        (None, 0, "$: expected None, got int"),
    ]:
        with pytest.raises(SchemaError) as info:
            validate(tp, bad)
        assert info.value.errors == [message]


def test_string_encoded_leaves() -> None:
    assert validate(bytes, "aGk=") == b"hi"
    assert validate(bytes, b"hi") == b"hi"
    assert validate(decimal.Decimal, "1.10") == decimal.Decimal("1.10")
    assert validate(datetime.datetime, "2024-01-02T03:04:05Z") == datetime.datetime(
        2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc
    )
    assert validate(datetime.date, "2024-01-02") == datetime.date(2024, 1, 2)
    assert validate(datetime.time, "03:04:05") == datetime.time(3, 4, 5)
    ident = uuid.uuid4()
    assert validate(uuid.UUID, str(ident)) == ident
    assert validate(pathlib.Path, "/tmp/x") == pathlib.Path("/tmp/x")
    assert validate(Color, "red") is Color.RED
    assert validate(Color, Color.GREEN) is Color.GREEN
    assert validate(Level, 2) is Level.HIGH
    assert validate(Literal["a", "b"], "b") == "b"
    assert validate(UserId, 5) == 5
    for tp, bad in [
        (bytes, "not base64!"),
        (bytes, 3),
        (decimal.Decimal, "NaN"),
        (decimal.Decimal, 1.5),
        (datetime.datetime, "2024-01-02"),
        (datetime.datetime, "yesterday at noon"),
        (datetime.date, datetime.datetime(2024, 1, 1)),
        (datetime.time, "25:00"),
        (uuid.UUID, "nope"),
        (pathlib.Path, 3),
        (Color, "blue"),
        (Level, True),
        (Level, "1"),
        (Literal[1], True),
        (Literal["a"], "b"),
        (UserId, "5"),
    ]:
        with pytest.raises(SchemaError) as info:
            validate(tp, bad)
        assert len(info.value.errors) == 1
        assert info.value.errors[0].startswith("$: ")


def test_containers_validate_to_their_types() -> None:
    assert validate(list[int], [1, 2]) == [1, 2]
    assert validate(tuple[int, str], [1, "a"]) == (1, "a")
    assert validate(tuple[int, ...], [1, 2, 3]) == (1, 2, 3)
    assert validate(set[int], [1, 2]) == {1, 2}
    assert isinstance(validate(frozenset[int], [1]), frozenset)
    assert validate(collections.abc.Sequence[int], (1, 2)) == [1, 2]
    assert validate(dict[str, int], {"a": 1}) == {"a": 1}
    assert validate(Any, {"x": object}) == {"x": object}
    for tp, bad, message in [
        (list[int], "abc", "$: expected list, got str"),
        (list[int], {"a": 1}, "$: expected list, got dict"),
        (tuple[int, str], [1], "$: expected 2 items, got 1"),
        (tuple[int, str], [1, 2], "$[1]: expected str, got int"),
        (set[int], [1, 1], "$: expected unique items"),
        (dict[str, int], [1], "$: expected dict, got list"),
        (dict[str, int], {1: 1}, "$: expected str keys, got 1"),
        (dict[str, int], {"a b": "x"}, '$["a b"]: expected int, got str'),
    ]:
        with pytest.raises(SchemaError) as info:
            validate(tp, bad)
        assert info.value.errors == [message]


def test_unions() -> None:
    assert validate(int | str, "a") == "a"
    assert validate(int | str, 1) == 1
    assert validate(Optional[Item], None) is None  # noqa: UP045
    with pytest.raises(SchemaError) as info:
        validate(int | str, 1.5)
    assert info.value.errors == ["$: expected int | str, got float"]
    # a dict can only be the Item: its own errors are reported, with their paths
    with pytest.raises(SchemaError) as info:
        validate(Optional[Item], {"name": 1})  # noqa: UP045
    assert info.value.errors == ["$.name: expected str, got int"]
    with pytest.raises(SchemaError) as info:
        validate(Optional[Item], {})  # noqa: UP045
    assert info.value.errors == ["$: missing required key 'name'"]
    with pytest.raises(SchemaError) as info:
        validate(Annotated[int, Ge(0)] | None, -1)
    assert info.value.errors == ["$: -1 is less than 0"]


def test_bad_input_lists_every_failure_with_paths() -> None:
    data = {
        "items": [
            {"name": "ok"},
            {"name": 1, "qty": -1, "bogus": True},
            {"qty": 2, "color": "blue"},
        ],
        "when": "not a date",
        "note": 5,
        "extra": 1,
    }
    with pytest.raises(SchemaError) as info:
        Schema(Order, "Order").validate(data)
    errors = info.value.errors
    assert errors == [
        "$.items[1].name: expected str, got int",
        "$.items[1].qty: -1 is less than 0",
        "$.items[1].bogus: unexpected key",
        "$.items[2]: missing required key 'name'",
        "$.items[2].color: expected one of 'red', 'green', got 'blue'",
        "$.when: expected an ISO date-time string, got 'not a date'",
        "$.note: expected str | None, got int",
        "$.extra: unexpected key",
    ]
    message = str(info.value)
    assert message.startswith("8 validation errors for Order:")
    for error in errors:
        assert error in message
    assert isinstance(info.value, ValueError)


def test_typeddict_validation() -> None:
    assert validate(Movie, {"title": "x"}) == {"title": "x"}
    assert validate(Movie, {"title": "x", "year": 1999}) == {"title": "x", "year": 1999}
    with pytest.raises(SchemaError) as info:
        validate(Movie, {"year": "1999", "rating": 5})
    assert info.value.errors == [
        "$: missing required key 'title'",
        "$.year: expected int, got str",
        "$.rating: unexpected key",
    ]
    with pytest.raises(SchemaError) as info:
        validate(Partial, {"a": 1})
    assert info.value.errors == ["$: missing required key 'b'"]
    with pytest.raises(SchemaError) as info:
        validate(Movie, "x")
    assert info.value.errors == ["$: expected object, got str"]


def test_attrs_instance_is_accepted_as_is() -> None:
    item = Item("a")
    assert validate(Item, item) is item


def test_everything_round_trips_and_matches_json_schema() -> None:
    value = Everything(
        s="s",
        i=1,
        f=1.5,
        b=False,
        n=None,
        raw=b"\x00\xff",
        price=decimal.Decimal("12.340"),
        at=datetime.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=datetime.timezone.utc),
        day=datetime.date(2024, 5, 6),
        clock=datetime.time(7, 8, 9),
        id=uuid.UUID(int=7),
        path=pathlib.Path("a/b"),
        color=Color.GREEN,
        level=Level.LOW,
        lit="b",
        anything={"k": [1, None]},
        pair=(1, "x"),
        many=(1, 2, 3),
        frozen=frozenset({1, 2}),
        seq=[1, 2],
        mapping={"k": 1.5},
        user=UserId(3),
        movie={"title": "m"},
        box=Box("x", ["y"]),
        either="e",
    )
    data = unstructure(value)
    schema = Schema(Everything, "Everything")
    check(schema.json_schema(), data)
    assert schema.validate(data) == value


def test_unstructure_as_declared_type() -> None:
    assert unstructure((1, 2)) == [1, 2]
    assert unstructure(Box(1), Box[int]) == {"value": 1, "others": []}
    assert unstructure({"title": "t", "year": 1}, Movie) == {"title": "t", "year": 1}


# --- the Schema value -------------------------------------------------------------------


def test_schema_equality_and_caching() -> None:
    a = Schema(Item, "Item")
    b = Schema(Item, "Item")
    assert a == b
    assert hash(a) == hash(b)
    assert a != Schema(Item, "Other")
    assert a.json_schema() == b.json_schema()
    first = a.json_schema()
    first["title"] = "mutated"
    first["properties"].clear()
    assert a.json_schema()["title"] == "Item"
    assert a.json_schema()["properties"]
    assert repr(a) == f"Schema(type={Item!r}, title='Item')"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.title = "x"  # type: ignore[misc]


def test_schema_of_is_typed() -> None:
    schema = Schema.of(PromptInput)
    assert schema.title == "PromptInput"
    value: PromptInput = schema.validate({"topic": "t"})
    assert value == PromptInput("t")


def test_schema_error_is_picklable() -> None:
    import pickle

    error = SchemaError(["$.a: expected int, got str"], "X")
    clone = pickle.loads(pickle.dumps(error))
    assert clone.errors == error.errors


# --- more edge cases --------------------------------------------------------------------


class Mode(str, enum.Enum):
    FAST = "fast"
    SLOW = "slow"


@attrs.define
class Author:
    name: str
    books: list["Book"] = attrs.Factory(list)


@attrs.define
class Book:
    title: str
    author: Optional[Author] = None  # noqa: UP045


@dataclasses.dataclass
class DBox(Generic[T]):
    item: T


def test_str_enum_is_an_enum_not_a_str() -> None:
    assert json_schema(Mode, title="M") == {
        "title": "M",
        "enum": ["fast", "slow"],
        "type": "string",
    }
    assert validate(Mode, "fast") is Mode.FAST
    with pytest.raises(SchemaError):
        validate(Mode, "medium")


def test_mutual_recursion() -> None:
    schema = json_schema(Author)
    assert schema["properties"]["books"]["items"] == {"$ref": "#/$defs/Book"}
    assert schema["$defs"]["Book"]["properties"]["author"]["anyOf"] == [
        {"$ref": "#"},
        {"type": "null"},
    ]
    value = Author("a", [Book("b", Author("c"))])
    check(schema, unstructure(value))
    assert validate(Author, unstructure(value)) == value
    with pytest.raises(SchemaError) as info:
        validate(Author, {"name": "a", "books": [{"title": "b", "author": {"name": 1}}]})
    assert info.value.errors == ["$.books[0].author.name: expected str, got int"]


def test_generic_dataclass() -> None:
    assert json_schema(DBox[list[int]])["properties"] == {
        "item": {"title": "Item", "type": "array", "items": {"type": "integer"}}
    }
    assert validate(DBox[list[int]], {"item": [1]}) == DBox([1])


def test_postponed_annotations_are_resolved() -> None:
    source = """
from __future__ import annotations
import attrs, dataclasses
from typing import Optional

@attrs.define
class Cell:
    value: int
    next: Optional[Cell] = None

@dataclasses.dataclass
class Row:
    cells: list[Cell]
    label: str = "row"
"""
    module = types.ModuleType("schema_postponed")
    sys.modules[module.__name__] = module
    try:
        exec(source, module.__dict__)
        row_type = module.__dict__["Row"]
        schema = json_schema(row_type)
        assert schema["properties"]["cells"] == {
            "title": "Cells",
            "type": "array",
            "items": {"$ref": "#/$defs/Cell"},
        }
        data = {"cells": [{"value": 1, "next": {"value": 2, "next": None}}], "label": "r"}
        check(schema, data)
        row = validate(row_type, data)
        assert unstructure(row) == data
    finally:
        del sys.modules[module.__name__]


def test_open_typeddict_with_typed_extra_items() -> None:
    make: Any = TypedDict
    scores = make("Scores", {"name": str}, extra_items=int)
    schema = json_schema(scores)
    assert schema["additionalProperties"] == {"type": "integer"}
    check(schema, {"name": "n", "a": 1})
    assert validate(scores, {"name": "n", "a": 1}) == {"name": "n", "a": 1}
    with pytest.raises(SchemaError) as info:
        validate(scores, {"a": "x", "b": 2, "c": None})
    assert info.value.errors == [
        "$: missing required key 'name'",
        "$.a: expected int, got str",
        "$.c: expected int, got None",
    ]


def test_bytes_rejects_non_ascii_text() -> None:
    with pytest.raises(SchemaError) as info:
        validate(bytes, "é")
    assert info.value.errors == ["$: expected a base64 string"]


def test_validate_accepts_any_mapping() -> None:
    assert validate(Movie, types.MappingProxyType({"title": "t"})) == {"title": "t"}
    assert validate(PromptInput, types.MappingProxyType({"topic": "t"})) == PromptInput("t")
