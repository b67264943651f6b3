# pyright: reportUnusedVariable=false
"""runnables.dask keeps the runnable's types: outputs are the step's `Out`, inputs its `In`."""

from __future__ import annotations

from collections.abc import Iterator

from distributed import Client
from typing_extensions import assert_type

import runnables.dask as rd
from runnables import Runnable, RunnableLambda


def to_len(text: str) -> int:
    return len(text)


def cluster_calls(client: Client, texts: Iterator[str], keep_going: bool) -> None:
    r = RunnableLambda(to_len)
    as_protocol: Runnable[str, int] = r

    assert_type(rd.batch(client, r, ["a", "b"]), list[int])
    assert_type(rd.batch(client, as_protocol, ["a"], {"max_concurrency": 2}), list[int])
    assert_type(rd.batch(client, r, ["a"], return_exceptions=True), list[int | Exception])
    assert_type(rd.batch(client, r, ["a"], return_exceptions=keep_going), list[int | Exception])
    assert_type(rd.batch(client, r, ["a"], retries=2, chunk_size=10), list[int])
    assert_type(rd.batch_as_completed(client, r, ["a"]), Iterator[tuple[int, int]])
    assert_type(
        rd.batch_as_completed(client, r, ["a"], return_exceptions=True),
        Iterator[tuple[int, int | Exception]],
    )
    assert_type(rd.map(client, r, texts), Iterator[int])
    assert_type(rd.map(client, r, texts, return_exceptions=True), Iterator[int | Exception])

    # An input the step does not take is refused.
    bad = rd.batch(client, r, [1, 2])  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
    # A key that is not a RunnableConfig key is refused.
    bad_config = rd.batch(client, r, ["a"], {"max_concurency": 2})  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    # A lazy map takes one config, not one per input.
    bad_configs = rd.map(client, r, texts, [{}])  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]


async def async_cluster_calls(client: Client) -> None:
    r = RunnableLambda(to_len)
    assert_type(await rd.abatch(client, r, ["a"]), list[int])
    assert_type(await rd.abatch(client, r, ["a"], return_exceptions=True), list[int | Exception])
