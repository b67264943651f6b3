"""A client that leaves a non-streamed call (`/invoke`, `/batch`) cancels its run on a real
uvicorn server, as leaving a stream does."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import anyio
import pytest

from runnables import runnable
from runnables.serve import create_app
from test_serve_remote import serve_in_thread

started = threading.Semaphore(0)
stopped = threading.Semaphore(0)


@runnable
async def stall(text: str) -> str:
    started.release()
    try:
        await anyio.sleep_forever()
    finally:
        stopped.release()
    return text


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    yield from serve_in_thread(create_app(stall, path="/stall"))


@pytest.mark.parametrize(
    ("endpoint", "body", "runs"),
    [("invoke", {"input": "a"}, 1), ("batch", {"inputs": ["a", "b"]}, 2)],
)
def test_a_client_leaving_a_call_cancels_its_run_with_one_info_line(
    url: str, endpoint: str, body: dict[str, object], runs: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="runnables.serve")
    address = urlsplit(url)
    payload = json.dumps(body).encode()
    with socket.create_connection((address.hostname, address.port)) as client:
        client.sendall(
            f"POST /stall/{endpoint} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        for _ in range(runs):
            assert started.acquire(timeout=30)
    for _ in range(runs):
        assert stopped.acquire(timeout=30), "the run went on after its client left"
    for _ in range(200):
        if caplog.records:
            break
        threading.Event().wait(0.05)
    [record] = [r for r in caplog.records if r.name.startswith(("runnables", "uvicorn"))]
    assert record.levelno == logging.INFO
    assert f"client left POST /stall/{endpoint}: run " in record.getMessage()
