"""Retrievers, embeddings and an in-memory vector store."""

from runnables.retrievers.base import BaseRetriever
from runnables.retrievers.embeddings import BaseEmbeddings, Embeddings, HashingEmbeddings
from runnables.retrievers.vectorstore import InMemoryVectorStore, VectorStoreRetriever

__all__ = [
    "BaseEmbeddings",
    "BaseRetriever",
    "Embeddings",
    "HashingEmbeddings",
    "InMemoryVectorStore",
    "VectorStoreRetriever",
]

for _name in __all__:
    globals()[_name].__module__ = __name__
