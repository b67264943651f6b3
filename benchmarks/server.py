"""Server-shaped streaming benchmark: many concurrent `astream_events` clients, side by side.

Usage (from the repository root):

    .venv/bin/python benchmarks/server.py                  # print the table, always exit 0
    .venv/bin/python benchmarks/server.py --check          # exit 1 if a goal fails
    .venv/bin/python benchmarks/server.py --clients 500 --tokens 50 --rounds 5

Workload "server": `--clients` tasks, all started at once in one event loop, each consuming
`astream_events(input, version="v2")` of the same 3-step chain

    RunnableLambda(make_prompt) | RunnableLambda(model) | RunnableGenerator(parser)

where `make_prompt` is a plain function (input dict -> prompt string), `model` an async
generator yielding `--tokens` tokens with a zero sleep (a checkpoint) before each, and
`parser` an async generator transforming the token stream (upper-cases each token). Every
client counts its events and checks the final output (the root's `on_chain_end`), so no
variant is ever timed producing a wrong answer.

Variants: langchain-core (asyncio), runnables on asyncio, runnables on trio, and "bare" on
asyncio and on trio: the same steps driven by hand-written async generators with no library,
building the same event dicts (fresh dicts and lists per event, uuid4 run ids) in the order
langchain-core emits them, i.e. the floor any library could reach on that event loop. The
zero sleep is the event loop's own (`asyncio.sleep(0)` or `trio.sleep(0)`); everything else
is the same code for every variant. "bare-task" (asyncio, report only) is bare run in a
producer task of its own, handing events to the client through a queue: the floor for a
library whose streams keep api.md's section 8 (the consumer never runs the pipeline itself).

Each variant runs in fresh subprocesses (so imports, caches and memory of one never affect
another), each starting with a small checked warm-up. Timing, one variant at a time: wall
time for all clients, best of at least `--rounds` rounds (short rounds repeat until MIN_TIMED
seconds were timed; noise only adds time), the cost per event, CPU time and peak RSS growth
(report only). Memory, afterwards, one subprocess per variant side by side (what tracemalloc
counts does not depend on speed): the tracemalloc peak of one round (judged).

Goals, judged on runnables on asyncio against langchain-core and bare on asyncio: speedup
>= 15x, time <= 3x bare, tracemalloc peak <= 1/3 of langchain-core's; runnables on trio must
run (its figures are report only). `--check` exits 1 if a goal fails or a judged variant
fails to run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import gc
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
import traceback
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

SPEEDUP_GOAL = 15.0  # langchain-core time / runnables time, at least
BARE_GOAL = 3.0  # runnables time / bare time, at most
MEMORY_GOAL = 1 / 3  # runnables tracemalloc peak / langchain-core's, at most

VARIANTS = (
    "langchain-core",
    "runnables/asyncio",
    "runnables/trio",
    "bare/asyncio",
    "bare/trio",
    "bare-task/asyncio",
)
MIN_TIMED = 1.0  # seconds of timed rounds at least, for variants with short rounds
MAX_ROUNDS = 20
CHILD_TIMEOUT = 600.0  # seconds; a hung variant becomes an error row

# --------------------------------------------------------------------------- the user code
# The same three functions for every variant; only the event loop's zero sleep differs.

TOKENS = 50  # set from --tokens in the child
SLEEP: Callable[[float], Awaitable[None]] = asyncio.sleep  # the loop's own zero sleep


def make_prompt(question: dict[str, str]) -> str:
    return f"Q{question['client']}"


async def model(prompt: str) -> AsyncIterator[str]:
    for i in range(TOKENS):
        await SLEEP(0)
        yield f"{prompt}.{i} "


async def parser(tokens: AsyncIterator[str]) -> AsyncIterator[str]:
    async for token in tokens:
        yield token.upper()


def question(client: int) -> dict[str, str]:
    return {"client": str(client)}


def expected_output(client: int) -> str:
    return "".join(f"Q{client}.{i} ".upper() for i in range(TOKENS))


# --------------------------------------------------------------------------- bare floor


def _event(
    kind: str, name: str, run_id: str, parent_ids: list[str], tags: list[str], data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "event": kind,
        "name": name,
        "run_id": run_id,
        "parent_ids": parent_ids,
        "tags": tags,
        "metadata": {},
        "data": data,
    }


async def bare_events(input: dict[str, str]) -> AsyncIterator[dict[str, Any]]:
    """The chain's v2 event stream with no library: the same events, in langchain-core's order
    (start/stream/end of the sequence and of its 3 steps). No callbacks, config, error
    handling or cancellation: what is left is the work any library must do."""
    seq = str(uuid.uuid4())
    yield _event("on_chain_start", "RunnableSequence", seq, [], [], {"input": input})

    step1 = str(uuid.uuid4())
    yield _event("on_chain_start", make_prompt.__name__, step1, [seq], ["seq:step:1"], {})
    prompt = make_prompt(input)
    yield _event(
        "on_chain_stream", make_prompt.__name__, step1, [seq], ["seq:step:1"], {"chunk": prompt}
    )
    step2 = str(uuid.uuid4())
    yield _event("on_chain_start", model.__name__, step2, [seq], ["seq:step:2"], {})
    yield _event(
        "on_chain_end",
        make_prompt.__name__,
        step1,
        [seq],
        ["seq:step:1"],
        {"output": prompt, "input": input},
    )

    # The model's chunks are reported as the parser pulls them: a tap between the two steps
    # queues the model's stream events, handed out before the parser's chunk they fed.
    pending: collections.deque[dict[str, Any]] = collections.deque()
    model_output: str | None = None

    async def tap(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        nonlocal model_output
        async for chunk in chunks:
            model_output = chunk if model_output is None else model_output + chunk
            pending.append(
                _event(
                    "on_chain_stream",
                    model.__name__,
                    step2,
                    [seq],
                    ["seq:step:2"],
                    {"chunk": chunk},
                )
            )
            yield chunk

    step3: str | None = None
    output: str | None = None
    async for chunk in parser(tap(model(prompt))):
        while pending:
            yield pending.popleft()
        if step3 is None:
            step3 = str(uuid.uuid4())
            yield _event("on_chain_start", parser.__name__, step3, [seq], ["seq:step:3"], {})
        yield _event(
            "on_chain_stream", parser.__name__, step3, [seq], ["seq:step:3"], {"chunk": chunk}
        )
        output = chunk if output is None else output + chunk
        yield _event("on_chain_stream", "RunnableSequence", seq, [], [], {"chunk": chunk})
    while pending:
        yield pending.popleft()
    yield _event(
        "on_chain_end",
        model.__name__,
        step2,
        [seq],
        ["seq:step:2"],
        {"output": model_output, "input": prompt},
    )
    if step3 is not None:
        yield _event(
            "on_chain_end",
            parser.__name__,
            step3,
            [seq],
            ["seq:step:3"],
            {"output": output, "input": model_output},
        )
    yield _event("on_chain_end", "RunnableSequence", seq, [], [], {"output": output})


class TaskHandoff:
    """`bare_events` run in a producer task of its own and handed to the consumer through a
    queue, one wakeup per batch (asyncio only). What api.md section 8 asks of every library
    stream (the consumer's frame never runs the pipeline, so that it never owns a cancel scope
    across a yield; LangChain does the same), at its cheapest: the floor for a library that
    keeps that promise, report only."""

    def __init__(self, events: AsyncIterator[dict[str, Any]]) -> None:
        self.items: collections.deque[dict[str, Any]] = collections.deque()
        self.waiter: asyncio.Future[None] | None = None
        self.done = False
        self.task = asyncio.get_running_loop().create_task(self.produce(events))

    def wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None:
            waiter.set_result(None)

    async def produce(self, events: AsyncIterator[dict[str, Any]]) -> None:
        async for event in events:
            self.items.append(event)
            self.wake()
        self.done = True
        self.wake()

    def __aiter__(self) -> TaskHandoff:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while not self.items:
            if self.done:
                await self.task
                raise StopAsyncIteration
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return self.items.popleft()


# --------------------------------------------------------------------------- one variant


def build_events(variant: str) -> Callable[[dict[str, str]], AsyncIterator[Any]]:
    """The function a client calls to get one event stream, for `variant`."""
    if variant.startswith("bare/"):
        return bare_events
    if variant == "bare-task/asyncio":
        return lambda input: TaskHandoff(bare_events(input))
    if variant == "langchain-core":
        from langchain_core.runnables import RunnableGenerator, RunnableLambda
    else:
        from runnables import RunnableGenerator, RunnableLambda
    chain: Any = RunnableLambda(make_prompt) | RunnableLambda(model) | RunnableGenerator(parser)
    return lambda input: chain.astream_events(input, version="v2")


async def client(events: Callable[[dict[str, str]], AsyncIterator[Any]], n: int) -> int:
    """One client: consume the whole event stream, count it, check the final output."""
    count = 0
    output = None
    async for event in events(question(n)):
        count += 1
        if event["event"] == "on_chain_end" and not event["parent_ids"]:
            output = event["data"]["output"]
    if output != expected_output(n):
        raise AssertionError(
            f"client {n}: final output {output!r}, expected {expected_output(n)!r}"
        )
    return count


async def serve_asyncio(
    events: Callable[[dict[str, str]], AsyncIterator[Any]], clients: int
) -> list[int]:
    return list(await asyncio.gather(*(client(events, n) for n in range(clients))))


async def serve_trio(
    events: Callable[[dict[str, str]], AsyncIterator[Any]], clients: int
) -> list[int]:
    import trio

    counts = [0] * clients

    async def one(n: int) -> None:
        counts[n] = await client(events, n)

    async with trio.open_nursery() as nursery:
        for n in range(clients):
            nursery.start_soon(one, n)
    return counts


def rss_bytes(field: str) -> int:
    """`VmRSS` (now) or `VmHWM` (peak) of this process, from /proc (Linux). Not ru_maxrss:
    after fork and exec that can still hold the parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    return 0


