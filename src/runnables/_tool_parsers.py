"""Parsers of the tool calls on an AI message: as dicts (`JsonOutputToolsParser`), the args of
one tool (`JsonOutputKeyToolsParser`), or instances of attrs classes (`AttrsToolsParser`).

Streaming reads the ``tool_call_chunks`` of each `AIMessageChunk` once, each call's args
through an incremental JSON reader, and yields the whole list again each time it changes (as
LangChain does): a call shows once its args text has opened a JSON object, with its partial
args, and a call whose args cannot be valid JSON is left out.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from runnables._json_stream import NOTHING, JsonStream, JsonTextError
from runnables.errors import RunnablesTypeError
from runnables.messages import AIMessage, AIMessageChunk, BaseMessage
from runnables.parsers import BaseOutputParser, OutputParserException
from runnables.schema import Schema, SchemaError

if TYPE_CHECKING:
    from runnables._core.context import RunContext

__all__ = ["AttrsToolsParser", "JsonOutputKeyToolsParser", "JsonOutputToolsParser"]

T = TypeVar("T")


class _Call:
    """One streamed tool call: its name and id so far, and its args read as they arrive."""

    def __init__(self) -> None:
        self.name = ""
        self.id: str | None = None
        self.args = JsonStream(bare=True)
        self.broken = False

    def value(self) -> dict[str, Any] | None:
        """The call as LangChain's dict (``name`` still under its own key), or None."""
        if self.broken:
            return None
        args: object = self.args.partial() if self.args.started else {}
        if not isinstance(args, dict):
            return None
        return {"name": self.name, "args": args, "id": self.id}


class _CallsStream:
    """Adds up the tool call chunks of a stream of messages, merging the pieces of one index."""

    def __init__(self) -> None:
        self.calls: list[_Call] = []
        self.by_index: dict[int, _Call] = {}
        self.fresh = True

    def feed(self, message: str | BaseMessage) -> list[dict[str, Any]] | None:
        """The calls so far, `message` included; None if `message` changed nothing a
        consumer would see (so that a long stream is not compared and copied per chunk)."""
        if not isinstance(message, AIMessageChunk):
            return _calls(message)
        changed, self.fresh = self.fresh, False
        for piece in message.tool_call_chunks:
            call = self.by_index.get(piece.index) if piece.index is not None else None
            if call is None:
                call, changed = _Call(), True
                self.calls.append(call)
                if piece.index is not None:
                    self.by_index[piece.index] = call
            changed = changed or bool(piece.name or piece.id)
            call.name += piece.name or ""
            if piece.id:
                call.id = (call.id or "") + piece.id
            if piece.args and not call.broken:
                try:
                    changed = call.args.feed(piece.args) is not NOTHING or changed
                except JsonTextError:
                    call.broken = changed = True
        if not changed:
            return None
        return [value for call in self.calls if (value := call.value()) is not None]


class _Snapshots(Generic[T]):
    """What a tools parser streams: its output for the calls so far, whenever it changes
    (None, no call yet for ``first_tool_only``, is never yielded)."""

    def __init__(self, shape: Callable[..., T]) -> None:
        self.calls = _CallsStream()
        self.shape = shape
        self.shown: object = _NOTHING

    def feed(self, message: str | BaseMessage) -> list[T]:
        calls = self.calls.feed(message)
        if calls is None:
            return []
        value = self.shape(calls, partial=True)
        if value is None or value == self.shown:
            return []
        self.shown = value
        return [value]


_NOTHING = object()


def _calls(message: str | BaseMessage) -> list[dict[str, Any]]:
    """The tool calls of a whole message, as dicts; a message not from a model has none."""
    if isinstance(message, str):
        raise OutputParserException(
            "a tool calls parser reads the tool calls of an AI message, got a str: "
            "put it after a chat model",
            message,
        )
    if not isinstance(message, BaseMessage):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RunnablesTypeError(
            f"a tool calls parser needs an AI message, got {type(message).__name__}"
        )
    if not isinstance(message, AIMessage):
        return []
    return [{"name": call.name, "args": call.args, "id": call.id} for call in message.tool_calls]


