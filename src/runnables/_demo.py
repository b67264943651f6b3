"""The walkthrough behind `python -m runnables demo`: composition, batch, streaming, async."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import anyio

from runnables import RunnableParallel, RunnablePassthrough, runnable


@runnable
def word_count(text: str) -> int:
    """How many words the text has."""
    return len(text.split())


@runnable
def shout(text: str) -> str:
    return text.upper()


@runnable
def words(text: str) -> Iterator[str]:
    """Stream the text back one word at a time."""
    for word in text.split():
        time.sleep(0.05)
        yield word + " "


@runnable
async def slow_length(text: str) -> int:
    await anyio.sleep(0.2)
    return len(text)


@runnable
async def awords(text: str) -> AsyncIterator[str]:
    for word in text.split():
        await anyio.sleep(0.05)
        yield word + " "


def _section(title: str) -> None:
    print(f"\n== {title}")


def run_demo() -> None:
    """Print each feature of the core on lifted local functions."""
    text = "runnables compose typed streaming steps"

    _section("compose with |: shout | words, then a parallel of three branches")
    analysis = RunnableParallel(words=word_count, loud=shout, original=RunnablePassthrough())
    print("input schema:", (shout | words).input_schema.json_schema())
    print("invoke:", analysis.invoke(text))

    _section("batch with max_concurrency=2")
    print(word_count.batch(["a b", "a b c", "a"], {"max_concurrency": 2}))

    _section("stream: chunks arrive as they are produced")
    for chunk in (shout | words).stream(text):
        print(chunk, end="|", flush=True)
    print()

    async def async_part() -> None:
        _section("ainvoke / abatch / astream (anyio: asyncio or trio)")
        print("ainvoke:", await slow_length.ainvoke(text))
        started = time.perf_counter()
        lengths = await slow_length.abatch([text] * 5)
        print(f"abatch of 5 x 0.2 s: {lengths} in {time.perf_counter() - started:.2f} s")
        async for chunk in (shout | awords).astream(text):
            print(chunk, end="|", flush=True)
        print()

    anyio.run(async_part)
