"""runnables' runs told to a LangChain callback handler, in LangChain's terms.

A LangChain handler (`BaseCallbackHandler` or `AsyncCallbackHandler`) given in
`config["callbacks"]` is wrapped in one of these callbacks (`as_callback`): each run start,
chunk, end and error becomes the `on_chain_*`, `on_chat_model_start`/`on_llm_*`,
`on_retriever_*` or `on_tool_*` call LangChain would make for a run of that kind, with the run's
id, its parent's id, tags, metadata and name, and values converted to LangChain's. The
handler's `ignore_*` flags are respected. Like any callback given to runnables, it is told off
the run's path, in order, and one that raises is logged, never breaking the run (so
`raise_error` has no effect).

`to_langchain` uses the same callbacks, called in place, for the handlers LangChain gives its
runs (its `astream_events` among them); there the run LangChain made for the wrapper is skipped.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

import attrs
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
    LLMResult,
)

from runnables._core.runs import Run
from runnables.langchain._convert import to_lc
from runnables.messages import AIMessage, BaseMessage, convert_to_messages
from runnables.prompts import PromptValue

__all__ = ["AsyncHandlerCallback", "HandlerCallback", "as_callback"]

# A call to make on the handler: method name, positional and keyword arguments.
_Call = tuple[str, tuple[Any, ...], dict[str, Any]]

_IGNORE = {
    "chain": "ignore_chain",
    "prompt": "ignore_chain",
    "parser": "ignore_chain",
    "chat_model": "ignore_chat_model",
    "llm": "ignore_llm",
    "retriever": "ignore_retriever",
    "tool": "ignore_agent",
}
_ENDS = {"chat_model": "llm", "llm": "llm", "retriever": "retriever", "tool": "tool"}


def _messages(inputs: Any) -> list[Any]:
    if isinstance(inputs, PromptValue):
        messages = inputs.to_messages()
    elif isinstance(inputs, BaseMessage):
        messages = [inputs]
    else:
        messages = convert_to_messages(inputs)
    return [to_lc(message) for message in messages]


def _told_by_langchain(inputs: Any, key: str) -> list[Any] | None:
    """The batch in a model run's inputs as LangChain told of it (`{"messages": [[...]]}` or
    `{"prompts": [...]}`, a run inside a wrapped LangChain runnable), else None."""
    if isinstance(inputs, dict) and set(cast("dict[str, Any]", inputs)) == {key}:
        batch = cast("dict[str, Any]", inputs)[key]
        if isinstance(batch, list):
            return cast("list[Any]", batch)
    return None


def _message_lists(inputs: Any) -> list[list[Any]]:
    batch = _told_by_langchain(inputs, "messages")
    if batch is not None and all(isinstance(messages, list) for messages in batch):
        return [_messages(messages) for messages in batch]
    return [_messages(inputs)]


def _prompts(inputs: Any) -> list[str]:
    batch = _told_by_langchain(inputs, "prompts")
    if batch is not None and all(isinstance(prompt, str) for prompt in batch):
        return list(batch)
    return [inputs.to_string() if isinstance(inputs, PromptValue) else str(inputs)]


def _model_call(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The `invocation_params`, `options` and `batch_size` LangChain tells of a model call,
    from what the run's `ls_*` metadata says of the model (its provider as `_type`; the model
    name under both names tracers read)."""
    stop = metadata.get("ls_stop")
    params: dict[str, Any] = {"_type": metadata.get("ls_provider"), "stop": stop}
    name = metadata.get("ls_model_name")
    if name is not None:
        params["model"] = params["model_name"] = name
    for key in ("temperature", "max_tokens"):
        value = metadata.get(f"ls_{key}")
        if value is not None:
            params[key] = value
    return {"invocation_params": params, "options": {"stop": stop}, "batch_size": 1}


def _start(run: Run) -> _Call:
    kind = run.run_type
    serialized = {"name": run.name, "id": ["runnables", run.name]}
    kwargs: dict[str, Any] = {
        "run_id": run.id,
        "parent_run_id": run.parent_id,
        "tags": list(run.tags),
        "metadata": dict(run.metadata),
        "name": run.name,
    }
    inputs = run.inputs
    if kind == "chat_model":
        kwargs.update(_model_call(run.metadata))
        return "on_chat_model_start", (serialized, _message_lists(inputs)), kwargs
    if kind == "llm":
        kwargs.update(_model_call(run.metadata))
        return "on_llm_start", (serialized, _prompts(inputs)), kwargs
    if kind == "retriever":
        return "on_retriever_start", (serialized, str(inputs)), kwargs
    if kind == "tool":
        kwargs["inputs"] = to_lc(inputs) if isinstance(inputs, dict) else None
        return "on_tool_start", (serialized, str(cast("object", inputs))), kwargs
    if kind != "chain":
        kwargs["run_type"] = kind
    return "on_chain_start", (serialized, to_lc(inputs)), kwargs


def _stream(run: Run, chunk: Any) -> _Call | None:
    ids = {"run_id": run.id, "parent_run_id": run.parent_id}
    if run.run_type == "chat_model" and isinstance(chunk, BaseMessage):
        generation = ChatGenerationChunk(message=to_lc(chunk))
        return "on_llm_new_token", (chunk.text,), {**ids, "chunk": generation}
    if run.run_type == "llm" and isinstance(chunk, str):
        return "on_llm_new_token", (chunk,), {**ids, "chunk": GenerationChunk(text=chunk)}
    return None  # LangChain's callbacks have no chunks of other runs


