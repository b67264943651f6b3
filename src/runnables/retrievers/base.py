"""`BaseRetriever`: a runnable from a query string to the relevant documents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs

from runnables._core.base import RunnableBase
from runnables._core.context import RunContext
from runnables._core.interop import run_in_worker_thread
from runnables._core.leaf import aleaf, leaf
from runnables.documents import Document
from runnables.errors import RunnablesTypeError

__all__ = ["BaseRetriever"]


@attrs.frozen
class BaseRetriever(RunnableBase[str, list[Document]]):
    """A retriever: `invoke(query)` returns the documents relevant to `query`.

    Subclasses (attrs frozen classes) implement `_get_relevant_documents(query)` and may
    implement `_aget_relevant_documents(query)` for a native async path; by default the async
    path runs the sync one in a worker thread. A retrieval is a leaf call: it holds one
    `max_concurrency` slot while it runs. Runs are of type `"retriever"` and carry the
    retriever's `tags` (after the inherited and position tags).
    """

    @property
    def run_type(self) -> str:
        return "retriever"

    @property
    def tags(self) -> tuple[str, ...]:
        """Tags every run of this retriever carries (none by default)."""
        return ()

    @property
    def input_type(self) -> Any:
        return str

    @property
    def output_type(self) -> Any:
        return list[Document]

    # -- the subclass hooks

    def _get_relevant_documents(self, query: str) -> list[Document]:
        """The documents relevant to `query`."""
        raise NotImplementedError(f"{type(self).__name__} must implement _get_relevant_documents")

    async def _aget_relevant_documents(self, query: str) -> list[Document]:
        """The documents relevant to `query`, asynchronously (default: the sync hook in a
        worker thread)."""
        return await run_in_worker_thread(self._get_relevant_documents, query)

    # -- the runnable hooks

    def _invoke(self, input: str, ctx: RunContext) -> list[Document]:
        return leaf(ctx, self._get_relevant_documents, _check_query(input))

    async def _ainvoke(self, input: str, ctx: RunContext) -> list[Document]:
        return await aleaf(ctx, self._aget_relevant_documents, _check_query(input))

    # -- the retriever's own tags on its runs

    def _tagged(self, ctx: RunContext) -> RunContext:
        tags = self.tags
        if not tags or not ctx.tracing:
            return ctx
        have = {*ctx.tags, *ctx.local_tags}
        return ctx.replace(local_tags=(*ctx.local_tags, *(t for t in tags if t not in have)))

    def _call(self, input: str, ctx: RunContext) -> list[Document]:
        return super()._call(input, self._tagged(ctx))

    async def _acall(self, input: str, ctx: RunContext) -> list[Document]:
        return await super()._acall(input, self._tagged(ctx))

    def _call_transform(self, inputs: Iterator[str], ctx: RunContext) -> Iterator[list[Document]]:
        return super()._call_transform(inputs, self._tagged(ctx))

    def _acall_transform(
        self, inputs: AsyncIterator[str], ctx: RunContext
    ) -> AsyncIterator[list[Document]]:
        return super()._acall_transform(inputs, self._tagged(ctx))


def _check_query(query: object) -> str:
    if not isinstance(query, str):
        raise RunnablesTypeError(f"a retriever takes a query string, got {type(query).__name__}")
    return query
