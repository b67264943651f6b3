"""Every ```python block in README.md and docs/*.md runs, in order, one namespace per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_examples_run(document: Path) -> None:
    blocks = BLOCK.findall(document.read_text())
    assert blocks, f"{document.name} has no python examples"
    namespace: dict[str, object] = {"__name__": f"docs_{document.stem}"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{document.name}:block{number}", "exec")
        exec(code, namespace)
