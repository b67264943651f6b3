"""Tests for `runnables.documents`."""

from __future__ import annotations

import attrs
import pytest

from runnables.documents import Document


def test_construction_forms() -> None:
    assert Document("x") == Document(page_content="x")
    assert Document("x", {"a": 1}) == Document(page_content="x", metadata={"a": 1})
    doc = Document(page_content="x", metadata={"source": "s"}, id="d1")
    assert doc.page_content == "x"
    assert doc.metadata == {"source": "s"}
    assert doc.id == "d1"


def test_defaults() -> None:
    doc = Document("x")
    assert doc.metadata == {}
    assert doc.id is None
    assert Document("a").metadata is not Document("b").metadata


def test_equality() -> None:
    assert Document("x", {"a": 1}) == Document("x", {"a": 1})
    assert Document("x", {"a": 1}) != Document("x", {"a": 2})
    assert Document("x") != Document("y")
    assert Document("x", id="1") != Document("x", id="2")


def test_frozen_and_unhashable() -> None:
    doc = Document("x")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        doc.page_content = "y"  # type: ignore[misc]
    with pytest.raises(TypeError, match="unhashable"):
        hash(doc)


def test_repr_omits_defaults() -> None:
    assert repr(Document("harrison worked at kensho")) == (
        "Document(page_content='harrison worked at kensho')"
    )
    assert repr([Document("harrison worked at kensho")]) == (
        "[Document(page_content='harrison worked at kensho')]"
    )
    assert repr(Document("x", {"a": 1})) == "Document(page_content='x', metadata={'a': 1})"
    assert repr(Document("x", id="d")) == "Document(page_content='x', id='d')"


def test_id_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        Document("x", {}, "d1")  # type: ignore[call-arg]
