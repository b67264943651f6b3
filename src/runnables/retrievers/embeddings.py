"""Embeddings: the protocol a vector store needs, and a deterministic hashing embedder."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Protocol, runtime_checkable

import attrs

from runnables._core.interop import run_in_worker_thread

__all__ = ["BaseEmbeddings", "Embeddings", "HashingEmbeddings"]


@runtime_checkable
class Embeddings(Protocol):
    """Turns texts into vectors: documents in bulk, queries one at a time."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """The vector of a search query."""
        ...


class BaseEmbeddings:
    """A convenient base for `Embeddings`: the async methods default to the sync ones run in
    a worker thread."""

    __slots__ = ()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text."""
        raise NotImplementedError(f"{type(self).__name__} must implement embed_documents")

    def embed_query(self, text: str) -> list[float]:
        """The vector of a search query (by default, as a document)."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """`embed_documents`, asynchronously."""
        return await run_in_worker_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """`embed_query`, asynchronously."""
        return await run_in_worker_thread(self.embed_query, text)


_WORD = re.compile(r"\w+")


@attrs.frozen
class HashingEmbeddings(BaseEmbeddings):
    """Deterministic embeddings with no model: word and character n-gram features of the
    lowercased text hashed (with BLAKE2b, stable across processes) into `size` signed
    buckets, L2-normalised. Texts sharing words or word pieces score higher than unrelated
    ones; the same text always gets the same vector. An empty text is the zero vector.
    """

    size: int = attrs.field(default=256, validator=attrs.validators.ge(1))
    ngram: int = attrs.field(default=3, validator=attrs.validators.ge(1), kw_only=True)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.size
        for token, weight in self._features(text):
            digest = int.from_bytes(
                hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "big"
            )
            sign = 1.0 if digest & 1 else -1.0
            vector[(digest >> 1) % self.size] += sign * weight
        norm = math.sqrt(sum(v * v for v in vector))
        return [v / norm for v in vector] if norm else vector

    def _features(self, text: str) -> list[tuple[str, float]]:
        features: list[tuple[str, float]] = []
        n = self.ngram
        for word in _WORD.findall(text.lower()):
            features.append(("w:" + word, 1.0))
            padded = f"<{word}>"
            if len(padded) > n:
                features.extend(("c:" + padded[i : i + n], 0.5) for i in range(len(padded) - n + 1))
        return features
