"""A wrapped LangChain stream read by `StrOutputParser`, in one step per chunk: the text of
LangChain's own chunk, without building ours only to read its text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runnables._core.streaming import add_step_note
from runnables.langchain._convert import from_lc_chunk, text_chunk_fields
from runnables.parsers import _text as parser_text  # pyright: ignore[reportPrivateUsage]

__all__ = ["text_reader"]


def text_reader(model_name: Callable[[], str], parser_name: str) -> Callable[[Any], str]:
    """What `StrOutputParser` makes of a chunk LangChain streamed (unconverted), a failure
    named as if the model's step converted it and the parser read the result: a chunk that
    cannot be converted names the model (`model_name()`), one with no text `parser_name`.

    A chunk of text with no tool calls (almost every streamed token) gives its content, the
    text of its conversion; any other chunk is converted, then its text read."""

    def text(chunk: Any) -> str:
        fields = text_chunk_fields(chunk)
        if fields is not None:
            content = fields["content"]
            if type(content) is str:
                return content
        try:
            message = from_lc_chunk(chunk)
        except Exception as exc:
            add_step_note(exc, model_name())
            raise
        try:
            return parser_text(message)
        except Exception as exc:
            add_step_note(exc, parser_name)
            raise

    return text
