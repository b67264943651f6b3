"""Hypothesis strategies for random runnable chains over ints.

Every step is built from module-level functions, so chains compare equal when built alike
and survive a pickle round trip. Every step is int -> int and every stream transformer is
linear (chunk by chunk), so a chain's streamed chunks always add up to its `invoke` output.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
from hypothesis import strategies as st

from runnables import (
    RunnableBase,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
    runnable,
)

# ----------------------------------------------------------------- plain steps


def inc(x: int) -> int:
    return x + 1


def dec(x: int) -> int:
    return x - 1


def dbl(x: int) -> int:
    return x * 2


def neg(x: int) -> int:
    return -x


def square_mod(x: int) -> int:
    return (x * x) % 997


async def ainc(x: int) -> int:
    await anyio.sleep(0)
    return x + 1


@runnable
def r_triple(x: int) -> int:
    return 3 * x


@runnable
async def r_aminus(x: int) -> int:
    return x - 7


# ----------------------------------------------------------------- streaming steps


def split_two(x: int) -> Iterator[int]:
    """Streams x as two chunks adding up to x."""
    yield x // 2
    yield x - x // 2


async def asplit_three(x: int) -> AsyncIterator[int]:
    """Streams x + 1 as three chunks."""
    yield x
    yield 1
    yield 0


def t_double(chunks: Iterator[int]) -> Iterator[int]:
    for chunk in chunks:
        yield 2 * chunk


async def at_negate(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
    async for chunk in chunks:
        yield -chunk


def t_echo_twice(chunks: Iterator[int]) -> Iterator[int]:
    """Each chunk as two chunks: doubles the total."""
    for chunk in chunks:
        yield chunk
        yield chunk


# ----------------------------------------------------------------- combining parallels


def add_branches(d: dict[str, int]) -> int:
    return sum(d.values())


def a_minus_b(d: dict[str, int]) -> int:
    return d["a"] - d["b"]


PLAIN = [inc, dec, dbl, neg, square_mod, ainc]
LEAVES: list[RunnableBase[Any, Any]] = [
    *(RunnableLambda(f) for f in PLAIN),
    r_triple,
    r_aminus,
    RunnableLambda(split_two),
    RunnableLambda(asplit_three),
    RunnableGenerator(t_double),
    RunnableGenerator(at_negate),
    RunnableGenerator(t_echo_twice),
    RunnablePassthrough(),
]

leaves = st.sampled_from(LEAVES)


def _extend(children: st.SearchStrategy[RunnableBase[Any, Any]]) -> st.SearchStrategy[Any]:
    sequences = st.lists(children, min_size=2, max_size=3).map(
        lambda steps: RunnableSequence(*steps)
    )
    parallels = st.tuples(children, children, st.sampled_from([add_branches, a_minus_b])).map(
        lambda t: RunnableParallel(a=t[0], b=t[1]) | t[2]
    )
    return st.one_of(sequences, parallels)


#: A random int -> int runnable: steps, sequences of them, parallels with a combining step.
chains: st.SearchStrategy[RunnableBase[int, int]] = st.recursive(leaves, _extend, max_leaves=6)

#: Inputs kept small so that repeated doubling and squaring stay cheap.
inputs = st.integers(min_value=-50, max_value=50)
input_lists = st.lists(inputs, max_size=5)

backends = st.sampled_from(["asyncio", "trio"])
