# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Listeners take `(run)` or `(run, config)`; `with_alisteners` takes async ones only (a sync
listener, or one whose second parameter is not `config`, is rejected)."""

from __future__ import annotations

from typing_extensions import assert_type

from runnables import Run, RunnableBinding, RunnableConfig, RunnableLambda, with_listeners


def count(text: str) -> int:
    return len(text)


def plain(run: Run) -> None: ...


def with_config(run: Run, config: RunnableConfig) -> None: ...


def misnamed(run: Run, cfg: RunnableConfig) -> None: ...


async def aplain(run: Run) -> None: ...


async def awith_config(run: Run, config: RunnableConfig) -> None: ...


def cases() -> None:
    step = RunnableLambda(count)
    assert_type(step.with_listeners(on_start=plain, on_end=with_config), RunnableBinding[str, int])
    assert_type(
        step.with_alisteners(on_start=aplain, on_end=awith_config), RunnableBinding[str, int]
    )
    assert_type(with_listeners(on_error=with_config)(step), RunnableBinding[str, int])
    bad_name = step.with_listeners(on_end=misnamed)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    not_async = step.with_alisteners(on_end=plain)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
