"""Load benchmark: the same chain served by runnables.serve and by LangServe, side by side.

Usage (from the repository root, with the `bench` extra installed):

    .venv/bin/python benchmarks/serve.py --quick      # 50 and 200 clients, under a minute
    .venv/bin/python benchmarks/serve.py              # 50, 200 and 1000 clients
    .venv/bin/python benchmarks/serve.py --clients 100 500 --tokens 50

The chain is the seed's joke chain: a chat prompt, a fake chat model streaming `--tokens`
one-character tokens, and a string parser; built from runnables for runnables.serve and from
langchain-core for LangServe (whose server needs fastapi and sse-starlette). Each server runs
alone in its own uvicorn process on 127.0.0.1 (one worker, no access log); the clients run in
this process, on one asyncio loop, each posting to `/stream` over a raw HTTP/1.1 connection
(no client library, so the client costs little of the machine's two cores) and counting the
`data` events of the Server-Sent Events answer.

Per server and client count, all clients start at once: tokens/s (all data events over the
wall time, streams cut by the timeout included), p50 and p99 time to first token of the
streams that completed, errors (a non-200 answer, a stream without its `end` event, or the
wrong number of tokens), the server's CPU seconds (user + system) and its peak RSS (sampled
every 20 ms). Each run is bounded by `--timeout` seconds; a run that hits it counts its
unfinished clients as errors. Ratios are runnables over LangServe.

Then `--disconnects` clients (100) stream a slower copy of the chain (50 ms a token) and
close their connection after the first token; the line printed says how many more asyncio
tasks the server holds 5 s later than before (0: every abandoned run was cleaned up).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

HOST = "127.0.0.1"
PATH = "/joke"
SLOW = "/slow"
SLOW_TOKEN = 0.05


def build_app(kind: str, tokens: int) -> Any:
    """The ASGI app serving the joke chain with ``kind``'s library at PATH, the same with a
    model that waits SLOW_TOKEN seconds per token at SLOW, and ``GET /tasks`` counting the
    server's asyncio tasks."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def count_tasks(request: Any) -> JSONResponse:
        return JSONResponse(len(asyncio.all_tasks()))

    answer = "x " * (tokens // 2) + "x" * (tokens % 2)
    if kind == "runnables":
        from runnables.models import FakeListChatModel
        from runnables.parsers import StrOutputParser
        from runnables.prompts import ChatPromptTemplate
        from runnables.serve import add_routes, create_app

        prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
        chain = prompt | FakeListChatModel(responses=[answer]) | StrOutputParser()
        slow_model = FakeListChatModel(responses=[answer], token_sleep=SLOW_TOKEN)
        app = create_app(chain, path=PATH)
        add_routes(app, prompt | slow_model | StrOutputParser(), path=SLOW)
        app.router.routes.append(Route("/tasks", count_tasks))
        return app
    from fastapi import FastAPI
    from langchain_core.language_models import FakeListChatModel as LCFakeListChatModel
    from langchain_core.output_parsers import StrOutputParser as LCStrOutputParser
    from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate
    from langserve import add_routes

    lc_prompt = LCChatPromptTemplate.from_template("tell me a joke about {topic}")
    lc_chain = lc_prompt | LCFakeListChatModel(responses=[answer]) | LCStrOutputParser()
    lc_slow = LCFakeListChatModel(responses=[answer], sleep=SLOW_TOKEN)
    app = FastAPI()
    add_routes(app, lc_chain, path=PATH)
    add_routes(app, lc_prompt | lc_slow | LCStrOutputParser(), path=SLOW)
    app.router.routes.append(Route("/tasks", count_tasks))
    return app


def serve(kind: str, port: int, tokens: int) -> None:
    """Run one server in this process until it is killed."""
    import uvicorn

    uvicorn.run(
        build_app(kind, tokens), host=HOST, port=port, log_level="warning", access_log=False
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Stream:
    """What one client saw."""

    first_token: float | None = None
    tokens: int = 0
    ended: bool = False
    error: str | None = None


async def one_client(
    port: int, body: bytes, started: float, seen: Stream, path: str = PATH, leave: bool = False
) -> None:
    """POST to /stream over a fresh connection and count the data events until ``end``
    (``leave``: close the connection after the first one)."""
    request = (
        f"POST {path}/stream HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError as error:
        seen.error = repr(error)
        return
    try:
        writer.write(request)
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            seen.error = status.decode(errors="replace").strip()
            return
        tail = b""
        while chunk := await reader.read(65536):
            text = tail + chunk
            count = text.count(b"event: data")
            if count and seen.first_token is None:
                seen.first_token = time.perf_counter() - started
                if leave:
                    return
            seen.tokens += count
            if b"event: end" in text:
                seen.ended = True
            # Keep the end of this read in case an event name is cut across two reads.
            tail = text[-16:].replace(b"event: data", b"")
    except OSError as error:
        seen.error = repr(error)
    finally:
        writer.close()


async def sample_memory(pid: int, peak: list[int], stop: asyncio.Event) -> None:
    import psutil

    process = psutil.Process(pid)
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.02)


@dataclass
class Result:
    kind: str
    clients: int
    seconds: float
    tokens: int
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_seconds: float
    peak_rss_mb: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


async def load(pid: int, port: int, clients: int, tokens: int, timeout: float, kind: str) -> Result:
    import psutil

    server = psutil.Process(pid)
    body = json.dumps({"input": {"topic": "bears"}}).encode()
    peak = [server.memory_info().rss]
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_memory(pid, peak, stop))
    cpu_before = server.cpu_times()
    started = time.perf_counter()
    streams = [Stream() for _ in range(clients)]
    tasks = [asyncio.create_task(one_client(port, body, started, seen)) for seen in streams]
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    seconds = time.perf_counter() - started
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    cpu_after = server.cpu_times()
    stop.set()
    await sampler
    good = [s for s in streams if s.error is None and s.ended and s.tokens == tokens]
    firsts = sorted(s.first_token for s in good if s.first_token is not None) or [0.0]
    p99 = firsts[min(len(firsts) - 1, round(0.99 * (len(firsts) - 1)))]
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    return Result(
        kind=kind,
        clients=clients,
        seconds=seconds,
        tokens=sum(s.tokens for s in streams),
        p50_ms=statistics.median(firsts) * 1000,
        p99_ms=p99 * 1000,
        errors=clients - len(good),
        cpu_seconds=cpu,
        peak_rss_mb=peak[0] / 2**20,
    )


async def tasks_of(port: int) -> int:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(f"GET /tasks HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
    answer = await reader.read()
    writer.close()
    return int(answer.rsplit(b"\r\n\r\n", 1)[1])


async def leave_mid_stream(port: int, clients: int) -> tuple[int, int]:
    """``clients`` clients leave the slow stream after its first token; returns how many got
    that token, and how many more asyncio tasks the server has 5 s later than before."""
    before = await tasks_of(port)
    body = json.dumps({"input": {"topic": "bears"}}).encode()
    streams = [Stream() for _ in range(clients)]
    started = time.perf_counter()
    await asyncio.gather(
        *(one_client(port, body, started, seen, SLOW, leave=True) for seen in streams)
    )
    left = sum(seen.first_token is not None for seen in streams)
    deadline = time.monotonic() + 5
    while (after := await tasks_of(port)) > before and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return left, after - before


def start_server(kind: str, tokens: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
    command += ["--tokens", str(tokens)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # LangServe prints a banner
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the {kind} server exited with {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the {kind} server did not start within 60 s")


def run(
    kind: str, levels: list[int], tokens: int, timeout: float, disconnects: int
) -> list[Result]:
    process, port = start_server(kind, tokens)
    try:
        results = []
        asyncio.run(load(process.pid, port, 5, tokens, timeout, kind))  # warm-up, not reported
        for clients in levels:
            results.append(asyncio.run(load(process.pid, port, clients, tokens, timeout, kind)))
        if disconnects:
            left, behind = asyncio.run(leave_mid_stream(port, disconnects))
            print(
                f"{kind}: {left} of {disconnects} clients left mid-stream; tasks left behind 5 s later: {behind}"
            )
        return results
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 and 200 clients only")
    parser.add_argument("--clients", type=int, nargs="+", help="client counts to run")
    parser.add_argument("--tokens", type=int, default=50, help="tokens per answer (50)")
    parser.add_argument("--timeout", type=float, default=60.0, help="bound per run, seconds")
    parser.add_argument(
        "--disconnects", type=int, default=100, help="clients that leave mid-stream (100)"
    )
    parser.add_argument("--serve", choices=["runnables", "langserve"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.tokens)
        return 0
    levels = args.clients or ([50, 200] if args.quick else [50, 200, 1000])
    results = {
        kind: run(kind, levels, args.tokens, args.timeout, args.disconnects)
        for kind in ("runnables", "langserve")
    }
    header = f"{'server':<10} {'clients':>7} {'tokens/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    header += f" {'errors':>6} {'cpu s':>6} {'peak MB':>8}"
    print(header)
    for ours, theirs in zip(results["runnables"], results["langserve"], strict=True):
        for r in (ours, theirs):
            print(
                f"{r.kind:<10} {r.clients:>7} {r.tokens_per_second:>9.0f} {r.p50_ms:>8.1f}"
                f" {r.p99_ms:>8.1f} {r.errors:>6} {r.cpu_seconds:>6.2f} {r.peak_rss_mb:>8.1f}"
            )
        print(
            f"{'ratio':<10} {ours.clients:>7} {_ratio(ours.tokens_per_second, theirs.tokens_per_second):>9}"
            f" {_ratio(ours.p50_ms, theirs.p50_ms):>8} {_ratio(ours.p99_ms, theirs.p99_ms):>8}"
            f" {'':>6} {_ratio(ours.cpu_seconds, theirs.cpu_seconds):>6}"
            f" {_ratio(ours.peak_rss_mb, theirs.peak_rss_mb):>8}"
        )
    print(f"({args.tokens} tokens per stream; ratio = runnables / LangServe)")
    return 0


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "-"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
