"""`BaseChatModel` and `BaseLLM`: language models as runnables, built from a few hooks.

A subclass writes any of `_generate` / `_agenerate` (one whole answer) and `_stream_chunks` /
`_astream_chunks` (the answer piece by piece); every public method works from whichever exist:
a model that only generates still streams (one chunk), one that only streams still invokes
(the chunks added up). Each call holds one `max_concurrency` slot while the model runs.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from functools import partial
from typing import (
    Any,
    ClassVar,
    Generic,
    Literal,
    Protocol,
    TypeAlias,
    TypeVar,
    Union,
    cast,
    overload,
    runtime_checkable,
)

import attrs
from typing_extensions import Self

from runnables._core.base import RunnableBase
from runnables._core.config import RunnableConfig
from runnables._core.context import RunContext
from runnables._core.hooks import default_hook, written
from runnables._core.interop import (
    aiterate_in_threads,
    iterate_blocking,
    run_coroutine_blocking,
    run_in_worker_thread,
)
from runnables._core.leaf import aleaf, aleaf_iter, leaf, leaf_iter
from runnables._core.protocol import Runnable
from runnables._core.streaming import aone, closing_chunks, closing_map
from runnables._primitives.sequence import RunnableSequence
from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    MessageContent,
    MessageLike,
    SystemMessage,
    ToolMessage,
    add_ai_message_chunks,
    convert_to_messages,
    get_buffer_string,
)
from runnables.models._call_options import check_call_options
from runnables.models._identity import default_provider, ls_params
from runnables.models._structured import StructuredMethod, StructuredOutput, StructuredOutputParser
from runnables.tools import ToolChoice, ToolLike, convert_to_openai_tool, tool_choice_for

__all__ = [
    "BaseChatModel",
    "BaseLLM",
    "LanguageModelInput",
    "PromptValueLike",
    "StructuredMethod",
    "StructuredOutput",
]


@runtime_checkable
class PromptValueLike(Protocol):
    """What a prompt produces (`StringPromptValue`, `ChatPromptValue`): text and messages."""

    def to_string(self) -> str: ...

    def to_messages(self) -> Sequence[BaseMessage]: ...


LanguageModelInput: TypeAlias = Union[str, PromptValueLike, Sequence[MessageLike]]  # noqa: UP007
"""What a language model accepts: a string, a prompt value, or a sequence of message-likes."""

P = TypeVar("P")  # the prepared input the hooks get: messages or a prompt string
C = TypeVar("C")  # a stream chunk
Out = TypeVar("Out")
T = TypeVar("T")

_HOOKS = ("_generate", "_agenerate", "_stream_chunks", "_astream_chunks")


def _options(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


def _check_options(
    instance: _LanguageModel[Any, Any, Any], _: object, value: dict[str, Any]
) -> None:
    known = instance.call_options
    if known is not None:
        check_call_options(type(instance).__name__, value, known)


def _options_factory() -> dict[str, Any]:
    return {}


@attrs.frozen
class _LanguageModel(RunnableBase[LanguageModelInput, Out], Generic[P, C, Out]):
    """The machinery shared by chat models and LLMs."""

    #: The model hooks of `_HOOKS` this class writes itself (set for each class as it is created).
    _model_hooks: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._model_hooks = written(cls, _HOOKS)

    #: The option names `bind` accepts; `None` (the default) accepts any, for a model whose
    #: hooks pass them on unchecked.
    call_options: ClassVar[frozenset[str] | None] = None

    #: The kind of model in its runs' `ls_model_type` metadata ("chat" or "llm").
    _model_type: ClassVar[str] = ""

    #: The provider in its runs' `ls_provider` metadata; by default derived from the class
    #: name as LangChain does (`FakeListChatModel`: "fakelistchatmodel").
    _provider: ClassVar[str | None] = None

    options: Mapping[str, Any] = attrs.field(
        factory=_options_factory,
        kw_only=True,
        hash=False,
        converter=_options,
        validator=_check_options,
    )
    """Call options bound with `bind(...)`; `stop` goes to the hooks' `stop`, the rest as keywords."""

    # ------------------------------------- the hooks, as each kind declares them

    def _call_generate(self, input: P, stop: list[str] | None, kwargs: dict[str, Any]) -> Out:
        raise NotImplementedError

    async def _call_agenerate(
        self, input: P, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> Out:
        raise NotImplementedError

    def _call_stream_chunks(
        self, input: P, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> Iterator[C]:
        raise NotImplementedError

    def _call_astream_chunks(
        self, input: P, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> AsyncIterator[C]:
        raise NotImplementedError

    # ---------------------------------------------------- per-kind conversions

    def _prepare(self, input: LanguageModelInput) -> P:
        raise NotImplementedError

    def _to_chunk(self, output: Out) -> C:
        raise NotImplementedError

    def _from_chunks(self, total: C) -> Out:
        raise NotImplementedError

    def _empty(self) -> Out:
        raise NotImplementedError

    # ------------------------------------------------------------------ public

    def bind(self, **options: Any) -> Self:
        """A copy of this model whose calls get `options` (e.g. `stop=[...]`, `temperature=0`);
        a name not in `call_options` is a `TypeError` naming it and the accepted ones."""
        return attrs.evolve(self, options={**self.options, **options})

    def _call_options(self) -> tuple[list[str] | None, dict[str, Any]]:
        kwargs = dict(self.options)
        stop = kwargs.pop("stop", None)
        if isinstance(stop, str):  # one stop sequence, not its characters
            return [stop], kwargs
        return (list(stop) if stop is not None else None), kwargs

    def _missing(self) -> NotImplementedError:
        return NotImplementedError(
            f"{type(self).__name__} implements none of {', '.join(_HOOKS)}: write at least one"
        )

    def _add_up(self, chunks: list[C]) -> C:
        """The sum of a whole stream's chunks (at least one), in one pass."""
        raise NotImplementedError

    def _collect(self, chunks: Iterator[C]) -> Out:
        pieces = list(chunks)
        return self._from_chunks(self._add_up(pieces)) if pieces else self._empty()

    async def _acollect(self, chunks: AsyncIterator[C]) -> Out:
        async with closing_chunks(chunks) as stream:
            pieces = [chunk async for chunk in stream]
        return self._from_chunks(self._add_up(pieces)) if pieces else self._empty()

    # -- the model's identity in its runs' metadata (only when someone listens)

    def _ls_params(self) -> dict[str, Any]:
        """The `ls_*` metadata of this model's runs, as LangChain's models give it
        (provider, model name and type, temperature, max tokens, stop sequences)."""
        stop, kwargs = self._call_options()
        kind = self._model_type
        provider = self._provider or default_provider(type(self).__name__, kind)
        return ls_params(self, provider, kind, stop, kwargs)

    def _described(self, ctx: RunContext) -> RunContext:
        """`ctx` with this model's `ls_*` metadata, which its run (and, as in LangChain, the
        runs below it) carry; the caller's metadata under the same keys wins (a way to name
        the provider of a model class that does not)."""
        if not ctx.tracing:
            return ctx
        return ctx.replace(metadata={**self._ls_params(), **ctx.metadata})

    def _call(self, input: LanguageModelInput, ctx: RunContext) -> Out:
        return super()._call(input, self._described(ctx))

    async def _acall(self, input: LanguageModelInput, ctx: RunContext) -> Out:
        return await super()._acall(input, self._described(ctx))

    def _call_transform(
        self, inputs: Iterator[LanguageModelInput], ctx: RunContext
    ) -> Iterator[Out]:
        return super()._call_transform(inputs, self._described(ctx))

    def _acall_transform(
        self, inputs: AsyncIterator[LanguageModelInput], ctx: RunContext
    ) -> AsyncIterator[Out]:
        return super()._acall_transform(inputs, self._described(ctx))

    # -- the model's work, without the budget (held by the callers below)

    def _run_sync(self, input: P) -> Out:
        has = self._model_hooks
        stop, kwargs = self._call_options()
        if "_generate" in has:
            return self._call_generate(input, stop, kwargs)
        if "_stream_chunks" in has:
            return self._collect(self._call_stream_chunks(input, stop, kwargs))
        if has:
            return run_coroutine_blocking(lambda: self._run_async(input))
        raise self._missing()

    async def _run_async(self, input: P) -> Out:
        has = self._model_hooks
        stop, kwargs = self._call_options()
        if "_agenerate" in has:
            return await self._call_agenerate(input, stop, kwargs)
        if "_astream_chunks" in has:
            return await self._acollect(self._call_astream_chunks(input, stop, kwargs))
        if has:
            return await run_in_worker_thread(self._run_sync, input)
        raise self._missing()

    def _chunks_sync(self, input: P) -> Iterator[C]:
        has = self._model_hooks
        stop, kwargs = self._call_options()
        if "_stream_chunks" in has:
            yield from self._call_stream_chunks(input, stop, kwargs)
        elif "_astream_chunks" in has:
            yield from iterate_blocking(lambda: self._call_astream_chunks(input, stop, kwargs))
        elif "_generate" in has:
            yield self._to_chunk(self._call_generate(input, stop, kwargs))
        elif "_agenerate" in has:
            output = run_coroutine_blocking(lambda: self._call_agenerate(input, stop, kwargs))
            yield self._to_chunk(output)
        else:
            raise self._missing()

    async def _chunks_async(self, input: P) -> AsyncIterator[C]:
        has = self._model_hooks
        stop, kwargs = self._call_options()
        if "_astream_chunks" in has:
            source = self._call_astream_chunks(input, stop, kwargs)
        elif "_stream_chunks" in has:
            source = aiterate_in_threads(self._call_stream_chunks(input, stop, kwargs))
        elif "_agenerate" in has:
            yield self._to_chunk(await self._call_agenerate(input, stop, kwargs))
            return
        elif "_generate" in has:
            yield self._to_chunk(await run_in_worker_thread(self._run_sync, input))
            return
        else:
            raise self._missing()
        async with closing_chunks(source) as chunks:
            async for chunk in chunks:
                yield chunk

    # -- the RunnableBase hooks: convert the input, then run the model as a leaf call

    def _invoke(self, input: LanguageModelInput, ctx: RunContext) -> Out:
        return leaf(ctx, self._run_sync, self._prepare(input))

    async def _ainvoke(self, input: LanguageModelInput, ctx: RunContext) -> Out:
        return await aleaf(ctx, self._run_async, self._prepare(input))

    # Chunks are also outputs: `AIMessageChunk` is an `AIMessage`, a str chunk is a str.

    def _stream(self, input: LanguageModelInput, ctx: RunContext) -> Iterator[Out]:
        chunks: Iterator[Any] = leaf_iter(ctx, self._chunks_sync, self._prepare(input))
        return chunks

    def _astream(self, input: LanguageModelInput, ctx: RunContext) -> AsyncIterator[Out]:
        chunks: AsyncIterator[Any] = aleaf_iter(ctx, self._chunks_async, self._prepare(input))
        return chunks


def messages_of(input: object, who: str = "a chat model") -> list[BaseMessage]:
    """The messages of a str, a prompt value or a sequence of message-likes (a chat model's
    input); `RunnablesTypeError` naming `who` for anything else."""
    if isinstance(input, str):
        return [HumanMessage(input)]
    if isinstance(input, PromptValueLike):
        return list(input.to_messages())
    if isinstance(input, Sequence) and not isinstance(input, (bytes, bytearray)):
        return convert_to_messages(list(cast("Sequence[Any]", input)))
    raise RunnablesTypeError(
        f"{who} got {type(input).__name__} {input!r:.80}; it accepts a str, a prompt "
        "value (with to_messages() and to_string()) or a sequence of messages "
        "(BaseMessage, (role, content) tuples, str or dicts)"
    )


def prompt_of(input: object, who: str = "an LLM") -> str:
    """The prompt text of a str, a prompt value or a sequence of message-likes (an LLM's
    input: messages are rendered with `get_buffer_string`)."""
    if isinstance(input, str):
        return input
    if isinstance(input, PromptValueLike):
        return input.to_string()
    return get_buffer_string(messages_of(input, who))


@functools.cache
def _input_type() -> Any:
    """The described input type (for schemas): concrete prompt values and messages."""
    message = Union[  # noqa: UP007
        HumanMessage,
        AIMessage,
        SystemMessage,
        ToolMessage,
        ChatMessage,
        str,
        tuple[str, MessageContent],
        dict[str, Any],
    ]
    try:
        from runnables import prompts

        values: tuple[Any, ...] = (
            getattr(prompts, "StringPromptValue"),  # noqa: B009
            getattr(prompts, "ChatPromptValue"),  # noqa: B009
        )
    except (ImportError, AttributeError):
        values = ()
    members: tuple[Any, ...] = (str, *values, Sequence[message])
    return Union[members]  # noqa: UP007


@attrs.frozen
class BaseChatModel(_LanguageModel[list[BaseMessage], AIMessageChunk, AIMessage]):
    """A chat model: messages in, an `AIMessage` out; streams `AIMessageChunk`s.

    Hooks (write at least one): `_generate(messages, stop=None, **kwargs) -> AIMessage`,
    `async _agenerate(...)`, `_stream_chunks(messages, stop=None, **kwargs) ->
    Iterator[AIMessageChunk]`, and the async generator `_astream_chunks(...)`. `kwargs` are
    the options bound with `bind(...)` other than `stop`.
    """

    _model_type: ClassVar[str] = "chat"

    @property
    def run_type(self) -> str:
        return "chat_model"

    @property
    def input_type(self) -> Any:
        return _input_type()

    @property
    def output_type(self) -> Any:
        return AIMessage

    def bind_tools(
        self,
        tools: Sequence[ToolLike],
        *,
        tool_choice: ToolChoice = None,
        **options: Any,
    ) -> Self:
        """A copy of this model offered `tools` (bound as the `tools` option, in the OpenAI
        form), and told which to call by `tool_choice` (LangChain's spellings: a tool's name,
        "auto", "none", "required"/"any", True for the only tool).

        Tools are `Tool`s, plain functions, attrs classes, dataclasses, TypedDicts (their
        argument schemas from `runnables.schema`) or dicts (OpenAI tools or JSON Schemas with
        a "title"). Other `options` are bound as with `bind`.
        """
        checked = cast("object", tools)
        if not isinstance(checked, Sequence) or isinstance(checked, (str, bytes)):
            raise RunnablesTypeError(
                f"bind_tools takes a sequence of tools, got one {type(tools).__name__}: "
                "wrap it in a list"
            )
        formatted = [
            convert_to_openai_tool(item, where=f"tools[{index}]")
            for index, item in enumerate(tools)
        ]
        names = [str(item["function"]["name"]) for item in formatted]
        choice = tool_choice_for(tool_choice, names)
        if choice is not None:
            options["tool_choice"] = choice
        return self.bind(tools=formatted, **options)

    @overload
    def with_structured_output(
        self,
        schema: type[T],
        *,
        include_raw: Literal[False] = False,
        method: StructuredMethod = "function_calling",
    ) -> Runnable[LanguageModelInput, T]: ...
    @overload
    def with_structured_output(
        self,
        schema: Mapping[str, Any],
        *,
        include_raw: Literal[False] = False,
        method: StructuredMethod = "function_calling",
    ) -> Runnable[LanguageModelInput, dict[str, Any]]: ...
    @overload
    def with_structured_output(
        self,
        schema: type[T],
        *,
        include_raw: Literal[True],
        method: StructuredMethod = "function_calling",
    ) -> Runnable[LanguageModelInput, StructuredOutput[T]]: ...
    @overload
    def with_structured_output(
        self,
        schema: Mapping[str, Any],
        *,
        include_raw: Literal[True],
        method: StructuredMethod = "function_calling",
    ) -> Runnable[LanguageModelInput, StructuredOutput[dict[str, Any]]]: ...
    def with_structured_output(
        self,
        schema: type[Any] | Mapping[str, Any],
        *,
        include_raw: bool = False,
        method: StructuredMethod = "function_calling",
    ) -> Runnable[LanguageModelInput, Any]:
        """This model answering with a value of `schema`: an instance of an attrs class or
        dataclass, a TypedDict dict, or (for a JSON Schema dict) a plain dict.

        `method` is how the model is asked: "function_calling" forces a call of a tool whose
        arguments are the schema; "json_mode" binds `response_format={"type":
        "json_object"}` (say in the prompt what to answer); "json_schema" binds the schema as
        the response format. An answer that does not fit raises `OutputParserException`;
        with `include_raw=True` the result is a `StructuredOutput` dict instead: `raw` (the
        message), `parsed` and `parsing_error`, one of them None.
        """
        tool = convert_to_openai_tool(schema, where="schema")
        function: dict[str, Any] = tool["function"]
        target: Any = None if isinstance(schema, Mapping) else schema
        if method == "function_calling":
            model: BaseChatModel = self.bind_tools([tool], tool_choice=function["name"])
            tool_name: str | None = function["name"]
        elif method == "json_mode":
            model, tool_name = self.bind(response_format={"type": "json_object"}), None
        elif method == "json_schema":
            response_format = {
                "type": "json_schema",
                "json_schema": {
                    "name": function["name"],
                    "description": function.get("description", ""),
                    "schema": function["parameters"],
                },
            }
            model, tool_name = self.bind(response_format=response_format), None
        else:
            raise RunnablesValueError(
                f"method must be 'function_calling', 'json_mode' or 'json_schema', got {method!r}"
            )
        checked = {"title": function["name"], **function["parameters"]} if target is None else None
        parser = StructuredOutputParser(tool_name, target, include_raw, json_schema=checked)
        return RunnableSequence(model, parser)

    # -- invoked while a LangChain streaming handler listens (LangGraph's `stream_mode=
    # "messages"`, LangChain's `astream_events`): the answer is streamed and added up, so that
    # the handler hears its tokens, as a LangChain chat model does for such a handler

    def _call(self, input: LanguageModelInput, ctx: RunContext) -> AIMessage:
        if ctx.handlers.wants_model_tokens:
            chunks = super()._call_transform(iter((input,)), ctx)  # (a chat model's chunks)
            return self._collect(cast("Iterator[AIMessageChunk]", chunks))
        return super()._call(input, ctx)

    async def _acall(self, input: LanguageModelInput, ctx: RunContext) -> AIMessage:
        if ctx.handlers.wants_model_tokens:
            chunks = super()._acall_transform(aone(input), ctx)
            return await self._acollect(cast("AsyncIterator[AIMessageChunk]", chunks))
        return await super()._acall(input, ctx)

    # The chunks such a handler hears carry an id, as a LangChain chat model's do (its run's,
    # when the provider gave none): LangGraph tells apart an answer it has already streamed
    # from a new one by it.

    def _stream(self, input: LanguageModelInput, ctx: RunContext) -> Iterator[AIMessage]:
        chunks = super()._stream(input, ctx)
        run_id = _heard_run(ctx)
        return chunks if run_id is None else closing_map(partial(_with_id, run_id), chunks)

    def _astream(self, input: LanguageModelInput, ctx: RunContext) -> AsyncIterator[AIMessage]:
        chunks = super()._astream(input, ctx)
        run_id = _heard_run(ctx)
        return chunks if run_id is None else _awith_id(run_id, chunks)

    def stream(
        self, input: LanguageModelInput, config: RunnableConfig | None = None
    ) -> Iterator[AIMessageChunk]:
        """The answer as `AIMessageChunk`s (add them up with `+`)."""
        return cast("Iterator[AIMessageChunk]", super().stream(input, config))

    def astream(
        self, input: LanguageModelInput, config: RunnableConfig | None = None
    ) -> AsyncIterator[AIMessageChunk]:
        """The answer as `AIMessageChunk`s, asynchronously."""
        return cast("AsyncIterator[AIMessageChunk]", super().astream(input, config))

    # -- the hooks a chat model writes (at least one)

    @default_hook
    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        """The whole answer to `messages`."""
        raise NotImplementedError

    @default_hook
    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        """The whole answer to `messages`, asynchronously."""
        raise NotImplementedError

    @default_hook
    def _stream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        """The answer to `messages`, chunk by chunk."""
        raise NotImplementedError

    @default_hook
    def _astream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        """The answer to `messages`, chunk by chunk, asynchronously (write an async generator)."""
        raise NotImplementedError

    def _call_generate(
        self, input: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> AIMessage:
        return self._generate(input, stop, **kwargs)

    async def _call_agenerate(
        self, input: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> AIMessage:
        return await self._agenerate(input, stop, **kwargs)

    def _call_stream_chunks(
        self, input: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> Iterator[AIMessageChunk]:
        return self._stream_chunks(input, stop, **kwargs)

    def _call_astream_chunks(
        self, input: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> AsyncIterator[AIMessageChunk]:
        return self._astream_chunks(input, stop, **kwargs)

    # -- conversions

    def _prepare(self, input: LanguageModelInput) -> list[BaseMessage]:
        return messages_of(input, self.name)

    def _to_chunk(self, output: AIMessage) -> AIMessageChunk:
        if isinstance(output, AIMessageChunk):
            return output
        return AIMessageChunk(
            output.content,
            additional_kwargs=output.additional_kwargs,
            response_metadata=output.response_metadata,
            name=output.name,
            id=output.id,
            tool_calls=output.tool_calls,
            usage_metadata=output.usage_metadata,
            invalid_tool_calls=output.invalid_tool_calls,
        )

    def _add_up(self, chunks: list[AIMessageChunk]) -> AIMessageChunk:
        return add_ai_message_chunks(*chunks)

    def _from_chunks(self, total: AIMessageChunk) -> AIMessage:
        return total.to_message()

    def _empty(self) -> AIMessage:
        return AIMessage("")

    def _run_sync(self, input: list[BaseMessage]) -> AIMessage:
        return _as_message(super()._run_sync(input))

    async def _run_async(self, input: list[BaseMessage]) -> AIMessage:
        return _as_message(await super()._run_async(input))


def _heard_run(ctx: RunContext) -> str | None:
    """The id a chat model's chunks get when a LangChain streaming handler hears them (given
    the context of the model's run): LangChain's for its model's run; else None."""
    run = ctx.parent_run
    return f"lc_run--{run.id}" if run is not None and ctx.handlers.wants_model_tokens else None


def _with_id(message_id: str, chunk: AIMessage) -> AIMessage:
    return chunk if chunk.id is not None else attrs.evolve(chunk, id=message_id)


async def _awith_id(message_id: str, chunks: AsyncIterator[AIMessage]) -> AsyncIterator[AIMessage]:
    async with closing_chunks(chunks) as stream:
        async for chunk in stream:
            yield _with_id(message_id, chunk)


def _as_message(output: AIMessage) -> AIMessage:
    """`invoke` returns a complete `AIMessage`, even from a hook that returned a chunk."""
    return output.to_message() if isinstance(output, AIMessageChunk) else output


@attrs.frozen
class BaseLLM(_LanguageModel[str, str, str]):
    """A text completion model: a prompt string in, a string out; streams str chunks.

    Hooks (write at least one): `_generate(prompt, stop=None, **kwargs) -> str`,
    `async _agenerate(...)`, `_stream_chunks(prompt, stop=None, **kwargs) -> Iterator[str]`,
    and the async generator `_astream_chunks(...)`. Messages are rendered with
    `get_buffer_string`, prompt values with `to_string()`.
    """

    _model_type: ClassVar[str] = "llm"

    @property
    def run_type(self) -> str:
        return "llm"

    @property
    def input_type(self) -> Any:
        return _input_type()

    @property
    def output_type(self) -> Any:
        return str

    # -- the hooks an LLM writes (at least one)

    @default_hook
    def _generate(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        """The whole completion of `prompt`."""
        raise NotImplementedError

    @default_hook
    async def _agenerate(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        """The whole completion of `prompt`, asynchronously."""
        raise NotImplementedError

    @default_hook
    def _stream_chunks(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[str]:
        """The completion of `prompt`, chunk by chunk."""
        raise NotImplementedError

    @default_hook
    def _astream_chunks(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[str]:
        """The completion of `prompt`, chunk by chunk, asynchronously (write an async generator)."""
        raise NotImplementedError

    def _call_generate(self, input: str, stop: list[str] | None, kwargs: dict[str, Any]) -> str:
        return self._generate(input, stop, **kwargs)

    async def _call_agenerate(
        self, input: str, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> str:
        return await self._agenerate(input, stop, **kwargs)

    def _call_stream_chunks(
        self, input: str, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> Iterator[str]:
        return self._stream_chunks(input, stop, **kwargs)

    def _call_astream_chunks(
        self, input: str, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> AsyncIterator[str]:
        return self._astream_chunks(input, stop, **kwargs)

    # -- conversions

    def _prepare(self, input: LanguageModelInput) -> str:
        return prompt_of(input, self.name)

    def _to_chunk(self, output: str) -> str:
        return output

    def _add_up(self, chunks: list[str]) -> str:
        return "".join(chunks)

    def _from_chunks(self, total: str) -> str:
        return total

    def _empty(self) -> str:
        return ""
