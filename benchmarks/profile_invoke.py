"""cProfile of the 10-step sequence `invoke` (runnables only), for optimising hot paths.

Usage (from the repository root):

    .venv/bin/python benchmarks/profile_invoke.py [--calls N] [--sort tottime|cumtime]

Prints the top 15 functions. cProfile inflates per-call costs several times over; use the
ratios between functions, and `benchmarks/compare.py --only 2` for real timings.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

from runnables import RunnableLambda


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000, help="invokes to profile")
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumtime", "ncalls"])
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    chain = RunnableLambda(lambda x: x + 1)
    for _ in range(9):
        chain = chain | RunnableLambda(lambda x: x + 1)
    assert chain.invoke(0) == 10
    for _ in range(1000):  # warm-up
        chain.invoke(0)

    invoke = chain.invoke
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.calls):
        invoke(0)
    profiler.disable()
    print(f"{args.calls} x invoke of a 10-step RunnableSequence of lambdas")
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
