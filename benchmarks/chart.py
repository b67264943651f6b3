"""Draw the speedups of `compare.py` as a bar chart for the docs' Performance page.

Usage (from the repository root; needs the `bench` extra, which brings matplotlib):

    .venv/bin/python benchmarks/chart.py                    # workloads 1-7, ~1-2 min
    .venv/bin/python benchmarks/chart.py --only 1,2,5 --out /tmp/chart.svg

It runs the chosen workloads of `compare.py` (the same measurements and settings), prints
their table, and writes `docs/performance.svg`: one bar per workload, langchain-core time
divided by runnables time, on a log scale, with each workload's goal marked.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import compare  # benchmarks/ is on sys.path when this script runs

ROOT = Path(__file__).resolve().parent.parent
SPEEDUP_WORKLOADS = ("1", "2", "3a", "3b", "4", "5", "6", "7")  # those timed on both libraries


def goal_of(goal: str) -> float | None:
    """The speedup a goal asks for (`>=30x` gives 30.0; `no slower (>=1.0x)` gives 1.0)."""
    found = re.search(r">=\s*([\d.]+)x", goal)
    return float(found.group(1)) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SPEEDUP_WORKLOADS), help="workloads to run")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per measurement")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.svg")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    settings = compare.Settings(rounds=args.rounds)
    wanted = [key.strip() for key in args.only.split(",") if key.strip()]
    rows = []
    for key in wanted:
        if key not in SPEEDUP_WORKLOADS:
            parser.error(f"workload {key!r} has no speedup to draw (of {SPEEDUP_WORKLOADS})")
        result = compare.WORKLOADS[key](settings)
        rows.extend(result if isinstance(result, list) else [result])
    compare.print_table(rows, settings)
    drawn = [row for row in rows if row.speedup.endswith("x") and "slower" not in row.speedup]

    labels = [f"{row.key}  {row.workload}" for row in drawn]
    speedups = [float(row.speedup.rstrip("x")) for row in drawn]
    figure, axes = plt.subplots(figsize=(9, 0.45 * len(drawn) + 1.2))
    positions = range(len(drawn))
    axes.barh(positions, speedups, color="#3f6fb5")
    for position, (row, speedup) in enumerate(zip(drawn, speedups, strict=True)):
        axes.text(speedup * 1.08, position, f"{speedup:,.0f}x", va="center", fontsize=8)
        goal = goal_of(row.goal)
        if goal is not None:
            axes.plot([goal, goal], [position - 0.4, position + 0.4], color="#c0392b")
    axes.set_yticks(list(positions), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlim(1, max(speedups) * 4)
    axes.set_xlabel("speedup over langchain-core (log scale; red: the goal)")
    figure.tight_layout()
    plt.rcParams["svg.hashsalt"] = "runnables"  # stable element ids from run to run
    figure.savefig(args.out, metadata={"Date": None})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
