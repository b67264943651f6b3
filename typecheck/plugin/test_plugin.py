"""The `runnables.mypy` plugin: dict outputs typed by their keys (checked with the plugin on,
by `typecheck/plugin/mypy.ini`; pyright and plain mypy see `dict[str, Any]`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypedDict, TypeVar

from typing_extensions import assert_type

from runnables import (
    Runnable,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
)

T = TypeVar("T")


def to_len(text: str) -> int:
    return len(text)


def shout(text: str) -> str:
    return text.upper()


async def encode(text: str) -> bytes:
    return text.encode()


def chunks(text: str) -> Iterator[str]:
    yield from text.split()


def same(value: T) -> T:
    return value


def ratio(d: dict[str, Any]) -> float:
    return 1.0


def size(d: Stats) -> float:
    return d["n"] / 2


def repeat(p: Pair) -> str:
    return p["loud"] * p["n"]


def takes_str(text: str) -> str:
    return text


class Pair(TypedDict):
    n: int
    loud: str


class Stats(TypedDict):
    n: int
    loud: str
    ratio: float


class Nested(TypedDict):
    n: int
    inner: Inner


class Inner(TypedDict):
    raw: bytes
    loud: str


class Mixed(TypedDict):
    n: int
    raw: bytes
    w: list[str]


class JustN(TypedDict):
    n: int


def dict_on_the_right() -> None:
    s = RunnableLambda(shout)
    chain = s | {"n": to_len, "loud": shout}
    assert_type(chain, RunnableSequence[str, Pair])
    out = chain.invoke("a b")
    assert_type(out, Pair)
    assert_type(out["n"], int)
    # Steps, functions, async functions and lambdas each give their output type.
    assert_type(
        s | {"n": RunnableLambda(to_len), "raw": encode, "w": lambda t: t.split()},
        RunnableSequence[str, Mixed],
    )
    # A generator function gives what it streams; a generic function, its solved type.
    assert_type(s | {"n": to_len, "loud": chunks}, RunnableSequence[str, Pair])
    assert_type(s | {"n": to_len, "loud": same}, RunnableSequence[str, Pair])
    # Nested dicts are TypedDicts too.
    assert_type(
        s | {"n": to_len, "inner": {"raw": encode, "loud": s}}, RunnableSequence[str, Nested]
    )
    # A following step is checked against the keys, whether it takes the TypedDict...
    assert_type(chain | repeat, RunnableSequence[str, str])
    assert_type(chain | RunnableLambda(repeat), RunnableSequence[str, str])
    # ...or a plain `dict[str, Any]`, what it gets at run time.
    assert_type(chain | ratio, RunnableSequence[str, float])


def dict_on_the_left() -> None:
    step = RunnableLambda(repeat)
    assert_type({"n": to_len, "loud": shout} | step, RunnableSequence[str, str])
    # Branches of different kinds (without the plugin mypy needs their types to agree).
    assert_type({"n": to_len, "loud": RunnableLambda(shout)} | step, RunnableSequence[str, str])
    assert_type({"n": to_len, "loud": shout} | RunnableLambda(ratio), RunnableSequence[str, float])


def parallel() -> None:
    par = RunnableParallel(n=to_len, loud=RunnableLambda(shout))
    assert_type(par, RunnableParallel[str, Pair])
    assert_type(RunnableParallel({"n": to_len, "loud": shout}), RunnableParallel[str, Pair])
    assert_type(RunnableParallel({"n": to_len}, loud=shout, name="p"), RunnableParallel[str, Pair])
    assert_type(par.invoke("a"), Pair)
    assert_type(par.batch(["a"]), list[Pair])
    assert_type(par | repeat, RunnableSequence[str, str])
    as_protocol: Runnable[str, Pair] = par
    as_mapping: Runnable[str, Mapping[str, object]] = par
    # Code that declares the `dict[str, Any]` form keeps it.
    declared: RunnableParallel[str] = RunnableParallel(n=to_len, loud=shout)
    assert_type(declared.invoke("a"), dict[str, Any])
    sequence: RunnableSequence[str, dict[str, Any]] = RunnableLambda(shout) | {"n": to_len}


def assign() -> None:
    chain = RunnableLambda(shout) | {"n": to_len, "loud": shout}
    assert_type(chain.assign(ratio=ratio), RunnableSequence[str, Stats])
    # A branch may take the TypedDict itself.
    assert_type(chain.assign(ratio=size_of_pair), RunnableSequence[str, Stats])
    assert_type(chain | RunnablePassthrough.assign(ratio=ratio), RunnableSequence[str, Stats])
    assert_type(
        {"n": to_len, "loud": shout} | RunnablePassthrough.assign(ratio=ratio),
        RunnableSequence[str, Stats],
    )
    # After an untyped dict, the keys are not known: `dict[str, Any]`, as without the plugin.
    untyped = RunnableLambda(as_dict)
    assert_type(
        untyped | RunnablePassthrough.assign(ratio=ratio), RunnableSequence[str, dict[str, Any]]
    )
    assert_type(untyped.assign(ratio=ratio), RunnableSequence[str, dict[str, Any]])
    # Alone, `RunnablePassthrough.assign` knows only its new keys.
    alone = RunnablePassthrough.assign(ratio=ratio)
    assert_type(alone.invoke({"n": 1})["ratio"], float)


def as_dict(text: str) -> dict[str, Any]:
    return {"text": text}


def size_of_pair(p: Pair) -> float:
    return float(p["n"])


def pick() -> None:
    chain = RunnableLambda(shout) | {"n": to_len, "loud": shout}
    assert_type(chain.pick("n"), RunnableSequence[str, int])
    assert_type(chain.pick(["n"]), RunnableSequence[str, JustN])
    par = RunnableParallel(n=to_len, loud=shout)
    assert_type(par.pick("loud").invoke("a"), str)


def generic(step: Runnable[str, str]) -> None:
    assert_type(step | {"n": to_len, "loud": step}, RunnableSequence[str, Pair])


def negative() -> None:
    chain = RunnableLambda(shout) | {"n": to_len, "loud": shout}
    out = chain.invoke("a")
    typo = out["typo"]  # type: ignore[misc]
    wrong: str = out["n"]  # type: ignore[assignment]
    bad_pick = chain.pick("typo")  # type: ignore[typeddict-item]
    bad_picks = chain.pick(["n", "typo"])  # type: ignore[typeddict-item]
    # The next step must take what the dict gives.
    chain | takes_str  # type: ignore[operator]
    chain | size  # type: ignore[operator]
    {"n": to_len, "loud": to_len} | RunnableLambda(repeat)  # type: ignore[operator]
    par = RunnableParallel(n=to_len, loud=shout)
    par_typo = par.invoke("a")["typo"]  # type: ignore[misc]
    assigned = chain.assign(ratio=ratio).invoke("a")
    assign_typo = assigned["ratios"]  # type: ignore[misc]
    # A limit: a TypedDict is never a `dict[str, Any]` to mypy, so a parallel inferred with
    # the plugin does not fit a `dict[str, Any]` declared later (declare it where it is built).
    later: RunnableParallel[str] = par  # type: ignore[assignment]


def lambdas() -> None:
    step = RunnableLambda(repeat)
    assert_type({"n": to_len, "loud": lambda t: t.upper()} | step, RunnableSequence[str, str])
    {"n": to_len, "loud": lambda t: len(t)} | step  # type: ignore[operator]
