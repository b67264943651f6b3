"""Strict validation: each supported type compiles once into a :class:`._machine.Plan`.

Every check accepts only the JSON form of its type (plus the Python value itself where
that is unambiguous, e.g. ``bytes``); nothing is coerced the lenient way (no
``int("3")``). Containers and classes are generator steps run by :func:`._machine.run`,
so validation depth is bounded by memory only. A new kind of type is one rule in
:data:`RULES`, matching the schema rule registered in ``_rules``.

The union rule lives in :func:`_union`: members whose JSON kind admits the value are
tried from the lowest rank (see the constants below) and the first that accepts it wins;
equal ranks keep declaration order.
"""

from __future__ import annotations

import base64
import collections.abc
import datetime
import decimal
import enum
import pathlib
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from ._constraints import Constraint
from ._errors import ConstraintViolation, Invalid, Path, got
from ._introspect import (
    annotated_parts,
    args_of,
    class_fields,
    display,
    extra_items,
    is_annotated,
    is_attrs,
    is_dataclass,
    is_enum,
    is_literal,
    is_newtype,
    is_typeddict,
    is_union,
    literal_values,
    origin_is,
    tuple_items,
)
from ._machine import SAME, Failure, Plan, Step, as_failure, raise_any, structure_each
from ._rules import DECIMAL_PATTERN, LIST_ORIGINS, MAPPING_ORIGINS, SET_ORIGINS

__all__ = ["compile_plan"]

# Union ranks, lowest tried first: constants, then strings with a format (in this
# order), then plain kinds, then members that take almost any string or a number of
# the other form, then ``Any``.
CONSTANT = 0
DATETIME, DATE, TIME, UUID, DECIMAL = 1, 2, 3, 4, 5
PLAIN = 10
LENIENT = 20
ANYTHING = 30

#: The JSON kinds; values of any other Python type are of the kind ``"python"``.
KINDS = ("null", "boolean", "integer", "number", "string", "array", "object")
PYTHON = "python"
_KIND_OF: dict[type[Any], str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    tuple: "array",
    dict: "object",
}


def kind_of(value: object) -> str:
    """The JSON kind of a value (Python containers count as arrays and objects)."""
    kind = _KIND_OF.get(type(value))
    if kind is None:
        return "object" if isinstance(value, Mapping) else PYTHON
    return kind


Compile = Callable[[object], Plan]
Rule = Callable[[Any, Compile], Plan]


def _expect(name: str, value: object) -> Invalid:
    return Invalid(f"expected {name}, got {got(value)}")


# --- leaves -----------------------------------------------------------------------------


def _str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise _expect("str", value)


def _int(value: object) -> int:
    # JSON Schema's "integer" is any number with a zero fraction, so 1.0 is the int 1.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _expect("int", value)


