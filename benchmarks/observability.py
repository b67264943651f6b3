"""Cost of observing a stream: `astream_events` and `astream_log` against langchain-core.

Usage (from the repository root):

    .venv/bin/python benchmarks/observability.py [--chunks 1000] [--rounds 5] [--cpu] [--check]

Workload: a 2-step sequence of async generators over a 1000-chunk stream (the first step
yields `chunks` integers, the second passes each on plus one), consumed through
`astream_events(version="v2")`, through `astream_log()` (patches), and, for reference,
through plain `astream()`. Both libraries run the same functions in the same process on
asyncio. A third column, "floor", runs the same functions with no library at all: hand-written
async generators building the same event dicts (or log patches) in a producer task that hands
them to the consumer through an unbounded queue (as api.md section 8 asks of any library stream,
and as langchain-core does), with no callbacks, config, filters, errors or cancellation: what
no library keeping that promise can beat. The reported time is the best of `--rounds` rounds (noise only adds time);
speedup = langchain-core time / runnables time. `--cpu` times the process's CPU time instead
of the wall clock (steadier on a busy machine: time spent waiting for a core is left out).
`--check` exits 1 unless both observed workloads are at least 20x faster than
langchain-core's (the floor's own speedup is printed beside it).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

from server import TaskHandoff, _event

GOAL = 20.0


def producer(chunks: int) -> Callable[[int], AsyncIterator[int]]:
    """The first step: `chunks` integers, whatever its input."""

    async def produce(x: int) -> AsyncIterator[int]:
        for i in range(chunks):
            yield i

    return produce


async def bump(xs: AsyncIterator[int]) -> AsyncIterator[int]:
    """The second step: each chunk plus one."""
    async for x in xs:
        yield x + 1


def build(lib: Any, chunks: int) -> Any:
    return lib.RunnableLambda(producer(chunks)) | lib.RunnableGenerator(bump)


async def consume_events(chain: Any, langchain: bool) -> int:
    count = 0
    if langchain:
        async for _ in chain.astream_events(0, version="v2"):
            count += 1
    else:
        async for _ in chain.astream_events(0):
            count += 1
    return count


async def consume_log(chain: Any, langchain: bool) -> int:
    count = 0
    async for _ in chain.astream_log(0):
        count += 1
    return count


async def consume_plain(chain: Any, langchain: bool) -> int:
    count = 0
    async for _ in chain.astream(0):
        count += 1
    return count


# --------------------------------------------------------------------------- the floor


def _ids() -> tuple[str, str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())


async def bare_events(chunks: int) -> AsyncIterator[dict[str, Any]]:
    """The v2 events of the 2-step chain with no library, in the order runnables emits them
    (a tap between the steps queues the first step's chunk events)."""
    seq, first, second = _ids()
    yield _event("on_chain_start", "RunnableSequence", seq, [], [], {"input": 0})
    yield _event("on_chain_start", "produce", first, [seq], ["seq:step:1"], {"input": 0})
    pending: list[dict[str, Any]] = []
    total1 = total2 = 0

    async def tap(xs: AsyncIterator[int]) -> AsyncIterator[int]:
        nonlocal total1
        async for x in xs:
            total1 += x
            pending.append(
                _event("on_chain_stream", "produce", first, [seq], ["seq:step:1"], {"chunk": x})
            )
            yield x

    started = False
    async for y in bump(tap(producer(chunks)(0))):
        for event in pending:
            yield event
        pending.clear()
        if not started:
            started = True
            yield _event("on_chain_start", "bump", second, [seq], ["seq:step:2"], {})
        total2 += y
        yield _event("on_chain_stream", "bump", second, [seq], ["seq:step:2"], {"chunk": y})
        yield _event("on_chain_stream", "RunnableSequence", seq, [], [], {"chunk": y})
    yield _event(
        "on_chain_end", "produce", first, [seq], ["seq:step:1"], {"input": 0, "output": total1}
    )
    yield _event(
        "on_chain_end", "bump", second, [seq], ["seq:step:2"], {"input": total1, "output": total2}
    )
    yield _event("on_chain_end", "RunnableSequence", seq, [], [], {"output": total2})


class _Patch:
    __slots__ = ("ops",)

    def __init__(self, *ops: dict[str, Any]) -> None:
        self.ops = ops


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def _entry(run_id: str, name: str, step: int) -> dict[str, Any]:
    return {
        "id": run_id,
        "name": name,
        "type": "chain",
        "tags": [f"seq:step:{step}"],
        "metadata": {},
        "start_time": _now(),
        "streamed_output": [],
        "streamed_output_str": [],
        "final_output": None,
        "end_time": None,
    }


async def bare_log(chunks: int) -> AsyncIterator[_Patch]:
    """The run log patches of the 2-step chain with no library, as runnables emits them."""
    seq, first, second = _ids()
    root = {"id": seq, "name": "RunnableSequence", "type": "chain"}
    value = {**root, "streamed_output": [], "final_output": None, "logs": {}}
    yield _Patch({"op": "replace", "path": "", "value": value})
    yield _Patch({"op": "add", "path": "/logs/produce", "value": _entry(first, "produce", 1)})
    started = False
    total1 = total2 = 0
    async for x in bump(producer(chunks)(0)):
        total1 += x - 1
        yield _Patch({"op": "add", "path": "/logs/produce/streamed_output/-", "value": x - 1})
        if not started:
            started = True
            yield _Patch({"op": "add", "path": "/logs/bump", "value": _entry(second, "bump", 2)})
        total2 += x
        yield _Patch({"op": "add", "path": "/logs/bump/streamed_output/-", "value": x})
        yield _Patch(
            {"op": "add", "path": "/streamed_output/-", "value": x},
            {"op": "replace", "path": "/final_output", "value": total2},
        )
    for name, total in (("produce", total1), ("bump", total2)):
        yield _Patch(
            {"op": "add", "path": f"/logs/{name}/final_output", "value": {"output": total}},
            {"op": "add", "path": f"/logs/{name}/end_time", "value": _now()},
        )


async def consume_floor(make: Callable[[int], AsyncIterator[Any]], chunks: int) -> int:
    count = 0
    async for _ in TaskHandoff(make(chunks)):
        count += 1
    return count


async def best_of(
    rounds: int, work: Callable[[], Awaitable[int]], clock: Callable[[], float]
) -> tuple[float, int]:
    count = await work()  # warm-up
    best = float("inf")
    for _ in range(rounds):
        start = clock()
        await work()
        best = min(best, clock() - start)
    return best, count


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu", action="store_true", help="time CPU, not the wall clock")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    clock = time.process_time if args.cpu else time.perf_counter

    import langchain_core.runnables as lc

    # (langchain-core warns that its `astream_log` is deprecated, which is not news here.)
    warnings.filterwarnings("ignore", message="astream_log is deprecated")

    import runnables as ours

    mine, theirs = build(ours, args.chunks), build(lc, args.chunks)
    failed = False
    timed = "CPU time" if args.cpu else "wall time"
    print(
        f"{args.chunks}-chunk 2-step async generator stream, best {timed} of {args.rounds} rounds"
    )
    print(
        f"{'workload':<16}{'runnables':>12}{'langchain':>12}{'speedup':>10}"
        f"{'floor':>10}{'speedup':>10}  items (ours/lc/floor)"
    )
    for label, consume, floor, judged in (
        ("astream_events", consume_events, bare_events, True),
        ("astream_log", consume_log, bare_log, True),
        ("astream (plain)", consume_plain, None, False),
    ):
        ours_time, ours_count = await best_of(args.rounds, partial(consume, mine, False), clock)
        lc_time, lc_count = await best_of(args.rounds, partial(consume, theirs, True), clock)
        speedup = lc_time / ours_time
        mark = "" if not judged else ("  ok" if speedup >= GOAL else "  BELOW GOAL")
        failed |= judged and speedup < GOAL
        floor_columns, floor_count = f"{'':>20}", ""
        if floor is not None:
            work = partial(consume_floor, floor, args.chunks)
            floor_time, count = await best_of(args.rounds, work, clock)
            floor_columns = f"{floor_time * 1e3:>8.1f}ms{lc_time / floor_time:>9.1f}x"
            floor_count = f"/{count}"
        print(
            f"{label:<16}{ours_time * 1e3:>10.1f}ms{lc_time * 1e3:>10.1f}ms{speedup:>9.1f}x"
            f"{floor_columns}  {ours_count}/{lc_count}{floor_count}{mark}"
        )
    return 1 if (failed and args.check) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
