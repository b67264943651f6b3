"""Save a chain's structure as JSON and load it back into an equal value.

`dumps(chain)` writes every runnable as its class's import path and its fields (functions and
classes by import path, secrets as the name of the environment variable that holds them);
`loads(text)` rebuilds it, importing only what the allow-list names. The names are
LangChain's (`langchain_core.load`); the format is this library's own, versioned
(``{"runnables": 1, "value": ...}``), and LangChain's documents are not read.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from runnables._serial.dump import write
from runnables._serial.errors import DumpError, LoadError
from runnables._serial.paths import Allowed
from runnables._serial.revive import Reviver, parse

if TYPE_CHECKING:
    from typing_extensions import TypeForm

    from runnables._core.protocol import Runnable

__all__ = ["DumpError", "LoadError", "dumpd", "dumps", "load", "loads"]

T = TypeVar("T")


def dumpd(obj: object) -> dict[str, Any]:
    """`obj` (a runnable, or any value built of the parts a runnable holds) as JSON-ready data.

    Raises:
        DumpError: a part cannot be written (a lambda, a local function, an open store that
            is not a value); the message names it and its path in the chain.
    """
    return write(obj)


def dumps(obj: object, *, pretty: bool = False) -> str:
    """`obj` as JSON text, keys sorted so that two versions of a chain diff line by line
    (`pretty=True`: indented, one field a line)."""
    return json.dumps(dumpd(obj), sort_keys=True, ensure_ascii=False, indent=2 if pretty else None)


@overload
def load(
    obj: object,
    *,
    allowed: Iterable[object] = (),
    secrets_map: Mapping[str, str] | None = None,
    secrets_from_env: bool = False,
) -> Runnable[Any, Any]: ...
@overload
def load(
    obj: object,
    *,
    type: TypeForm[T],
    allowed: Iterable[object] = (),
    secrets_map: Mapping[str, str] | None = None,
    secrets_from_env: bool = False,
) -> T: ...
def load(
    obj: object,
    *,
    type: object = None,
    allowed: Iterable[object] = (),
    secrets_map: Mapping[str, str] | None = None,
    secrets_from_env: bool = False,
) -> Any:
    """Rebuild the value `dumpd` wrote.

    Only classes and functions the allow-list names are imported, and only classes are
    called (their constructors, with the written fields). By default that is the classes
    runnables defines and the built-in classes (`str`, `KeyError`, ...).

    Args:
        obj: the data `dumpd` returned (or `json.loads` of `dumps`' text).
        type: the type expected, checked at run time: a class (an instance check), or
            `Runnable[In, Out]`, whose types are compared with the loaded runnable's
            declared ones where both are classes. Without it the value must be a runnable,
            typed `Runnable[Any, Any]` (its types are known only at run time).
        allowed: more that the text may name: module names (with their submodules),
            ``"module:qualname"`` paths, modules, functions and classes.
        secrets_map: secret values by environment variable name.
        secrets_from_env: read a secret missing from `secrets_map` from the environment.
            Leave it off for text you do not trust: the text chooses the variable's name.

    Raises:
        LoadError: the data names something not allowed, is malformed, or a constructor
            refused it; the message says what and where (`$.steps[1].func`).
    """
    return _load(obj, type, allowed, secrets_map, secrets_from_env)


@overload
def loads(
    text: str | bytes,
    *,
    allowed: Iterable[object] = (),
    secrets_map: Mapping[str, str] | None = None,
    secrets_from_env: bool = False,
) -> Runnable[Any, Any]: ...
@overload
def loads(
    text: str | bytes,
    *,
    type: TypeForm[T],
    allowed: Iterable[object] = (),
    secrets_map: Mapping[str, str] | None = None,
    secrets_from_env: bool = False,
) -> T: ...
def loads(
    text: str | bytes,
    *,
    type: object = None,
    allowed: Iterable[object] = (),
    secrets_map: Mapping[str, str] | None = None,
    secrets_from_env: bool = False,
) -> Any:
    """Rebuild the value `dumps` wrote, as `load` does (see its arguments); hostile text
    (deep nesting, huge numbers, unknown kinds) raises `LoadError`."""
    return _load(parse(text), type, allowed, secrets_map, secrets_from_env)


def _load(
    obj: object,
    expected: object,
    allowed: Iterable[object],
    secrets_map: Mapping[str, str] | None,
    secrets_from_env: bool,
) -> Any:
    reviver = Reviver(Allowed.of(allowed), dict(secrets_map or {}), secrets_from_env)
    value = reviver.document(obj)
    _check_type(value, expected)
    return value


def _check_type(value: object, expected: object) -> None:
    from runnables._core.protocol import Runnable

    if expected is None:
        expected = Runnable
    origin = typing.get_origin(expected) or expected
    if isinstance(origin, type) and not isinstance(value, origin):
        raise LoadError(f"the document holds a {value.__class__.__name__}, not a {_name(expected)}")
    if origin is Runnable and typing.get_args(expected):
        want_in, want_out = typing.get_args(expected)
        has_in: Any = getattr(value, "input_type", Any)
        has_out: Any = getattr(value, "output_type", Any)
        if not _fits(want_in, has_in) or not _fits(has_out, want_out):
            raise LoadError(
                f"the loaded runnable takes {_name(has_in)} and gives {_name(has_out)}; "
                f"expected {_name(expected)}"
            )


def _fits(narrow: object, wide: object) -> bool:
    """Whether `narrow` is known to fit `wide`: unknown (not both classes) counts as fitting."""
    if narrow is Any or wide is Any or narrow == wide:
        return True
    if isinstance(narrow, type) and isinstance(wide, type):
        return issubclass(narrow, wide)
    return True


def _name(tp: object) -> str:
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if args and isinstance(origin, type):
        return f"{origin.__name__}[{', '.join(_name(arg) for arg in args)}]"
    return tp.__name__ if isinstance(tp, type) else repr(tp).replace("typing.", "")
