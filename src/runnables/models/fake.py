"""Fake models answering with canned responses, for tests, examples and docs."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, ClassVar, cast

import anyio
import attrs

from runnables._core.streaming import closing_chunks
from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import AIMessage, AIMessageChunk, BaseMessage, ToolCallChunk
from runnables.models._call_options import OPENAI_CALL_OPTIONS
from runnables.models.base import BaseChatModel, BaseLLM

__all__ = ["FakeListChatModel", "FakeListLLM", "GenericFakeChatModel", "split_tokens"]

_TOKEN = re.compile(r"\s+|\S+")


def split_tokens(text: str) -> list[str]:
    """Split `text` into tokens: each a word or a run of whitespace ("a  b" -> "a", "  ", "b")."""
    return _TOKEN.findall(text)


class _Counter:
    """The index of the next response, shared by copies of a model (a model is immutable)."""

    __slots__ = ("_lock", "_next")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0

    def take(self, count: int) -> int:
        with self._lock:
            index = self._next % count
            self._next += 1
            return index

    def reset(self) -> None:
        with self._lock:
            self._next = 0


def _responses(value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise RunnablesTypeError("responses must be a sequence of strings, not one string")
    responses = tuple(value)
    if not responses:
        raise RunnablesValueError("responses must not be empty")
    return responses


def _check_delay(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise RunnablesValueError(f"{attribute.name} must be >= 0, got {value}")


class _FakeList:
    """The canned-response behaviour shared by `FakeListChatModel` and `FakeListLLM`
    (a plain mixin: the fields are declared on each model)."""

    __slots__ = ()

    responses: tuple[str, ...]
    sleep: float
    token_sleep: float
    counter: _Counter

    def _next_response(self) -> str:
        return self.responses[self.counter.take(len(self.responses))]

    def reset(self) -> None:
        """Start again from the first response."""
        self.counter.reset()

    def _answer_sync(self) -> str:
        if self.sleep:
            time.sleep(self.sleep)
        return self._next_response()

    async def _answer_async(self) -> str:
        if self.sleep:
            await anyio.sleep(self.sleep)
        return self._next_response()

    def _tokens_sync(self) -> Iterator[str]:
        for token in split_tokens(self._answer_sync()):
            if self.token_sleep:
                time.sleep(self.token_sleep)
            yield token

    async def _tokens_async(self) -> AsyncIterator[str]:
        for token in split_tokens(await self._answer_async()):
            if self.token_sleep:
                await anyio.sleep(self.token_sleep)
            yield token


@attrs.frozen
class FakeListChatModel(_FakeList, BaseChatModel):
    """A chat model answering each call with the next of `responses`, cycling.

    `stream` yields the answer as tokens (a word or a run of whitespace each). `sleep` seconds
    pass before answering (`time.sleep` in sync calls, `anyio.sleep` in async ones);
    `token_sleep` seconds pass before each streamed token. Copies (`bind`, `with_config`)
    share the position in `responses`; `reset()` starts again.
    """

    call_options: ClassVar[frozenset[str] | None] = OPENAI_CALL_OPTIONS

    responses: tuple[str, ...] = attrs.field(converter=_responses)
    sleep: float = attrs.field(default=0.0, kw_only=True, validator=_check_delay)
    token_sleep: float = attrs.field(default=0.0, kw_only=True, validator=_check_delay)
    counter: _Counter = attrs.field(
        factory=_Counter, kw_only=True, eq=False, hash=False, repr=False
    )

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        return AIMessage(self._answer_sync())

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        return AIMessage(await self._answer_async())

    def _stream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        for token in self._tokens_sync():
            yield AIMessageChunk(token)

    async def _astream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        async with closing_chunks(self._tokens_async()) as tokens:
            async for token in tokens:
                yield AIMessageChunk(token)


@attrs.frozen
class FakeListLLM(_FakeList, BaseLLM):
    """A text model answering each call with the next of `responses`, cycling.

    Streams, sleeps and shares its position like `FakeListChatModel`.
    """

    call_options: ClassVar[frozenset[str] | None] = OPENAI_CALL_OPTIONS

    responses: tuple[str, ...] = attrs.field(converter=_responses)
    sleep: float = attrs.field(default=0.0, kw_only=True, validator=_check_delay)
    token_sleep: float = attrs.field(default=0.0, kw_only=True, validator=_check_delay)
    counter: _Counter = attrs.field(
        factory=_Counter, kw_only=True, eq=False, hash=False, repr=False
    )

    def _generate(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        return self._answer_sync()

    async def _agenerate(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        return await self._answer_async()

    def _stream_chunks(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[str]:
        yield from self._tokens_sync()

    async def _astream_chunks(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[str]:
        async with closing_chunks(self._tokens_async()) as tokens:
            async for token in tokens:
                yield token


class _Replay:
    """The messages a `GenericFakeChatModel` has still to give, shared by its copies."""

    __slots__ = ("_lock", "_messages", "given")

    def __init__(self, messages: Iterator[AIMessage | str]) -> None:
        self._lock = threading.Lock()
        self._messages = messages
        self.given = 0

    def __repr__(self) -> str:
        return f"<messages, {self.given} given>"

    def next(self) -> AIMessage:
        with self._lock:
            item = next(self._messages, None)
            if item is None:
                raise RunnablesValueError(
                    f"GenericFakeChatModel has no message left to answer with "
                    f"(it gave {self.given}); give it more in messages=iter([...])"
                )
            self.given += 1
        checked = cast("object", item)
        if isinstance(checked, str):
            return AIMessage(checked)
        if isinstance(checked, AIMessageChunk):
            return checked.to_message()
        if isinstance(checked, AIMessage):
            return checked
        raise RunnablesTypeError(
            f"GenericFakeChatModel message {self.given} is a {type(checked).__name__}; "
            "give AIMessages or strings"
        )


def _replay(value: Iterable[AIMessage | str] | _Replay) -> _Replay:
    if isinstance(value, _Replay):
        return value
    if isinstance(cast("object", value), (str, bytes)):
        raise RunnablesTypeError("messages must be an iterator of AIMessages or strings, not one")
    return _Replay(iter(value))


def message_chunks(message: AIMessage) -> Iterator[AIMessageChunk]:
    """`message` as a stream of chunks whose sum is the message: its text a token at a time,
    then each tool call (name and id first, the args JSON in pieces), then its metadata."""
    common: dict[str, Any] = {"id": message.id}
    if isinstance(message.content, str):
        for token in split_tokens(message.content):
            yield AIMessageChunk(token, **common)
    else:
        yield AIMessageChunk(message.content, **common)
    calls = [(call.name, json.dumps(call.args), call.id) for call in message.tool_calls] + [
        (call.name, call.args, call.id) for call in message.invalid_tool_calls
    ]
    for index, (name, args, call_id) in enumerate(calls):
        yield AIMessageChunk(
            "",
            tool_call_chunks=[ToolCallChunk(name, None if args is None else "", call_id, index)],
            **common,
        )
        for piece in split_tokens(args or ""):
            yield AIMessageChunk(
                "", tool_call_chunks=[ToolCallChunk(None, piece, None, index)], **common
            )
    yield AIMessageChunk(
        "",
        additional_kwargs=message.additional_kwargs,
        response_metadata=message.response_metadata,
        name=message.name,
        usage_metadata=message.usage_metadata,
        **common,
    )


@attrs.frozen
class GenericFakeChatModel(BaseChatModel):
    """A chat model replaying `messages` (AIMessages, tool calls included, or strings), one
    per call; it fails clearly once they run out.

    `stream` yields each message as chunks that add up to it: its text a token at a time,
    each tool call as `tool_call_chunks` (the args JSON in pieces), then its metadata. Tools
    bound with `bind_tools` are accepted and ignored. Copies share the messages left.
    """

    call_options: ClassVar[frozenset[str] | None] = OPENAI_CALL_OPTIONS

    messages: _Replay = attrs.field(converter=_replay)

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        return self.messages.next()

    def _stream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        yield from message_chunks(self.messages.next())
