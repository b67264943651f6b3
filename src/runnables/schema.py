"""JSON Schemas derived from Python types, and strict validation against them.

:class:`Schema` pairs a type annotation with a title. ``json_schema()`` describes the
type as JSON Schema 2020-12 and ``validate()`` turns JSON-like data into a value of the
type (via one strict cattrs converter), raising :class:`SchemaError` that lists every
failing path. :func:`unstructure` is the inverse, so
``Schema(T, "T").validate(unstructure(v)) == v``.

Supported: ``str``, ``int`` (``1.0`` accepted, as JSON Schema's ``integer`` does),
``float`` (ints accepted), ``bool``, ``None``, ``bytes``
(base64 strings), ``Decimal`` (numeric strings, kept exact), ``datetime``/``date``/
``time`` (ISO strings), ``UUID``, ``Path``, enums (by value), ``Literal``, unions,
``Any``/``object``, ``list``/``Sequence``, ``tuple`` (fixed and variadic), ``set``/
``frozenset``, ``dict``/``Mapping`` with ``str`` keys, ``NewType``, ``Annotated`` with
the constraints below, TypedDicts, attrs classes and dataclasses (generic ones once
parametrised), including recursive ones. Anything else raises ``TypeError``.

Structured types (attrs classes, dataclasses, TypedDicts) are *closed*: unknown keys are
errors and the schema says ``"additionalProperties": false``. A TypedDict declared with
PEP 728 ``extra_items=object`` (as built by :meth:`Schema.object`) is open instead: its
extra keys are kept as they are and the schema has no ``additionalProperties``.

Validation keeps its own stack, so recursive types validate data of any depth. A union
tries the members whose JSON kind admits the value: constants (``Literal``, enums) first,
then formatted strings (date-time, date, time, UUID, decimal), then plain kinds, then
``bytes``/``Path`` from strings and numbers of the other form, then ``Any``; declaration
order breaks ties. So ``str | datetime`` turns an ISO string into a ``datetime``.

Error paths start at ``$``: identifier keys follow a dot (``$.items``), other keys are
JSON-quoted in brackets (``$["a b"]``) and indices are bracketed (``$.items[2]``).
Declare TypedDicts with ``typing_extensions.TypedDict`` and avoid ``NotRequired`` inside
string annotations: Python cannot see such qualifiers in postponed annotations.
"""

from __future__ import annotations

import copy
import functools
import sys
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import attrs
import typing_extensions

from runnables.errors import RunnablesValueError

from ._schema._constraints import (
    Constraint,
    Description,
    Ge,
    Gt,
    Le,
    Lt,
    MaxLen,
    MinLen,
    Pattern,
)
from ._schema._errors import SchemaError, render
from ._schema._generate import Builder, JSONSchema
from ._schema._introspect import display
from ._schema._machine import Failure, Plan, run
from ._schema._rules import REGISTRY
from ._schema._unstructure import CONVERTER, self_reference
from ._schema._validate import compile_plan

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Collection, Mapping

__all__ = [
    "Constraint",
    "Description",
    "Ge",
    "Gt",
    "Le",
    "Lt",
    "MaxLen",
    "MinLen",
    "Pattern",
    "Schema",
    "SchemaError",
    "json_schema",
    "unstructure",
    "validate",
]

T = TypeVar("T")
_R = TypeVar("_R")

for _public in (Constraint, Description, Ge, Gt, Le, Lt, MaxLen, MinLen, Pattern, SchemaError):
    _public.__module__ = __name__


def _memoize(fn: Callable[[object], _R]) -> Callable[[object], _R]:
    """LRU-cache ``fn`` on a type, computing uncached for unhashable annotations.

    The key includes the type's repr: ``int | str == str | int``, but a union's
    declaration order shows in its schema and breaks ties in validation.
    """

    @functools.lru_cache(maxsize=1024)
    def cached(tp: object, spelling: str) -> _R:
        return fn(tp)

    def wrapper(tp: object) -> _R:
        try:
            hash(tp)
        except TypeError:
            return fn(tp)
        return cached(tp, repr(tp))

    return wrapper


@_memoize
def _document(tp: object) -> JSONSchema:
    """The full schema of ``tp`` with an empty title (shared; never hand it out)."""
    return Builder(REGISTRY, tp).document("")


@_memoize
def _plan(tp: object) -> Plan:
    _document(tp)  # refuse types the schema side does not support, with a TypeError
    return compile_plan(tp)


def _with_title(document: JSONSchema, title: str) -> JSONSchema:
    result = copy.deepcopy(document)
    result["title"] = title
    return result


@attrs.define
class _Memo:
    """Per-Schema mutable cache (the Schema itself is frozen)."""

    document: JSONSchema | None = None
    plan: Plan | None = None


