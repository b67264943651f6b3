"""Cost of observing a stream: `astream_events` and `astream_log` against langchain-core.

Usage (from the repository root):

    .venv/bin/python benchmarks/observability.py [--chunks 1000] [--rounds 5] [--cpu] [--check]

Workload: a 2-step sequence of async generators over a 1000-chunk stream (the first step
yields `chunks` integers, the second passes each on plus one), consumed through
`astream_events(version="v2")`, through `astream_log()` (patches), and, for reference,
through plain `astream()`. Both libraries run the same functions in the same process on
asyncio. The reported time is the best of `--rounds` rounds (noise only adds time);
speedup = langchain-core time / runnables time. `--cpu` times the process's CPU time instead
of the wall clock (steadier on a busy machine: time spent waiting for a core is left out).
`--check` exits 1 unless both observed workloads are at least 20x faster than
langchain-core's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

GOAL = 20.0


def build(lib: Any, chunks: int) -> Any:
    async def produce(x: int) -> AsyncIterator[int]:
        for i in range(chunks):
            yield i

    async def bump(xs: AsyncIterator[int]) -> AsyncIterator[int]:
        async for x in xs:
            yield x + 1

    return lib.RunnableLambda(produce) | lib.RunnableGenerator(bump)


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
    print(f"{'workload':<16}{'runnables':>12}{'langchain':>12}{'speedup':>10}  items (ours/lc)")
    for label, consume, judged in (
        ("astream_events", consume_events, True),
        ("astream_log", consume_log, True),
        ("astream (plain)", consume_plain, False),
    ):
        ours_time, ours_count = await best_of(args.rounds, partial(consume, mine, False), clock)
        lc_time, lc_count = await best_of(args.rounds, partial(consume, theirs, True), clock)
        speedup = lc_time / ours_time
        mark = "" if not judged else ("  ok" if speedup >= GOAL else "  BELOW GOAL")
        failed |= judged and speedup < GOAL
        print(
            f"{label:<16}{ours_time * 1e3:>10.1f}ms{lc_time * 1e3:>10.1f}ms{speedup:>9.1f}x"
            f"  {ours_count}/{lc_count}{mark}"
        )
    return 1 if (failed and args.check) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
