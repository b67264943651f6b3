"""LangChain's runs inside a wrapped LangChain runnable, told to runnables' observers.

`from_langchain` hands the wrapped call one of these LangChain callback handlers (only when
someone listens). It turns every run LangChain reports below the wrapped one into a runnables
`Run` (converted inputs and outputs, LangChain's run and parent ids) and notifies the call's
callbacks, event streams and logs in place, so the inner runs appear as children of the
wrapper's run. The wrapped runnable's own run (LangChain's root run) is the wrapper's, so its
notifications are skipped here and its children are the wrapper's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, GenerationChunk

from runnables._core.context import RunContext
from runnables._core.runs import Notice, Run, finish_run, notify, notify_async
from runnables.langchain._convert import from_lc, from_lc_chunk

__all__ = [
    "AsyncIntoRunnables",
    "AsyncStreamingIntoRunnables",
    "IntoRunnables",
    "StreamingIntoRunnables",
]

T = TypeVar("T")

# What a LangChain notification means here: the notice to send and its arguments, or None.
_Decision = tuple[Notice, tuple[Any, ...]] | None


def _name(serialized: dict[str, Any] | None, kwargs: dict[str, Any], fallback: str) -> str:
    if kwargs.get("name"):
        return str(kwargs["name"])
    if serialized:
        if serialized.get("name"):
            return str(serialized["name"])
        ids = serialized.get("id")
        if ids:
            return str(ids[-1])
    return fallback


def _llm_output(response: Any) -> Any:
    generation = response.generations[0][0] if response.generations else None
    if generation is None:
        return None
    if isinstance(generation, ChatGeneration):
        return from_lc(generation.message)
    return generation.text


def _llm_chunk(token: str, chunk: Any) -> Any:
    if isinstance(chunk, ChatGenerationChunk):
        return from_lc_chunk(chunk.message)
    if isinstance(chunk, GenerationChunk):
        return chunk.text
    return token


class _RunTree:
    """The decisions, without I/O: LangChain's notifications as runnables runs."""

    run_inline = True  # called in place: the order of events is the order of things
    raise_error = True  # a mistake here is the library's, never hidden

    def __init__(self, ctx: RunContext, *, invoked: bool = False) -> None:
        self._handlers = ctx.handlers
        self._root = ctx.parent_run  # the wrapper's run, whose id LangChain's root run has
        # Whether the wrapper is invoked (not streamed) while the wrapped chat model streams
        # (for a streaming handler): its tokens are then told as the wrapper's run's chunks.
        self._root_tokens = invoked
        self._runs: dict[uuid.UUID, Run] = {}
        # LangChain's ids for the wrapped runnable's run (it may not take the id it is given).
        self._runs_as_root: set[uuid.UUID] = set()

    def _start(
        self,
        run_type: str,
        name: str,
        inputs: Any,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
    ) -> _Decision:
        root = self._root
        if parent_run_id is None:
            if root is not None:  # LangChain's run of the wrapped runnable: the wrapper's run
                self._runs_as_root.add(run_id)
                return None
            parent = None
        elif parent_run_id in self._runs_as_root:
            parent = root
        else:
            parent = self._runs.get(parent_run_id, root)
        run = Run(
            name=name,
            run_type=run_type,
            id=run_id,
            parent_id=parent.id if parent is not None else None,
            tags=list(tags or ()),
            metadata=dict(metadata or {}),
            inputs=inputs,
        )
        if parent is not None:
            parent.child_ids.append(run_id)
        self._runs[run_id] = run
        return self._handlers.on_start, (run,)

    def _end(self, run_id: uuid.UUID, outputs: Any) -> _Decision:
        run = self._runs.pop(run_id, None)
        if run is None:
            return None
        finish_run(run, outputs)
        return self._handlers.on_end, (run,)

    def _error(self, run_id: uuid.UUID, error: BaseException) -> _Decision:
        run = self._runs.pop(run_id, None)
        if run is None:
            return None
        finish_run(run, error=error)
        return self._handlers.on_error, (run, error)

    # -- LangChain's notifications, each decided here and sent by the driver below

    def decide_on_chain_start(
        self, serialized: Any, inputs: Any, *, run_id: uuid.UUID, **kw: Any
    ) -> _Decision:
        run_type = kw.get("run_type") or "chain"
        return self._start(
            run_type,
            _name(serialized, kw, "Chain"),
            from_lc(inputs),
            run_id,
            kw.get("parent_run_id"),
            kw.get("tags"),
            kw.get("metadata"),
        )

    def decide_on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: uuid.UUID, **kw: Any
    ) -> _Decision:
        return self._start(
            "chat_model",
            _name(serialized, kw, "ChatModel"),
            {"messages": from_lc(messages)},
            run_id,
            kw.get("parent_run_id"),
            kw.get("tags"),
            kw.get("metadata"),
        )

    def decide_on_llm_start(
        self, serialized: Any, prompts: Any, *, run_id: uuid.UUID, **kw: Any
    ) -> _Decision:
        return self._start(
            "llm",
            _name(serialized, kw, "LLM"),
            {"prompts": list(prompts)},
            run_id,
            kw.get("parent_run_id"),
            kw.get("tags"),
            kw.get("metadata"),
        )

    def decide_on_retriever_start(
        self, serialized: Any, query: str, *, run_id: uuid.UUID, **kw: Any
    ) -> _Decision:
        return self._start(
            "retriever",
            _name(serialized, kw, "Retriever"),
            query,
            run_id,
            kw.get("parent_run_id"),
            kw.get("tags"),
            kw.get("metadata"),
        )

    def decide_on_tool_start(
        self, serialized: Any, input_str: str, *, run_id: uuid.UUID, **kw: Any
    ) -> _Decision:
        inputs = kw.get("inputs")
        return self._start(
            "tool",
            _name(serialized, kw, "Tool"),
            from_lc(inputs) if inputs is not None else input_str,
            run_id,
            kw.get("parent_run_id"),
            kw.get("tags"),
            kw.get("metadata"),
        )

    def decide_on_llm_new_token(self, token: str, *, run_id: uuid.UUID, **kw: Any) -> _Decision:
        run = self._runs.get(run_id)
        if run is None:  # the wrapped model's own: a streamed wrapper streams its chunks
            if not self._root_tokens or run_id not in self._runs_as_root:
                return None
            run = self._root
        if run is None:
            return None
        return self._handlers.on_stream, (run, _llm_chunk(token, kw.get("chunk")))

    def decide_on_chain_end(self, outputs: Any, *, run_id: uuid.UUID, **kw: Any) -> _Decision:
        run = self._runs.get(run_id)
        if run is not None and kw.get("inputs") is not None:  # a streamed input, now whole
            run.inputs = from_lc(kw["inputs"])
        return self._end(run_id, from_lc(outputs))

    def decide_on_llm_end(self, response: Any, *, run_id: uuid.UUID, **kw: Any) -> _Decision:
        return self._end(run_id, _llm_output(response))

    def decide_on_retriever_end(self, documents: Any, *, run_id: uuid.UUID, **kw: Any) -> _Decision:
        return self._end(run_id, from_lc(documents))

    def decide_on_tool_end(self, output: Any, *, run_id: uuid.UUID, **kw: Any) -> _Decision:
        return self._end(run_id, from_lc(output))

    def decide_on_chain_error(
        self, error: BaseException, *, run_id: uuid.UUID, **kw: Any
    ) -> _Decision:
        return self._error(run_id, error)

    decide_on_llm_error = decide_on_chain_error
    decide_on_retriever_error = decide_on_chain_error
    decide_on_tool_error = decide_on_chain_error


