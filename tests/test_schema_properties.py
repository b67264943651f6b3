"""Property tests for runnables.schema over randomly built nested types.

A :class:`Spec` couples a random type with a strategy for its values, the JSON kinds it
accepts, and a walker listing the positions of scalars in its unstructured form. From
that we check the round trip, agreement with ``jsonschema``, and that breaking one leaf
is reported at exactly that leaf's path.
"""

import datetime
import decimal
import enum
import itertools
import json
import re
import typing
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, Union

import attrs
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typing_extensions import NotRequired, TypedDict

from runnables.schema import Schema, SchemaError, unstructure

Path = tuple[int | str, ...]
Walk = Callable[[Any, Path], Iterator[tuple[Path, frozenset[str]]]]

SETTINGS = settings(max_examples=100, deadline=None)


class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


@attrs.frozen
class Spec:
    """A random type, a strategy for its values and what its JSON form looks like."""

    tp: Any
    values: st.SearchStrategy[Any]
    kinds: frozenset[str]
    walk: Walk
    #: The value the documented union rule makes of this type's JSON form.
    recover: Callable[[Any], Any] = attrs.field(
        default=attrs.Factory(lambda self: Schema(self.tp, "T").validate, takes_self=True)
    )
    #: Holds a union whose members share a JSON form, so a round trip may change a value.
    lossy: bool = False


def _leaf_walk(kinds: frozenset[str]) -> Walk:
    def walk(raw: Any, path: Path) -> Iterator[tuple[Path, frozenset[str]]]:
        yield path, kinds

    return walk


def leaf(tp: Any, values: st.SearchStrategy[Any], *kinds: str) -> Spec:
    return Spec(tp, values, frozenset(kinds), _leaf_walk(frozenset(kinds)))


LEAVES = [
    leaf(str, st.text(max_size=5), "string"),
    leaf(int, st.integers(), "integer"),
    leaf(float, st.floats(allow_nan=False, allow_infinity=False), "number", "integer"),
    leaf(bool, st.booleans(), "boolean"),
    leaf(type(None), st.none(), "null"),
    leaf(bytes, st.binary(max_size=6), "string"),
    leaf(decimal.Decimal, st.decimals(allow_nan=False, allow_infinity=False), "string"),
    leaf(
        datetime.datetime,
        st.datetimes(timezones=st.none() | st.just(datetime.timezone.utc)),
        "string",
    ),
    leaf(datetime.date, st.dates(), "string"),
    leaf(uuid.UUID, st.uuids(), "string"),
    leaf(Shade, st.sampled_from(Shade), "string"),
]


def _frozenset_spec(item: Spec) -> Spec:
    def walk(raw: Any, path: Path) -> Iterator[tuple[Path, frozenset[str]]]:
        for index, element in enumerate(raw):
            yield from item.walk(element, (*path, index))

    return Spec(
        frozenset[item.tp], st.frozensets(item.values, max_size=3), frozenset({"array"}), walk
    )


def _literal_spec(values: list[Any]) -> Spec:
    kinds = frozenset("string" if isinstance(v, str) else "integer" for v in values)
    return leaf(Literal[tuple(values)], st.sampled_from(values), *kinds)


literals = st.lists(
    st.text(max_size=3) | st.integers(-5, 5), min_size=1, max_size=3, unique_by=repr
).map(_literal_spec)
sets = st.sampled_from([LEAVES[0], LEAVES[1]]).map(_frozenset_spec)
base = st.sampled_from(LEAVES) | literals | sets


def list_spec(item: Spec) -> Spec:
    def walk(raw: Any, path: Path) -> Iterator[tuple[Path, frozenset[str]]]:
        for index, element in enumerate(raw):
            yield from item.walk(element, (*path, index))

    return Spec(
        list[item.tp],
        st.lists(item.values, max_size=3),
        frozenset({"array"}),
        walk,
        lambda raw: [item.recover(x) for x in raw],
        item.lossy,
    )


def tuple_spec(items: list[Spec]) -> Spec:
    def walk(raw: Any, path: Path) -> Iterator[tuple[Path, frozenset[str]]]:
        for index, (spec, element) in enumerate(zip(items, raw, strict=True)):
            yield from spec.walk(element, (*path, index))

    return Spec(
        tuple[tuple(s.tp for s in items)],
        st.tuples(*(s.values for s in items)),
        frozenset({"array"}),
        walk,
        lambda raw: tuple(s.recover(x) for s, x in zip(items, raw, strict=True)),
        any(s.lossy for s in items),
    )


def dict_spec(item: Spec) -> Spec:
    def walk(raw: Any, path: Path) -> Iterator[tuple[Path, frozenset[str]]]:
        for key, element in raw.items():
            yield from item.walk(element, (*path, key))

    values = st.dictionaries(st.text(max_size=3), item.values, max_size=3)
    return Spec(
        dict[str, item.tp],
        values,
        frozenset({"object"}),
        walk,
        lambda raw: {k: item.recover(v) for k, v in raw.items()},
        item.lossy,
    )


