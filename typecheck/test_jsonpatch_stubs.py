# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""The `jsonpatch` stubs in `stubs/jsonpatch`: the API a run log uses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jsonpatch
from typing_extensions import assert_type


def patches() -> None:
    ops: list[dict[str, Any]] = [
        {"op": "replace", "path": "", "value": {"logs": {}}},
        {"op": "add", "path": "/logs/x", "value": 1},
    ]
    patch = jsonpatch.JsonPatch(ops)
    assert_type(patch, jsonpatch.JsonPatch)
    assert_type(patch.patch, list[dict[str, Any]])
    assert_type(iter(patch), Iterator[dict[str, Any]])
    for op in patch:
        assert_type(op, dict[str, Any])
    assert_type(patch.apply({}), Any)
    assert_type(patch.apply({}, in_place=True), Any)
    assert_type(patch.apply({}, True, atomic=True), Any)
    assert_type(patch.to_string(), str)
    assert_type(str(patch), str)
    assert_type(bool(patch), bool)
    assert_type(patch == jsonpatch.JsonPatch([]), bool)
    assert_type(
        jsonpatch.JsonPatch.from_string('[{"op": "remove", "path": "/a"}]'), jsonpatch.JsonPatch
    )
    assert_type(jsonpatch.JsonPatch.from_diff({"a": 1}, {"a": 2}), jsonpatch.JsonPatch)
    assert_type(
        jsonpatch.JsonPatchWithAppend.from_diff({"a": "x"}, {"a": "xy"}),
        jsonpatch.JsonPatchWithAppend,
    )
    assert_type(jsonpatch.make_patch({"a": 1}, {"a": 2}), jsonpatch.JsonPatch)
    assert_type(jsonpatch.apply_patch({"a": 1}, ops), Any)
    assert_type(
        jsonpatch.apply_patch({"a": 1}, '[{"op": "remove", "path": "/a"}]', in_place=True), Any
    )
    assert_type(jsonpatch.path_split("/a/0"), tuple[str, ...])
    assert_type(jsonpatch.path_join(["a", 0]), str)


def operations() -> None:
    op = jsonpatch.AddOperation({"op": "add", "path": "/a/0", "value": 1})
    assert_type(op, jsonpatch.AddOperation)
    assert_type(op.apply({"a": []}), Any)
    assert_type(op.operation, dict[str, Any])
    assert_type(op.location, str)
    assert_type(op.path, str)
    assert_type(op.key, str | int)
    assert_type(op.get_part(0), str | int)
    move = jsonpatch.MoveOperation({"op": "move", "path": "/b", "from": "/a"})
    assert_type(move.from_path, str)
    assert_type(move.from_key, str | int)
    assert_type(jsonpatch.JsonPatch.operations["add"], type[jsonpatch.PatchOperation])
    assert_type(jsonpatch.JsonPatch.json_dumper({}), str)


def errors() -> None:
    try:
        jsonpatch.apply_patch({}, [{"op": "test", "path": "/a", "value": 1}])
    except jsonpatch.JsonPatchTestFailed as exc:
        assert_type(exc, jsonpatch.JsonPatchTestFailed)
        assert_type(exc.op, jsonpatch.PatchOperation | Mapping[str, Any] | None)
    except jsonpatch.JsonPatchConflict as exc:
        assert_type(exc, jsonpatch.JsonPatchConflict)
    except jsonpatch.InvalidJsonPatch as exc:
        assert_type(exc, jsonpatch.InvalidJsonPatch)
    except jsonpatch.JsonPatchException as exc:
        assert_type(exc, jsonpatch.JsonPatchException)
    conflict: jsonpatch.JsonPatchConflict = jsonpatch.JsonPatchPathNotFound("gone")
    failed: AssertionError = jsonpatch.JsonPatchTestFailed("x")


def negative() -> None:
    patch = jsonpatch.JsonPatch([])
    bad_apply = patch.apply({}, in_place="yes")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    bad_string: int = patch.to_string()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    bad_ops = jsonpatch.JsonPatch([1, 2])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    bad_patch_attr: list[str] = patch.patch  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
