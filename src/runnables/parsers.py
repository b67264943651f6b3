"""Output parsers: runnables turning model output (a message or a string) into values.

Every parser takes a `BaseMessage` (its text is parsed) or a `str`, has run kind
``"parser"`` and is named after its class. `StrOutputParser`, `JsonOutputParser` and
`CommaSeparatedListOutputParser` stream: they consume their input chunk by chunk.
Unparseable output raises `OutputParserException` (a `ValueError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from runnables._core.base import RunnableBase
from runnables._core.streaming import closing_map
from runnables._json_stream import NOTHING, JsonStream, JsonTextError, decode
from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import BaseMessage
from runnables.schema import Schema, SchemaError

if TYPE_CHECKING:
    from typing_extensions import TypeForm

    from runnables._core.context import RunContext

__all__ = [
    "AttrsOutputParser",
    "AttrsToolsParser",
    "BaseOutputParser",
    "CommaSeparatedListOutputParser",
    "JsonOutputKeyToolsParser",
    "JsonOutputParser",
    "JsonOutputToolsParser",
    "ListOutputParser",
    "MarkdownListOutputParser",
    "NumberedListOutputParser",
    "OutputParserException",
    "StrOutputParser",
    "XMLOutputParser",
    "parse_json_markdown",
    "parse_partial_json",
]

T = TypeVar("T")


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
        return closing_map(_text, inputs)

    async def _atransform(
        self, inputs: AsyncIterator[str | BaseMessage], ctx: RunContext
    ) -> AsyncIterator[str]:
        async for chunk in inputs:
            yield _text(chunk)


# --------------------------------------------------------------------------- json


def _invalid(error: JsonTextError, text: str) -> OutputParserException:
    position = error.position
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return OutputParserException(
        f"invalid JSON output: {error.reason} at line {line} column {column} (char {position})"
        f" in {_short(text)!r}",
        text,
    )


def parse_json_markdown(text: str) -> Any:
    """Parse JSON, possibly inside a Markdown ``` fence with text around it.

    An answer starting with ``{`` or ``[`` is that JSON and nothing else (a fence inside one
    of its strings is just text); otherwise the first fence holds the JSON (text may follow
    the closing fence), or with no fence the whole answer does. Raw control characters in
    strings are accepted, as models write raw newlines. Raises `OutputParserException`
    naming the reason, line, column and character for invalid JSON, NaN or Infinity, a
    number a float or int cannot hold, and nesting deeper than 1000 levels (or than Python's
    recursion limit allows).
    """
    try:
        return decode(text)
    except JsonTextError as error:
        raise _invalid(error, text) from None


def parse_partial_json(text: str) -> Any:
    """The value of a possibly incomplete JSON text: open strings, arrays and objects
    closed, an incomplete key, literal or escape left out.

    Raises `OutputParserException` (a `ValueError`) if the text cannot start a JSON value
    or nothing of the value has arrived yet.
    """
    stream = JsonStream(bare=True)
    try:
        stream.feed(text)
    except JsonTextError as error:
        raise _invalid(error, text) from None
    if not stream.started:
        raise OutputParserException(f"no JSON value yet in {_short(text)!r}", text)
    return stream.partial()


@attrs.frozen
class JsonOutputParser(BaseOutputParser[Any]):
    """Parse JSON output (a Markdown ``` fence and text around it are tolerated).

    Streaming reads each chunk once and yields the partial value each time a consumer
    would see it change: a container opens, a value starts or completes, a string or
    number grows (open strings, arrays and objects closed; an incomplete key, literal or
    escape left out), so each value shown is a prefix of the next. Streaming stays linear
    in the text: a string over 256 characters is shown again once it has grown by 1/256 of
    its length, and once the open arrays and objects hold over 128 items a snapshot (which
    copies them) waits for 1/128 as many chunks as it copies items. Snapshots share their
    completed parts with later ones: treat them as read-only. With ``diff=True`` each chunk is instead a list of JSON Patch (RFC 6902)
    operations from the previous value to the new one, as in LangChain's ``diff`` mode.
    Values start to show once the answer opens with ``{`` or ``[``, or once a fence opens
    after some prose; a bare scalar is yielded when the whole answer has arrived. Text that
    can no longer be valid (prose after the JSON, a bad token, nesting past the limit)
    raises as soon as it arrives. Its output is ``Any``; `AttrsOutputParser(T)` parses into
    a type ``T`` instead.
    """

    diff: bool = False

    def parse(self, text: str) -> Any:
        return parse_json_markdown(text)

    def get_format_instructions(self) -> str:
        return "Return a JSON object."

    def _transform(self, inputs: Iterator[str | BaseMessage], ctx: RunContext) -> Iterator[Any]:
        return JsonStream(diff=self.diff).changes(inputs, _text, _invalid)

    async def _atransform(
        self, inputs: AsyncIterator[str | BaseMessage], ctx: RunContext
    ) -> AsyncIterator[Any]:
        stream = JsonStream(diff=self.diff)
        try:
            async for chunk in inputs:
                change = stream.feed(_text(chunk))
                if change is not NOTHING:
                    yield change
            change = stream.finish()
        except JsonTextError as error:
            raise _invalid(error, "".join(stream.chunks)) from None
        if change is not NOTHING:
            yield change


# --------------------------------------------------------------------------- list


def _items(text: str) -> list[str]:
    return [item for item in (part.strip() for part in text.split(",")) if item]


class _ListStream:
    """Yields each item once the comma after it arrives; only new text is searched."""

    def __init__(self) -> None:
        self.parts: list[str] = []  # the text since the last comma

    def feed(self, chunk: str) -> list[list[str]]:
        comma = chunk.rfind(",")
        if comma < 0:
            self.parts.append(chunk)
            return []
        self.parts.append(chunk[:comma])
        head = "".join(self.parts)
        self.parts = [chunk[comma + 1 :]]
        return [[item] for item in _items(head)]

    def finish(self) -> list[list[str]]:
        return [[item] for item in _items("".join(self.parts))]


class _PatternStream:
    """Yields each match's item once a later match starts (so it cannot grow any more); the
    text up to the last item yielded is dropped."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.buffer = ""

    def feed(self, chunk: str) -> list[list[str]]:
        self.buffer += chunk
        matches = list(self.pattern.finditer(self.buffer))[:-1]
        if matches:
            self.buffer = self.buffer[matches[-1].end() :]
        return [[match.group(1)] for match in matches]

    def finish(self) -> list[list[str]]:
        return [[item] for item in self.pattern.findall(self.buffer)]


class _ParseStream:
    """For a list parser that only writes `parse`: all but the last item of the pending text
    are done; the last one is kept as the pending text (as LangChain does)."""

    def __init__(self, parse: Callable[[str], list[str]]) -> None:
        self.parse = parse
        self.buffer = ""

    def feed(self, chunk: str) -> list[list[str]]:
        self.buffer += chunk
        items = self.parse(self.buffer)
        if len(items) < 2:
            return []
        self.buffer = items[-1]
        return [[item] for item in items[:-1]]

    def finish(self) -> list[list[str]]:
        return [[item] for item in self.parse(self.buffer)]


class _ItemStream(Protocol):
    def feed(self, chunk: str) -> list[list[str]]: ...
    def finish(self) -> list[list[str]]: ...


class ListOutputParser(BaseOutputParser[list[str]]):
    """Base of the parsers whose output is a list of strings; subclasses write `parse`.

    Streaming yields each item as a one-element list once the text after it shows that the
    item is complete (the last one at the end), so the chunks added up equal the parse of
    the whole text.
    """

    __slots__ = ()

    @property
    def output_type(self) -> Any:
        return list[str]

    def _item_stream(self) -> _ItemStream:
        return _ParseStream(self.parse)

    def _transform(
        self, inputs: Iterator[str | BaseMessage], ctx: RunContext
    ) -> Iterator[list[str]]:
        stream = self._item_stream()
        for chunk in inputs:
            yield from stream.feed(_text(chunk))
        yield from stream.finish()

    async def _atransform(
        self, inputs: AsyncIterator[str | BaseMessage], ctx: RunContext
    ) -> AsyncIterator[list[str]]:
        stream = self._item_stream()
        async for chunk in inputs:
            for item in stream.feed(_text(chunk)):
                yield item
        for item in stream.finish():
            yield item


@attrs.frozen
class CommaSeparatedListOutputParser(ListOutputParser):
    """``"a, b, c"`` to ``["a", "b", "c"]`` (items stripped, empty items dropped).

    Streaming yields each item as a one-element list once the comma after it arrives.
    """

    def parse(self, text: str) -> list[str]:
        return _items(text)

    def get_format_instructions(self) -> str:
        return (
            "Your response should be a list of comma separated values, "
            "eg: `foo, bar, baz` or `foo,bar,baz`"
        )

    def _item_stream(self) -> _ItemStream:
        return _ListStream()


def _compiled(pattern: str, flags: int) -> re.Pattern[str]:
    compiled = re.compile(pattern, flags)
    if compiled.groups < 1:
        raise RunnablesValueError(
            f"a list item pattern needs a group around the item's text, got {pattern!r}"
        )
    return compiled


@attrs.frozen
class NumberedListOutputParser(ListOutputParser):
    r"""``"1. foo\n2. bar"`` to ``["foo", "bar"]``: the first group of each match of
    ``pattern`` (``\\d+\\.\\s([^\n]+)`` by default, as in LangChain), text around ignored."""

    pattern: str = r"\d+\.\s([^\n]+)"
    _compiled: re.Pattern[str] = attrs.field(init=False, eq=False, repr=False)

    @_compiled.default  # pyright: ignore[reportUntypedFunctionDecorator, reportAttributeAccessIssue, reportUnknownMemberType]
    def _compile(self) -> re.Pattern[str]:
        return _compiled(self.pattern, 0)

    def parse(self, text: str) -> list[str]:
        return [match.group(1) for match in self._compiled.finditer(text)]

    def get_format_instructions(self) -> str:
        return (
            "Your response should be a numbered list with each item on a new line. "
            "For example: \n\n1. foo\n\n2. bar\n\n3. baz"
        )

    def _item_stream(self) -> _ItemStream:
        return _PatternStream(self._compiled)


@attrs.frozen
class MarkdownListOutputParser(ListOutputParser):
    r"""``"- foo\n* bar"`` to ``["foo", "bar"]``: the first group of each line matching
    ``pattern`` (``^\\s*[-*]\\s([^\n]+)$`` by default, as in LangChain)."""

    pattern: str = r"^\s*[-*]\s([^\n]+)$"
    _compiled: re.Pattern[str] = attrs.field(init=False, eq=False, repr=False)

    @_compiled.default  # pyright: ignore[reportUntypedFunctionDecorator, reportAttributeAccessIssue, reportUnknownMemberType]
    def _compile(self) -> re.Pattern[str]:
        return _compiled(self.pattern, re.MULTILINE)

    def parse(self, text: str) -> list[str]:
        return [match.group(1) for match in self._compiled.finditer(text)]

    def get_format_instructions(self) -> str:
        return "Your response should be a markdown list, eg: `- foo\n- bar\n- baz`"

    def _item_stream(self) -> _ItemStream:
        return _PatternStream(self._compiled)


# --------------------------------------------------------------------------- attrs

_SHOWN_ERRORS = 10  # failing paths listed in an error message; the rest are counted

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
    """JSON output (fences tolerated) validated into an instance of the attrs class ``cls``, or
    into any type the schemas describe (a dataclass, a TypedDict, ``list[int]``, a union): the
    typed form of `JsonOutputParser`, whose output is ``Any``.

    Invalid JSON, or data that does not fit the class, raises `OutputParserException`
    whose message lists the failing paths (``$.age: expected int, got str``; the first ten,
    then how many more); the `SchemaError`, with all of them, is its ``__cause__``.
    """

    cls: TypeForm[T]

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
            shown = exc.errors[:_SHOWN_ERRORS]
            lines = "\n".join(f"  {error}" for error in shown)
            if len(exc.errors) > len(shown):
                lines += f"\n  ... and {len(exc.errors) - len(shown)} more"
            raise OutputParserException(
                f"output does not fit {self.schema.title}:\n{lines}\nin {_short(text)!r}", text
            ) from exc

    def _transform(self, inputs: Iterator[str | BaseMessage], ctx: RunContext) -> Iterator[T]:
        # The texts are joined once: adding up message chunks would copy the text each time.
        yield self.parse("".join([_text(chunk) for chunk in inputs]))

    async def _atransform(
        self, inputs: AsyncIterator[str | BaseMessage], ctx: RunContext
    ) -> AsyncIterator[T]:
        yield self.parse("".join([_text(chunk) async for chunk in inputs]))

    def get_format_instructions(self) -> str:
        document = self.schema.json_schema()
        document.pop("title", None)
        return _FORMAT_INSTRUCTIONS.format(schema=json.dumps(document, ensure_ascii=False))


# Defined on top of the classes above, in modules of their own.
from runnables._tool_parsers import (  # noqa: E402
    AttrsToolsParser,
    JsonOutputKeyToolsParser,
    JsonOutputToolsParser,
)
from runnables._xml_parser import XMLOutputParser  # noqa: E402

for _cls in (AttrsToolsParser, JsonOutputKeyToolsParser, JsonOutputToolsParser, XMLOutputParser):
    _cls.__module__ = __name__
del _cls
