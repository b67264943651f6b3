"""Type introspection shared by schema generation and validation.

Everything here is a pure function of a type annotation: predicates naming the kind of a
type, readable names for messages and titles, and a uniform view of the fields of attrs
classes, dataclasses and TypedDicts (with generic parameters substituted).
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import re
import types
import typing
from typing import Any

import attrs
import typing_extensions

from runnables.errors import RunnablesTypeError

if typing.TYPE_CHECKING:
    import collections.abc

__all__ = [
    "ABSENT",
    "FieldSpec",
    "annotated_parts",
    "args_of",
    "class_doc",
    "class_fields",
    "display",
    "extra_items",
    "is_annotated",
    "is_attrs",
    "is_dataclass",
    "is_enum",
    "is_literal",
    "is_newtype",
    "is_typeddict",
    "is_union",
    "literal_values",
    "origin_is",
    "property_title",
    "strip_qualifiers",
    "tuple_items",
]


class _Absent(enum.Enum):
    ABSENT = "ABSENT"


#: Marks a field without a plain default value.
ABSENT: Any = _Absent.ABSENT

_LITERALS: tuple[object, ...] = (typing.Literal, typing_extensions.Literal)
_ANNOTATED: tuple[object, ...] = (typing.Annotated, typing_extensions.Annotated)
_QUALIFIERS: tuple[object, ...] = (
    typing_extensions.Required,
    typing_extensions.NotRequired,
    typing_extensions.ReadOnly,
)


def args_of(tp: object) -> tuple[Any, ...]:
    """Return the type arguments of ``tp`` (``()`` for a bare type)."""
    return typing.get_args(tp)


def origin_is(tp: object, *origins: object) -> bool:
    """Tell whether ``tp`` is one of ``origins``, bare or parametrised."""
    origin = typing.get_origin(tp)
    return any(o is tp or o is origin for o in origins)


def _class_of(tp: object) -> type[Any] | None:
    """Return the class behind a (possibly parametrised) generic class, or ``None``."""
    target = typing.get_origin(tp) or tp
    return target if isinstance(target, type) else None


def is_attrs(tp: object) -> bool:
    cls = _class_of(tp)
    return cls is not None and attrs.has(cls)


def is_dataclass(tp: object) -> bool:
    cls = _class_of(tp)
    return cls is not None and dataclasses.is_dataclass(cls)


def is_typeddict(tp: object) -> bool:
    return typing_extensions.is_typeddict(typing.get_origin(tp) or tp)


def is_enum(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def is_literal(tp: object) -> bool:
    return any(typing.get_origin(tp) is lit for lit in _LITERALS)


def is_union(tp: object) -> bool:
    origin = typing.get_origin(tp)
    return origin is typing.Union or origin is types.UnionType


def is_annotated(tp: object) -> bool:
    return any(typing.get_origin(tp) is ann for ann in _ANNOTATED)


def is_newtype(tp: object) -> bool:
    return isinstance(tp, typing.NewType | typing_extensions.NewType)


def annotated_parts(tp: object) -> tuple[object, tuple[object, ...]]:
    """Split ``Annotated[T, *meta]`` into ``(T, meta)``."""
    base, *metadata = args_of(tp)
    return base, tuple(metadata)


def literal_values(tp: object) -> tuple[object, ...]:
    """Return the values of a ``Literal[...]``, flattening nested literals."""
    values: list[object] = []
    for arg in args_of(tp):
        values.extend(literal_values(arg) if is_literal(arg) else [arg])
    return tuple(values)


def tuple_items(tp: object) -> tuple[tuple[object, ...], object]:
    """Return ``(fixed item types, variadic item type or None)`` of a tuple type."""
    args = args_of(tp)
    if tp is tuple or tp is typing.Tuple:  # noqa: UP006 - bare, unparametrised
        return (), Any
    if len(args) == 2 and args[1] is Ellipsis:
        return (), args[0]
    if args == ((),):  # ``tuple[()]`` before Python 3.11
        return (), None
    return args, None


def strip_qualifiers(tp: object) -> object:
    """Drop ``Required``/``NotRequired``/``ReadOnly`` wrappers (TypedDict-only markers)."""
    while any(typing.get_origin(tp) is q for q in _QUALIFIERS):
        tp = args_of(tp)[0]
    if is_annotated(tp):
        base, meta = annotated_parts(tp)
        stripped = strip_qualifiers(base)
        if stripped is not base:
            params = (stripped, *meta)
            annotated: Any = typing.Annotated
            return annotated[params]
    return tp


_BUILTIN_NAMES = {type(None): "None", types.NoneType: "None"}


def display(tp: object) -> str:
    """Return a short readable name for a type, e.g. ``list[int]`` or ``Box[str]``."""
    if tp is None or tp is type(None):
        return "None"
    if tp is Any:
        return "Any"
    if isinstance(tp, typing.TypeVar):
        return f"~{tp.__name__}"
    if is_union(tp):
        return " | ".join(display(a) for a in args_of(tp))
    if is_literal(tp):
        return "Literal[" + ", ".join(repr(v) for v in literal_values(tp)) + "]"
    if is_annotated(tp):
        return display(annotated_parts(tp)[0])
    if is_newtype(tp):
        return str(getattr(tp, "__name__", tp))
    origin = typing.get_origin(tp)
    if origin is not None and isinstance(origin, type):
        args = args_of(tp)
        inner = ", ".join("..." if a is Ellipsis else display(a) for a in args)
        return f"{origin.__name__}[{inner}]" if args else origin.__name__
    if isinstance(tp, type):
        return _BUILTIN_NAMES.get(tp, tp.__name__)
    return repr(tp)


def property_title(name: str) -> str:
    """Turn a field name into a human title: ``tool_call_id`` -> ``Tool Call Id``."""
    words = [w for w in name.split("_") if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or name


def class_doc(cls: type[Any]) -> str | None:
    """Return a class's own docstring, skipping inherited and auto-generated ones.

    Dataclasses invent a docstring from the signature (``Foo(a: int)``); that is noise
    in a schema, so it is dropped, as is a docstring equal to a base class's one.
    """
    doc: object = cls.__dict__.get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return None
    if any(doc == getattr(base, "__doc__", None) for base in cls.__mro__[1:]):
        return None
    if issubclass(cls, enum.Enum) and doc == "An enumeration.":  # Python 3.10's default
        return None
    if dataclasses.is_dataclass(cls) and re.fullmatch(
        re.escape(cls.__name__) + r"\(.*\)", doc.strip(), flags=re.DOTALL
    ):
        return None
    return inspect.cleandoc(doc)


#: The runtime class of ``attrs.Factory(...)`` (its stub pretends it returns the value);
#: factory defaults are not shown in schemas, they are evaluated per instance.
_FACTORY: type[Any] = type(attrs.Factory(object))


@attrs.frozen
class FieldSpec:
    """One input field of a structured type, as seen by the JSON side."""

    name: str
    type: object
    required: bool
    default: object = ABSENT
    description: str | None = None
    #: The ``__init__`` keyword that sets the field (an attrs alias, e.g. ``x`` for ``_x``).
    argument: str = attrs.field(default=attrs.Factory(lambda spec: spec.name, takes_self=True))


def _typevar_map(tp: object) -> dict[object, object]:
    """Map the type variables of a generic class (and its generic bases) to arguments."""
    cls = _class_of(tp)
    if cls is None:
        return {}
    mapping: dict[object, object] = {}
    params: tuple[object, ...] = getattr(cls, "__parameters__", ())
    args = args_of(tp) if typing.get_origin(tp) is not None else ()
    mapping.update(zip(params, args, strict=False))
    for base in getattr(cls, "__orig_bases__", ()):
        if typing.get_origin(base) in (None, typing.Generic, typing_extensions.Generic):
            continue
        for key, value in _typevar_map(base).items():
            mapping.setdefault(key, substitute(value, mapping))
    return mapping


def substitute(tp: object, mapping: dict[object, object]) -> object:
    """Replace type variables in ``tp`` using ``mapping`` (unknown ones are kept)."""
    if isinstance(tp, typing.TypeVar):
        return mapping.get(tp, tp)
    params: tuple[object, ...] = getattr(tp, "__parameters__", ())
    if params and typing.get_origin(tp) is not None:
        generic: Any = tp
        return generic[tuple(mapping.get(p, p) for p in params)]
    return tp


def class_fields(tp: object) -> list[FieldSpec]:
    """Return the init fields of an attrs class, dataclass or TypedDict, resolved."""
    cls = _class_of(tp)
    if cls is None:
        raise RunnablesTypeError(f"{display(tp)} is not a structured class")
    mapping = _typevar_map(tp)
    if is_typeddict(cls):
        return _typeddict_fields(cls, mapping)
    hints = typing.get_type_hints(cls, include_extras=True)
    if attrs.has(cls):
        attrs.resolve_types(cls)
        return [
            _spec(
                a.name,
                substitute(hints.get(a.name, a.type), mapping),
                required=a.default is attrs.NOTHING,
                default=ABSENT
                if a.default is attrs.NOTHING or isinstance(a.default, _FACTORY)
                else a.default,
                metadata=a.metadata,
                argument=a.alias or a.name,
            )
            for a in attrs.fields(cls)
            if a.init
        ]
    specs: list[FieldSpec] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        # cattrs reads ``Field.type``; resolve forward references in place once, the
        # way ``attrs.resolve_types`` does for attrs classes.
        f.type = hints.get(f.name, f.type)
        no_factory = f.default_factory is dataclasses.MISSING
        spec = _spec(
            f.name,
            substitute(f.type, mapping),
            required=f.default is dataclasses.MISSING and no_factory,
            default=ABSENT if f.default is dataclasses.MISSING else f.default,
            metadata=f.metadata,
        )
        specs.append(spec)
    return specs


def _spec(
    name: str,
    tp: object,
    *,
    required: bool,
    default: object,
    metadata: collections.abc.Mapping[Any, Any],
    argument: str | None = None,
) -> FieldSpec:
    description = metadata.get("description")
    text = description if isinstance(description, str) else None
    return FieldSpec(name, tp, required, default, text, argument or name)


def _typeddict_fields(cls: type[Any], mapping: dict[object, object]) -> list[FieldSpec]:
    hints = typing.get_type_hints(cls, include_extras=True)
    required: frozenset[str] = cls.__required_keys__
    return [
        FieldSpec(name, substitute(strip_qualifiers(hint), mapping), name in required)
        for name, hint in hints.items()
    ]


def extra_items(tp: object) -> object:
    """Return a TypedDict's PEP 728 ``extra_items`` type, or ``None`` when it is closed."""
    extra: object = getattr(typing.get_origin(tp) or tp, "__extra_items__", None)
    if extra is None or extra is typing_extensions.NoExtraItems:
        return None
    return extra
