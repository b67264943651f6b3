"""Output parsers: runnables turning model output (a message or a string) into values.

Every parser takes a `BaseMessage` (its text is parsed) or a `str`, has run kind
``"parser"`` and is named after its class. `StrOutputParser`, `JsonOutputParser` and
`CommaSeparatedListOutputParser` stream: they consume their input chunk by chunk.
Unparseable output raises `OutputParserException` (a `ValueError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from runnables._core.base import RunnableBase
from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import BaseMessage
from runnables.schema import Schema, SchemaError

if TYPE_CHECKING:
    from runnables._core.context import RunContext

__all__ = [
    "AttrsOutputParser",
    "BaseOutputParser",
    "CommaSeparatedListOutputParser",
    "JsonOutputParser",
    "OutputParserException",
    "StrOutputParser",
    "parse_json_markdown",
    "parse_partial_json",
]

T = TypeVar("T")

_MISSING: Any = object()


class OutputParserException(RunnablesValueError):
    """Model output that a parser could not parse; ``llm_output`` is the offending text."""

    llm_output: str

    def __init__(self, message: str, llm_output: str = "") -> None:
        super().__init__(message)
        self.llm_output = llm_output


def _text(value: str | BaseMessage) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage):  # pyright: ignore[reportUnnecessaryIsInstance]
        return value.text
    raise RunnablesTypeError(
        f"an output parser needs a str or a message, got {type(value).__name__}: {value!r}"
    )


def _short(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


class BaseOutputParser(RunnableBase[str | BaseMessage, T]):
    """Base of the parsers: subclasses write `parse(text)`; invoke parses the input's text."""

    __slots__ = ()

    def parse(self, text: str) -> T:
        """Parse the model's output text."""
        raise NotImplementedError

    def get_format_instructions(self) -> str:
        """Instructions for a model on how to format its output for this parser."""
        return ""

    @property
    def run_type(self) -> str:
        return "parser"

    @property
    def input_type(self) -> Any:
        return str | BaseMessage

    def _invoke(self, input: str | BaseMessage, ctx: RunContext) -> T:
        return self.parse(_text(input))

    async def _ainvoke(self, input: str | BaseMessage, ctx: RunContext) -> T:
        return self.parse(_text(input))


# --------------------------------------------------------------------------- str


@attrs.frozen
class StrOutputParser(BaseOutputParser[str]):
    """The text of a message (or the string itself); streams each chunk's text as it comes."""

    @property
    def output_type(self) -> Any:
        return str

    def parse(self, text: str) -> str:
        return text

    def _transform(self, inputs: Iterator[str | BaseMessage], ctx: RunContext) -> Iterator[str]:
        for chunk in inputs:
            yield _text(chunk)

    async def _atransform(
        self, inputs: AsyncIterator[str | BaseMessage], ctx: RunContext
    ) -> AsyncIterator[str]:
        async for chunk in inputs:
            yield _text(chunk)


# --------------------------------------------------------------------------- json

