# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""The calls every runnable has, and the types they return."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence

from typing_extensions import assert_type

from runnables import Runnable, RunnableConfig, RunnableLambda, RunnableSequence


def to_len(text: str) -> int:
    return len(text)


def half(x: int) -> float:
    return x / 2


def sync_calls(inputs: Iterator[str], keep_going: bool, as_protocol: Runnable[str, int]) -> None:
    r = RunnableLambda(to_len)
    config: RunnableConfig = {"tags": ["t"], "max_concurrency": 2}

    assert_type(r.invoke("a"), int)
    assert_type(r.invoke("a", config), int)
    assert_type(r.invoke("a", {"run_name": "n"}), int)
    assert_type(r.batch(["a", "b"]), list[int])
    assert_type(r.batch(["a", "b"], config), list[int])
    assert_type(r.batch(["a", "b"], [config, config]), list[int])
    assert_type(r.batch(["a"], return_exceptions=False), list[int])
    assert_type(r.batch(["a"], return_exceptions=True), list[int | Exception])
    # A flag known only at run time: an element may be an exception.
    assert_type(r.batch(["a"], return_exceptions=keep_going), list[int | Exception])
    assert_type(
        r.batch_as_completed(["a"], return_exceptions=keep_going),
        Iterator[tuple[int, int | Exception]],
    )
    assert_type(as_protocol.batch(["a"], return_exceptions=keep_going), Sequence[int | Exception])
    assert_type(r.batch_as_completed(["a", "b"]), Iterator[tuple[int, int]])
    assert_type(
        r.batch_as_completed(["a"], return_exceptions=True), Iterator[tuple[int, int | Exception]]
    )
    assert_type(r.stream("a"), Iterator[int])
    assert_type(r.transform(inputs), Iterator[int])
    assert_type(r.transform(inputs, config), Iterator[int])
    assert_type(r.name, str)


async def async_calls(inputs: AsyncIterator[str], keep_going: bool) -> None:
    r = RunnableLambda(to_len)

    assert_type(await r.ainvoke("a"), int)
    assert_type(await r.ainvoke("a", {"tags": ["x"]}), int)
    assert_type(await r.abatch(["a", "b"]), list[int])
    assert_type(await r.abatch(["a"], return_exceptions=True), list[int | Exception])
    assert_type(await r.abatch(["a"], return_exceptions=keep_going), list[int | Exception])
    assert_type(
        r.abatch_as_completed(["a"], return_exceptions=keep_going),
        AsyncIterator[tuple[int, int | Exception]],
    )
    assert_type(r.abatch_as_completed(["a"]), AsyncIterator[tuple[int, int]])
    assert_type(
        r.abatch_as_completed(["a"], return_exceptions=True),
        AsyncIterator[tuple[int, int | Exception]],
    )
    assert_type(r.astream("a"), AsyncIterator[int])
    assert_type(r.atransform(inputs), AsyncIterator[int])
    async for chunk in r.astream("a"):
        assert_type(chunk, int)
    async for index, out in r.abatch_as_completed(["a"]):
        assert_type(index, int)
        assert_type(out, int)


def sequence_calls() -> None:
    chain = RunnableLambda(to_len) | half
    assert_type(chain, RunnableSequence[str, float])
    assert_type(chain.invoke("abc"), float)
    assert_type(chain.batch(["a"]), list[float])
    assert_type(chain.stream("abc"), Iterator[float])
    for index, value in chain.batch_as_completed(["a", "b"]):
        assert_type(index, int)
        assert_type(value, float)


async def negative() -> None:
    r = RunnableLambda(to_len)
    # Invoking with the wrong input type.
    bad_input = r.invoke(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    bad_batch = r.batch([1, 2])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    bad_stream = r.stream(b"x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # Assigning a result to the wrong type.
    wrong: str = r.invoke("a")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    wrong_list: list[str] = r.batch(["a"])  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    # With return_exceptions=True an element may be an exception.
    not_only_ints: list[int] = r.batch(["a"], return_exceptions=True)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    # Awaiting a sync result.
    awaited = await r.invoke("a")  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues]
    # Iterating an async stream synchronously.
    for _chunk in r.astream("a"):  # type: ignore[attr-defined]  # pyright: ignore[reportGeneralTypeIssues]
        pass
    # An async result is not an `int` until awaited.
    not_awaited: int = r.ainvoke("a")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
