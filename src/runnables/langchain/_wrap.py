"""`from_langchain`: any LangChain runnable as a typed runnables value."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, final

import attrs
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import Runnable as LCRunnable
from langchain_core.runnables import RunnableBinding as LCBinding

from runnables._core.base import RunnableBase
from runnables._core.config import DEFAULT_RECURSION_LIMIT
from runnables._core.context import RunContext
from runnables._core.engine import Engine
from runnables._core.leaf import (
    aleaf,
    aleaf_in_thread,
    aleaf_iter,
    aleaf_iter_in_threads,
    leaf,
    leaf_iter,
)
from runnables._core.streaming import (
    add_step_note,
    aggregate,
    awaited,
    closing_chunks,
    closing_map,
)
from runnables.langchain._convert import from_lc, from_lc_chunk, to_lc
from runnables.langchain._into import (
    AsyncIntoRunnables,
    AsyncStreamingIntoRunnables,
    IntoRunnables,
    StreamingIntoRunnables,
)
from runnables.langchain._text import text_reader
from runnables.parsers import StrOutputParser

if TYPE_CHECKING:
    from typing_extensions import TypeForm

__all__ = ["LangChainRunnable", "from_langchain"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I2 = TypeVar("I2")
O2 = TypeVar("O2")


def _run_type(wrapped: LCRunnable[Any, Any]) -> str:
    """The kind of run LangChain makes for `wrapped` (a binding's is its bound runnable's)."""
    from langchain_core.language_models import BaseChatModel, BaseLLM
    from langchain_core.output_parsers import BaseOutputParser
    from langchain_core.prompts import BasePromptTemplate
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.tools import BaseTool

    inner: object = wrapped
    while isinstance(inner, LCBinding):
        inner = inner.bound
    kinds: tuple[tuple[type[Any], str], ...] = (
        (BaseChatModel, "chat_model"),
        (BaseLLM, "llm"),
        (BaseRetriever, "retriever"),
        (BaseTool, "tool"),
        (BaseOutputParser, "parser"),
        (BasePromptTemplate, "prompt"),
    )
    return next((kind for cls, kind in kinds if isinstance(inner, cls)), "chain")


def _model_metadata(wrapped: LCRunnable[Any, Any]) -> dict[str, Any]:
    """The metadata LangChain gives the run of `wrapped` when it is a language model (or a
    binding of one): its `ls_*` params for the bound options (`_get_ls_params`), then the
    model's own metadata; else nothing."""
    from langchain_core.language_models import BaseLanguageModel

    inner: object = wrapped
    options: dict[str, Any] = {}
    while isinstance(inner, LCBinding):
        options = {**inner.kwargs, **options}  # an outer binding's options win
        inner = inner.bound
    if not isinstance(inner, BaseLanguageModel):
        return {}
    stop = options.pop("stop", None)
    params: dict[str, Any] = dict(inner._get_ls_params_with_defaults(stop=stop, **options))  # pyright: ignore[reportPrivateUsage]
    return {**params, **(inner.metadata or {})}


def _is_graph(wrapped: LCRunnable[Any, Any]) -> bool:
    """Whether `wrapped` is a compiled LangGraph graph, whose stream is of state updates (not
    pieces of its output): its output is streamed as one chunk (its inner runs still stream
    in events)."""
    pregel = sys.modules.get("langgraph.pregel")
    return pregel is not None and isinstance(wrapped, pregel.Pregel)