def _end(run: Run) -> _Call:
    ids = {"run_id": run.id, "parent_run_id": run.parent_id, "tags": list(run.tags)}
    output = run.outputs
    kind = run.run_type
    if kind == "chat_model":
        message = output.to_message() if hasattr(output, "to_message") else output
        if not isinstance(message, AIMessage):
            message = AIMessage(str(message))
        generation = ChatGeneration(message=to_lc(message))
        return "on_llm_end", (LLMResult(generations=[[generation]]),), ids
    if kind == "llm":
        return "on_llm_end", (LLMResult(generations=[[Generation(text=str(output))]]),), ids
    if kind in ("retriever", "tool"):
        return f"on_{kind}_end", (to_lc(output),), ids
    return "on_chain_end", (to_lc(output),), {**ids, "inputs": to_lc(run.inputs)}


def _error(run: Run, error: BaseException) -> _Call:
    ids = {"run_id": run.id, "parent_run_id": run.parent_id, "tags": list(run.tags)}
    return f"on_{_ENDS.get(run.run_type, 'chain')}_error", (error,), ids


def _custom(
    handler: BaseCallbackHandler, name: str, data: Any, ids: dict[str, Any]
) -> _Call | None:
    """A custom event (`run_id`, `tags`, `metadata` in `ids`), unless the handler ignores them."""
    if getattr(handler, "ignore_custom_event", False):
        return None
    return "on_custom_event", (name, data), ids


@attrs.frozen
class _Forward:
    """The decisions, without I/O: which handler call each notification is, if any."""

    handler: BaseCallbackHandler
    #: The run not to tell of: the one LangChain made itself for a `to_langchain` wrapper.
    skip: uuid.UUID | None = None
    #: Called in place (`to_langchain`) rather than off the run's path (`config["callbacks"]`).
    run_inline: bool = False

    @property
    def wants_model_tokens(self) -> bool:
        """Whether the handler is one of LangChain's streaming handlers (LangGraph's
        `stream_mode="messages"` one, `astream_events`'), for which a chat model streams even
        when invoked, telling its tokens: runnables' chat models do the same for it."""
        from langchain_core.tracers._streaming import _StreamingCallbackHandler

        return isinstance(self.handler, _StreamingCallbackHandler)

    def _wanted(self, run: Run) -> bool:
        if run.id == self.skip:
            return False
        return not getattr(self.handler, _IGNORE.get(run.run_type, "ignore_chain"), False)

    def _decide(self, run: Run, decide: Callable[..., _Call | None], *args: Any) -> _Call | None:
        return decide(run, *args) if self._wanted(run) else None


def _as_llm_start(call: _Call) -> _Call:
    """A handler that cannot trace chat models is told of a text model's start, as LangChain
    does: the messages as one string each."""
    from langchain_core.messages import get_buffer_string

    _, (serialized, messages), kwargs = call
    return "on_llm_start", (serialized, [get_buffer_string(m) for m in messages]), kwargs


@attrs.frozen
class HandlerCallback(_Forward):
    """A sync LangChain handler as a runnables callback."""

    def _send(self, call: _Call | None) -> None:
        if call is None:
            return
        name, positional, keywords = call
        try:
            getattr(self.handler, name)(*positional, **keywords)
        except NotImplementedError:
            if name != "on_chat_model_start":
                raise
            self._send(_as_llm_start(call))

    def on_start(self, run: Run) -> None:
        self._send(self._decide(run, _start))

    def on_stream(self, run: Run, chunk: Any) -> None:
        self._send(self._decide(run, _stream, chunk))

    def on_end(self, run: Run) -> None:
        self._send(self._decide(run, _end))

    def on_error(self, run: Run, error: BaseException) -> None:
        self._send(self._decide(run, _error, error))

    def on_custom_event(self, name: str, data: Any, /, **ids: Any) -> None:
        self._send(_custom(self.handler, name, data, ids))


@attrs.frozen
class AsyncHandlerCallback(_Forward):
    """An async LangChain handler (`AsyncCallbackHandler`) as a runnables callback."""

    async def _send(self, call: _Call | None) -> None:
        if call is None:
            return
        name, positional, keywords = call
        try:
            result = getattr(self.handler, name)(*positional, **keywords)
            if inspect.isawaitable(result):
                await result
        except NotImplementedError:
            if name != "on_chat_model_start":
                raise
            await self._send(_as_llm_start(call))

    async def on_start(self, run: Run) -> None:
        await self._send(self._decide(run, _start))

    async def on_stream(self, run: Run, chunk: Any) -> None:
        await self._send(self._decide(run, _stream, chunk))

    async def on_end(self, run: Run) -> None:
        await self._send(self._decide(run, _end))

    async def on_error(self, run: Run, error: BaseException) -> None:
        await self._send(self._decide(run, _error, error))

    async def on_custom_event(self, name: str, data: Any, /, **ids: Any) -> None:
        await self._send(_custom(self.handler, name, data, ids))


def as_callback(
    handler: BaseCallbackHandler, *, skip: uuid.UUID | None = None, inline: bool = False
) -> HandlerCallback | AsyncHandlerCallback:
    """The runnables callback telling `handler` of every run (but `skip`)."""
    from langchain_core.callbacks import AsyncCallbackHandler

    cls = AsyncHandlerCallback if isinstance(handler, AsyncCallbackHandler) else HandlerCallback
    return cls(handler, skip, inline)