@attrs.frozen
class Schema(Generic[T]):
    """The JSON Schema of a Python type, with strict validation into that type.

    ``type`` is any supported annotation and ``title`` the top-level ``"title"``. Two
    schemas are equal when type and title are. For an attrs class ``PromptInput`` with
    one ``topic: str`` field, ``Schema(PromptInput, "PromptInput").json_schema()`` is
    ``{"title": "PromptInput", "type": "object", "properties": {"topic": {"title":
    "Topic", "type": "string"}}, "required": ["topic"], "additionalProperties": False}``:
    classes are closed, see the module docstring.
    """

    type: Any
    title: str
    _memo: _Memo = attrs.field(init=False, eq=False, repr=False, factory=_Memo)

    @classmethod
    def of(cls, tp: builtins.type[T], title: str | None = None) -> Schema[T]:
        """Build a schema typed after ``tp`` (``title`` defaults to the type's name)."""
        return cls(tp, display(tp) if title is None else title)

    def json_schema(self) -> dict[str, Any]:
        """Return the JSON Schema 2020-12 document (a fresh copy on every call).

        Named types live under ``"$defs"``; a named top-level type is inlined at the top
        and self-references point at ``"#"``.
        """
        if self._memo.document is None:
            self._memo.document = _with_title(_document(self.type), self.title)
        return copy.deepcopy(self._memo.document)

    def validate(self, value: builtins.object) -> T:
        """Structure JSON-like ``value`` into the type, or raise :class:`SchemaError`.

        Validation is strict: no string-to-number coercion, ``bool`` is not ``int``,
        missing required and unknown keys are errors. Every failure is reported. Python
        values that need no conversion are accepted too: an instance of an attrs class or
        dataclass is returned as is, ``bytes`` need not be base64, tuples pass as lists.
        """
        plan = self._memo.plan
        if plan is None:
            plan = self._memo.plan = _plan(self.type)
        try:
            result: T = run(plan, value)
        except Failure as failure:
            found, causes = failure.flatten()
            paths = render([path for path, _ in found])
            errors = [f"{path}: {message}" for path, (_, message) in zip(paths, found, strict=True)]
            raise SchemaError(errors, self.title) from (causes[0] if causes else None)
        return result

    @classmethod
    def object(
        cls,
        title: str,
        fields: Mapping[str, Any],
        required: Collection[str] | None = None,
    ) -> Schema[dict[str, Any]]:
        """A schema for a dict with the given typed keys; other keys are allowed and kept.

        ``required`` names the required keys (all of them by default). The schema of
        ``Schema.object("PromptInput", {"topic": str})`` is exactly ``{"title":
        "PromptInput", "type": "object", "properties": {"topic": {"title": "Topic",
        "type": "string"}}, "required": ["topic"]}``. It is backed by a TypedDict with
        ``extra_items=object``; equal arguments give equal schemas.
        """
        needed = frozenset(fields) if required is None else frozenset(required)
        unknown = needed - fields.keys()
        if unknown:
            raise RunnablesValueError(f"required keys {sorted(unknown)} are not among the fields")
        items = tuple(fields.items())
        try:
            hash(items)
        except TypeError:
            typeddict = _open_typeddict.__wrapped__(title, items, needed)
        else:
            typeddict = _open_typeddict(title, items, needed)
        return Schema[dict[str, Any]](typeddict, title)


@functools.lru_cache(maxsize=256)
def _open_typeddict(
    title: str, items: tuple[tuple[str, Any], ...], required: frozenset[str]
) -> builtins.type[Any]:
    make: Any = typing_extensions.TypedDict  # the functional form, with a runtime name
    annotations = {
        name: tp if name in required else typing_extensions.NotRequired[tp] for name, tp in items
    }
    typeddict: builtins.type[Any] = make(title, annotations, extra_items=object)
    return typeddict


def json_schema(tp: object, *, title: str | None = None) -> dict[str, Any]:
    """Return the JSON Schema 2020-12 of ``tp``; ``title`` defaults to the type's name."""
    return _with_title(_document(tp), display(tp) if title is None else title)


@overload
def validate(tp: type[T], value: object) -> T: ...
@overload
def validate(tp: object, value: object) -> Any: ...
def validate(tp: object, value: object) -> Any:
    """Structure ``value`` into ``tp`` strictly, or raise :class:`SchemaError`."""
    return Schema[Any](tp, display(tp)).validate(value)


def unstructure(value: object, tp: object = None) -> Any:
    """Turn a value into JSON-ready data (the inverse of :meth:`Schema.validate`).

    Classes become dicts, tuples and sets lists, enums their values, ``bytes`` base64,
    ``Decimal``/``UUID``/``Path`` strings and dates ISO strings. Pass ``tp`` to
    unstructure as a declared type rather than by the value's runtime class.
    """
    try:
        result: Any = CONVERTER.unstructure(value, unstructure_as=tp)
    except RecursionError as exc:
        found = self_reference(value)
        if found is not None:
            repeat, original = render(found)
            problem = f"{repeat}: the data contains itself: this is the object at {original}"
        else:
            problem = (
                "$: nested too deeply to write out (deeper than Python's recursion limit, "
                f"{sys.getrecursionlimit()}, allows)"
            )
        raise SchemaError([problem], f"unstructure of {type(value).__name__}") from exc
    return result