@attrs.frozen
class JsonOutputToolsParser(BaseOutputParser[Any]):
    """The tool calls of an AI message as ``{"type": name, "args": {...}}`` dicts (with
    ``"id"`` too if ``return_id``); with ``first_tool_only`` the first one, or None.

    It reads the message's ``tool_calls`` (a string input is an error). Streaming yields
    the list (or the first call) again each time it changes, args partial as they arrive.
    """

    return_id: bool = attrs.field(default=False, kw_only=True)
    first_tool_only: bool = attrs.field(default=False, kw_only=True)

    def parse(self, text: str) -> Any:
        """Refused: tool calls are read from a message, not from text."""
        raise OutputParserException(
            f"{type(self).__name__} reads the tool calls of an AI message, not text", text
        )

    def _shape(self, calls: list[dict[str, Any]], *, partial: bool) -> Any:
        shaped: list[dict[str, Any]] = []
        for call in calls:
            entry: dict[str, Any] = {"args": call["args"], "type": call["name"]}
            if self.return_id:
                entry["id"] = call["id"]
            shaped.append(entry)
        if self.first_tool_only:
            return shaped[0] if shaped else None
        return shaped

    def _invoke(self, input: str | BaseMessage, ctx: RunContext) -> Any:
        return self._shape(_calls(input), partial=False)

    async def _ainvoke(self, input: str | BaseMessage, ctx: RunContext) -> Any:
        return self._invoke(input, ctx)

    def _transform(self, inputs: Iterator[str | BaseMessage], ctx: RunContext) -> Iterator[Any]:
        stream = _Snapshots(self._shape)
        for message in inputs:
            yield from stream.feed(message)

    async def _atransform(
        self, inputs: AsyncIterator[str | BaseMessage], ctx: RunContext
    ) -> AsyncIterator[Any]:
        stream = _Snapshots(self._shape)
        async for message in inputs:
            for value in stream.feed(message):
                yield value


@attrs.frozen
class JsonOutputKeyToolsParser(JsonOutputToolsParser):
    """The args of each call of the tool ``key_name`` (the whole call dicts if ``return_id``);
    with ``first_tool_only`` the first such call's, or None."""

    key_name: str = attrs.field(kw_only=True)

    def _shape(self, calls: list[dict[str, Any]], *, partial: bool) -> Any:
        mine = [call for call in calls if call["name"] == self.key_name]
        shaped = [
            {"args": call["args"], "id": call["id"], "type": call["name"]}
            if self.return_id
            else call["args"]
            for call in mine
        ]
        if self.first_tool_only:
            return shaped[0] if shaped else None
        return shaped


def _union(left: Any, right: Any) -> Any:
    return left | right


def _tool_classes(tools: Sequence[type[T]]) -> tuple[type[T], ...]:
    if isinstance(tools, type):
        raise RunnablesTypeError(
            f"AttrsToolsParser takes a list of classes, got the class {tools.__name__}; "
            f"write AttrsToolsParser([{tools.__name__}])"
        )
    return tuple(tools)


@attrs.frozen
class AttrsToolsParser(BaseOutputParser[list[T]], Generic[T]):
    """The tool calls of an AI message as instances of the attrs classes (or dataclasses,
    TypedDicts) in ``tools``, each call's name being its class's ``__name__``: the typed
    form of LangChain's ``PydanticToolsParser``.

    A call naming no class in ``tools``, or whose args do not fit its class, raises
    `OutputParserException`. Streaming yields the list of the calls whose partial args
    already fit their class, each time it changes.
    """

    tools: tuple[type[T], ...] = attrs.field(converter=_tool_classes)
    _schemas: dict[str, Schema[T]] = attrs.field(init=False, eq=False, repr=False)

    @_schemas.default  # pyright: ignore[reportUntypedFunctionDecorator, reportAttributeAccessIssue, reportUnknownMemberType]
    def _derive(self) -> dict[str, Schema[T]]:
        return {tool.__name__: Schema(tool, tool.__name__) for tool in self.tools}

    @property
    def output_type(self) -> Any:
        member: Any = functools.reduce(_union, self.tools) if self.tools else Any
        return list[member]

    def parse(self, text: str) -> list[T]:
        """Refused: tool calls are read from a message, not from text."""
        raise OutputParserException(
            "AttrsToolsParser reads the tool calls of an AI message, not text", text
        )

    def _build(self, calls: list[dict[str, Any]], *, partial: bool) -> list[T]:
        built: list[T] = []
        for call in calls:
            schema = self._schemas.get(call["name"])
            if schema is None:
                if partial:
                    continue
                available = ", ".join(self._schemas) or "<no tools>"
                raise OutputParserException(
                    f"unknown tool {call['name']!r}; available tools: {available}",
                    repr(call),
                )
            try:
                built.append(schema.validate(call["args"]))
            except SchemaError as exc:
                if partial:
                    continue
                problems = "; ".join(str(error) for error in exc.errors[:10])
                raise OutputParserException(
                    f"tool call {call['name']!r} has args that do not fit it: {problems}",
                    repr(call),
                ) from exc
        return built

    def _invoke(self, input: str | BaseMessage, ctx: RunContext) -> list[T]:
        return self._build(_calls(input), partial=False)

    async def _ainvoke(self, input: str | BaseMessage, ctx: RunContext) -> list[T]:
        return self._invoke(input, ctx)

    def _transform(self, inputs: Iterator[str | BaseMessage], ctx: RunContext) -> Iterator[list[T]]:
        stream = _Snapshots(self._build)
        for message in inputs:
            yield from stream.feed(message)

    async def _atransform(
        self, inputs: AsyncIterator[str | BaseMessage], ctx: RunContext
    ) -> AsyncIterator[list[T]]:
        stream = _Snapshots(self._build)
        async for message in inputs:
            for value in stream.feed(message):
                yield value
