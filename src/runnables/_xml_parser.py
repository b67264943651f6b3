"""`XMLOutputParser`: model output as XML, read by the stdlib's expat with every DTD refused.

A document type declaration is where entities are declared, internal (the "billion laughs"
that expand without bound) or external (files and URLs read by the parser), so output
holding one is refused outright; an entity that was never declared is an error too. Only the
five predefined entities and character references are read.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn
from xml.parsers import expat

import attrs

from runnables.parsers import (
    BaseOutputParser,
    OutputParserException,
    _short,  # pyright: ignore[reportPrivateUsage]
    _text,  # pyright: ignore[reportPrivateUsage]
)

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables.messages import BaseMessage

__all__ = ["XMLOutputParser"]

_FENCE = re.compile(r"```(xml)?(.*)```", re.DOTALL)
_DECLARATION = re.compile(r"<([^>]*encoding[^>]*)>\n(.*)", re.MULTILINE | re.DOTALL)
_START = re.compile(r"<[a-zA-Z:_]")

_FORMAT_INSTRUCTIONS = """The output should be formatted as a XML file.
1. Output should conform to the tags below.
2. If tags are not given, make them on your own.
3. Remember to always open and close all the tags.

As an example, for the tags ["foo", "bar", "baz"]:
1. String "<foo>\n   <bar>\n      <baz></baz>\n   </bar>\n</foo>" is a well-formatted \
instance of the schema.
2. String "<foo>\n   <bar>\n   </foo>" is a badly-formatted instance.
3. String "<foo>\n   <tag>\n   </tag>\n</foo>" is a badly-formatted instance.

Here are the output tags:
```
{tags}
```"""


class _Refused(Exception):
    """A DTD or entity declaration met while parsing (raised out of expat's callback)."""


@attrs.define
class _Element:
    tag: str
    text: str | None = None
    children: list[_Element] = attrs.field(factory=list)


def _as_dict(element: _Element) -> dict[str, Any]:
    """LangChain's shape: ``{tag: text}`` for an element with text, else
    ``{tag: [child, ...]}`` with a leaf child as ``{tag: text}``."""
    if element.text and not element.text.isspace():
        return {element.tag: element.text}
    return {
        element.tag: [
            {child.tag: child.text} if not child.children else _as_dict(child)
            for child in element.children
        ]
    }


def _nested(path: list[str], leaf: _Element) -> dict[str, Any]:
    """The leaf ``{tag: text}`` wrapped in one-item lists under each enclosing tag."""
    value: dict[str, Any] = {leaf.tag: leaf.text}
    for tag in reversed(path):
        value = {tag: [value]}
    return value


def _refuse(*_: object) -> NoReturn:
    raise _Refused


class _XmlReader:
    """Feeds text to an expat parser and keeps the elements it has read.

    ``done`` holds, in order, the dicts of the leaf elements closed since last taken (the
    streaming output); ``root`` is the document element once it has closed.
    """

    def __init__(self) -> None:
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = _refuse
        parser.EntityDeclHandler = _refuse
        parser.ExternalEntityRefHandler = _refuse
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        self.parser = parser
        self.open: list[_Element] = []
        self.had_children: list[bool] = []
        self.done: list[dict[str, Any]] = []
        self.root: _Element | None = None

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        element = _Element(tag)
        if self.open:
            self.open[-1].children.append(element)
            self.had_children[-1] = True
        self.open.append(element)
        self.had_children.append(False)

    def _end(self, tag: str) -> None:
        element = self.open.pop()
        if not self.had_children.pop():
            self.done.append(_nested([parent.tag for parent in self.open], element))
        if not self.open:
            self.root = element

    def _data(self, text: str) -> None:
        element = self.open[-1]
        if not element.children:  # text after a child is its tail, not this element's text
            element.text = (element.text or "") + text

    def feed(self, text: str, *, final: bool = False) -> None:
        """Read `text`; raises `OutputParserException` for malformed XML or a DTD."""
        try:
            self.parser.Parse(text, final)
        except _Refused:
            raise OutputParserException(
                "XML output with a document type declaration (<!DOCTYPE ...>) is refused: "
                "its entities could expand without bound or read files",
                text,
            ) from None
        except expat.ExpatError as error:
            raise OutputParserException(
                f"invalid XML output: {expat.ErrorString(error.code)} at line {error.lineno} "
                f"column {error.offset + 1} in {_short(text)!r}",
                text,
            ) from None


class _XmlStream:
    """The streaming state: text before the first tag is skipped, and everything after the
    document element closes is ignored (a closing fence, say)."""

    def __init__(self) -> None:
        self.reader = _XmlReader()
        self.pending = ""  # text before the document has started
        self.started = False

    def feed(self, chunk: str) -> list[dict[str, Any]]:
        if self.reader.root is not None:
            return []
        if not self.started:
            self.pending += chunk
            start = _START.search(self.pending)
            if start is None:
                return []
            chunk, self.pending, self.started = self.pending[start.start() :], "", True
        reader = self.reader
        try:
            reader.feed(chunk)
        except OutputParserException:
            if reader.root is None:
                raise
        done, reader.done = reader.done, []
        return done


def _tag_tuple(tags: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if tags is None else tuple(tags)


@attrs.frozen
class XMLOutputParser(BaseOutputParser[dict[str, Any]]):
    """XML output as nested dicts: ``<a><b>x</b><c>y</c></a>`` to
    ``{"a": [{"b": "x"}, {"c": "y"}]}``, LangChain's shape (attributes are dropped).

    The XML may sit in a ```` ```xml ```` fence. Streaming yields, as each innermost element
    closes, that element wrapped in its parents (``{"a": [{"b": "x"}]}``), skipping text
    before the first tag and ignoring what follows the document. A DTD (``<!DOCTYPE``) is
    refused, so no entity can expand or reach a file or URL; ``tags`` are named in the
    format instructions.
    """

    tags: tuple[str, ...] | None = attrs.field(default=None, converter=_tag_tuple)

    @property
    def output_type(self) -> Any:
        return dict[str, Any]

    def get_format_instructions(self) -> str:
        return _FORMAT_INSTRUCTIONS.format(tags=None if self.tags is None else list(self.tags))

    def parse(self, text: str) -> dict[str, Any]:
        fence = _FENCE.search(text)
        if fence is not None:
            text = fence.group(2)
        declaration = _DECLARATION.search(text)
        if declaration is not None:
            text = declaration.group(2)
        reader = _XmlReader()
        reader.feed(text.strip(), final=True)
        if reader.root is None:
            raise OutputParserException(f"no XML element in {_short(text)!r}", text)
        return _as_dict(reader.root)

    def _transform(
        self, inputs: Iterator[str | BaseMessage], ctx: RunContext
    ) -> Iterator[dict[str, Any]]:
        stream = _XmlStream()
        for chunk in inputs:
            yield from stream.feed(_text(chunk))

    async def _atransform(
        self, inputs: AsyncIterator[str | BaseMessage], ctx: RunContext
    ) -> AsyncIterator[dict[str, Any]]:
        stream = _XmlStream()
        async for chunk in inputs:
            for part in stream.feed(_text(chunk)):
                yield part
