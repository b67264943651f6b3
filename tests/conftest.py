"""Shared fixtures for the core test suite.

Every async test (marked `anyio`) runs on both asyncio and trio through the `anyio_backend`
fixture below.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable
from types import FrameType
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, settings

from runnables import Run

# Property tests judge results, never speed: on a busy machine (CI, or 2 cores shared with other
# work) drawing examples or running one can take seconds, which is not a failure.
settings.register_profile("runnables", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("runnables")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Recorder:
    """A callback recording every notification, thread-safely, with its `Run` record."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str, Any]] = []
        self.runs: dict[uuid.UUID, Run] = {}

    def _record(self, kind: str, run: Run, payload: Any = None) -> None:
        with self.lock:
            self.events.append((kind, run.name, payload))
            self.runs[run.id] = run

    def on_start(self, run: Run) -> None:
        self._record("start", run)

    def on_stream(self, run: Run, chunk: Any) -> None:
        self._record("stream", run, chunk)

    def on_end(self, run: Run) -> None:
        self._record("end", run, run.outputs)

    def on_error(self, run: Run, exc: BaseException) -> None:
        self._record("error", run, exc)

    def named(self, name: str) -> list[Run]:
        with self.lock:
            return [run for run in self.runs.values() if run.name == name]

    def one(self, name: str) -> Run:
        runs = self.named(name)
        assert len(runs) == 1, f"expected one run named {name!r}, got {runs!r}"
        return runs[0]

    def kinds(self, name: str) -> list[str]:
        with self.lock:
            return [kind for kind, run_name, _ in self.events if run_name == name]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


#: Seconds a call of a `Peak` that should meet others waits for them before giving up.
MEET_TIMEOUT = 10.0


class Peak:
    """Counts calls in flight (from threads or tasks) and remembers the highest count.

    With `together` set above 1, each call waits on entering until that many calls have been in
    flight at once: a test proves that calls overlap whatever the load on the machine, instead
    of hoping a thread starts before another call's sleep ends. If they never overlap, the wait
    gives up after `MEET_TIMEOUT` (once for all calls) and the peak shows it.
    """

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.current = 0
        self.peak = 0
        self.total = 0
        self.together = 1

    def _count_in(self) -> None:
        with self.lock:
            self.current += 1
            self.total += 1
            self.peak = max(self.peak, self.current)
            self.lock.notify_all()

    def _met(self) -> bool:
        return self.peak >= self.together

    def _give_up(self) -> None:
        with self.lock:
            self.together = 1
            self.lock.notify_all()

    def enter(self) -> None:
        self._count_in()
        with self.lock:
            if not self.lock.wait_for(self._met, MEET_TIMEOUT):
                self._give_up()

    async def aenter(self) -> None:
        """`enter` for a task: polls, since the others may run on other threads' loops."""
        self._count_in()
        deadline = time.monotonic() + MEET_TIMEOUT
        while not self._met():
            if time.monotonic() > deadline:
                self._give_up()
            await anyio.sleep(0.001)

    def exit(self) -> None:
        with self.lock:
            self.current -= 1

    def hold_sync(self, seconds: float) -> None:
        self.enter()
        try:
            time.sleep(seconds)
        finally:
            self.exit()


@pytest.fixture
def peak() -> Peak:
    return Peak()


def run_in_thread_with_timeout(fn: Any, timeout: float = 10.0) -> Any:
    """Run `fn()` in a thread; fail (instead of hanging) if it does not finish in time."""
    result: list[Any] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"call did not finish within {timeout}s (deadlock?)")
    if error:
        raise error[0]
    return result[0]


@pytest.fixture
def in_thread() -> Any:
    return run_in_thread_with_timeout


def python_calls(func: Callable[[], object]) -> int:
    """How many Python-level calls `func()` makes on this thread (deterministic, not timed)."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(profile)
    try:
        func()
    finally:
        sys.setprofile(None)
    return calls