def _lc_config(ctx: RunContext, handler: Callable[[RunContext], BaseCallbackHandler]) -> Any:
    """The LangChain config for the wrapped call: the inherited parts of `ctx` (its
    `max_concurrency` too, LangChain's limit inside the wrapped call), and (when
    someone listens) a handler that tells them of LangChain's inner runs, the wrapped
    runnable's run taking the id of the wrapper's."""
    config: dict[str, Any] = {}
    if ctx.tags:
        config["tags"] = list(ctx.tags)
    if ctx.metadata:
        config["metadata"] = dict(ctx.metadata)
    if ctx.configurable:
        config["configurable"] = dict(ctx.configurable)
    if ctx.recursion_limit != DEFAULT_RECURSION_LIMIT:
        config["recursion_limit"] = ctx.recursion_limit
    if ctx.max_concurrency is not None:  # LangChain's own limit, inside the wrapped call
        config["max_concurrency"] = ctx.max_concurrency
    if ctx.callbacks:
        config["callbacks"] = [handler(ctx)]
        if ctx.parent_run is not None:
            config["run_id"] = ctx.parent_run.id
    return config


def _invoke_driver(
    ctx: RunContext, *, streamed: bool, asynchronous: bool
) -> Callable[[RunContext], BaseCallbackHandler]:
    """The driver of an invoke of the wrapped runnable. A streaming one, for which LangChain's
    chat models stream (telling their tokens), when the wrapper's call streams (a graph's,
    whose output is one chunk) or a LangChain streaming handler listens (LangGraph's
    `stream_mode="messages"` one, in a `to_langchain` node), as LangChain's models stream for
    it: a wrapped model's tokens are then told as the wrapper's. Else a plain one, for which
    they answer whole."""
    if not (streamed or ctx.handlers.wants_model_tokens):
        return AsyncIntoRunnables if asynchronous else IntoRunnables
    return partial(
        AsyncStreamingIntoRunnables if asynchronous else StreamingIntoRunnables, invoked=True
    )


def _on_asyncio() -> bool:
    """Whether an asyncio loop runs here (LangChain's async paths need one)."""
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio._get_running_loop() is not None