def _kind_of(raw: Any) -> str:
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if raw is None:
        return "null"
    if isinstance(raw, list):
        return "array"
    if isinstance(raw, dict):
        return "object"
    return kinds[type(raw)]


def union_spec(candidates: list[Spec]) -> Spec:
    """A union of the candidates whose JSON kinds do not overlap (so it is unambiguous)."""
    members: list[Spec] = []
    for spec in candidates:
        if all(spec.kinds.isdisjoint(m.kinds) for m in members):
            members.append(spec)
    if len(members) == 1:
        return members[0]
    kinds = frozenset().union(*(m.kinds for m in members))

    def walk(raw: Any, path: Path) -> Iterator[tuple[Path, frozenset[str]]]:
        member = next(m for m in members if _kind_of(raw) in m.kinds)
        for position, allowed in member.walk(raw, path):
            # a scalar standing for the whole union may be any of the union's kinds
            yield position, kinds if position == path else allowed

    return Spec(
        Union[tuple(m.tp for m in members)],  # noqa: UP007
        st.one_of(*(m.values for m in members)),
        kinds,
        walk,
        lambda raw: next(m for m in members if _kind_of(raw) in m.kinds).recover(raw),
        any(m.lossy for m in members),
    )


def optional_spec(item: Spec) -> Spec:
    return union_spec([item, LEAVES[4]]) if "null" not in item.kinds else item


def _rank(spec: Spec, raw: Any) -> int:
    """The documented union rule: lower ranks are tried first, then declaration order."""
    tp = spec.tp
    formats = {datetime.datetime: 1, datetime.date: 2, uuid.UUID: 4, decimal.Decimal: 5}
    if tp is Shade or typing.get_origin(tp) is Literal:
        return 0
    if tp in formats:
        return formats[tp]
    if tp is bytes:
        return 20
    if tp in (int, float):
        return 10 if type(raw) is tp else 20
    return 10


def _accepts(spec: Spec, raw: Any) -> bool:
    try:
        Schema(spec.tp, "Member").validate(raw)
    except SchemaError:
        return False
    return True


def ambiguous_union_spec(candidates: list[Spec]) -> Spec:
    """A union whose members may share a JSON form: the union rule picks the member."""
    members: list[Spec] = []
    for spec in candidates:
        if all(repr(spec.tp) != repr(m.tp) for m in members):
            members.append(spec)
    if len(members) == 1:
        return members[0]
    kinds = frozenset().union(*(m.kinds for m in members))

    def recover(raw: Any) -> Any:
        accepting = [m for m in members if _accepts(m, raw)]
        return min(accepting, key=lambda m: _rank(m, raw)).recover(raw)  # min is stable

    # numbers keep their form (int or float), so only strings, arrays and objects can
    # come back as another member
    shared = any(
        a.kinds & b.kinds & {"string", "array", "object"}
        for a, b in itertools.combinations(members, 2)
    )
    return Spec(
        Union[tuple(m.tp for m in members)],  # noqa: UP007
        st.one_of(*(m.values for m in members)),
        kinds,
        _leaf_walk(kinds),
        recover,
        shared or any(m.lossy for m in members),
    )


_names = itertools.count()


def attrs_spec(fields: list[tuple[str, Spec]]) -> Spec:
    cls = attrs.make_class(
        f"Model{next(_names)}", {name: attrs.field(type=spec.tp) for name, spec in fields}
    )

    def walk(raw: Any, path: Path) -> Iterator[tuple[Path, frozenset[str]]]:
        for name, spec in fields:
            yield from spec.walk(raw[name], (*path, name))

    def recover(raw: Any) -> Any:
        return cls(**{name: spec.recover(raw[name]) for name, spec in fields})

    values = st.builds(cls, **{name: spec.values for name, spec in fields})
    lossy = any(spec.lossy for _, spec in fields)
    return Spec(cls, values, frozenset({"object"}), walk, recover, lossy)


def typeddict_spec(fields: list[tuple[str, Spec, bool]]) -> Spec:
    annotations = {name: spec.tp if req else NotRequired[spec.tp] for name, spec, req in fields}
    make: Any = TypedDict
    cls = make(f"Dict{next(_names)}", annotations)

    def walk(raw: Any, path: Path) -> Iterator[tuple[Path, frozenset[str]]]:
        for name, spec, _ in fields:
            if name in raw:
                yield from spec.walk(raw[name], (*path, name))

    values = st.fixed_dictionaries(
        {name: spec.values for name, spec, req in fields if req},
        optional={name: spec.values for name, spec, req in fields if not req},
    )

    def recover(raw: Any) -> Any:
        return {name: spec.recover(raw[name]) for name, spec, _ in fields if name in raw}

    lossy = any(spec.lossy for _, spec, _ in fields)
    return Spec(cls, values, frozenset({"object"}), walk, recover, lossy)


FIELD_NAMES = st.sampled_from(["a", "b", "topic", "tool_call_id", "x1"])
KEYS = st.sampled_from(["a", "b", "with space", "x-y", ""])