_FENCE = re.compile(r"```[A-Za-z0-9_+-]*[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)


def _strip_fence(text: str) -> tuple[str, int]:
    """The JSON part of `text` (inside a ``` fence if there is one) and its offset."""
    match = _FENCE.search(text)
    if match is None:
        stripped = text.strip()
        return stripped, text.find(stripped) if stripped else 0
    return match.group(1), match.start(1)


def parse_json_markdown(text: str) -> Any:
    """Parse JSON, possibly inside a Markdown ``` fence with text around it.

    Raises `OutputParserException` naming the line, column and character of the error.
    """
    candidate, offset = _strip_fence(text)
    try:
        return json.loads(candidate)
    except json.JSONDecodeError as exc:
        position = offset + exc.pos
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        raise OutputParserException(
            f"invalid JSON output: {exc.msg} at line {line} column {column} (char {position})"
            f" in {_short(text)!r}",
            text,
        ) from exc


def _partial_candidate(text: str) -> str | None:
    """The JSON being streamed in `text`, if there is one yet (an object or an array)."""
    start = text.find("```")
    if start >= 0:
        newline = text.find("\n", start + 3)
        if newline < 0:
            return None  # the fence's language tag is still arriving
        body = text[newline + 1 :]
        end = body.find("```")
        candidate = body[:end] if end >= 0 else body.rstrip("`")
    else:
        candidate = text
    candidate = candidate.strip()
    if not candidate.startswith(("{", "[")):
        return None
    return candidate


def parse_partial_json(text: str) -> Any:
    """Parse a possibly incomplete JSON text by closing its open strings, arrays and objects,
    dropping an incomplete trailing token if needed. Raises `ValueError` if nothing parses."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    chars: list[str] = []
    closers: list[str] = []
    in_string = False
    escaped = False
    for char in text:
        new_char = char
        if in_string:
            if char == '"' and not escaped:
                in_string = False
            elif char == "\n" and not escaped:
                new_char = "\\n"
            elif char == "\\":
                escaped = not escaped
            else:
                escaped = False
        elif char == '"':
            in_string = True
            escaped = False
        elif char == "{":
            closers.append("}")
        elif char == "[":
            closers.append("]")
        elif char in "}]":
            if not closers or closers[-1] != char:
                raise RunnablesValueError(f"unbalanced {char!r} in partial JSON")
            closers.pop()
        chars.append(new_char)
    if in_string:
        if escaped:
            chars.pop()
        chars.append('"')
    tail = "".join(reversed(closers))
    while chars:
        try:
            return json.loads("".join(chars) + tail)
        except json.JSONDecodeError:
            chars.pop()
    raise RunnablesValueError("no JSON value in the partial text")


class _JsonStream:
    """Accumulates text chunks and reports each new partial JSON value."""

    def __init__(self) -> None:
        self.text = ""
        self.last: Any = _MISSING

    def feed(self, chunk: str) -> list[Any]:
        self.text += chunk
        candidate = _partial_candidate(self.text)
        if candidate is None:
            return []
        try:
            value = parse_partial_json(candidate)
        except ValueError:
            return []
        return self._changed(value)

    def finish(self) -> list[Any]:
        return self._changed(parse_json_markdown(self.text))

    def _changed(self, value: Any) -> list[Any]:
        if self.last is not _MISSING and value == self.last:
            return []
        self.last = value
        return [value]


@attrs.frozen
class JsonOutputParser(BaseOutputParser[Any]):
    """Parse JSON output (a Markdown ``` fence and text around it are tolerated).

    Streaming yields the partial value each time the JSON text grown so far parses to
    something new (open strings, arrays and objects closed); the last chunk is the full
    parse. Each chunk is a whole snapshot, not a delta.
    """

    def parse(self, text: str) -> Any:
        return parse_json_markdown(text)

    def get_format_instructions(self) -> str:
        return "Return a JSON object."

    def _transform(self, inputs: Iterator[str | BaseMessage], ctx: RunContext) -> Iterator[Any]:
        stream = _JsonStream()
        for chunk in inputs:
            yield from stream.feed(_text(chunk))
        yield from stream.finish()

    async def _atransform(
        self, inputs: AsyncIterator[str | BaseMessage], ctx: RunContext
    ) -> AsyncIterator[Any]:
        stream = _JsonStream()
        async for chunk in inputs:
            for value in stream.feed(_text(chunk)):
                yield value
        for value in stream.finish():
            yield value


# --------------------------------------------------------------------------- list


def _items(text: str) -> list[str]:
    return [item for item in (part.strip() for part in text.split(",")) if item]


class _ListStream:
    def __init__(self) -> None:
        self.buffer = ""

    def feed(self, chunk: str) -> list[list[str]]:
        self.buffer += chunk
        head, comma, rest = self.buffer.rpartition(",")
        if not comma:
            return []
        self.buffer = rest
        return [[item] for item in _items(head)]

    def finish(self) -> list[list[str]]:
        return [[item] for item in _items(self.buffer)]


@attrs.frozen
class CommaSeparatedListOutputParser(BaseOutputParser[list[str]]):
    """``"a, b, c"`` to ``["a", "b", "c"]`` (items stripped, empty items dropped).

    Streaming yields each item as a one-element list once the comma after it arrives (the
    last one at the end), so the chunks added up equal the parse of the whole text.
    """

    @property
    def output_type(self) -> Any:
        return list[str]

    def parse(self, text: str) -> list[str]:
        return _items(text)

    def get_format_instructions(self) -> str:
        return (
            "Your response should be a list of comma separated values, "
            "eg: `foo, bar, baz` or `foo,bar,baz`"
        )

    def _transform(
        self, inputs: Iterator[str | BaseMessage], ctx: RunContext
    ) -> Iterator[list[str]]:
        stream = _ListStream()
        for chunk in inputs:
            yield from stream.feed(_text(chunk))
        yield from stream.finish()

    async def _atransform(
        self, inputs: AsyncIterator[str | BaseMessage], ctx: RunContext
    ) -> AsyncIterator[list[str]]:
        stream = _ListStream()
        async for chunk in inputs:
            for item in stream.feed(_text(chunk)):
                yield item
        for item in stream.finish():
            yield item


# --------------------------------------------------------------------------- attrs

_FORMAT_INSTRUCTIONS = """The output should be a JSON instance that conforms to the JSON schema below.

As an example, for the schema {{"type": "object", "properties": {{"foo": {{"type": "array", \
"items": {{"type": "string"}}}}}}, "required": ["foo"]}}
the object {{"foo": ["bar", "baz"]}} is a well-formatted instance of the schema. \
The object {{"properties": {{"foo": ["bar", "baz"]}}}} is not.

Here is the output schema:
```
{schema}
```"""


@attrs.frozen
class AttrsOutputParser(BaseOutputParser[T]):
    """JSON output (fences tolerated) validated into an instance of the attrs class ``cls``.

    Invalid JSON, or data that does not fit the class, raises `OutputParserException`
    whose message lists every failing path (``$.age: expected int, got str``); the
    `SchemaError` is its ``__cause__``.
    """

    cls: type[T]

    @property
    def schema(self) -> Schema[T]:
        """The schema the parsed JSON is validated against."""
        return Schema(self.cls, getattr(self.cls, "__name__", repr(self.cls)))

    @property
    def output_type(self) -> Any:
        return self.cls

    def parse(self, text: str) -> T:
        data = parse_json_markdown(text)
        try:
            return self.schema.validate(data)
        except SchemaError as exc:
            lines = "\n".join(f"  {error}" for error in exc.errors)
            raise OutputParserException(
                f"output does not fit {self.schema.title}:\n{lines}\nin {_short(text)!r}", text
            ) from exc

    def get_format_instructions(self) -> str:
        document = self.schema.json_schema()
        document.pop("title", None)
        return _FORMAT_INSTRUCTIONS.format(schema=json.dumps(document, ensure_ascii=False))
