"""A wrapped LangChain stream read by `StrOutputParser`, in one step per chunk: the text of
LangChain's own chunk, without building ours only to read its text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import langchain_core.messages as lc

from runnables._core.streaming import add_step_note, closing_map
from runnables.langchain._convert import from_lc_chunk
from runnables.parsers import _text as parser_text  # pyright: ignore[reportPrivateUsage]

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.engine import Engine

__all__ = ["parsed_texts"]

_LC_CHUNK = lc.AIMessageChunk


def parsed_texts(
    chunks: Iterator[Any], parser_name: str, model: Engine[Any, Any], ctx: RunContext
) -> Iterator[str]:
    """What `StrOutputParser` streams for `model`'s `chunks` (LangChain's, unconverted), each
    failing step named as if the two were streamed one after the other: a chunk that fails to
    convert names `model`, one that has no text `parser_name`.

    A chunk of text with no tool calls (almost every streamed token) gives its content, what
    the text of its conversion is; any other chunk is converted, then its text taken."""

    def text(chunk: Any) -> str:
        if type(chunk) is _LC_CHUNK:
            fields = chunk.__dict__  # (see `from_lc_chunk`: pydantic's attribute reads are slow)
            content = fields["content"]
            if type(content) is str and not (
                fields["tool_call_chunks"] or fields["tool_calls"] or fields["invalid_tool_calls"]
            ):
                return content
        try:
            message = from_lc_chunk(chunk)
        except Exception as exc:
            add_step_note(exc, ctx.run_name or model.name)
            raise
        return parser_text(message)

    try:
        yield from closing_map(text, chunks)
    except Exception as exc:
        add_step_note(exc, parser_name)
        raise
