"""The strict cattrs converter used for validation (structuring) and unstructuring.

cattrs is lenient by default (it calls ``int("3")``); every hook here accepts only the
JSON form of its type (plus the Python value itself where that is unambiguous, e.g.
``bytes``), and reports failures as :class:`Invalid` or as cattrs validation groups so
:func:`._errors.collect` can name the failing paths.
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import cattrs
from cattrs.errors import (
    BaseValidationError,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn
from cattrs.gen.typeddicts import (
    make_dict_structure_fn as make_typeddict_structure_fn,  # pyright: ignore[reportUnknownVariableType]
)

from ._constraints import Constraint
from ._errors import Invalid, got, members
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
from ._rules import DECIMAL_PATTERN, LIST_ORIGINS, MAPPING_ORIGINS, SET_ORIGINS

__all__ = ["CONVERTER", "ConstraintViolation"]

Hook = Callable[[Any, Any], Any]

CONVERTER = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


class ConstraintViolation(Invalid):
    """The value had the right type but broke an ``Annotated`` constraint."""


def _lazy(tp: object) -> Callable[[object], Any]:
    """Return ``value -> structured``; the hook is looked up on first use (recursion-safe)."""
    hook: Hook | None = None

    def run(value: object) -> Any:
        nonlocal hook
        if hook is None:
            hook = CONVERTER.get_structure_hook(tp)
        return hook(value, tp)

    return run


Item = tuple[int | str, object, Callable[[object], Any]]


def _with_note(exc: Exception, index: int | str) -> Exception:
    notes: list[str] = [*getattr(exc, "__notes__", [])]
    notes.append(IterableValidationNote(f"Structuring @ {index!r}", index, Any))
    setattr(exc, "__notes__", notes)  # noqa: B010 - BaseException.__notes__ is 3.11+ only
    return exc


def _structure_each(items: Iterable[Item], owner: object, cls: type[Any]) -> list[Any]:
    """Structure ``(index, value, run)`` triples with ``run(value)``, collecting failures."""
    results: list[Any] = []
    errors: list[Exception] = []
    for index, value, run in items:
        try:
            results.append(run(value))
        except Exception as exc:
            errors.append(_with_note(exc, index))
    if errors:
        raise IterableValidationError(f"While structuring {display(owner)}", errors, cls)
    return results


# --- leaves -----------------------------------------------------------------------------


def _enum_hook(tp: type[enum.Enum]) -> Hook:
    members = list(tp)

    def hook(value: object, _: object) -> enum.Enum:
        if isinstance(value, tp):
            return value
        for member in members:
            if type(member.value) is type(value) and member.value == value:
                return member
        allowed = ", ".join(repr(m.value) for m in members)
        raise Invalid(f"expected one of {allowed}, got {value!r}")

    return hook


def _leaf(cls: type[Any], convert: Callable[[Any], Any]) -> Hook:
    """A hook for a class registered by singledispatch (which also catches its subclasses).

    Enum subclasses of ``str``/``int`` reach the ``str``/``int`` hooks through their MRO,
    so they are sent on to the enum hook here.
    """

    def hook(value: object, tp: Any) -> Any:
        if tp is not cls and is_enum(tp):
            return _enum_hook(tp)(value, tp)
        return convert(value)

    return hook


def _expect(name: str, value: object) -> Invalid:
    return Invalid(f"expected {name}, got {got(value)}")


def _str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise _expect("str", value)


def _int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
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


_LEAVES: list[tuple[type[Any], Callable[[Any], Any]]] = [
    (str, _str),
    (int, _int),
    (float, _float),
    (bool, _bool),
    (type(None), _none),
    (bytes, _bytes),
    (decimal.Decimal, _decimal),
    (datetime.datetime, _datetime),
    (datetime.date, _date),
    (datetime.time, _time),
    (uuid.UUID, _uuid),
    (pathlib.Path, _path),
]
for _cls, _convert in _LEAVES:
    CONVERTER.register_structure_hook(_cls, _leaf(_cls, _convert))

CONVERTER.register_structure_hook_func(lambda tp: tp is Any or tp is object, lambda v, _: v)
CONVERTER.register_structure_hook_func(lambda tp: tp is None, lambda v, _: _none(v))
CONVERTER.register_structure_hook_factory(is_enum, _enum_hook)


# --- wrappers ---------------------------------------------------------------------------


def _newtype_hook(tp: Any) -> Hook:
    inner = _lazy(tp.__supertype__)
    return lambda value, _: inner(value)


def _annotated_hook(tp: object) -> Hook:
    base, metadata = annotated_parts(tp)
    inner = _lazy(base)
    constraints = [m for m in metadata if isinstance(m, Constraint)]

    def hook(value: object, _: object) -> Any:
        result = inner(value)
        problems = [p for c in constraints if (p := c.check(result)) is not None]
        if problems:
            raise ConstraintViolation("; ".join(problems))
        return result

    return hook


def _literal_hook(tp: object) -> Hook:
    allowed = literal_values(tp)

    def hook(value: object, _: object) -> object:
        for literal in allowed:
            plain = literal.value if isinstance(literal, enum.Enum) else literal
            if value is literal or (type(value) is type(plain) and value == plain):
                return literal
        if len(allowed) == 1:
            raise Invalid(f"expected {allowed[0]!r}, got {value!r}")
        raise Invalid(f"expected one of {', '.join(map(repr, allowed))}, got {value!r}")

    return hook


def _matched_shape(exc: Exception) -> bool:
    """Tell whether a union member failed *inside* the value (so its errors are useful)."""
    return isinstance(exc, BaseValidationError | ConstraintViolation)


def _union_hook(tp: object) -> Hook:
    members = [(_lazy(arg), arg) for arg in args_of(tp)]

    def hook(value: object, _: object) -> Any:
        failures: list[Exception] = []
        for run, _arg in members:
            try:
                return run(value)
            except Exception as exc:
                failures.append(exc)
        close = [exc for exc in failures if _matched_shape(exc)]
        if len(close) == 1:
            raise close[0]
        raise Invalid(f"expected {display(tp)}, got {got(value)}")

    return hook


CONVERTER.register_structure_hook_factory(is_newtype, _newtype_hook)
CONVERTER.register_structure_hook_factory(is_annotated, _annotated_hook)
CONVERTER.register_structure_hook_factory(is_literal, _literal_hook)
CONVERTER.register_structure_hook_factory(is_union, _union_hook)


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


def _list_hook(tp: object) -> Hook:
    run = _lazy(_item_type(tp))

    def hook(value: object, _: object) -> list[Any]:
        return _structure_each(((i, v, run) for i, v in enumerate(_array(value))), tp, list)

    return hook


def _set_hook(tp: object) -> Hook:
    run = _lazy(_item_type(tp))
    frozen = origin_is(tp, frozenset, collections.abc.Set)

    def hook(value: object, _: object) -> Any:
        array = _array(value, set, frozenset)
        items = _structure_each(((i, v, run) for i, v in enumerate(array)), tp, set)
        result: frozenset[Any] | set[Any] = frozenset(items) if frozen else set(items)
        if len(result) != len(items):
            raise Invalid("expected unique items")
        return result

    return hook


def _tuple_hook(tp: object) -> Hook:
    fixed, variadic = tuple_items(tp)
    runs = [_lazy(t) for t in fixed]
    run_variadic = _lazy(variadic)

    def hook(value: object, _: object) -> tuple[Any, ...]:
        items = _array(value)
        if variadic is None and len(items) != len(fixed):
            raise Invalid(f"expected {len(fixed)} items, got {len(items)}")
        item_runs = [run_variadic] * len(items) if variadic is not None else runs
        return tuple(
            _structure_each(zip(range(len(items)), items, item_runs, strict=True), tp, tuple)
        )

    return hook


def _mapping_hook(tp: object) -> Hook:
    args = args_of(tp)
    run = _lazy(args[1] if args else Any)

    def hook(value: object, _: object) -> dict[str, Any]:
        entries = _object(value, "dict")
        bad = [k for k in entries if not isinstance(k, str)]
        if bad:
            raise Invalid(f"expected str keys, got {', '.join(map(repr, bad))}")
        keys = [str(k) for k in entries]
        results = _structure_each(((k, entries[k], run) for k in keys), tp, dict)
        return dict(zip(keys, results, strict=True))

    return hook


CONVERTER.register_structure_hook_factory(lambda tp: origin_is(tp, *LIST_ORIGINS), _list_hook)
CONVERTER.register_structure_hook_factory(lambda tp: origin_is(tp, *SET_ORIGINS), _set_hook)
CONVERTER.register_structure_hook_factory(lambda tp: origin_is(tp, tuple), _tuple_hook)
CONVERTER.register_structure_hook_factory(lambda tp: origin_is(tp, *MAPPING_ORIGINS), _mapping_hook)


# --- structured classes -----------------------------------------------------------------


def _class_hook(tp: Any) -> Hook:
    class_fields(tp)  # resolves forward references the generated code relies on
    cls: type[Any] = getattr(tp, "__origin__", tp)
    inner = make_dict_structure_fn(
        tp, CONVERTER, _cattrs_forbid_extra_keys=True, _cattrs_detailed_validation=True
    )

    def hook(value: object, _: object) -> Any:
        if isinstance(value, cls):
            return value
        return inner(_object(value), tp)

    return hook


def _typeddict_hook(tp: Any) -> Hook:
    extra = extra_items(tp)
    checked_extra = extra not in (None, object, Any)
    run_extra = _lazy(extra)
    inner = cast(
        "Hook",
        make_typeddict_structure_fn(
            tp, CONVERTER, _cattrs_forbid_extra_keys=extra is None, _cattrs_detailed_validation=True
        ),
    )
    known = {spec.name for spec in class_fields(tp)}

    def hook(value: object, _: object) -> Any:
        data = _object(value)
        if not checked_extra:
            return inner(data if isinstance(data, dict) else dict(data), tp)
        errors: list[Exception] = []
        result: dict[str, Any] = {}
        try:
            result = inner({k: v for k, v in data.items() if k in known}, tp)
        except BaseValidationError as exc:
            errors.extend(members(exc))
        keys = [k for k in data if k not in known]
        try:
            rest = _structure_each(((k, data[k], run_extra) for k in keys), tp, dict)
            result.update(zip(keys, rest, strict=True))
        except BaseValidationError as exc:
            errors.extend(members(exc))
        if errors:
            raise ClassValidationError(f"While structuring {display(tp)}", errors, dict)
        return result

    return hook


CONVERTER.register_structure_hook_factory(lambda tp: is_attrs(tp) or is_dataclass(tp), _class_hook)
CONVERTER.register_structure_hook_factory(is_typeddict, _typeddict_hook)


# --- unstructuring to JSON-ready data ---------------------------------------------------


def _unstructure_items(value: Iterable[object]) -> list[Any]:
    return [CONVERTER.unstructure(item) for item in value]


def _isoformat(value: datetime.date | datetime.time) -> str:
    return value.isoformat()


CONVERTER.register_unstructure_hook(datetime.datetime, _isoformat)
CONVERTER.register_unstructure_hook(datetime.date, _isoformat)
CONVERTER.register_unstructure_hook(datetime.time, _isoformat)
CONVERTER.register_unstructure_hook(bytes, lambda v: base64.b64encode(v).decode("ascii"))
CONVERTER.register_unstructure_hook(decimal.Decimal, str)
CONVERTER.register_unstructure_hook(uuid.UUID, str)
CONVERTER.register_unstructure_hook(pathlib.Path, str)
CONVERTER.register_unstructure_hook_func(
    lambda tp: origin_is(tp, tuple, *SET_ORIGINS), _unstructure_items
)
