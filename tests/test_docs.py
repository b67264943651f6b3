"""Every ```python block in README.md and docs/**/*.md runs, in order, one namespace per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"  # generated from docstrings: examples are optional there
DOCUMENTS = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_examples_run(document: Path) -> None:
    blocks = BLOCK.findall(document.read_text())
    assert blocks or REFERENCE in document.parents, f"{document.name} has no python examples"
    namespace: dict[str, object] = {"__name__": f"docs_{document.stem}"}
    for number, block in enumerate(blocks, 1):
        # dont_inherit: a page runs without this module's `from __future__ import annotations`
        code = compile(block, f"{document.name}:block{number}", "exec", dont_inherit=True)
        exec(code, namespace)


def test_pages_in_subdirectories_are_found() -> None:
    assert any(DOCS in document.parents and document.parent != DOCS for document in DOCUMENTS)
