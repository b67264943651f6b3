"""runnables.dask on a real LocalCluster of two worker processes (started once for the module).

The steps below are module-level functions: the workers import this module to unpickle them.
State that must survive a retry or a worker's death lives in files under `tmp_path`.
"""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import anyio
import pytest

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")
pytest.importorskip("dask.bag")

from tests.conftest import Recorder  # noqa: E402

import runnables.dask as rd  # noqa: E402
from runnables import RunnableConfig, RunnableLambda, RunnableParallel, runnable  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@runnable
def double(x: int) -> int:
    return 2 * x


@runnable
def shout(text: str) -> str:
    return text.upper() + "!"


@runnable
def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"no threes: {x}")
    return x


def flaky(args: tuple[str, int]) -> int:
    """Fails the first time it sees an item, then succeeds (the marker is a file)."""
    folder, x = args
    marker = Path(folder) / f"seen-{x}"
    if not marker.exists():
        marker.touch()
        raise ConnectionError(f"first try of {x}")
    return x


def timed(args: tuple[float, int]) -> tuple[float, float, int, int]:
    """Sleeps, and tells when it started and ended, and in which process."""
    seconds, x = args
    start = time.time()
    time.sleep(seconds)
    return start, time.time(), os.getpid(), x


def touch_slowly(args: tuple[str, int]) -> int:
    folder, x = args
    (Path(folder) / f"started-{x}").touch()
    time.sleep(0.2)
    (Path(folder) / f"ran-{x}").touch()
    return x


def ran(folder: Path) -> int:
    return len(list(folder.glob("ran-*")))


def _running_here(dask_worker: distributed.Worker) -> int:
    return len(dask_worker.state.all_running_tasks)


def wait_until_idle(client: distributed.Client, folder: Path) -> None:
    """Wait until no task runs on any worker and every `touch_slowly` item that started has
    finished: then no more can run, so what ran is final (instead of hoping it is after some
    sleep), and no leftover work reaches the next test."""
    deadline = time.monotonic() + 60
    while any(client.run(_running_here).values()) or len(list(folder.glob("started-*"))) != ran(
        folder
    ):
        assert time.monotonic() < deadline, "the cluster is still running the job's items"
        time.sleep(0.02)


def die_once(args: tuple[str, int]) -> int:
    """Kills its worker process the first time item 5 runs."""
    folder, x = args
    marker = Path(folder) / "died"
    if x == 5 and not marker.exists():
        marker.touch()
        os._exit(1)
    return x


