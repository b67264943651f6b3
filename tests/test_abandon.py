"""Every stream can be abandoned safely (api.md §8).

For each stream form (async on asyncio and trio, and sync) and each way of abandoning it (an
explicit close, a plain `break` with no `aclosing`, an exception in the consumer's loop body, a
cancel scope around the loop: by deadline and by `cancel()`, and garbage collection of a partly
consumed iterator), `tests/abandon_scenarios.py` runs the scenario in a fresh `python -X dev`
and checks that the user's `finally:` blocks ran promptly, that nothing is still running
(tasks, threads, user work, an HTTP stream), and that the consumer's event loop still works. Here each (form, backend) is one test, which also requires the process to print nothing
to stderr (trio's advice about garbage-collected async generators only for generators outside the
library: the user's own nested ones, httpx's) and to exit 0.

The scenario processes start when the first test of this file runs and run a few at a time on a
pool, while the tests wait for their own; so the file takes about as long as the longest share
of the pool rather than the sum of every scenario. `python -X dev tests/abandon_scenarios.py
FORM BACKEND [WAY ...]` runs one scenario by hand.

A few in-process tests abandon the commonest forms with `aclosing` (asyncio and trio) and with
a plain `break` (asyncio only, see there), for quick feedback; they come first in the file, so
that they run while the scenario processes are under way.
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
from collections.abc import AsyncGenerator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, aclosing
from pathlib import Path
from typing import Any, cast

import anyio
import attrs
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from abandon_scenarios import (
    ASYNC_FORMS,
    ASYNC_WAYS,
    SYNC_FORMS,
    SYNC_WAYS,
    TAKE,
    WAY_TIMEOUT,
    Tracker,
    living_tasks,
    settle,
)

SCRIPT = Path(__file__).with_name("abandon_scenarios.py")
ROOT = Path(__file__).resolve().parents[1]
#: Seconds one scenario process may take (normally 1-3); a hang fails instead of blocking CI.
TIMEOUT = 90.0
#: Scenario processes running at once: they mostly sleep, so a few per CPU this process may run
#: on (`os.cpu_count()` also counts CPUs that `taskset` or a container's cpuset keep it off), and
#: no more than a dozen whatever the machine, so each keeps a fair share of the CPUs it has.
_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
WORKERS = min(12, max(2, 3 * (_CPUS or 1)))

CASES = [(form, backend) for form in ASYNC_FORMS for backend in ("asyncio", "trio")] + [
    (form, "sync") for form in SYNC_FORMS
]
#: `-X dev` makes asyncio log every step slower than 0.1 s (in the library's own loops too,
#: such as a sync stream's portal): load on the machine, not something the library printed.
_SLOW_STEP = re.compile(r"Executing <.*> took \d+\.\d+ seconds$")
_MARKER = re.compile(r"^--- (\S+) ---$")


# ------------------------------------------------------------------------------ in process

IN_PROCESS_FORMS = ["astream-sequence", "parallel-astream", "astream_events", "abatch_as_completed"]


async def _abandon_in_process(form: str, backend: str, *, close: bool) -> None:
    """Take TAKE chunks, then close the stream (`aclosing`) or just `break`; then the user's
    `finally:` blocks have run and nothing is left running. The consumer runs in a task of its
    own, so a library that leaves a cancel scope behind breaks that task and not the test
    runner's."""
    t = Tracker()
    tasks_before = living_tasks(backend)
    got: list[Any] = []
    with ExitStack() as stack:
        make = ASYNC_FORMS[form](t, stack)

        async def consume() -> None:
            if close:
                stream = cast("AsyncGenerator[Any, None]", make())
                async with aclosing(stream):
                    async for chunk in stream:
                        got.append(chunk)
                        if len(got) == TAKE:
                            break
            else:
                async for chunk in make():
                    got.append(chunk)
                    if len(got) == TAKE:
                        break

        try:
            with anyio.fail_after(WAY_TIMEOUT):  # a hang fails; settle waits up to QUIET_TIMEOUT
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consume)
                assert len(got) == TAKE
                await settle(t, backend, tasks_before)
        finally:
            gc.collect()  # what the stream left to the garbage collector is reported here


@pytest.mark.anyio
@pytest.mark.parametrize("form", IN_PROCESS_FORMS)
async def test_aclosing_in_process(form: str, anyio_backend: str) -> None:
    await _abandon_in_process(form, anyio_backend, close=True)


# On trio, a stream that keeps a cancel scope or nursery open across a `yield` and is dropped
# corrupts trio's own state ("Cancel scope stack corrupted", TrioInternalError), which can take
# the whole pytest process down with it; a plain `break` on trio is tested in subprocesses only.
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("form", IN_PROCESS_FORMS)
async def test_break_in_process(form: str, anyio_backend: str) -> None:
    await _abandon_in_process(form, anyio_backend, close=False)


