"""`InMemoryVectorStore`: texts and their vectors in memory, searched by cosine similarity."""

from __future__ import annotations

import heapq
import math
import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from runnables.documents import Document
from runnables.errors import RunnablesValueError
from runnables.retrievers.base import BaseRetriever
from runnables.retrievers.embeddings import Embeddings

__all__ = ["InMemoryVectorStore", "VectorStoreRetriever"]


class InMemoryVectorStore:
    """Documents with their embedding vectors, kept in memory (thread-safe).

    This is a store, not a runnable: it changes as texts are added. `as_retriever(k)` gives
    the runnable that searches it. Search is exact cosine similarity in pure Python.
    """

    def __init__(self, embedding: Embeddings) -> None:
        self.embedding: Embeddings = embedding
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Document, list[float]]] = {}

    def __repr__(self) -> str:
        return f"InMemoryVectorStore(embedding={self.embedding!r}, size={len(self)})"

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            return {"embedding": self.embedding, "entries": dict(self._entries)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.embedding = state["embedding"]
        self._lock = threading.Lock()
        self._entries = dict(state["entries"])

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        embedding: Embeddings,
        metadatas: Sequence[dict[str, Any]] | None = None,
        *,
        ids: Sequence[str] | None = None,
    ) -> InMemoryVectorStore:
        """A new store holding `texts` (with `metadatas`, one per text, if given)."""
        store = cls(embedding)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    def from_documents(
        cls, documents: Iterable[Document], embedding: Embeddings
    ) -> InMemoryVectorStore:
        """A new store holding `documents`."""
        store = cls(embedding)
        store.add_documents(documents)
        return store

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: Sequence[dict[str, Any]] | None = None,
        *,
        ids: Sequence[str] | None = None,
    ) -> list[str]:
        """Embed and store `texts`; returns their ids (new UUIDs unless `ids` are given)."""
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise RunnablesValueError(f"got {len(texts)} texts but {len(metadatas)} metadatas")
        documents = [
            Document(text, dict(metadatas[i]) if metadatas is not None else {})
            for i, text in enumerate(texts)
        ]
        return self.add_documents(documents, ids=ids)

    def add_documents(
        self, documents: Iterable[Document], *, ids: Sequence[str] | None = None
    ) -> list[str]:
        """Embed and store `documents`; returns their ids (`ids` if given, else each
        document's own `id`, else a new UUID). An existing id is overwritten."""
        documents = list(documents)
        if ids is not None and len(ids) != len(documents):
            raise RunnablesValueError(f"got {len(documents)} documents but {len(ids)} ids")
        vectors = self.embedding.embed_documents([doc.page_content for doc in documents])
        if len(vectors) != len(documents):
            raise RunnablesValueError(
                f"the embedding returned {len(vectors)} vectors for {len(documents)} texts"
            )
        keys = [
            ids[i] if ids is not None else doc.id if doc.id is not None else str(uuid.uuid4())
            for i, doc in enumerate(documents)
        ]
        with self._lock:
            for key, doc, vector in zip(keys, documents, vectors, strict=True):
                self._entries[key] = (doc, list(vector))
        return keys

    def delete(self, ids: Iterable[str]) -> None:
        """Remove the documents with these ids (unknown ids are ignored)."""
        with self._lock:
            for key in ids:
                self._entries.pop(key, None)

    def get_by_ids(self, ids: Iterable[str]) -> list[Document]:
        """The stored documents with these ids, in that order (unknown ids are skipped)."""
        with self._lock:
            return [self._entries[key][0] for key in ids if key in self._entries]

    # -- search

    def similarity_search_with_score_by_vector(
        self, embedding: Sequence[float], k: int = 4
    ) -> list[tuple[Document, float]]:
        """The `k` documents most similar to the vector `embedding`, with their cosine
        similarity, best first (ties in insertion order)."""
        if k < 0:
            raise RunnablesValueError(f"k must be at least 0, got {k}")
        with self._lock:
            entries = list(self._entries.values())
        scored = [(doc, _cosine(embedding, vector)) for doc, vector in entries]
        return heapq.nlargest(k, scored, key=lambda pair: pair[1])

    def similarity_search_by_vector(self, embedding: Sequence[float], k: int = 4) -> list[Document]:
        """The `k` documents most similar to the vector `embedding`, best first."""
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k)]

    def similarity_search_with_score(self, query: str, k: int = 4) -> list[tuple[Document, float]]:
        """The `k` documents most similar to `query`, with their cosine similarity."""
        return self.similarity_search_with_score_by_vector(self.embedding.embed_query(query), k)

    def similarity_search(self, query: str, k: int = 4) -> list[Document]:
        """The `k` documents most similar to `query`, best first."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k)]

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4
    ) -> list[tuple[Document, float]]:
        """`similarity_search_with_score`, embedding the query with `aembed_query` when the
        embedding has one."""
        aembed = getattr(self.embedding, "aembed_query", None)
        if aembed is None:
            from runnables._core.interop import run_in_worker_thread

            return await run_in_worker_thread(self.similarity_search_with_score, query, k)
        vector: list[float] = await aembed(query)
        return self.similarity_search_with_score_by_vector(vector, k)

    async def asimilarity_search(self, query: str, k: int = 4) -> list[Document]:
        """`similarity_search`, asynchronously."""
        return [doc for doc, _ in await self.asimilarity_search_with_score(query, k)]

    def as_retriever(self, k: int = 4, *, tags: Sequence[str] = ()) -> VectorStoreRetriever:
        """A retriever returning the `k` most similar documents to its query.

        Its runs are tagged with `tags`, then the store's and the embedding's class names
        (`InMemoryVectorStore`, `HashingEmbeddings`), as LangChain does.
        """
        return VectorStoreRetriever(self, k=k, extra_tags=tuple(tags))


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise RunnablesValueError(f"vectors of different lengths: {len(a)} and {len(b)}")
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norm if norm else 0.0


def _check_k(_instance: object, _attribute: object, value: int) -> None:
    if value < 0:
        raise RunnablesValueError(f"k must be at least 0, got {value}")


@attrs.frozen
class VectorStoreRetriever(BaseRetriever):
    """Retrieves the `k` documents of `vectorstore` most similar to the query.

    Equal when built on the same store (by identity) with the same options.
    """

    vectorstore: InMemoryVectorStore
    k: int = attrs.field(default=4, validator=_check_k)
    extra_tags: tuple[str, ...] = attrs.field(default=(), kw_only=True)

    @property
    def tags(self) -> tuple[str, ...]:
        return (
            *self.extra_tags,
            type(self.vectorstore).__name__,
            type(self.vectorstore.embedding).__name__,
        )

    def _get_relevant_documents(self, query: str) -> list[Document]:
        return self.vectorstore.similarity_search(query, self.k)

    async def _aget_relevant_documents(self, query: str) -> list[Document]:
        return await self.vectorstore.asimilarity_search(query, self.k)