_NOTIFICATIONS = [
    name.removeprefix("decide_") for name in vars(_RunTree) if name.startswith("decide_")
]


def _sync_driver(name: str) -> Callable[..., None]:
    decide = getattr(_RunTree, f"decide_{name}")

    def method(self: IntoRunnables, *args: Any, **kwargs: Any) -> None:
        decision = decide(self, *args, **kwargs)
        if decision is not None:
            notify(decision[0], *decision[1])

    method.__name__ = name
    return method


def _async_driver(name: str) -> Callable[..., Any]:
    decide = getattr(_RunTree, f"decide_{name}")

    async def method(self: AsyncIntoRunnables, *args: Any, **kwargs: Any) -> None:
        decision = decide(self, *args, **kwargs)
        if decision is not None:
            await notify_async(decision[0], *decision[1])

    method.__name__ = name
    return method


class IntoRunnables(_RunTree, BaseCallbackHandler):
    """The sync driver of an `invoke`."""


class AsyncIntoRunnables(_RunTree, AsyncCallbackHandler):
    """The async driver of an `ainvoke` (LangChain's async calls await it in place)."""


class _Taps(_RunTree):
    """The hooks LangChain calls to show a streaming handler each chunk of the chains below.

    Having them makes a handler one of LangChain's streaming handlers, and a chat model that
    sees one streams even an `invoke` (a different message: no id, usage or metadata of the
    provider's whole response). So only the drivers of a streamed call (`stream`, `astream`),
    whose models stream anyway, have them, and those of an invoke made while LangChain's own
    models would stream (a streaming handler listens, or a wrapped graph is streamed).
    """

    def tap_output_iter(self, run_id: uuid.UUID, output: Iterator[T]) -> Iterator[T]:
        """Tell of each chunk a LangChain chain below streams (LangChain's astream_events hook)."""
        run = self._runs.get(run_id)
        return output if run is None else self._tap(run, output)

    def _tap(self, run: Run, output: Iterator[T]) -> Iterator[T]:
        on_stream = self._handlers.on_stream
        for chunk in output:
            notify(on_stream, run, from_lc(chunk))
            yield chunk

    def tap_output_aiter(self, run_id: uuid.UUID, output: AsyncIterator[T]) -> AsyncIterator[T]:
        """Tell of each chunk a LangChain chain below streams (async)."""
        run = self._runs.get(run_id)
        return output if run is None else self._atap(run, output)

    async def _atap(self, run: Run, output: AsyncIterator[T]) -> AsyncIterator[T]:
        on_stream = self._handlers.on_stream
        async for chunk in output:
            await notify_async(on_stream, run, from_lc(chunk))
            yield chunk


class StreamingIntoRunnables(_Taps, IntoRunnables):
    """The sync driver of a streamed call (`stream`): also tells of inner chains' chunks."""


class AsyncStreamingIntoRunnables(_Taps, AsyncIntoRunnables):
    """The async driver of a streamed call (`astream`): also tells of inner chains' chunks."""


for _notification in _NOTIFICATIONS:
    setattr(IntoRunnables, _notification, _sync_driver(_notification))
    setattr(AsyncIntoRunnables, _notification, _async_driver(_notification))
