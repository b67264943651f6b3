"""The `Document` value: a piece of text plus metadata, as produced by loaders and retrievers."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

__all__ = ["Document"]


@attrs.frozen(repr=False)
class Document:
    """A piece of text with metadata about where it came from, passed between retrieval steps.

    Documents compare by value; they hold a metadata dict, so they are unhashable.
    """

    page_content: str
    metadata: dict[str, Any] = attrs.field(factory=dict)
    id: str | None = attrs.field(default=None, kw_only=True)

    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]

    def __repr__(self) -> str:
        """Show ``page_content`` plus ``metadata`` and ``id`` only when they are set."""
        parts = [f"page_content={self.page_content!r}"]
        if self.metadata:
            parts.append(f"metadata={self.metadata!r}")
        if self.id is not None:
            parts.append(f"id={self.id!r}")
        return f"Document({', '.join(parts)})"