def extend(children: st.SearchStrategy[Spec]) -> st.SearchStrategy[Spec]:
    return st.one_of(
        children.map(list_spec),
        st.lists(children, min_size=1, max_size=3).map(tuple_spec),
        children.map(dict_spec),
        children.map(optional_spec),
        st.lists(children, min_size=2, max_size=3).map(union_spec),
        st.lists(
            st.tuples(FIELD_NAMES, children), min_size=1, max_size=3, unique_by=lambda f: f[0]
        ).map(attrs_spec),
        st.lists(
            st.tuples(KEYS, children, st.booleans()),
            min_size=1,
            max_size=3,
            unique_by=lambda f: f[0],
        ).map(typeddict_spec),
    )


specs = st.recursive(base, extend, max_leaves=6)

_ARRAYS = [list_spec(LEAVES[1]), tuple_spec([LEAVES[1], LEAVES[1]])]
ambiguous_unions = st.lists(
    st.sampled_from(LEAVES + _ARRAYS) | literals, min_size=2, max_size=3
).map(ambiguous_union_spec)
#: Random types holding unions whose members may share a JSON form.
ambiguous_specs = st.recursive(ambiguous_unions, extend, max_leaves=4)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def path_text(path: Sequence[int | str]) -> str:
    """The documented path syntax: ``$``, ``.key``, ``["odd key"]``, ``[index]``."""
    text = "$"
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}"
        else:
            text += f"[{json.dumps(part)}]"
    return text


WRONG: dict[str, Any] = {
    "string": "wrong",
    "integer": 12345,
    "number": 1.5,
    "boolean": True,
    "null": None,
    "array": [],
    "object": {},
}


def replace(raw: Any, path: Path, new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = list(raw) if isinstance(raw, list) else dict(raw)
    copy[head] = replace(raw[head], tuple(rest), new)  # type: ignore[index]
    return copy


@SETTINGS
@given(spec=specs, data=st.data())
def test_round_trip_and_jsonschema_agree(spec: Spec, data: st.DataObject) -> None:
    value = data.draw(spec.values, label="value")
    schema = Schema(spec.tp, "Random")
    document = schema.json_schema()
    jsonschema.Draft202012Validator.check_schema(document)
    raw = unstructure(value)
    jsonschema.Draft202012Validator(document).validate(raw)
    assert json.loads(json.dumps(raw)) == raw  # really JSON data
    assert schema.validate(raw) == value


@SETTINGS
@given(spec=specs, data=st.data())
def test_one_broken_leaf_is_reported_at_its_path(spec: Spec, data: st.DataObject) -> None:
    raw = unstructure(data.draw(spec.values, label="value"))
    positions = list(spec.walk(raw, ())) or [((), spec.kinds)]  # empty containers: the root
    path, allowed = data.draw(st.sampled_from(positions), label="position")
    wrong_kind = data.draw(st.sampled_from(sorted(set(WRONG) - allowed)), label="wrong kind")
    broken = replace(raw, path, WRONG[wrong_kind])
    with pytest.raises(SchemaError) as info:
        Schema(spec.tp, "Random").validate(broken)
    assert [e.split(": ", 1)[0] for e in info.value.errors] == [path_text(path)]
    assert not jsonschema.Draft202012Validator(Schema(spec.tp, "Random").json_schema()).is_valid(
        broken
    )


@SETTINGS
@given(spec=specs)
def test_schema_is_deterministic_and_cached(spec: Spec) -> None:
    first = Schema(spec.tp, "A").json_schema()
    assert Schema(spec.tp, "A").json_schema() == first
    assert Schema(spec.tp, "B").json_schema() == {**first, "title": "B"}


@SETTINGS
@given(spec=ambiguous_specs, data=st.data())
def test_union_rule_decides_round_trips(spec: Spec, data: st.DataObject) -> None:
    value = data.draw(spec.values, label="value")
    raw = unstructure(value)
    result = Schema(spec.tp, "Random").validate(raw)
    assert result == spec.recover(raw)
    # a value changes only where union members share a JSON form (the documented cases)
    assert result == value or spec.lossy


#: Values that JSON Schema and Python tell apart differently: 1.0 is an integer, True not.
HOSTILE = [1.0, 1.5, -0.0, 1e20, True, False, 0, -3, None, [], {}, [1.0], {"a": 2.0}]


@SETTINGS
@given(spec=specs | ambiguous_specs, data=st.data())
def test_validation_agrees_with_jsonschema(spec: Spec, data: st.DataObject) -> None:
    raw = unstructure(data.draw(spec.values, label="value"))
    positions = list(spec.walk(raw, ())) or [((), spec.kinds)]
    path, _ = data.draw(st.sampled_from(positions), label="position")
    candidate = replace(raw, path, data.draw(st.sampled_from(HOSTILE), label="new"))
    schema = Schema(spec.tp, "Random")
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    expected = jsonschema.Draft202012Validator(
        schema.json_schema(), format_checker=checker
    ).is_valid(candidate)
    try:
        schema.validate(candidate)
    except SchemaError:
        assert not expected
    else:
        assert expected
