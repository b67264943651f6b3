"""The ```python examples of the pages below pass `mypy --strict` and pyright's strict mode,
each page checked on its own as one module (its blocks in order), as a reader would paste it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [
    DOCS / "memory.md",
    DOCS / "bridges.md",
    DOCS / "scale-out.md",
    DOCS / "serving.md",
    *sorted((DOCS / "concepts").glob("*.md")),
]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def write_examples(folder: Path) -> list[Path]:
    """One module per page, named after it, holding the page's blocks in order."""
    modules: list[Path] = []
    for page in PAGES:
        blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
        assert blocks, f"{page.name} has no python examples"
        name = re.sub(r"\W", "_", str(page.relative_to(DOCS).with_suffix("")))
        module = folder / f"page_{name}.py"
        module.write_text("\n\n".join(blocks), encoding="utf-8")
        modules.append(module)
    return modules


def test_the_pages_are_found() -> None:
    assert all(page.exists() for page in PAGES)
    assert len(PAGES) > 4  # the concepts pages were globbed


def test_the_page_examples_pass_mypy_strict(tmp_path: Path) -> None:
    modules = write_examples(tmp_path)
    # Run from the root: the project's mypy settings (Python 3.10, stubs/) apply, and its cache.
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *map(str, modules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_page_examples_pass_pyright_strict(tmp_path: Path) -> None:
    write_examples(tmp_path)
    config = {
        "typeCheckingMode": "strict",
        "pythonVersion": "3.10",
        "include": ["."],
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "basedpyright", "--pythonpath", sys.executable, "--project", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
