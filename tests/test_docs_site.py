"""The documentation site builds with `mkdocs build --strict`, and its reference covers every
public name: each module's `__all__`, documented in that module or in a package re-exporting it."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import runnables

ROOT = Path(__file__).resolve().parent.parent


def public_modules() -> list[str]:
    """`runnables` and every submodule with no underscore-led part in its dotted name."""
    names = ["runnables"]
    for info in pkgutil.walk_packages(runnables.__path__, "runnables."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def documented(site: Path) -> set[str]:
    """The dotted names in the site's object inventory (Sphinx's objects.inv, version 2)."""
    header_lines = 4
    data = (site / "objects.inv").read_bytes().split(b"\n", header_lines)
    body = zlib.decompress(data[header_lines]).decode()
    return {line.split(" ", 1)[0] for line in body.splitlines()}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocstrings", reason="the docs extra is not installed")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


def test_every_public_name_is_in_the_reference(site: Path) -> None:
    inventory = documented(site)
    missing: list[str] = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            homes = [module_name]
            parts = module_name.split(".")
            homes += [".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)]
            if not any(f"{home}.{name}" in inventory for home in homes):
                missing.append(f"{module_name}.{name}")
    assert not missing, f"public names missing from the reference: {missing}"


def test_the_public_module_list_is_known() -> None:
    assert {"runnables.tracing", "runnables.models.openai", "runnables.schema"} <= set(
        public_modules()
    )
