"""Traced async streams (`TracedStream`): the run records of steps fed by, and sequences
ending in, other traced streams, wrapped or not; and a dropped stream closing the library's
own generators."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable

import pytest

from runnables import RunnableGenerator, RunnableLambda, RunnableSequence
from runnables._core.base import RunnableBase
from runnables.tracing import Run

pytestmark = pytest.mark.anyio


async def _upper(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    async for chunk in chunks:
        yield chunk.upper()


def _inner() -> RunnableSequence[str, str]:
    return RunnableLambda(lambda s: s + "a", name="f") | RunnableGenerator(_upper, name="up")


_WRAPPERS: dict[str, Callable[[RunnableBase[str, str]], RunnableBase[str, str]]] = {
    "bare": lambda r: r,
    "with_config run_name": lambda r: r.with_config(run_name="inner"),
    "with_config tags": lambda r: r.with_config(tags=["t"]),
    "with_listeners": lambda r: r.with_listeners(on_end=lambda run: None),
    "with_types": lambda r: r.with_types(input_type=str, output_type=str),
    "twice": lambda r: r.with_config(tags=["t"]).with_config(run_name="inner"),
}


class _Ends:
    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}

    def on_end(self, run: Run) -> None:
        self.runs[run.name] = run


@pytest.mark.parametrize("wrap", list(_WRAPPERS))
async def test_the_step_after_a_wrapped_sequence_records_its_whole_input(wrap: str) -> None:
    chain = _WRAPPERS[wrap](_inner()) | RunnableLambda(lambda s: s + "!", name="bang")
    ends = _Ends()
    chunks = [chunk async for chunk in chain.astream("x", {"callbacks": [ends]})]
    assert chunks == ["XA!"] == [await chain.ainvoke("x")]
    assert (ends.runs["bang"].inputs, ends.runs["bang"].outputs) == ("XA", "XA!")
    assert ends.runs["RunnableSequence"].outputs == "XA!"


@pytest.mark.parametrize("wrap", list(_WRAPPERS))
async def test_a_sequence_ending_in_a_wrapped_sequence_records_its_output(wrap: str) -> None:
    chain = RunnableLambda(lambda s: s, name="id") | _WRAPPERS[wrap](_inner())
    ends = _Ends()
    assert [c async for c in chain.astream("x", {"callbacks": [ends]})] == ["XA"]
    outer = next(run for run in ends.runs.values() if run.parent_id is None)
    assert (outer.inputs, outer.outputs) == ("x", "XA")
    events = [e async for e in chain.astream_events("x", version="v2")]
    assert events[-1]["event"] == "on_chain_end"
    assert events[-1]["data"] == {"output": "XA"}


async def test_chunks_added_up_once_are_every_record_they_belong_to() -> None:
    """A step's output total is its sequence's and the next step's input record: each sees
    the whole stream, also when chunks are long enough to be kept as pieces."""
    words = ["w" * 300] * 40

    async def many(_: str) -> AsyncIterator[str]:
        for word in words:
            yield word

    chain = RunnableLambda(many, name="many") | RunnableGenerator(_upper, name="up")
    ends = _Ends()
    assert "".join([c async for c in chain.astream("x", {"callbacks": [ends]})]) == (
        "".join(words).upper()
    )
    assert ends.runs["many"].outputs == ends.runs["up"].inputs == "".join(words)
    assert ends.runs["RunnableSequence"].outputs == ends.runs["up"].outputs


_DROPPED = textwrap.dedent(
    """
    import gc, sys
    import anyio
    from runnables import RunnableGenerator, RunnableLambda

    async def words(xs):
        async for x in xs:
            for w in x.split():
                yield w

    # A plain function before a generator: the generator is fed by the library's own
    # generator that invokes it, which the user's generator never closes.
    chain = RunnableLambda(lambda s: s, name="id") | RunnableGenerator(words)

    async def main():
        async for w in chain.astream("a b c"):
            break
        gc.collect()
        await anyio.sleep(0.05)

    anyio.run(main, backend=sys.argv[1])
    print("done")
    """
)


def _run_dev(script: str, backend: str) -> subprocess.CompletedProcess[str]:
    """`script` in a fresh `python -X dev` (where every unclosed resource is reported)."""
    return subprocess.run(
        [sys.executable, "-X", "dev", "-c", script, backend],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_dropped_stream_closes_the_generator_feeding_a_stage(backend: str) -> None:
    result = _run_dev(_DROPPED, backend)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "done", "")


_LOOP_ENDS = textwrap.dedent(
    """
    import sys
    import anyio
    from runnables import RunnableGenerator, RunnableLambda

    async def words(xs):
        async for x in xs:
            for w in x.split():
                yield w

    ended = []

    class Ends:
        run_inline = True  # told in place, so that what it saw is known when the loop ends

        def on_end(self, run):
            ended.append(run.name)

        def on_error(self, run, error):
            ended.append(run.name)

    chain = RunnableLambda(lambda s: s, name="id") | RunnableGenerator(words, name="words")

    async def main():
        async for w in chain.astream("a b c", {"callbacks": [Ends()]}):
            break  # and the event loop ends right after

    anyio.run(main, backend=sys.argv[1])
    print(sorted(ended))
    """
)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_stream_dropped_as_its_event_loop_ends_still_ends_its_runs(backend: str) -> None:
    result = _run_dev(_LOOP_ENDS, backend)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip() == "['RunnableSequence', 'id', 'words']"