async def child_main(variant: str, clients: int, rounds: int, mode: str) -> dict[str, Any]:
    """Mode "time": timed rounds (and RSS); mode "memory": one round under tracemalloc."""
    events = build_events(variant)
    serve = serve_trio if variant.endswith("/trio") else serve_asyncio

    async def one_round(clients: int) -> tuple[float, float, int]:
        """Wall time, CPU time (all threads of the process) and events per client."""
        gc.collect()
        cpu = time.process_time()
        start = time.perf_counter()
        counts = await serve(events, clients)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        if len(set(counts)) != 1:
            raise AssertionError(f"clients saw different event counts: {sorted(set(counts))}")
        return elapsed, cpu, counts[0]

    # Warm-up (lazy imports, caches): one stream alone, whose shape (kind, name, depth and
    # tags of each event) is compared across variants, then a few concurrent clients.
    shape = [
        [e["event"], e["name"], len(e["parent_ids"]), e["tags"]] async for e in events(question(0))
    ]
    await one_round(min(clients, 10))
    if mode == "memory":
        gc.collect()
        tracemalloc.start()
        traced_seconds, _, per_client = await one_round(clients)
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {
            "traced_peak": traced_peak,
            "traced_seconds": traced_seconds,
            "traced_events_per_client": per_client,
        }
    rss_before = rss_bytes("VmRSS")
    # At least `rounds` rounds; short ones (the bare floor) go on until MIN_TIMED seconds have
    # been timed, so the figure every ratio is taken against is as steady as the slow ones.
    rounds_run = [await one_round(clients)]
    while len(rounds_run) < rounds or (
        sum(elapsed for elapsed, _, _ in rounds_run) < MIN_TIMED and len(rounds_run) < MAX_ROUNDS
    ):
        rounds_run.append(await one_round(clients))
    peak_rss = rss_bytes("VmHWM")
    times = [elapsed for elapsed, _, _ in rounds_run]
    return {
        "best": min(times),
        "median": statistics.median(times),
        "cpu": min(cpu for _, cpu, _ in rounds_run),
        "rounds": len(times),
        "events_per_client": rounds_run[0][2],
        "rss_growth": max(0, peak_rss - rss_before),
        "shape": shape,
    }


