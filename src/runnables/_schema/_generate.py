"""JSON Schema (2020-12) generation: a registry of ``(predicate, hook)`` rules.

A :class:`Builder` walks a type, asking the :class:`Registry` for the first rule whose
predicate accepts each (sub)type. Named types (classes, enums) are emitted once under
``$defs`` and referenced with ``$ref``, which also makes recursive types terminate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from runnables.errors import RunnablesTypeError

from ._introspect import display

__all__ = ["Builder", "JSONSchema", "Predicate", "Registry", "SchemaHook"]

JSONSchema = dict[str, Any]
Predicate = Callable[[Any], bool]
SchemaHook = Callable[["Builder", Any], JSONSchema]


class Registry:
    """Ordered schema rules; the most recently registered matching rule wins."""

    def __init__(self) -> None:
        self._rules: list[tuple[Predicate, SchemaHook]] = []

    def register(self, predicate: Predicate, hook: SchemaHook) -> None:
        """Add a rule: ``hook(builder, tp)`` produces the schema of every ``tp`` accepted."""
        self._rules.insert(0, (predicate, hook))

    def hook_for(self, tp: object) -> SchemaHook:
        """Return the hook for ``tp``, or raise ``TypeError`` naming the unsupported type."""
        for predicate, hook in self._rules:
            if predicate(tp):
                return hook
        raise RunnablesTypeError(
            f"runnables.schema does not support the type {display(tp)} ({tp!r})"
        )


def _def_name(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", title)


class Builder:
    """One schema derivation: collects ``$defs`` while turning types into schemas.

    ``root`` is the top-level type: when it is a named type it is inlined at the top
    (recursive references to it become ``{"$ref": "#"}``) instead of being a bare ref.
    """

    def __init__(self, registry: Registry, root: object) -> None:
        self._registry = registry
        self._root = root
        self._refs: dict[object, str] = {}
        self.defs: dict[str, JSONSchema] = {}

    def build(self, tp: object) -> JSONSchema:
        """Return the schema of ``tp`` (refs into ``self.defs`` for named types)."""
        return self._registry.hook_for(tp)(self, tp)

    def named(self, tp: object, title: str, body: Callable[[], JSONSchema]) -> JSONSchema:
        """Emit the schema ``body()`` of a named type once and return a reference to it."""
        ref = self._refs.get(tp)
        if ref is not None:
            return {"$ref": ref}
        if tp == self._root and not self._refs:
            self._refs[tp] = "#"
            return {"title": title, **body()}
        name = base = _def_name(title)
        counter = 1
        while name in self.defs:
            counter += 1
            name = f"{base}_{counter}"
        self._refs[tp] = ref = f"#/$defs/{name}"
        self.defs[name] = {}  # reserve the name while the body (maybe recursive) is built
        self.defs[name] = {"title": title, **body()}
        return {"$ref": ref}

    def document(self, title: str) -> JSONSchema:
        """Build the complete top-level schema of the root type."""
        schema = self.build(self._root)
        top: JSONSchema = {"title": title, **{k: v for k, v in schema.items() if k != "title"}}
        if self.defs:
            top["$defs"] = self.defs
        return top
