"""`python -m runnables demo`: run the walkthrough on built-in local components."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="python -m runnables", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the walkthrough (no API key needed)")
    parser.parse_args(argv)
    from runnables._demo import run_demo

    run_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