# ------------------------------------------------------------------------------ in subprocesses


@attrs.frozen
class Outcome:
    """What one scenario process did."""

    returncode: int | None  # None: killed after TIMEOUT
    stdout: str
    stderr: str


def run_scenario(form: str, backend: str, env: dict[str, str]) -> Outcome:
    """Run `abandon_scenarios.py FORM BACKEND` the way CI runs the tests (same interpreter).

    `env` is a copy of the environment taken on the main thread: without `env`, the child execs
    with the process's own `environ` array, which pytest rewrites on the main thread for every
    test (`PYTEST_CURRENT_TEST`) while this thread's vfork child may still read it (seen in CI as
    `OSError: [Errno 14] Bad address`); and copying `os.environ` here, on a pool thread, can
    meet a key that the main thread has just removed (`KeyError`)."""
    process = subprocess.Popen(
        [sys.executable, "-X", "dev", str(SCRIPT), form, backend],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        return Outcome(None, stdout, stderr)
    return Outcome(process.returncode, stdout, stderr)


class Scenarios:
    """Starts the selected scenario processes on a pool and hands out their outcomes."""

    def __init__(self, cases: list[tuple[str, str]]) -> None:
        self.env = dict(os.environ)  # on the main thread, the only one that changes it
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="abandon")
        self.futures: dict[tuple[str, str], Future[Outcome]] = {}
        for case in cases:
            self.submit(case)

    def submit(self, case: tuple[str, str]) -> Future[Outcome]:
        if case not in self.futures:
            self.futures[case] = self.pool.submit(run_scenario, *case, self.env)
        return self.futures[case]

    def outcome(self, form: str, backend: str) -> Outcome:
        return self.submit((form, backend)).result()


@pytest.fixture(scope="module", autouse=True)
def scenarios(request: pytest.FixtureRequest) -> Iterator[Scenarios]:
    this_module = sys.modules[__name__]
    selected = [
        (str(item.callspec.params["form"]), str(item.callspec.params["backend"]))
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.module is this_module
        and item.originalname == "test_abandoned_stream"
    ]
    started = Scenarios(selected)
    yield started
    started.pool.shutdown(wait=True, cancel_futures=True)


def problems(outcome: Outcome, ways: list[str]) -> list[str]:
    """One line per way that failed, printed to stderr, or gave no result; and process-level
    problems."""
    passed: set[str] = set()
    failed: dict[str, str] = {}
    for line in outcome.stdout.splitlines():
        if line.startswith("ok "):
            passed.add(line[3:].strip())
        elif line.startswith("FAIL "):
            way, _, first = line[5:].partition(": ")
            failed[way] = first
    sections: dict[str, list[str]] = {}
    current = "(before the first way)"
    for line in outcome.stderr.splitlines():
        if _SLOW_STEP.match(line):  # asyncio's debug mode timing a step on a busy machine
            continue
        marker = _MARKER.match(line)
        if marker:
            current = marker.group(1)
            sections.setdefault(current, [])
        else:
            sections.setdefault(current, []).append(line)
    found: list[str] = []
    for index, way in enumerate(ways):
        if way in failed:
            found.append(f"{way}: {failed[way]}")
        elif way not in passed:
            found.append(f"{way}: no result (the process hung or crashed in or before it)")
        printed = [line for line in sections.get(way, []) if line.strip()]
        if printed:
            # A way that broke the event loop can leave garbage that is only collected later.
            maybe = (
                " (perhaps left over from a way before)"
                if way in passed and any(earlier in failed for earlier in ways[:index])
                else ""
            )
            found.append(f"{way}: printed to stderr{maybe}: {printed[0].strip()}")
    for section, lines in sections.items():
        printed = [line for line in lines if line.strip()]
        if section not in ways and printed:
            found.append(f"{section}: printed to stderr: {printed[0].strip()}")
    if outcome.returncode is None:
        found.append(f"the process was killed after {TIMEOUT:.0f} s")
    elif outcome.returncode != 0 and not failed:
        found.append(f"the process exited with status {outcome.returncode}")
    return found


@pytest.mark.parametrize(
    ("form", "backend"), CASES, ids=[f"{form}-{backend}" for form, backend in CASES]
)
def test_abandoned_stream(scenarios: Scenarios, form: str, backend: str) -> None:
    """Abandoning this stream in every way cleans up promptly, leaves nothing behind, prints
    nothing and keeps the consumer's event loop working."""
    ways = list(SYNC_WAYS if backend == "sync" else ASYNC_WAYS)
    outcome = scenarios.outcome(form, backend)
    found = problems(outcome, ways)
    assert not found, (
        f"abandoning {form} on {backend}:\n  "
        + "\n  ".join(found)
        + f"\n\n--- stdout ---\n{outcome.stdout}\n--- stderr ---\n{outcome.stderr}"
    )