def peak_overlap(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def test_batch_returns_outputs_in_input_order(client: distributed.Client) -> None:
    assert rd.batch(client, double, list(range(25)), chunk_size=4) == [2 * x for x in range(25)]
    assert rd.batch(client, double, []) == []


def test_batch_runs_a_chain(client: distributed.Client) -> None:
    chain = shout | RunnableLambda(len) | double
    assert rd.batch(client, chain, ["a", "bcd"]) == [4, 8]


def test_batch_takes_one_config_per_input(client: distributed.Client) -> None:
    configs: list[RunnableConfig] = [{"tags": [str(x)]} for x in range(3)]
    assert rd.batch(client, double, [1, 2, 3], configs) == [2, 4, 6]
    with pytest.raises(ValueError, match="got 2 configs for 3 inputs"):
        rd.batch(client, double, [1, 2, 3], configs[:2])


def test_return_exceptions_puts_the_error_in_place(client: distributed.Client) -> None:
    out = rd.batch(client, fail_on_three, [1, 2, 3, 4], chunk_size=2, return_exceptions=True)
    assert out[:2] == [1, 2]
    assert isinstance(out[2], ValueError)
    assert "no threes: 3" in str(out[2])
    assert out[3] == 4


def test_an_error_is_raised_unchanged(client: distributed.Client) -> None:
    with pytest.raises(ValueError, match="no threes: 3"):
        rd.batch(client, fail_on_three, [1, 2, 3, 4])


@pytest.mark.parametrize("max_concurrency", [None, 2])
def test_retries_run_a_failed_item_again(
    client: distributed.Client, tmp_path: Path, max_concurrency: int | None
) -> None:
    step = RunnableLambda(flaky)
    inputs = [(str(tmp_path), x) for x in range(6)]
    config: RunnableConfig = {"max_concurrency": max_concurrency}
    assert rd.batch(client, step, inputs, config, retries=1) == list(range(6))


def test_without_retries_a_flaky_item_fails(client: distributed.Client, tmp_path: Path) -> None:
    out = rd.batch(client, RunnableLambda(flaky), [(str(tmp_path), 1)], return_exceptions=True)
    assert isinstance(out[0], ConnectionError)


def test_bad_retries_and_chunk_size_are_refused(client: distributed.Client) -> None:
    with pytest.raises(ValueError, match="retries must be a non-negative int, got -1"):
        rd.batch(client, double, [1], retries=-1)
    with pytest.raises(ValueError, match="chunk_size must be a positive int or None, got 0"):
        rd.batch(client, double, [1], chunk_size=0)


def test_batch_as_completed_yields_every_index_once(client: distributed.Client) -> None:
    pairs = list(rd.batch_as_completed(client, double, list(range(10)), chunk_size=3))
    assert sorted(pairs) == [(x, 2 * x) for x in range(10)]


def test_map_is_lazy_and_in_order(client: distributed.Client) -> None:
    outputs = rd.map(client, double, itertools.count(), chunk_size=5)
    assert list(itertools.islice(outputs, 12)) == [2 * x for x in range(12)]
    outputs.close()  # an endless input: only what was read ahead was sent


@pytest.mark.anyio
async def test_abatch(client: distributed.Client) -> None:
    assert await rd.abatch(client, double, [1, 2, 3]) == [2, 4, 6]


def test_max_concurrency_is_one_budget_across_the_cluster(client: distributed.Client) -> None:
    inputs = [(0.15, x) for x in range(16)]
    out = rd.batch(client, RunnableLambda(timed), inputs, {"max_concurrency": 3}, chunk_size=2)
    assert [x for *_, x in out] == list(range(16))
    assert len({pid for _, _, pid, _ in out}) == 2  # both worker processes ran items
    assert peak_overlap([(start, end) for start, end, _, _ in out]) == 3


def test_max_concurrency_counts_leaf_calls_not_items(client: distributed.Client) -> None:
    both = RunnableParallel(a=RunnableLambda(timed), b=RunnableLambda(timed))
    out = rd.batch(client, both, [(0.1, x) for x in range(8)], {"max_concurrency": 3}, chunk_size=2)
    spans = [(start, end) for item in out for start, end, _, _ in item.values()]
    assert len(spans) == 16
    assert peak_overlap(spans) <= 3


def test_without_max_concurrency_more_run_at_once(client: distributed.Client) -> None:
    out = rd.batch(client, RunnableLambda(timed), [(0.3, x) for x in range(8)], chunk_size=2)
    assert peak_overlap([(start, end) for start, end, _, _ in out]) > 3


def test_callbacks_hear_of_the_runs_on_the_workers(client: distributed.Client) -> None:
    recorder = Recorder()
    out = rd.batch(
        client, fail_on_three, [1, 2, 3], {"callbacks": [recorder]}, return_exceptions=True
    )
    assert isinstance(out[2], ValueError)
    assert Counter(recorder.kinds("fail_on_three")) == {"start": 3, "end": 2, "error": 1}
    runs = recorder.named("fail_on_three")
    assert sorted(run.inputs for run in runs) == [1, 2, 3]
    assert {run.outputs for run in runs if run.error is None} == {1, 2}


@pytest.mark.anyio
async def test_cancelling_the_job_stops_the_remaining_items(
    client: distributed.Client, tmp_path: Path
) -> None:
    inputs = [(str(tmp_path), x) for x in range(40)]
    step = RunnableLambda(touch_slowly)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(
            partial(rd.abatch, client, step, inputs, {"max_concurrency": 2}, chunk_size=10)
        )
        with anyio.fail_after(20):
            while not ran(tmp_path):
                await anyio.sleep(0.05)
        tasks.cancel_scope.cancel()
    await anyio.to_thread.run_sync(wait_until_idle, client, tmp_path)
    assert ran(tmp_path) < 10


def test_leaving_map_early_cancels_the_rest(client: distributed.Client, tmp_path: Path) -> None:
    inputs = ((str(tmp_path), x) for x in range(1000))
    outputs = rd.map(client, RunnableLambda(touch_slowly), inputs, chunk_size=1)
    assert next(outputs) == 0
    outputs.close()
    wait_until_idle(client, tmp_path)
    assert ran(tmp_path) < 20


def _workers(client: distributed.Client) -> set[str]:
    return set(client.scheduler_info()["workers"])


def test_a_killed_worker_loses_no_item(client: distributed.Client, tmp_path: Path) -> None:
    before = _workers(client)
    inputs = [(str(tmp_path), x) for x in range(12)]
    assert rd.batch(client, RunnableLambda(die_once), inputs, chunk_size=2) == list(range(12))
    assert (tmp_path / "died").exists()
    # The nanny starts the new worker process from a thread of this process, and without `env`
    # (vfork: the child reads this process's live environ until it execs). Wait for it here, so
    # that pytest cannot rewrite environ (PYTEST_CURRENT_TEST) on the main thread meanwhile.
    deadline = time.monotonic() + 60
    while len(now := _workers(client)) < 2 or now == before:
        assert time.monotonic() < deadline, f"the killed worker was not replaced: {now}"
        time.sleep(0.05)


def test_importing_the_package_does_not_load_dask() -> None:
    code = "import sys, runnables; print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in an interactive shell."""

    def isatty(self) -> bool:
        return True


def counts(text: str) -> list[int]:
    return [int(line.split()[0].split("/")[0]) for line in text.splitlines()]


def test_progress_counts_up_to_the_total(client: distributed.Client) -> None:
    stream = io.StringIO()
    bar = rd.TerminalProgress(stream, interval=0)
    assert rd.batch(client, double, list(range(30)), chunk_size=4, progress=bar) == [
        2 * x for x in range(30)
    ]
    done = counts(stream.getvalue())
    assert done == sorted(done)
    assert done[0] == 0
    assert done[-1] == 30
    assert len(done) == 1 + 8 + 1  # the start, each chunk, the close
    assert stream.getvalue().splitlines()[-1].startswith("30/30 (100%)")


def test_progress_true_draws_on_stderr(
    client: distributed.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = rd.batch_as_completed(client, double, list(range(10)), chunk_size=3, progress=True)
    assert len(list(pairs)) == 10
    assert capsys.readouterr().err.splitlines()[-1].startswith("10/10 (100%)")


def test_progress_of_a_lazy_map_counts_items(client: distributed.Client) -> None:
    stream = io.StringIO()
    outputs = rd.map(client, double, range(12), chunk_size=5, progress=rd.TerminalProgress(stream))
    assert list(outputs) == [2 * x for x in range(12)]
    assert stream.getvalue().splitlines()[-1].startswith("12 items, ")


def test_a_failed_job_finishes_its_bar(client: distributed.Client) -> None:
    stream = Terminal()
    with pytest.raises(ValueError, match="no threes"):
        rd.batch(
            client, fail_on_three, [1, 2, 3, 4], chunk_size=1, progress=rd.TerminalProgress(stream)
        )
    assert stream.getvalue().endswith("(stopped)\033[K\n")


@pytest.mark.anyio
async def test_a_cancelled_job_finishes_its_bar(client: distributed.Client, tmp_path: Path) -> None:
    stream = Terminal()
    inputs = [(str(tmp_path), x) for x in range(40)]
    run = partial(
        rd.abatch,
        client,
        RunnableLambda(touch_slowly),
        inputs,
        {"max_concurrency": 2},
        chunk_size=2,
        progress=rd.TerminalProgress(stream, interval=0),
    )
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(run)
        with anyio.fail_after(20):
            while "\r|##" not in stream.getvalue():
                await anyio.sleep(0.05)
        tasks.cancel_scope.cancel()
    await anyio.to_thread.run_sync(wait_until_idle, client, tmp_path)
    text = stream.getvalue()
    assert text.endswith("(stopped)\033[K\n")
    assert text.count("\n") == 1
    await anyio.sleep(0.5)  # the abandoned waiting thread draws nothing after the close
    assert stream.getvalue() == text


def test_progress_must_be_a_progress(client: distributed.Client) -> None:
    with pytest.raises(TypeError, match="progress must be True, False or an object"):
        rd.batch(client, double, [1], progress="yes")  # type: ignore[call-overload]


@runnable
def describe_row(row: dict[str, object]) -> str:
    return f"{row['name']}={row['size']}"


def test_batch_takes_a_bag_and_keeps_its_order(client: distributed.Client) -> None:
    bag = dask.bag.from_sequence(range(23), npartitions=5).map(lambda x: x + 1)
    assert rd.batch(client, double, bag) == [2 * (x + 1) for x in range(23)]


def test_map_takes_a_bag_lazily(client: distributed.Client) -> None:
    bag = dask.bag.from_sequence(range(40), npartitions=20)
    outputs = rd.map(client, double, bag)
    assert list(itertools.islice(outputs, 5)) == [0, 2, 4, 6, 8]
    outputs.close()


def test_batch_takes_dataframe_rows_as_dicts_and_a_column(client: distributed.Client) -> None:
    pandas = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    frame = pandas.DataFrame({"name": [f"f{i}" for i in range(10)], "size": range(10)})
    df = dd.from_pandas(frame, npartitions=3)
    expected = [f"f{i}={i}" for i in range(10)]
    assert rd.batch(client, describe_row, df) == expected
    assert list(rd.map(client, describe_row, df)) == expected
    assert rd.batch(client, double, df["size"]) == [2 * i for i in range(10)]


def test_a_bag_job_keeps_the_budget_retries_and_errors(
    client: distributed.Client, tmp_path: Path
) -> None:
    inputs = dask.bag.from_sequence([(0.15, x) for x in range(12)], npartitions=6)
    out = rd.batch(client, RunnableLambda(timed), inputs, {"max_concurrency": 2})
    assert [x for *_, x in out] == list(range(12))
    assert peak_overlap([(start, end) for start, end, _, _ in out]) == 2
    flaky_inputs = dask.bag.from_sequence([(str(tmp_path), x) for x in range(6)], npartitions=2)
    assert rd.batch(client, RunnableLambda(flaky), flaky_inputs, retries=1) == list(range(6))
    failing = dask.bag.from_sequence([1, 2, 3, 4], npartitions=2)
    out = rd.batch(client, fail_on_three, failing, return_exceptions=True)
    assert isinstance(out[2], ValueError)
    with pytest.raises(ValueError, match="no threes"):
        rd.batch(client, fail_on_three, failing)


def test_a_bag_job_shows_progress_and_calls_back(client: distributed.Client) -> None:
    stream = io.StringIO()
    recorder = Recorder()
    bag = dask.bag.from_sequence(range(9), npartitions=3)
    config: RunnableConfig = {"callbacks": [recorder]}
    assert rd.batch(client, double, bag, config, progress=rd.TerminalProgress(stream, interval=0))
    assert stream.getvalue().splitlines()[-1].startswith("9 items, ")
    assert Counter(recorder.kinds("double")) == {"start": 9, "end": 9}


def test_a_bag_takes_one_config_and_other_collections_are_refused(
    client: distributed.Client,
) -> None:
    bag = dask.bag.from_sequence(range(3), npartitions=1)
    with pytest.raises(TypeError, match="give one config for every input, not a sequence"):
        rd.batch(client, double, bag, [{}, {}, {}])
    with pytest.raises(TypeError, match="use batch or map for a bag or dataframe"):
        next(rd.batch_as_completed(client, double, bag))  # type: ignore[call-overload]
    array = pytest.importorskip("dask.array")
    with pytest.raises(
        TypeError, match="takes a Dask bag, dataframe or series as inputs, got a Dask 'Array'"
    ):
        rd.batch(client, double, array.ones(3))  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_abatch_takes_a_bag(client: distributed.Client) -> None:
    bag = dask.bag.from_sequence(range(7), npartitions=3)
    assert await rd.abatch(client, double, bag) == [2 * x for x in range(7)]
