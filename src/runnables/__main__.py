"""`python -m runnables demo | serve`: run the walkthrough, or serve one runnable over HTTP."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="python -m runnables", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the walkthrough (no API key needed)")
    serve = commands.add_parser("serve", help="serve one runnable over HTTP (extra [serve])")
    serve.add_argument("target", help="the runnable to serve, as package.module:name")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--path", default="", help="URL prefix of the endpoints, e.g. /joke")
    serve.add_argument("--no-access-log", action="store_true", help="log no line per request")
    args = parser.parse_args(argv)
    if args.command == "serve":
        from runnables.serve._cli import serve_target

        return serve_target(
            args.target,
            host=args.host,
            port=args.port,
            path=args.path,
            access_log=not args.no_access_log,
        )
    from runnables._demo import run_demo

    run_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