def _float(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise _expect("float", value)


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _expect("bool", value)


def _none(value: object) -> None:
    if value is not None:
        raise _expect("None", value)


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:  # binascii.Error, or non-ASCII text
            raise Invalid("expected a base64 string") from None
    raise _expect("base64 str", value)


_DECIMAL = re.compile(DECIMAL_PATTERN)


def _decimal(value: object) -> decimal.Decimal:
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return value
    if isinstance(value, str) and _DECIMAL.match(value):
        return decimal.Decimal(value)
    raise _expect("decimal str", value)


def _iso(parse: Callable[[str], Any], name: str, value: str) -> Any:
    try:
        return parse(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        raise Invalid(f"expected an ISO {name} string, got {value!r}") from None


def _datetime(value: object) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        if len(value) <= 10:  # a bare date: RFC 3339 date-times need a time part
            raise Invalid(f"expected an ISO date-time string, got {value!r}")
        parsed: datetime.datetime = _iso(datetime.datetime.fromisoformat, "date-time", value)
        return parsed
    raise _expect("ISO date-time str", value)


def _date(value: object) -> datetime.date:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        parsed: datetime.date = _iso(datetime.date.fromisoformat, "date", value)
        return parsed
    raise _expect("ISO date str", value)


def _time(value: object) -> datetime.time:
    if isinstance(value, datetime.time):
        return value
    if isinstance(value, str):
        parsed: datetime.time = _iso(datetime.time.fromisoformat, "time", value)
        return parsed
    raise _expect("ISO time str", value)


def _uuid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            raise Invalid(f"expected a UUID string, got {value!r}") from None
    raise _expect("UUID str", value)


def _path(value: object) -> pathlib.Path:
    if isinstance(value, str | pathlib.PurePath):
        return pathlib.Path(value)
    raise _expect("path str", value)


def _anything(value: object) -> object:
    return value


_NUMBER = {"integer": PLAIN, "number": LENIENT}
_LEAVES: list[tuple[object, Callable[[Any], Any], dict[str, int]]] = [
    (str, _str, {"string": PLAIN}),
    (int, _int, {"integer": PLAIN, "number": LENIENT}),
    (float, _float, {"number": PLAIN, "integer": LENIENT}),
    (bool, _bool, {"boolean": PLAIN}),
    (None, _none, {"null": PLAIN}),
    (type(None), _none, {"null": PLAIN}),
    (bytes, _bytes, {"string": LENIENT}),
    (decimal.Decimal, _decimal, {"string": DECIMAL}),
    (datetime.datetime, _datetime, {"string": DATETIME}),
    (datetime.date, _date, {"string": DATE}),
    (datetime.time, _time, {"string": TIME}),
    (uuid.UUID, _uuid, {"string": UUID}),
    (pathlib.Path, _path, {"string": LENIENT}),
    (Any, _anything, dict.fromkeys(KINDS, ANYTHING)),
    (object, _anything, dict.fromkeys(KINDS, ANYTHING)),
]


def _leaf(tp: object, check: Callable[[Any], Any], ranks: dict[str, int]) -> Rule:
    return lambda _tp, _compile: Plan(display(tp), dict(ranks), check=check)


# --- constants --------------------------------------------------------------------------


def _same_json(value: object, plain: object) -> bool:
    """Tell whether two values are equal as JSON (``1 == 1.0``, but ``True != 1``)."""
    if type(value) is type(plain):
        return value == plain
    numbers = (int, float)
    return (
        isinstance(value, numbers)
        and isinstance(plain, numbers)
        and not isinstance(value, bool)
        and not isinstance(plain, bool)
        and value == plain
    )


def _constant_ranks(values: Sequence[object]) -> dict[str, int]:
    ranks: dict[str, int] = {}
    for value in values:
        kind = kind_of(value)
        ranks[kind] = CONSTANT
        if kind in ("integer", "number"):
            ranks["integer"] = ranks["number"] = CONSTANT
    return ranks


def _enum(tp: type[enum.Enum], _compile: Compile) -> Plan:
    members = list(tp)

    def check(value: object) -> enum.Enum:
        if isinstance(value, tp):
            return value
        for member in members:
            if _same_json(value, member.value):
                return member
        allowed = ", ".join(repr(m.value) for m in members)
        raise Invalid(f"expected one of {allowed}, got {value!r}")

    return Plan(display(tp), _constant_ranks([m.value for m in members]), check=check)


def _literal(tp: object, _compile: Compile) -> Plan:
    allowed = literal_values(tp)
    plains = [v.value if isinstance(v, enum.Enum) else v for v in allowed]

    def check(value: object) -> object:
        for literal, plain in zip(allowed, plains, strict=True):
            if value is literal or _same_json(value, plain):
                return literal
        if len(allowed) == 1:
            raise Invalid(f"expected {allowed[0]!r}, got {value!r}")
        raise Invalid(f"expected one of {', '.join(map(repr, allowed))}, got {value!r}")

    return Plan(display(tp), _constant_ranks(plains), check=check)


# --- wrappers ---------------------------------------------------------------------------


def _newtype(tp: Any, compile: Compile) -> Plan:
    return compile(tp.__supertype__)


def _annotated(tp: object, compile: Compile) -> Plan:
    base_type, metadata = annotated_parts(tp)
    base = compile(base_type)
    constraints = [m for m in metadata if isinstance(m, Constraint)]
    if not constraints:
        return base

    def constrain(result: Any) -> Any:
        problems = [p for c in constraints if (p := c.check(result)) is not None]
        if problems:
            raise ConstraintViolation("; ".join(problems))
        return result

    base_check = base.check
    if base_check is not None:
        return Plan(base.name, base.ranks, check=lambda value: constrain(base_check(value)))

    def walk(value: object, _path: Path) -> Step:
        return constrain((yield base, value, SAME))

    return Plan(base.name, base.ranks, walk=walk)


def _union(tp: object, compile: Compile) -> Plan:
    """The union rule: by JSON kind, lowest rank first, then in declaration order."""
    members = [compile(arg) for arg in args_of(tp)]
    orders: dict[str, list[Plan]] = {}

    def candidates(value: object) -> list[Plan]:
        kind = kind_of(value)
        order = orders.get(kind)
        if order is None:  # built on first use: recursive members are complete by then
            if kind == PYTHON:
                order = members
            else:
                admitting = [m for m in members if kind in m.ranks]
                order = sorted(admitting, key=lambda m: m.ranks[kind])
            orders[kind] = order
        return order

    def refuse(value: object, close: Sequence[Exception]) -> Exception:
        if len(close) == 1:  # only one member took the value's shape: its errors help most
            return close[0]
        return Invalid(f"expected {display(tp)}, got {got(value)}")

    ranks: dict[str, int] = {}
    for member in members:
        for kind, rank in member.ranks.items():
            ranks[kind] = min(rank, ranks.get(kind, rank))
    if all(member.check is not None for member in members):

        def check(value: object) -> Any:
            close: list[ConstraintViolation] = []
            for member in candidates(value):
                try:
                    return cast("Callable[[object], Any]", member.check)(value)
                except ConstraintViolation as exc:
                    close.append(exc)
                except Invalid:
                    pass
            raise refuse(value, close)

        return Plan(display(tp), ranks, check=check)

    def walk(value: object, _path: Path) -> Step:
        failures: list[Failure] = []
        for member in candidates(value):
            try:
                return (yield member, value, SAME)
            except Failure as failure:
                failures.append(failure)
        raise refuse(value, [f for f in failures if not f.mismatch])

    return Plan(display(tp), ranks, walk=walk)


# --- collections ------------------------------------------------------------------------


def _array(value: object, *also: type[Any]) -> Sequence[object]:
    """Return ``value`` if it is a JSON array (a list, or a tuple from Python code)."""
    if isinstance(value, (list, tuple, *also)):
        return cast("Sequence[object]", value)
    raise _expect("list", value)


def _object(value: object, name: str = "object") -> Mapping[Any, object]:
    """Return ``value`` if it is a JSON object (any mapping)."""
    if isinstance(value, Mapping):
        return cast("Mapping[Any, object]", value)
    raise _expect(name, value)


def _item_type(tp: object) -> object:
    args = args_of(tp)
    return args[0] if args else Any


_ARRAY = {"array": PLAIN}
_OBJECT = {"object": PLAIN}


def _list(tp: object, compile: Compile) -> Plan:
    item = compile(_item_type(tp))

    def walk(value: object, path: Path) -> Step:
        # structure_each, spelled out: lists are the hottest path of deep data
        check = item.check
        results: list[Any] = []
        failures: list[Failure] = []
        for index, element in enumerate(_array(value)):
            try:
                results.append(
                    check(element) if check is not None else (yield item, element, index)
                )
            except Exception as exc:
                failures.append(as_failure(exc, (path, index)))
        raise_any(failures)
        return results

    return Plan(display(tp), dict(_ARRAY), walk=walk)


def _set(tp: object, compile: Compile) -> Plan:
    item = compile(_item_type(tp))
    frozen = origin_is(tp, frozenset, collections.abc.Set)

    def walk(value: object, path: Path) -> Step:
        failures: list[Failure] = []
        entries = ((i, item, v) for i, v in enumerate(_array(value, set, frozenset)))
        items = yield from structure_each(entries, path, failures)
        raise_any(failures)
        result: frozenset[Any] | set[Any] = frozenset(items) if frozen else set(items)
        if len(result) != len(items):
            raise Invalid("expected unique items")
        return result

    return Plan(display(tp), dict(_ARRAY), walk=walk)


def _tuple(tp: object, compile: Compile) -> Plan:
    fixed, variadic = tuple_items(tp)
    plans = [compile(t) for t in fixed]
    rest = compile(variadic) if variadic is not None else None

    def walk(value: object, path: Path) -> Step:
        items = _array(value)
        if rest is None and len(items) != len(plans):
            raise Invalid(f"expected {len(plans)} items, got {len(items)}")
        item_plans = plans if rest is None else [rest] * len(items)
        failures: list[Failure] = []
        entries = zip(range(len(items)), item_plans, items, strict=True)
        results = yield from structure_each(entries, path, failures)
        raise_any(failures)
        return tuple(results)

    return Plan(display(tp), dict(_ARRAY), walk=walk)


def _mapping(tp: object, compile: Compile) -> Plan:
    args = args_of(tp)
    item = compile(args[1] if args else Any)

    def walk(value: object, path: Path) -> Step:
        entries = _object(value, "dict")
        bad = [k for k in entries if not isinstance(k, str)]
        if bad:
            raise Invalid(f"expected str keys, got {', '.join(map(repr, bad))}")
        keys = list(entries)
        failures: list[Failure] = []
        results = yield from structure_each(((k, item, entries[k]) for k in keys), path, failures)
        raise_any(failures)
        return dict(zip(keys, results, strict=True))

    return Plan(display(tp), dict(_OBJECT), walk=walk)


# --- structured classes -----------------------------------------------------------------


Field = tuple[str, str, Plan, bool]


def _structure_fields(
    data: Mapping[Any, object], fields: list[Field], path: Path, failures: list[Failure]
) -> Step:
    """Structure the declared fields found in ``data`` into ``{argument: value}``.

    A missing required key is reported at ``path``, in field order with the other errors.
    """
    results: dict[str, Any] = {}
    for name, argument, plan, required in fields:
        if name in data:
            check = plan.check
            item = data[name]
            try:
                results[argument] = check(item) if check is not None else (yield plan, item, name)
            except Exception as exc:
                failures.append(as_failure(exc, (path, name)))
        elif required:
            failures.append(Failure.at(path, f"missing required key {name!r}"))
    return results


def _unexpected(
    data: Mapping[Any, object], known: frozenset[str], path: Path, failures: list[Failure]
) -> None:
    if not known.issuperset(data):
        for key in sorted((k for k in data if k not in known), key=str):
            failures.append(Failure.at((path, str(key)), "unexpected key"))


def _class(tp: Any, compile: Compile) -> Plan:
    cls: type[Any] = getattr(tp, "__origin__", tp)
    fields = [(s.name, s.argument, compile(s.type), s.required) for s in class_fields(tp)]
    known = frozenset(name for name, *_ in fields)

    def walk(value: object, path: Path) -> Step:
        if isinstance(value, cls):
            return value
        data = _object(value)
        failures: list[Failure] = []
        arguments = yield from _structure_fields(data, fields, path, failures)
        _unexpected(data, known, path, failures)
        raise_any(failures)
        return cls(**arguments)

    return Plan(display(tp), dict(_OBJECT), walk=walk)


def _typeddict(tp: Any, compile: Compile) -> Plan:
    fields = [(s.name, s.name, compile(s.type), s.required) for s in class_fields(tp)]
    known = frozenset(name for name, *_ in fields)
    extra = extra_items(tp)
    rest = None if extra in (None, object, Any) else compile(extra)

    def walk(value: object, path: Path) -> Step:
        data = _object(value)
        failures: list[Failure] = []
        result = yield from _structure_fields(data, fields, path, failures)
        if extra is None:
            _unexpected(data, known, path, failures)
        elif known.issuperset(data):
            pass
        elif rest is None:  # open to anything: extra keys are kept as they are
            result.update((k, v) for k, v in data.items() if k not in known)
        else:
            keys = [k for k in data if k not in known]
            values = yield from structure_each(((k, rest, data[k]) for k in keys), path, failures)
            result.update(zip(keys, values, strict=True))
        raise_any(failures)
        return result

    return Plan(display(tp), dict(_OBJECT), walk=walk)


# --- compilation ------------------------------------------------------------------------


def _is(expected: object) -> Callable[[object], bool]:
    return lambda tp: tp is expected


#: ``(predicate, rule)`` pairs; the first whose predicate accepts a type compiles it.
RULES: list[tuple[Callable[[Any], bool], Rule]] = [
    (is_newtype, _newtype),
    (is_annotated, _annotated),
    (is_union, _union),
    (is_literal, _literal),
    (is_enum, _enum),
    (lambda tp: is_attrs(tp) or is_dataclass(tp), _class),
    (is_typeddict, _typeddict),
    (lambda tp: origin_is(tp, *LIST_ORIGINS), _list),
    (lambda tp: origin_is(tp, *SET_ORIGINS), _set),
    (lambda tp: origin_is(tp, tuple), _tuple),
    (lambda tp: origin_is(tp, *MAPPING_ORIGINS), _mapping),
    *((_is(tp), _leaf(tp, check, ranks)) for tp, check, ranks in _LEAVES),
]


def _key(tp: object) -> object:
    """A cache key that tells ``int | str`` from ``str | int`` (they compare equal)."""
    try:
        hash(tp)
    except TypeError:
        return id(tp)
    return (tp, repr(tp))


def compile_plan(tp: object) -> Plan:
    """Compile the validation plan of a type the schema side has already accepted."""
    plans: dict[object, Plan] = {}

    def compile(inner: object) -> Plan:
        key = _key(inner)
        plan = plans.get(key)
        if plan is not None:
            return plan
        rule = next(rule for predicate, rule in RULES if predicate(inner))
        if rule is _class or rule is _typeddict:
            # Only classes can refer to themselves: they get a placeholder while their
            # fields compile, and their ranks are known before their fields are.
            plans[key] = plan = Plan(display(inner), dict(_OBJECT))
            plan.become(rule(inner, compile))
        else:
            plans[key] = plan = rule(inner, compile)
        return plan

    return compile(tp)
