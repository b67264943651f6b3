"""`python -m runnables serve` in a subprocess: a client that leaves mid-stream cancels the run."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

SERVED = """
import os
from pathlib import Path

import anyio

from runnables import runnable


@runnable
async def tokens(topic: str):
    try:
        for word in ("one", "two", "three"):
            yield word
        await anyio.sleep_forever()  # a model that stalls
    finally:
        Path(os.environ["FINALLY_FILE"]).write_text("ran")


chain = tokens
"""


def test_a_client_that_leaves_mid_stream_cancels_the_run(tmp_path: Path) -> None:
    (tmp_path / "served.py").write_text(SERVED)
    marker = tmp_path / "finally"
    env = {**os.environ, "FINALLY_FILE": str(marker), "PYTHONPATH": str(tmp_path)}
    command = [sys.executable, "-m", "runnables", "serve", "served:chain"]
    # Port 0: the server binds a free port itself and logs it (a port found free here could be
    # taken by any other process before the server binds it).
    command += ["--port", "0", "--path", "/words", "--no-access-log"]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in server.stderr or ()])
    reader.start()
    try:
        log = [lines.get(timeout=30)]
        while "Uvicorn running on" not in log[-1]:
            log.append(lines.get(timeout=30))
        running = re.search(r"http://127\.0\.0\.1:(\d+)", log[-1])
        assert running, log
        port = int(running.group(1))
        received: list[str] = []
        with (
            httpx.Client() as client,
            client.stream(
                "POST", f"http://127.0.0.1:{port}/words/stream", json={"input": "x"}
            ) as response,
        ):
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(line)
                if len(received) == 3:  # the metadata event, then two chunks
                    break
        assert received[1:] == ['data: "one"', 'data: "two"']
        after_disconnect = lines.get(timeout=30)
        assert marker.read_text() == "ran"  # the run's finally had run by the time it logged
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        reader.join()
        server.stderr.close()
    assert after_disconnect.startswith("INFO:")
    assert "client left POST /words/stream: run" in after_disconnect
    assert after_disconnect.rstrip().endswith("cancelled")
    shutdown = [line.split(maxsplit=1)[1].split(" [")[0].rstrip() for line in lines.queue]
    assert shutdown == [
        "Shutting down",
        "Waiting for application shutdown.",
        "Application shutdown complete.",
        "Finished server process",
    ]