def child(variant: str, clients: int, tokens: int, rounds: int, mode: str) -> None:
    """Run one variant and print its result (or its error) as one JSON line."""
    global SLEEP, TOKENS
    TOKENS = tokens
    try:
        if variant.endswith("/trio"):
            import trio

            SLEEP = trio.sleep
            result = trio.run(child_main, variant, clients, rounds, mode)
        else:
            result = asyncio.run(child_main(variant, clients, rounds, mode))
    except BaseException as exc:  # reported in the table (and on stderr), not fixed here
        traceback.print_exc()
        while getattr(exc, "exceptions", None):  # an exception group: its first leaf
            exc = exc.exceptions[0]  # type: ignore[attr-defined]
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))


# --------------------------------------------------------------------------- parent


@dataclass
class Result:
    variant: str
    best: float = 0.0
    median: float = 0.0
    cpu: float = 0.0
    rounds: int = 0
    events_per_client: int = 0
    rss_growth: int = 0
    traced_peak: int = 0
    traced_seconds: float = 0.0
    traced_events_per_client: int = 0
    shape: list[Any] | None = None
    error: str | None = None


def run_child(variant: str, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """One variant in a fresh subprocess: its JSON result, or {"error": ...}."""
    command = [sys.executable, __file__, "--child", variant, "--mode", mode]
    for option in ("clients", "tokens", "rounds"):
        command += [f"--{option}", str(getattr(args, option))]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"{mode} run timed out after {CHILD_TIMEOUT:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stderr)
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"exit code {done.returncode}: {tail}"}
    result: dict[str, Any] = json.loads(lines[-1])
    if "error" in result:
        sys.stderr.write(done.stderr)  # the child's traceback
    return result


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.3f} s"


