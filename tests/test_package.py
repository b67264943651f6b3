"""The package surface: public names load on first use; a misspelled one is an error at once
(and, for the type checkers, before the program runs: see typecheck/test_imports.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import runnables


def test_a_misspelled_name_fails_to_import() -> None:
    with pytest.raises(ImportError, match="RunnableLamda"):
        from runnables import RunnableLamda  # type: ignore[attr-defined]  # noqa: F401  # pyright: ignore[reportAttributeAccessIssue, reportUnknownVariableType]


def test_every_public_name_loads_and_is_listed() -> None:
    for name in runnables.__all__:
        assert getattr(runnables, name) is not None
        assert name in dir(runnables)


def test_importing_the_package_loads_no_primitive() -> None:
    code = (
        "import sys, runnables; "
        "print(sorted(m for m in sys.modules if m.startswith('runnables._primitives')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