async def _aconverted(chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async with closing_chunks(chunks) as stream:
        async for chunk in stream:
            yield from_lc_chunk(chunk)


@final
@attrs.frozen
class LangChainRunnable(RunnableBase[In, Out], Generic[In, Out]):
    """A LangChain runnable (chat model, retriever, tool, LCEL chain, compiled LangGraph
    graph) as a runnables value of the declared types: every call form, streamed chunk by
    chunk, with messages, documents and prompt values converted both ways. The wrapped call
    is one leaf call: it holds one `max_concurrency` slot while it runs.

    Its run is the wrapped runnable's run; the runs LangChain makes inside it are its child
    runs for callbacks, `astream_events` and `astream_log`. Async calls use LangChain's
    async methods on asyncio (cancelling the call cancels them); under trio, which LangChain
    cannot run on, its sync methods run in worker threads (a cancelled call waits for the
    LangChain call, or chunk, in progress).
    """

    wrapped: LCRunnable[Any, Any]
    declared_input_type: Any
    declared_output_type: Any
    _kind: str = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(lambda self: _run_type(self.wrapped), takes_self=True),
    )

    _graph: bool = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(lambda self: _is_graph(self.wrapped), takes_self=True),
    )

    @property
    def name(self) -> str:
        return self.wrapped.get_name()

    # -- a wrapped model's run carries the metadata LangChain would give it (only when someone
    # listens): the `ls_*` params naming the model, read by tracers (the caller's keys win)

    def _described(self, ctx: RunContext) -> RunContext:
        if not ctx.tracing or self._kind not in ("chat_model", "llm"):
            return ctx
        return ctx.replace(metadata={**_model_metadata(self.wrapped), **ctx.metadata})

    def _call(self, input: In, ctx: RunContext) -> Out:
        return super()._call(input, self._described(ctx))

    async def _acall(self, input: In, ctx: RunContext) -> Out:
        return await super()._acall(input, self._described(ctx))

    def _call_transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        return super()._call_transform(inputs, self._described(ctx))

    def _acall_transform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        return super()._acall_transform(inputs, self._described(ctx))

    @property
    def run_type(self) -> str:
        return self._kind

    @property
    def input_type(self) -> Any:
        return self.declared_input_type

    @property
    def output_type(self) -> Any:
        return self.declared_output_type

    def _invoke(self, input: In, ctx: RunContext, *, streamed: bool = False) -> Out:
        driver = _invoke_driver(ctx, streamed=streamed, asynchronous=False)
        output: Out = from_lc(leaf(ctx, self.wrapped.invoke, to_lc(input), _lc_config(ctx, driver)))
        return output

    async def _ainvoke(self, input: In, ctx: RunContext, *, streamed: bool = False) -> Out:
        if _on_asyncio():
            driver = _invoke_driver(ctx, streamed=streamed, asynchronous=True)
            config = _lc_config(ctx, driver)
            result: Out = from_lc(await aleaf(ctx, self.wrapped.ainvoke, to_lc(input), config))
            return result
        config = _lc_config(ctx, _invoke_driver(ctx, streamed=streamed, asynchronous=False))
        output: Out = from_lc(await aleaf_in_thread(ctx, self.wrapped.invoke, to_lc(input), config))
        return output

    def _stream(self, input: In, ctx: RunContext) -> Iterator[Out]:
        if self._graph:
            return iter((self._invoke(input, ctx, streamed=True),))
        config = _lc_config(ctx, StreamingIntoRunnables)
        return closing_map(from_lc_chunk, leaf_iter(ctx, self.wrapped.stream, to_lc(input), config))

    def _call_transform_into(
        self, consumer: Engine[Any, Any], inputs: Iterator[In], ctx: RunContext
    ) -> Iterator[Any] | None:
        # Read by a `StrOutputParser`, the text of LangChain's own chunks is all that is needed.
        if self._graph or type(consumer) is not StrOutputParser:
            return None
        return self._texts(inputs, ctx, ctx.run_name or consumer.name)

    def _texts(self, inputs: Iterator[In], ctx: RunContext, parser_name: str) -> Iterator[str]:
        """The chunks a `StrOutputParser` named `parser_name` makes of this runnable's stream,
        from LangChain's own (see `text_reader`), the failing step named as if the two
        streamed one after the other."""
        try:
            input = aggregate(inputs)
            config = _lc_config(ctx, StreamingIntoRunnables)
            chunks = leaf_iter(ctx, self.wrapped.stream, to_lc(input), config)
            text = text_reader(lambda: ctx.run_name or self.name, parser_name)
            yield from closing_map(text, chunks)
        except Exception as exc:  # (`text` names the step that failed to read a chunk)
            add_step_note(exc, ctx.run_name or self.name)
            raise

    def _astream(self, input: In, ctx: RunContext) -> AsyncIterator[Out]:
        if self._graph:
            return awaited(lambda: self._ainvoke(input, ctx, streamed=True))
        if _on_asyncio():
            config = _lc_config(ctx, AsyncStreamingIntoRunnables)
            chunks = aleaf_iter(ctx, self.wrapped.astream, to_lc(input), config)
        else:
            config = _lc_config(ctx, StreamingIntoRunnables)
            chunks = aleaf_iter_in_threads(ctx, self.wrapped.stream, to_lc(input), config)
        return _aconverted(chunks)


def from_langchain(
    runnable: LCRunnable[Any, Any], *, input_type: TypeForm[I2], output_type: TypeForm[O2]
) -> LangChainRunnable[I2, O2]:
    """Wrap a LangChain `runnable` as a runnables `Runnable[input_type, output_type]`.

    The types are declared, not checked: they type the chains it is composed into and give
    its schemas. Any type expression will do (`str | ChatPromptValue`, `Sequence[BaseMessage]`),
    as for `with_types`. Messages, documents and prompt values cross as runnables' own values.
    """
    if not isinstance(cast("object", runnable), LCRunnable):
        from runnables.errors import RunnablesTypeError

        raise RunnablesTypeError(
            f"from_langchain wraps a LangChain Runnable, got {type(runnable).__name__}"
        )
    return LangChainRunnable(runnable, input_type, output_type)
