"""Import paths (`module:qualname`) of functions and classes, and the allow-list that decides
which of them a text may name."""

from __future__ import annotations

import builtins
import importlib
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import attrs

from runnables._serial.errors import LoadError

__all__ = ["Allowed", "path_of", "resolve"]

#: The built-in classes (`str`, `KeyError`, ...): safe to name, as they are only referenced.
_BUILTIN_CLASSES = frozenset(
    name for name, value in vars(builtins).items() if isinstance(value, type)
)


def path_of(obj: object) -> str | None:
    """`module:qualname` of a function or class, or of a runnable made from one function by a
    decorator (`@runnable`, `@tool`), or None for anything else."""
    target: Any = obj
    if not isinstance(obj, type) and attrs.has(type(obj)):
        target = next(
            (v for v in (getattr(obj, n, None) for n in ("func", "transform_fn")) if callable(v)),
            None,
        )
    # a method of a built-in class (`str.lower`) names its module only through that class
    module = getattr(target, "__module__", None) or getattr(
        getattr(target, "__objclass__", None), "__module__", None
    )
    qualname = getattr(target, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    return f"{module}:{qualname}"


def importable(obj: object) -> str | None:
    """The path at which `obj` itself can be imported again, or None."""
    path = path_of(obj)
    if path is None or "<" in path:
        return None
    try:
        found = resolve(path)
    except (ImportError, AttributeError):
        return None
    # a runnable equal to the one a decorator put at that path is that one
    same = found is obj or (attrs.has(type(obj)) and type(found) is type(obj) and found == obj)
    return path if same else None


def resolve(path: str) -> Any:
    """Import `module` and walk `qualname`'s attributes."""
    module_name, _, qualname = path.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _entry(item: object) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, ModuleType):
        return item.__name__
    path = path_of(item)
    if path is None:
        raise LoadError(
            f"allowed takes module names, 'module:qualname' paths, modules, functions and "
            f"classes; got {item!r:.100}"
        )
    return path


@attrs.frozen
class Allowed:
    """What a text may name: by default the classes runnables defines (but not underscore
    names), the built-in classes (`str`, `KeyError`) and `typing.Any`; the caller adds
    modules (with their submodules) and single objects."""

    modules: frozenset[str] = frozenset()
    objects: frozenset[str] = frozenset()

    @classmethod
    def of(cls, items: Iterable[object]) -> Allowed:
        if isinstance(items, str):
            raise LoadError(f"allowed takes a list of names, not one string: allowed=[{items!r}]")
        entries = [_entry(item) for item in items]
        return cls(
            frozenset(e for e in entries if ":" not in e),
            frozenset(e for e in entries if ":" in e),
        )

    def _by_caller(self, module: str, path: str) -> bool:
        return path in self.objects or any(
            module == m or module.startswith(m + ".") for m in self.modules
        )

    def check(self, path: str, where: str) -> Any:
        """Import the object `path` names, if the allow-list lets the text name it: the
        object must also really live there (a name a module merely imported is refused)."""
        if path == "typing:Any":  # on Python 3.10 `Any` is not a class and has no qualname
            return Any
        module, colon, qualname = path.partition(":")
        parts = [*module.split("."), *qualname.split(".")]
        dunder = any(part.startswith("__") and part.endswith("__") for part in parts)
        if not colon or dunder or not all(part.isidentifier() for part in parts):
            raise LoadError(f"{where}: {path!r:.200} is not a 'module:qualname' path")
        own = (module == "runnables" or module.startswith("runnables.")) and not any(
            part.startswith("_") for part in qualname.split(".")
        )
        builtin_class = module == "builtins" and qualname in _BUILTIN_CLASSES
        if not (own or builtin_class or self._by_caller(module, path)):
            raise LoadError(
                f"{where}: {path!r} is not allowed; if you trust this text, pass "
                f"allowed=[{module!r}] (the module) or allowed=[{path!r}] (this object)"
            )
        try:
            found = resolve(path)
        except Exception as exc:
            raise LoadError(f"{where}: cannot import {path!r}: {exc}") from exc
        if own and not isinstance(found, type):
            raise LoadError(f"{where}: {path!r} is not a class runnables defines")
        if path_of(found) != path:
            raise LoadError(f"{where}: {path!r} is imported there from elsewhere, not defined")
        return found
