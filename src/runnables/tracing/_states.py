"""Run log states built from JSON Patch ops without copying what the ops leave alone.

A state is never changed once built. The next one is built by copying only the containers
on the path of each op (path copying) and sharing every other part with the state it
follows, so that adding a patch costs the size of what it changes, not of the whole state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jsonpatch

__all__ = ["Journal", "copy_containers", "prepare", "with_ops"]


def copy_containers(value: Any) -> Any:
    """A copy of the JSON containers (dicts, lists) in `value`; other objects are shared, so
    applying a patch never mutates a value held by another patch, and never deep-copies (or
    chokes on) documents, messages and other Python objects."""
    if isinstance(value, dict):
        return {key: copy_containers(item) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [copy_containers(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value


class _Shared:
    """An op value's non-JSON object, for a jsonpatch that deep-copies the values it inserts:
    copying the wrapper gives back the object itself (shared, never deep-copied)."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __deepcopy__(self, memo: dict[int, object]) -> object:
        return self.obj


def _wrap(value: Any) -> Any:
    """`value` with its containers copied and its other objects wrapped in `_Shared`."""
    if isinstance(value, dict):
        return {key: _wrap(item) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_wrap(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return _Shared(value)


def _copies_values() -> bool:
    """Whether this jsonpatch deep-copies the values it inserts (newer versions do)."""
    probe: list[object] = []
    result: dict[str, object] = jsonpatch.apply_patch(
        {}, [{"op": "add", "path": "/a", "value": probe}], in_place=True
    )
    return result["a"] is not probe


#: An op value made ready for jsonpatch to insert (see `_Shared`).
prepare = _wrap if _copies_values() else copy_containers


class Journal:
    """The ops of run logs each made by adding a patch to the one before, in one list they
    all share (it is only ever appended to: a log is the first `length` ops), and the newest
    state built from them, `latest`, after the first `latest_at` ops."""

    __slots__ = ("latest", "latest_at", "ops")

    def __init__(self, ops: list[dict[str, Any]], latest: Any, latest_at: int) -> None:
        self.ops = ops
        self.latest = latest
        self.latest_at = latest_at


def with_ops(state: Any, ops: Sequence[dict[str, Any]]) -> Any:
    """`state` with `ops` applied, as jsonpatch applies them, as a new state sharing with
    `state` every container the ops leave alone (neither `state` nor the ops' values are
    changed). Raises what jsonpatch raises for an op that does not apply."""
    own: dict[int, Any] = {}  # the containers copied for this state (by id, kept alive)
    for op in ops:
        kind = op.get("op")
        path = op.get("path")
        if not isinstance(path, str):
            state = _by_jsonpatch(state, op, own)
            continue
        if path == "" and kind in ("add", "replace"):
            state = op["value"] if "value" in op else _by_jsonpatch(state, op, own)
            continue
        parts = _parts(path)
        if parts is not None:
            parent = _owned_parent(state, parts, own)
            if parent is not None and _applied(parent, kind, parts[-1], op):
                state = own[-1]
                continue
        state = _by_jsonpatch(state, op, own)
    return state


def _parts(path: str) -> list[str] | None:
    """The reference tokens of a JSON pointer; None if it is not one."""
    if not path.startswith("/"):
        return None
    parts = path[1:].split("/")
    if "~" in path:
        parts = [part.replace("~1", "/").replace("~0", "~") for part in parts]
    return parts


def _owned_parent(state: Any, parts: list[str], own: dict[int, Any]) -> Any:
    """The container holding `parts[-1]`, made this state's own along the way (copied once,
    with the containers above it; the root's copy is `own[-1]`); None if the path does not
    lead to one."""
    root = own.get(-1)
    if root is None or root is not state:
        root = _shallow_copy(state)
        if root is None:
            return None
        own[-1] = root
        own[id(root)] = root
    container: Any = root
    for part in parts[:-1]:
        key: Any
        if container.__class__ is dict:
            key = part
            child: Any = container.get(key, own)  # (`own`: a marker for a missing key)
            if child is own:
                return None
        else:
            key = _index(part, len(container))
            if key is None:
                return None
            child = container[key]
        if id(child) not in own:
            child = _shallow_copy(child)
            if child is None:
                return None
            own[id(child)] = child
            container[key] = child
        container = child
    return container


def _shallow_copy(value: Any) -> Any:
    """A copy of a dict or list (not of its items); None for anything else."""
    kind = value.__class__
    if kind is dict or kind is list:
        return value.copy()
    return None


def _index(part: str, size: int) -> int | None:
    """A list index token that points at an item; None otherwise."""
    if not part.isdigit() or (part != "0" and part.startswith("0")):
        return None
    index = int(part)
    return index if index < size else None


def _applied(parent: Any, kind: object, last: str, op: dict[str, Any]) -> bool:
    """Apply a plain `add`, `replace` or `remove` at `parent[last]` (a container this state
    owns); False, changing nothing, for anything else (jsonpatch then applies it, or says
    what is wrong with it)."""
    if kind == "remove":
        if parent.__class__ is dict:
            if last not in parent:
                return False
            del parent[last]
            return True
        index = _index(last, len(parent))
        if index is None:
            return False
        del parent[index]
        return True
    if kind not in ("add", "replace") or "value" not in op:
        return False
    value = op["value"]
    if parent.__class__ is dict:
        if kind == "replace" and last not in parent:
            return False
        parent[last] = value
        return True
    if kind == "add":
        if last == "-":
            parent.append(value)
            return True
        if last == str(len(parent)):  # (an index may also be one past the end)
            parent.append(value)
            return True
        index = _index(last, len(parent))
        if index is None:
            return False
        parent.insert(index, value)
        return True
    index = _index(last, len(parent))
    if index is None:
        return False
    parent[index] = value
    return True


def _by_jsonpatch(state: Any, op: dict[str, Any], own: dict[int, Any]) -> Any:
    """`op` applied by jsonpatch itself (a `move`, `copy` or `test`, or an op that does not
    apply, for jsonpatch's own error), on a copy of the containers of the state."""
    own.clear()
    copied = copy_containers(state)
    prepared = {**op, "value": prepare(op["value"])} if "value" in op else op
    result = jsonpatch.apply_patch(copied, [prepared], in_place=True)
    own[-1] = result
    _own_all(result, own)
    return result


def _own_all(value: Any, own: dict[int, Any]) -> None:
    """Mark every container in `value` (all fresh copies) as this state's own."""
    items: Any
    if value.__class__ is dict:
        items = value.values()
    elif value.__class__ is list:
        items = value
    else:
        return
    own[id(value)] = value
    for item in items:
        _own_all(item, own)
