"""The step behind `with_structured_output`: a model's answer (a tool call or JSON text) read
into the requested type."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Generic, Literal, TypeAlias, TypeVar, cast

import attrs
import typing_extensions

from runnables._core.base import RunnableBase
from runnables._core.context import RunContext
from runnables.errors import RunnablesTypeError
from runnables.messages import AIMessage, AIMessageChunk, BaseMessage, add_ai_message_chunks
from runnables.models._json_check import json_problems
from runnables.parsers import OutputParserException, parse_json_markdown
from runnables.schema import Schema, SchemaError

__all__ = ["StructuredMethod", "StructuredOutput", "StructuredOutputParser"]

T = TypeVar("T")

StructuredMethod: TypeAlias = Literal["function_calling", "json_mode", "json_schema"]
"""How a model is asked for structured output: a forced tool call, JSON mode, or a JSON
Schema response format."""


class StructuredOutput(typing_extensions.TypedDict, Generic[T]):
    """What `with_structured_output(..., include_raw=True)` gives: the model's message, the
    value read from it (None if that failed) and the failure (None if it did not)."""

    raw: BaseMessage
    parsed: T | None
    parsing_error: BaseException | None


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


@attrs.frozen
class StructuredOutputParser(RunnableBase[AIMessage, Any]):
    """Reads a model's answer into `target` (a type, or None for a plain dict): the args of its
    first call of the tool `tool_name`, or, without a tool name, the JSON of its text.

    With `include_raw` it answers a `StructuredOutput` dict and never raises a parsing error.
    """

    tool_name: str | None
    target: Any = None
    include_raw: bool = False
    json_schema: Mapping[str, Any] | None = attrs.field(default=None, eq=False, kw_only=True)
    """For a JSON Schema target (`target` None): the schema the answer is checked against."""

    @property
    def run_type(self) -> str:
        return "parser"

    @property
    def input_type(self) -> Any:
        return AIMessage

    @property
    def output_type(self) -> Any:
        # With the raw message, a plain object: a schema cannot describe an exception.
        if self.include_raw or self.target is None:
            return dict[str, Any]
        return self.target

    def _data(self, message: AIMessage) -> object:
        if self.tool_name is None:
            return parse_json_markdown(message.text)
        for call in message.tool_calls:
            if call.name == self.tool_name:
                return call.args
        for bad in message.invalid_tool_calls:
            if bad.name == self.tool_name:
                raise OutputParserException(
                    f"the model's call of {self.tool_name!r} has malformed arguments "
                    f"({bad.error}): {_shorten(bad.args or '')!r}",
                    bad.args or "",
                )
        made = [call.name for call in message.tool_calls]
        raise OutputParserException(
            f"the model made no call of the tool {self.tool_name!r} (its calls: {made}); "
            f"its text: {_shorten(message.text)!r}",
            message.text,
        )

    def parse(self, message: AIMessage) -> Any:
        """The value `message` holds; `OutputParserException` when it holds none that fits."""
        if not isinstance(message, AIMessage):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise RunnablesTypeError(
                f"structured output reads an AIMessage, got {type(message).__name__}"
            )
        data = self._data(message)
        if self.target is None:
            if not isinstance(data, dict):
                raise OutputParserException(
                    f"expected a JSON object, got {type(data).__name__}", message.text
                )
            if self.json_schema is not None:
                found = json_problems(cast("object", data), self.json_schema)
                if found:
                    title = self.json_schema.get("title") or "the JSON schema"
                    raise OutputParserException(
                        f"the model's answer does not fit {title}: {'; '.join(found[:10])}",
                        message.text,
                    )
            return cast("dict[str, Any]", data)
        schema = Schema[Any](self.target, getattr(self.target, "__name__", repr(self.target)))
        try:
            return schema.validate(data)
        except SchemaError as exc:
            problems = "; ".join(exc.errors[:10])
            raise OutputParserException(
                f"the model's answer does not fit {schema.title}: {problems}", message.text
            ) from exc

    def _answer(self, message: AIMessage) -> Any:
        if isinstance(message, AIMessageChunk):
            message = message.to_message()
        if not self.include_raw:
            return self.parse(message)
        result: StructuredOutput[Any]
        try:
            parsed: Any = self.parse(message)
        except (OutputParserException, RunnablesTypeError) as exc:
            result = {"raw": message, "parsed": None, "parsing_error": exc}
        else:
            result = {"raw": message, "parsed": parsed, "parsing_error": None}
        return result

    def _invoke(self, input: AIMessage, ctx: RunContext) -> Any:
        return self._answer(input)

    async def _ainvoke(self, input: AIMessage, ctx: RunContext) -> Any:
        return self._answer(input)

    # A streamed answer is added up once, in one pass, then read.

    def _transform(self, inputs: Iterator[AIMessage], ctx: RunContext) -> Iterator[Any]:
        yield self._answer(_whole(list(inputs)))

    async def _atransform(
        self, inputs: AsyncIterator[AIMessage], ctx: RunContext
    ) -> AsyncIterator[Any]:
        yield self._answer(_whole([chunk async for chunk in inputs]))


def _whole(chunks: list[AIMessage]) -> AIMessage:
    if len(chunks) == 1 or not all(isinstance(chunk, AIMessageChunk) for chunk in chunks):
        return chunks[-1] if chunks else AIMessage("")
    return add_ai_message_chunks(*[chunk for chunk in chunks if isinstance(chunk, AIMessageChunk)])
