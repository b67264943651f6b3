"""`prompt | model | parser` streams: the first chunk reaches the caller while the model is
still producing tokens, sync and async."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import attrs
import pytest

from runnables.messages import AIMessage, AIMessageChunk, BaseMessage
from runnables.models import BaseChatModel
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate

TOKENS = ["one", " two", " three", " four"]


@attrs.frozen
class CountingModel(BaseChatModel):
    """Streams `TOKENS`, recording how many it has produced so far."""

    produced: list[str] = attrs.field(factory=list, eq=False)

    def _stream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        for token in TOKENS:
            self.produced.append(token)
            yield AIMessageChunk(token)

    async def _astream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        for token in TOKENS:
            await anyio.sleep(0)
            self.produced.append(token)
            yield AIMessageChunk(token)


def chain_with(model: CountingModel) -> Any:
    return ChatPromptTemplate.from_template("say {what}") | model | StrOutputParser()


def test_first_chunk_arrives_before_the_last_token_is_produced() -> None:
    model = CountingModel()
    seen_when: list[int] = []
    chunks = []
    for chunk in chain_with(model).stream({"what": "numbers"}):
        seen_when.append(len(model.produced))
        chunks.append(chunk)
    assert chunks == TOKENS
    assert seen_when == [1, 2, 3, 4]  # each chunk arrives as soon as its token exists


@pytest.mark.anyio
async def test_first_chunk_arrives_before_the_last_token_is_produced_async() -> None:
    model = CountingModel()
    seen_when: list[int] = []
    chunks = []
    async for chunk in chain_with(model).astream({"what": "numbers"}):
        seen_when.append(len(model.produced))
        chunks.append(chunk)
    assert chunks == TOKENS
    assert seen_when == [1, 2, 3, 4]


def test_invoke_adds_the_tokens_up() -> None:
    assert chain_with(CountingModel()).invoke({"what": "numbers"}) == "".join(TOKENS)
    assert isinstance(
        (ChatPromptTemplate.from_template("x") | CountingModel()).invoke({}), AIMessage
    )
