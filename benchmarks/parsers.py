"""Streaming output parsers against one `json.loads`: is streaming linear in the text?

Usage (from the repository root):

    .venv/bin/python benchmarks/parsers.py            # print the table, always exit 0
    .venv/bin/python benchmarks/parsers.py --check    # exit 1 if a goal fails

A 1 MB JSON answer (a list of small records) is streamed through `JsonOutputParser` in
1-character chunks, in diff mode (JSON Patch operations per chunk) and in snapshot mode
with few snapshots (1 KB chunks), and compared with one `json.loads` of the same text.
langchain-core's parser re-parses the whole text per chunk, so it is timed on 4 KB only (16 KB
takes it over a minute), beside runnables on the same 4 KB.

The floor rows time what any streaming parser pays before it reads a character, through the
same parser machinery: the chunks passed through a parser (`StrOutputParser` yields each one),
one new JSON Patch list per change that diff mode yields, that with each chunk's type checked
and the chunk kept (for error positions and messages: `JsonStream.changes` does both before it
reads), and that with a Python call per chunk (which `changes` avoids). Hostile rows are
reported: a 1 MB string in 1-character chunks, text after the JSON, a comma-less 1 MB list
answer. Each time is the best of
`--rounds` rounds of CPU time (`time.process_time`): the machine is shared, and other
processes only ever add wall time.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from runnables._json_stream import NOTHING, JsonStream
from runnables.parsers import (
    BaseOutputParser,
    CommaSeparatedListOutputParser,
    JsonOutputParser,
    OutputParserException,
    StrOutputParser,
)

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables.messages import BaseMessage

GOAL = 20.0  # streaming may cost at most this many json.loads of the same text


def records(size: int) -> str:
    """A JSON list of small records, about ``size`` characters long."""
    items: list[dict[str, Any]] = []
    text = "[]"
    while len(text) < size:
        base = len(items)
        items.extend(
            {
                "id": i,
                "name": f"user {i}",
                "tags": ["a", "bb"],
                "score": i * 1.5,
                "ok": i % 2 == 0,
                "note": None,
            }
            for i in range(base, base + max(1, (size - len(text)) // 90))
        )
        text = json.dumps(items)
    return text


@attrs.frozen
class FloorParser(BaseOutputParser[Any]):
    """Reads nothing: yields a new JSON Patch list at each chunk where ``emits`` says diff
    mode yields one, after checking each chunk's type and keeping it if ``keep``, or after a
    Python call per chunk if ``call``; the floor under diff mode."""

    emits: tuple[bool, ...] = attrs.field(eq=False, repr=False)
    keep: bool = False
    call: bool = False

    def _transform(self, inputs: Iterator[str | BaseMessage], ctx: RunContext) -> Iterator[Any]:
        emits = iter(self.emits).__next__
        if self.keep:
            kept: list[str] = []
            for chunk in inputs:
                if type(chunk) is not str:
                    chunk = chunk.text
                kept.append(chunk)
                if emits():
                    yield [{"op": "replace", "path": "/0/name", "value": chunk}]
        elif self.call:
            check = _Check(emits).check
            for chunk in inputs:
                if check(chunk):
                    yield [{"op": "replace", "path": "/0/name", "value": chunk}]
        else:
            for chunk in inputs:
                if emits():
                    yield [{"op": "replace", "path": "/0/name", "value": chunk}]


class _Check:
    def __init__(self, emits: Callable[[], bool]) -> None:
        self.emits = emits

    def check(self, chunk: str | BaseMessage) -> bool:
        return self.emits()


def best(work: Callable[[], object], rounds: int) -> float:
    """The least CPU time of ``rounds`` runs of ``work``, in seconds."""
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def drain(parser: Any, chunks: list[str]) -> Callable[[], object]:
    def work() -> object:
        last = None
        for last in parser.transform(iter(chunks)):  # noqa: B007
            pass
        return last

    return work


def refused(parser: Any, chunks: list[str]) -> Callable[[], object]:
    def work() -> object:
        try:
            for _ in parser.transform(iter(chunks)):
                pass
        except OutputParserException:
            return None
        raise AssertionError("the text was not refused")

    return work


def split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal fails")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    rounds: int = args.rounds

    big = records(1_000_000)
    expected = json.loads(big)
    small = records(4_000)
    loads_big = best(lambda: json.loads(big), rounds * 3)
    loads_small = best(lambda: json.loads(small), rounds * 3)
    one_char = list(big)
    assert drain(JsonOutputParser(), split(big, 1024))() == expected

    rows: list[tuple[str, float, float | None, float | None]] = []  # name, seconds, x, goal

    def row(name: str, seconds: float, baseline: float | None, goal: float | None) -> None:
        rows.append((name, seconds, None if baseline is None else seconds / baseline, goal))

    row(f"json.loads, {len(big):,} chars", loads_big, None, None)
    row(
        "floor: StrOutputParser, 1-char chunks (a chunk through a parser)",
        best(drain(StrOutputParser(), one_char), rounds),
        loads_big,
        None,
    )
    stream = JsonStream(diff=True)
    emits = tuple(stream.feed(chunk) is not NOTHING for chunk in one_char)
    row(
        f"floor: no reading, a patch list per change ({sum(emits):,} of them)",
        best(drain(FloorParser(emits), one_char), rounds),
        loads_big,
        None,
    )
    row(
        "floor: no reading, a patch list per change, each chunk type-checked, kept",
        best(drain(FloorParser(emits, keep=True), one_char), rounds),
        loads_big,
        None,
    )
    row(
        "floor: no reading, a patch list per change, a Python call per chunk",
        best(drain(FloorParser(emits, call=True), one_char), rounds),
        loads_big,
        None,
    )
    row(
        "JsonOutputParser(diff=True), 1-char chunks",
        best(drain(JsonOutputParser(diff=True), one_char), rounds),
        loads_big,
        GOAL,
    )
    row(
        "JsonOutputParser(), 1 KB chunks (~1000 snapshots)",
        best(drain(JsonOutputParser(), split(big, 1024)), rounds),
        loads_big,
        GOAL,
    )
    row(
        "JsonOutputParser(), 1-char chunks (snapshots, spaced out as they grow)",
        best(drain(JsonOutputParser(), one_char), 1),
        loads_big,
        None,
    )
    row(
        "JsonOutputParser(), whole text in one chunk",
        best(drain(JsonOutputParser(), [big]), rounds),
        loads_big,
        None,
    )
    row(
        "JsonOutputParser().invoke",
        best(lambda: JsonOutputParser().invoke(big), rounds),
        loads_big,
        None,
    )
    row(f"json.loads, {len(small):,} chars", loads_small, None, None)
    small_chunks = list(small)
    row(
        "JsonOutputParser(), 1-char chunks, every snapshot",
        best(drain(JsonOutputParser(), small_chunks), rounds),
        loads_small,
        None,
    )
    row(
        "JsonOutputParser(diff=True), 1-char chunks",
        best(drain(JsonOutputParser(diff=True), small_chunks), rounds),
        loads_small,
        None,
    )
    try:
        from langchain_core.output_parsers import JsonOutputParser as LangChainJsonOutputParser
    except ImportError:
        print("langchain-core is not installed: its rows are left out", file=sys.stderr)
    else:
        row(
            "langchain-core JsonOutputParser(), 1-char chunks",
            best(drain(LangChainJsonOutputParser(), small_chunks), 1),
            loads_small,
            None,
        )
        row(
            "langchain-core JsonOutputParser(diff=True), 1-char chunks",
            best(drain(LangChainJsonOutputParser(diff=True), small_chunks), 1),
            loads_small,
            None,
        )

    string = json.dumps({"s": "x" * 1_000_000})
    row(
        "hostile: one 1 MB string, 1-char chunks, snapshots",
        best(drain(JsonOutputParser(), list(string)), 1),
        None,
        None,
    )
    prose = "[1] " + "some prose " * 100_000
    row(
        "hostile: [1] then 1 MB of prose, 4-char chunks",
        best(refused(JsonOutputParser(), split(prose, 4)), rounds),
        None,
        None,
    )
    row(
        "hostile: 100,000 '[' in 1-char chunks",
        best(refused(JsonOutputParser(), list("[" * 100_000)), rounds),
        None,
        None,
    )
    words = "x" * 1_000_000
    row(
        "CommaSeparatedListOutputParser, 1 MB without commas, 1-char chunks",
        best(drain(CommaSeparatedListOutputParser(), list(words)), rounds),
        None,
        None,
    )

    failed = False
    print(f"{'workload':<72} {'time':>10} {'x loads':>9} {'goal':>7}  result")
    for name, seconds, ratio, goal in rows:
        verdict = ""
        if goal is not None and ratio is not None:
            verdict = "PASS" if ratio <= goal else "FAIL"
            failed = failed or ratio > goal
        print(
            f"{name:<72} {seconds * 1000:>8.1f}ms"
            f" {'' if ratio is None else f'{ratio:.1f}x':>9} {'' if goal is None else f'<={goal:g}x':>7}  {verdict}"
        )
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
