"""runnables.dask on a LocalCluster: per-item overhead, I/O-bound and CPU-bound scaling.

Usage (from the repository root; needs the `dask` extra):

    .venv/bin/python benchmarks/dask_batch.py           # small sizes, about 30-60 s here
    .venv/bin/python benchmarks/dask_batch.py --full    # the sizes of issue #16
    .venv/bin/python benchmarks/dask_batch.py --check   # exit 1 if a goal fails

Workloads (issue #16; the defaults are smaller so that the run stays short on 2 cores):

* io: items of a step that sleeps 50 ms (an I/O-bound model call) at `max_concurrency`
  across the cluster; goal: within 1.3x of the ideal (items x 50 ms / max_concurrency).
  Full: 10,000 items, max_concurrency 200, 4 worker processes.
* trivial: items of `x + 1`; goal: under 50 us of wall time per item. Full: 1,000,000.
* cpu: a pure-Python step of about 5 ms per item; goal: the cluster at least 1.7x faster
  than `batch` in one process (the GIL keeps that to one core). Full: 2,000 items on 2
  worker processes (`--cpu-workers` shows the scaling on more, where a machine has them).

Times are wall-clock (the cluster's processes are the point), best of `--rounds`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from distributed import Client, LocalCluster

import runnables.dask as rd
from runnables import RunnableLambda

WORK = [20_000]  # loop length of the CPU-bound step, calibrated to about 5 ms


def sleepy(x: int) -> int:
    time.sleep(0.05)
    return x


def inc(x: int) -> int:
    return x + 1


def busy(args: tuple[int, int]) -> int:
    loops, x = args
    total = 0
    for i in range(loops):
        total += i * i % 7
    return x + total * 0


def calibrate() -> int:
    loops = 20_000
    while True:
        start = time.perf_counter()
        busy((loops, 0))
        took = time.perf_counter() - start
        if took > 0.001:
            return max(1, int(loops * 0.005 / took))
        loops *= 4


def best(rounds: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def cluster(workers: int, threads: int) -> tuple[LocalCluster, Client]:
    local = LocalCluster(
        n_workers=workers, threads_per_worker=threads, processes=True, dashboard_address=None
    )
    return local, Client(local)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the sizes of issue #16")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal fails")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--io-items", type=int)
    parser.add_argument("--io-concurrency", type=int)
    parser.add_argument("--io-workers", type=int)
    parser.add_argument("--trivial-items", type=int)
    parser.add_argument("--cpu-items", type=int)
    parser.add_argument("--cpu-workers", type=int, default=2)
    args = parser.parse_args()
    full = args.full
    io_items = args.io_items or (10_000 if full else 1_000)
    io_limit = args.io_concurrency or (200 if full else 50)
    io_workers = args.io_workers or (4 if full else 2)
    trivial_items = args.trivial_items or (1_000_000 if full else 100_000)
    cpu_items = args.cpu_items or (2_000 if full else 300)
    cpu_workers = args.cpu_workers
    rows: list[tuple[str, str, str, bool]] = []

    loops = calibrate()
    cpu_inputs = [(loops, x) for x in range(cpu_items)]
    step = RunnableLambda(busy)
    one_process = best(args.rounds, lambda: step.batch(cpu_inputs))

    local, client = cluster(io_workers, 1)
    with local, client:
        io_step = RunnableLambda(sleepy)
        config: Any = {"max_concurrency": io_limit}
        io_inputs = list(range(io_items))
        rd.batch(client, io_step, io_inputs[:io_limit], config)  # warm the workers up
        took = best(args.rounds, lambda: rd.batch(client, io_step, io_inputs, config))
        ideal = io_items * 0.05 / io_limit
        rows.append(
            (
                f"io: {io_items} x 50 ms, max_concurrency={io_limit}, {io_workers} processes",
                f"{took:.2f} s = {took / ideal:.2f}x ideal ({ideal:.2f} s)",
                "<= 1.3x",
                took / ideal <= 1.3,
            )
        )
        trivial = RunnableLambda(inc)
        inputs = list(range(trivial_items))
        took = best(args.rounds, lambda: rd.batch(client, trivial, inputs))
        per_item = took / trivial_items * 1e6
        rows.append(
            (
                f"trivial: {trivial_items} items, {io_workers} processes",
                f"{took:.2f} s = {per_item:.1f} us/item",
                "< 50 us",
                per_item < 50,
            )
        )
    local, client = cluster(cpu_workers, 1)
    with local, client:
        rd.batch(client, step, cpu_inputs[:cpu_workers])
        took = best(args.rounds, lambda: rd.batch(client, step, cpu_inputs))
        rows.append(
            (
                f"cpu: {cpu_items} x ~5 ms, {cpu_workers} processes vs batch in one",
                f"{one_process:.2f} s / {took:.2f} s = {one_process / took:.2f}x",
                ">= 1.7x",
                one_process / took >= 1.7,
            )
        )

    width = max(len(r[0]) for r in rows)
    for name, result, goal, ok in rows:
        print(f"{name:<{width}}  {result:<40}  goal {goal:<8}  {'PASS' if ok else 'FAIL'}")
    return 1 if args.check and not all(ok for *_, ok in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
