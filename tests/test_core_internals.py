"""The core's own contracts: the budget's waiting order, immutable run contexts, the callback
protocols, the error family, public module names and the uniform `bound` of wrappers."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runnables import (
    Callback,
    Run,
    RunnableLambda,
    RunnablePassthrough,
    RunnablesError,
    RunnableTuple,
    runnable,
)
from runnables._core.budget import Budget
from runnables._core.context import ROOT
from runnables.errors import RunnablesRecursionError, RunnablesTypeError, RunnablesValueError
from runnables.schema import Schema, SchemaError

# ----------------------------------------------------------------- the budget


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for a condition")
        time.sleep(0.001)


def test_budget_serves_blocked_threads_in_arrival_order() -> None:
    budget = Budget(1)
    budget.acquire_blocking()
    order: list[int] = []

    def waiter(index: int) -> None:
        with budget:
            order.append(index)

    threads = []
    for index in range(5):
        thread = threading.Thread(target=waiter, args=(index,))
        thread.start()
        threads.append(thread)
        _wait_for(lambda index=index: len(budget._waiters) == index + 1)  # pyright: ignore[reportPrivateUsage]
    budget.release()
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]
    assert budget._free == 1  # pyright: ignore[reportPrivateUsage]


@pytest.mark.anyio
async def test_budget_wakes_a_task_when_a_thread_releases() -> None:
    budget = Budget(1)
    budget.acquire_blocking()
    released = threading.Event()

    def release_later() -> None:
        time.sleep(0.05)
        released.set()
        budget.release()

    thread = threading.Thread(target=release_later)
    thread.start()
    with anyio.fail_after(5):
        async with budget:
            assert released.is_set()
    thread.join()
    assert budget._free == 1  # pyright: ignore[reportPrivateUsage]


@pytest.mark.anyio
async def test_a_cancelled_waiter_loses_no_slot() -> None:
    budget = Budget(1)
    await budget.acquire()
    with anyio.move_on_after(0.05) as scope:
        await budget.acquire()
    assert scope.cancelled_caught
    assert not budget._waiters  # pyright: ignore[reportPrivateUsage]
    budget.release()
    with anyio.fail_after(1):
        async with budget:
            pass
    assert budget._free == 1  # pyright: ignore[reportPrivateUsage]


def test_budget_is_shared_by_threads_and_two_event_loops() -> None:
    """One budget of 2 slots used at once from plain threads, an asyncio loop and a trio loop
    in other threads: never more than 2 holders, and every caller is served."""
    budget = Budget(2)
    lock = threading.Lock()
    holding = peak = served = 0

    def hold() -> None:
        nonlocal holding, peak
        with lock:
            holding += 1
            peak = max(peak, holding)

    def let_go() -> None:
        nonlocal holding, served
        with lock:
            holding -= 1
            served += 1

    def in_thread() -> None:
        for _ in range(20):
            with budget:
                hold()
                time.sleep(0.001)
                let_go()

    async def in_loop() -> None:
        async def one() -> None:
            async with budget:
                hold()
                await anyio.sleep(0.001)
                let_go()

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(one)

    threads = [threading.Thread(target=in_thread) for _ in range(2)]
    threads += [
        threading.Thread(target=anyio.run, args=(in_loop,), kwargs={"backend": backend})
        for backend in ("asyncio", "trio")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert served == 80
    assert peak <= 2
    assert budget._free == 2  # pyright: ignore[reportPrivateUsage]


def test_nested_budgets_hold_a_parent_slot_too() -> None:
    parent = Budget(1)
    child = Budget(3, parent=parent)
    assert child.try_acquire()
    assert not parent.try_acquire()  # the child's holder has the parent's only slot
    child.release()
    assert parent.try_acquire()
    parent.release()


# ------------------------------------------------------------ the run context


def test_the_root_context_cannot_be_changed() -> None:
    with pytest.raises(AttributeError):
        ROOT.recursion_limit = 1  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    assert ROOT.recursion_limit == 25


# -------------------------------------------------------------- the callbacks


class EndsOnly:
    def __init__(self) -> None:
        self.ended: list[str] = []

    def on_end(self, run: Run) -> None:
        self.ended.append(run.name)


class LangChainStyle:
    def on_chain_start(self, serialized: object, inputs: object) -> None:
        return None


def test_a_callback_is_anything_with_one_callback_method() -> None:
    assert not isinstance(42, Callback)  # pyright: ignore[reportUnnecessaryIsInstance]
    assert not isinstance(LangChainStyle(), Callback)  # pyright: ignore[reportUnnecessaryIsInstance]
    ends = EndsOnly()
    assert isinstance(ends, Callback)
    assert RunnablePassthrough[int]().invoke(1, {"callbacks": [ends]}) == 1
    assert ends.ended == ["RunnablePassthrough"]


def test_what_is_not_a_callback_is_refused_with_its_name() -> None:
    with pytest.raises(RunnablesTypeError, match="42 is not a callback"):
        RunnablePassthrough[int]().invoke(1, {"callbacks": [42]})  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    with pytest.raises(TypeError, match="LangChain callback handler"):
        RunnablePassthrough[int]().invoke(1, {"callbacks": [LangChainStyle()]})  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    with pytest.raises(TypeError, match="must be a list"):
        RunnablePassthrough[int]().invoke(1, {"callbacks": EndsOnly()})  # type: ignore[typeddict-item]  # pyright: ignore[reportArgumentType]


# ------------------------------------------------------------ the error family


def test_errors_the_library_raises_share_a_base() -> None:
    with pytest.raises(RunnablesError) as unknown_key:
        RunnablePassthrough[int]().invoke(1, {"tag": []})  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportArgumentType]
    assert isinstance(unknown_key.value, TypeError)
    assert isinstance(unknown_key.value, RunnablesTypeError)

    with pytest.raises(RunnablesValueError):
        RunnablePassthrough[int]().invoke(1, {"max_concurrency": 0})

    with pytest.raises(RunnablesError) as schema:
        Schema(int, "Number").validate("x")
    assert isinstance(schema.value, SchemaError)
    assert isinstance(schema.value, ValueError)

    def forever(x: int) -> Any:
        return RunnableLambda(forever)

    with pytest.raises(RunnablesRecursionError, match="recursion_limit"):
        RunnableLambda(forever).invoke(1)


def test_a_users_own_error_is_not_wrapped() -> None:
    class Mine(Exception):
        pass

    @runnable
    def fails(x: int) -> int:
        raise Mine

    with pytest.raises(Mine) as info:
        fails.invoke(1)
    assert not isinstance(info.value, RunnablesError)


def test_the_error_note_names_the_configured_run_name() -> None:
    @runnable
    def fails(x: int) -> int:
        raise KeyError(x)

    for call in (
        lambda: fails.with_config(run_name="lookup").invoke(1),
        lambda: list(fails.with_config(run_name="lookup").stream(1)),
        lambda: (fails.with_config(run_name="lookup") | RunnablePassthrough[int]()).invoke(1),
    ):
        with pytest.raises(KeyError) as info:
            call()
        assert info.value.__notes__ == ["raised in runnable 'lookup'"]


# -------------------------------------------------------------- naming


def test_public_classes_report_the_package_as_their_module_from_the_start() -> None:
    """Before anything is looked up through `runnables`, as after."""
    code = (
        "from runnables._primitives.lambda_ import RunnableLambda, runnable\n"
        "from runnables._core.base import RunnableBase\n"
        "from runnables._core.protocol import Runnable\n"
        "print(RunnableLambda.__module__, runnable.__module__, RunnableBase.__module__,"
        " Runnable.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["runnables"] * 4


def test_every_wrapper_calls_what_it_wraps_bound() -> None:
    inner = RunnableLambda(lambda x: x + 1)
    assert inner.with_retry().bound is inner
    assert inner.with_fallbacks([inner]).bound is inner
    assert inner.with_config(tags=["a"]).bound is inner
    assert inner.map().bound is inner
    assign = RunnablePassthrough.assign(y=lambda d: 1)
    assert assign.bound is assign.mapper
    pair = RunnableTuple(inner, inner)
    assert pair.bound.branches[0][1] is inner


class _Counted:
    """A chunk that can add a list of chunks at once, recording every `+` it is asked for."""

    _adds_chunk_lists = True
    additions: list[int] = []  # noqa: RUF012 - shared record, reset by the test

    def __init__(self, text: str) -> None:
        self.text = text

    def __add__(self, other: _Counted | list[_Counted]) -> _Counted:
        more = other if isinstance(other, list) else [other]
        _Counted.additions.append(len(more))
        return _Counted(self.text + "".join(chunk.text for chunk in more))


def test_totals_add_chunk_lists_in_one_pass() -> None:
    from runnables._core.streaming import Total

    _Counted.additions = []
    total = Total()
    for i in range(1000):
        total.add(_Counted(str(i % 10)))
    assert total.value.text == "0123456789" * 100
    assert _Counted.additions == [999]  # one `+`, not 999 copies of a growing total
    total.add(_Counted("!"))
    assert total.value.text.endswith("9!")
    assert _Counted.additions == [999, 1]


def test_totals_of_message_chunks_equal_pairwise_addition() -> None:
    from functools import reduce

    from runnables._core.streaming import Total
    from runnables.messages import AIMessageChunk

    chunks = [AIMessageChunk(content=f"t{i} ", id="run-1") for i in range(300)]
    total = Total()
    for chunk in chunks:
        total.add(chunk)
    total.add("not a message")  # a chunk of another kind replaces the total, as before
    assert total.value == "not a message"
    again = Total()
    for chunk in chunks:
        again.add(chunk)
    assert again.value == reduce(lambda left, right: left + right, chunks)


_total_chunks = st.lists(
    st.one_of(
        st.text(max_size=700),  # long enough to cross `_SMALL` within a few chunks
        st.integers(-3, 3),
        st.lists(st.integers(), max_size=2),
        st.just("read"),  # ask for the value midway
    ),
    max_size=40,
)


@given(_total_chunks)
def test_totals_equal_chunks_added_one_by_one(chunks: list[Any]) -> None:
    """Strings short and long (added with `+`, then kept as pieces), other chunks, and the
    value asked for midway: the total is always what adding pairwise gives."""
    from runnables._core.streaming import NOTHING, Total, add_chunks

    total, expected = Total(), NOTHING
    for chunk in chunks:
        if chunk == "read":
            assert total.value == expected
            continue
        total.add(chunk)
        expected = add_chunks(expected, chunk)
    assert total.value == expected
    assert total.value == expected  # asking again changes nothing


def test_a_long_string_total_is_kept_as_few_pieces() -> None:
    from runnables._core.streaming import Total

    total = Total()
    for _ in range(100_000):
        total.add("ab")
    assert len(total._runs or ()) + len(total._parts or ()) <= 100_000 // 32 + 32  # pyright: ignore[reportPrivateUsage]
    assert total.value == "ab" * 100_000


_part_values = st.one_of(
    st.none(), st.text(max_size=3), st.integers(-3, 3), st.lists(st.integers(), max_size=2)
)
_parts = st.dictionaries(st.sampled_from("abc"), _part_values, max_size=3)


@given(st.lists(_parts, min_size=1, max_size=8))
def test_parts_merged_in_one_pass_equal_parts_added_one_by_one(
    chunks: list[dict[str, Any]],
) -> None:
    from functools import reduce

    from runnables._core.streaming import AddableDict

    first, *rest = [AddableDict(chunk) for chunk in chunks]
    pairwise = reduce(lambda left, right: left + right, rest, first)
    at_once = first + rest
    assert at_once == pairwise
    assert list(at_once) == list(pairwise)  # and in the same key order


def test_run_ids_are_random_version_4_uuids() -> None:
    """Run ids are made without `uuid.uuid4()` (for speed): each must still be a valid,
    distinct version-4 UUID that behaves like one parsed from its text."""
    import uuid

    from runnables._core.runs import new_run_id

    seen: set[uuid.UUID] = set()
    for _ in range(2_000):
        run_id = new_run_id()
        parsed = uuid.UUID(str(run_id))
        assert run_id == parsed
        assert hash(run_id) == hash(parsed)
        assert run_id.version == 4
        assert run_id.variant == uuid.RFC_4122
        seen.add(run_id)
    assert len(seen) == 2_000
