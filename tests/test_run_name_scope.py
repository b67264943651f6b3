"""`run_name` and `run_id` belong to the one runnable they are given to (api.md section 1), traced
or not: a failing step inside a named chain is noted by its own name, and the functions inside
never receive the chain's name or id in their config."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from runnables import Run, RunnableConfig, RunnableParallel, runnable


class Boom(Exception):
    pass


@runnable
def first(x: int) -> int:
    return x + 1


@runnable
def fails(x: int) -> int:
    raise Boom(x)


@runnable
async def afails(x: int) -> int:
    raise Boom(x)


@runnable
def fails_streaming(x: int) -> Iterator[int]:
    yield x
    raise Boom(x)


@runnable
async def afails_streaming(x: int) -> AsyncIterator[int]:
    yield x
    raise Boom(x)


class Quiet:
    """A callback, so that the call is traced."""

    def on_start(self, run: Run) -> None:
        pass


def configs(traced: bool) -> RunnableConfig:
    config: RunnableConfig = {"run_name": "named_chain", "run_id": uuid.uuid4()}
    if traced:
        config["callbacks"] = [Quiet()]
    return config


FAILING = [fails, afails, fails_streaming, afails_streaming]


def step_note(exc: BaseException) -> list[str]:
    return [n for n in getattr(exc, "__notes__", []) if n.startswith("raised in runnable")]


def call(form: str, chain: Any, config: RunnableConfig) -> None:
    if form == "invoke":
        chain.invoke(1, config)
    elif form == "stream":
        list(chain.stream(1, config))
    else:
        chain.batch([1], config)


async def acall(form: str, chain: Any, config: RunnableConfig) -> None:
    if form == "ainvoke":
        await chain.ainvoke(1, config)
    elif form == "astream":
        async for _ in chain.astream(1, config):
            pass
    else:
        await chain.abatch([1], config)


@pytest.mark.parametrize("traced", [False, True], ids=["untraced", "traced"])
@pytest.mark.parametrize("step", FAILING, ids=lambda s: s.name)
@pytest.mark.parametrize("form", ["invoke", "stream", "batch"])
def test_a_failing_step_in_a_named_chain_is_noted_by_its_own_name(
    form: str, step: Any, traced: bool
) -> None:
    with pytest.raises(Boom) as info:
        call(form, first | step, configs(traced))
    assert step_note(info.value) == [f"raised in runnable {step.name!r}"]


@pytest.mark.anyio
@pytest.mark.parametrize("traced", [False, True], ids=["untraced", "traced"])
@pytest.mark.parametrize("step", FAILING, ids=lambda s: s.name)
@pytest.mark.parametrize("form", ["ainvoke", "astream", "abatch"])
async def test_a_failing_step_in_a_named_chain_is_noted_by_its_own_name_async(
    form: str, step: Any, traced: bool
) -> None:
    with pytest.raises(Boom) as info:
        await acall(form, first | step, configs(traced))
    assert step_note(info.value) == [f"raised in runnable {step.name!r}"]


@pytest.mark.parametrize("traced", [False, True], ids=["untraced", "traced"])
@pytest.mark.parametrize("step", FAILING, ids=lambda s: s.name)
def test_a_failing_step_given_the_name_itself_is_noted_by_that_name(
    step: Any, traced: bool
) -> None:
    with pytest.raises(Boom) as info:
        list(step.stream(1, configs(traced)))
    assert step_note(info.value) == ["raised in runnable 'named_chain'"]
    with pytest.raises(Boom) as info:
        step.invoke(1, configs(traced))
    assert step_note(info.value) == ["raised in runnable 'named_chain'"]


SEEN: list[dict[str, Any]] = []


@runnable
def records(x: int, config: RunnableConfig) -> int:
    SEEN.append(dict(config))
    return x


@runnable
async def arecords(x: int, config: RunnableConfig) -> int:
    SEEN.append(dict(config))
    return x


@pytest.mark.parametrize("traced", [False, True], ids=["untraced", "traced"])
@pytest.mark.parametrize(
    ("chain", "value"),
    [
        (first | records, 1),
        (first | RunnableParallel(a=records, b=arecords), 1),
        (records.map(), [1, 2]),
    ],
    ids=["sequence", "parallel", "map"],
)
def test_functions_inside_never_receive_the_callers_run_name_or_id(
    chain: Any, value: Any, traced: bool
) -> None:
    SEEN.clear()
    chain.invoke(value, configs(traced))
    list(chain.stream(value, configs(traced)))
    chain.batch([value, value], configs(traced))
    assert SEEN
    for config in SEEN:
        assert "run_name" not in config
        assert "run_id" not in config


@pytest.mark.anyio
@pytest.mark.parametrize("traced", [False, True], ids=["untraced", "traced"])
async def test_functions_inside_never_receive_the_callers_run_name_or_id_async(
    traced: bool,
) -> None:
    SEEN.clear()
    chain = first | RunnableParallel(a=records, b=arecords) | (lambda d: d["a"]) | arecords
    await chain.ainvoke(1, configs(traced))
    async for _ in chain.astream(1, configs(traced)):
        pass
    await chain.abatch([1, 2], configs(traced))
    assert len(SEEN) == 3 * 4
    for config in SEEN:
        assert "run_name" not in config
        assert "run_id" not in config