def fmt_mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def print_table(rows: list[tuple[str, ...]], right: set[int]) -> None:
    """Rows of two cells (a variant and its error) span the whole line."""
    full = [row for row in rows if len(row) == len(rows[0])]
    widths = [max(len(row[i]) for row in full) for i in range(len(rows[0]))]

    def line(row: tuple[str, ...]) -> str:
        return " | ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()

    print(line(rows[0]))
    print("-+-".join("-" * w for w in widths))
    for row in rows[1:]:
        print(line(row))


def describe_runnables() -> str:
    try:
        import runnables
    except Exception as exc:
        return f"runnables (import fails: {type(exc).__name__}: {exc})"
    version = getattr(runnables, "__version__", "(dev)")
    return f"runnables {version} from {runnables.__file__.rsplit('/', 2)[0]}"


def report(results: dict[str, Result], args: argparse.Namespace) -> list[str]:
    """Print the table and the goals; return the goals that failed."""
    lc = results["langchain-core"]
    header = (
        "variant",
        "wall",
        "rounds",
        "CPU",
        "per event",
        "events/client",
        "tracemalloc peak",
        "RSS growth",
        "speedup vs lc",
        "time / bare",
        "mem / lc",
    )
    rows: list[tuple[str, ...]] = [header]
    for variant, r in results.items():
        if r.error is not None:
            rows.append((variant, f"ERROR: {r.error}"))
            continue
        bare = results["bare/trio" if variant.endswith("/trio") else "bare/asyncio"]
        vs_lc = lc.error is None and variant != "langchain-core"
        vs_bare = bare.error is None and not variant.startswith("bare/")
        rows.append(
            (
                variant,
                fmt_time(r.best),
                str(r.rounds),
                fmt_time(r.cpu),
                fmt_time(r.best / (args.clients * r.events_per_client)),
                str(r.events_per_client),
                fmt_mib(r.traced_peak),
                fmt_mib(r.rss_growth),
                f"{lc.best / r.best:.1f}x" if vs_lc else "",
                f"{r.best / bare.best:.2f}x" if vs_bare else "",
                f"{r.traced_peak / lc.traced_peak:.2f}" if vs_lc else "",
            )
        )
    print()
    print_table(rows, right=set(range(1, len(header))))
    print()
    for text in (
        f"wall = all {args.clients} clients, from starting them to the last one's end, best of "
        f"the rounds (at least {args.rounds}; short ones repeat until {MIN_TIMED:g} s were "
        "timed) after a small checked warm-up; per event = wall / (clients x events per "
        "client); CPU (report only) = the process's CPU time in its least costly round, "
        "steadier than wall on a busy machine.",
        "tracemalloc peak (judged) = peak of traced Python allocations during one round under "
        "tracemalloc, in another fresh subprocess (these run side by side after all timings); "
        "RSS growth (report only) = peak RSS (VmHWM) minus RSS before the timed rounds, in the "
        "timing subprocess.",
        "speedup vs lc = langchain-core wall / wall; time / bare = wall / bare wall on the same "
        "event loop; mem / lc = tracemalloc peak / langchain-core's.",
    ):
        print(textwrap.fill(text, 100))
    counts = {v: r.events_per_client for v, r in results.items() if r.error is None}
    for variant, r in results.items():
        if r.error is None and r.traced_events_per_client != r.events_per_client:
            print(
                f"WARNING: {variant}: {r.traced_events_per_client} events per client under "
                f"tracemalloc, {r.events_per_client} without"
            )
    print("events per client: " + (", ".join(f"{v} {c}" for v, c in counts.items()) or "none"))
    failed: list[str] = []
    if len(set(counts.values())) > 1:
        failed.append("the variants' event counts differ")
        print("WARNING: the variants' event counts differ")
    for variant, r in results.items():
        if r.error is None and lc.error is None and r.shape != lc.shape:
            print(f"WARNING: {variant}: event sequence (kind, name, depth, tags) differs from lc's")
    ours, bare = results["runnables/asyncio"], results["bare/asyncio"]
    print()
    print("goals (runnables on asyncio vs langchain-core and bare, all on asyncio):")
    missing = [r for r in (ours, lc, bare) if r.error is not None]
    if missing:
        failed.append("cannot judge, " + ", ".join(r.variant for r in missing) + " failed")
        print("  cannot judge: " + "; ".join(f"{r.variant} failed" for r in missing))
    else:
        judged = (
            ("speedup vs langchain-core", lc.best / ours.best, f">= {SPEEDUP_GOAL:g}x", True),
            ("time / bare asyncio", ours.best / bare.best, f"<= {BARE_GOAL:g}x", False),
            ("memory / langchain-core", ours.traced_peak / lc.traced_peak, "<= 1/3", False),
        )
        goals = (SPEEDUP_GOAL, BARE_GOAL, MEMORY_GOAL)
        for (label, value, goal_text, at_least), goal in zip(judged, goals, strict=True):
            ok = value >= goal if at_least else value <= goal
            print(f"  {label:<26}{value:>7.2f}   goal {goal_text:<8} {'PASS' if ok else 'FAIL'}")
            if not ok:
                failed.append(label)
    handoff = results["bare-task/asyncio"]
    if ours.error is None and handoff.error is None:
        # The floor for a library keeping api.md section 8 (its streams run from a producer
        # task the consumer does not own): what runnables costs above the handoff itself.
        print(
            f"  (report) time / bare-task  {ours.best / handoff.best:>7.2f}   CPU "
            f"{ours.cpu / handoff.cpu:.2f}; bare-task is {lc.best / handoff.best:.1f}x faster "
            "than langchain-core"
        )
    trio = results["runnables/trio"]
    if trio.error is not None:  # not judged for speed, but it must run
        failed.append("runnables/trio failed")
        print("  runnables/trio failed to run (must run; its speed is report only)")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser_ = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser_.add_argument("--clients", type=int, default=500, help="concurrent clients")
    parser_.add_argument("--tokens", type=int, default=50, help="tokens the model streams")
    parser_.add_argument("--rounds", type=int, default=2, help="timed rounds per variant, at least")
    parser_.add_argument("--check", action="store_true", help="exit 1 if a goal fails")
    parser_.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser_.add_argument("--mode", choices=("time", "memory"), help=argparse.SUPPRESS)
    args = parser_.parse_args(argv)
    if args.child:
        child(args.child, args.clients, args.tokens, args.rounds, args.mode or "time")
        return 0

    import langchain_core

    print(
        f"Python {sys.version.split()[0]}, langchain-core {langchain_core.__version__}, "
        f"{describe_runnables()}\n"
        f"{args.clients} concurrent clients, each consuming astream_events(version='v2') of "
        f"a 3-step chain (model streams {args.tokens} tokens)",
        flush=True,
    )
    started = time.perf_counter()
    load = os.getloadavg()[0]  # the 1-minute load average, before and after each timing
    # Timing: one variant at a time, so they never compete for the CPUs.
    timed: dict[str, dict[str, Any]] = {}
    for variant in VARIANTS:
        timed[variant] = data = run_child(variant, "time", args)
        load = max(load, os.getloadavg()[0])
        status = data.get("error") or f"best {fmt_time(data['best'])} of {data['rounds']} rounds"
        print(f"  timed {variant}: {status}", file=sys.stderr, flush=True)
    # Memory: tracemalloc makes a round about 3x slower, and what it measures does not depend
    # on speed, so these runs go side by side, one per CPU (langchain-core's, the longest, first).
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        traced = dict(
            zip(VARIANTS, pool.map(lambda v: run_child(v, "memory", args), VARIANTS), strict=True)
        )
    print(
        f"  measured memory in {time.perf_counter() - start:.1f} s ("
        + ", ".join(f"{v} {traced[v].get('traced_seconds', 0):.1f} s" for v in VARIANTS)
        + ")",
        file=sys.stderr,
        flush=True,
    )
    results: dict[str, Result] = {}
    for variant in VARIANTS:
        data = {**traced[variant], **timed[variant]}  # the timing run's error comes first
        if "error" in data:
            results[variant] = Result(variant, error=data["error"])
        else:
            results[variant] = Result(variant, **data)
    failed = report(results, args)
    # The timing runs themselves keep one CPU busy: more than that means competition.
    if load > 1.0 + 0.25 * (os.cpu_count() or 1):
        print(
            f"WARNING: the machine was busy while timing (1-min load average up to {load:.1f} "
            f"on {os.cpu_count()} CPUs): timings are noisy, run again when it is idle"
        )
    print(f"total benchmark time {time.perf_counter() - started:.1f} s")
    if failed:
        print(f"goals failed: {'; '.join(failed)}")
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
