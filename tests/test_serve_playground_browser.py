"""The playground in a real headless Chromium, driven over the DevTools protocol, against a
real uvicorn server on 127.0.0.1: fill the form, run, watch the answer stream in.

Skips when Debian's ``chromium`` is not installed (``.ci/check`` installs it).
"""

from __future__ import annotations

import enum
import itertools
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest

from runnables import RunnableGenerator, runnable
from runnables.messages import BaseMessage
from runnables.models import FakeListChatModel
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate
from runnables.serve import create_app
from test_serve_remote import serve_in_thread

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)"
)
websockets_sync = pytest.importorskip("websockets.sync.client")

PAYLOAD = '<img src=x onerror="window.__xss = 1">'
ANSWER = f"why did the bear {PAYLOAD} cross the road"


class Page:
    """One browser tab, spoken to over its DevTools websocket."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        sent = next(self._ids)
        self._socket.send(json.dumps({"id": sent, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=30))
            if message.get("id") == sent:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, seconds: float = 30) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"still false after {seconds} s: {expression}")

    def type_into(self, selector: str, text: str) -> None:
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A headless Chromium; yields the address of its DevTools HTTP endpoint."""
    assert CHROMIUM is not None
    profile = tmp_path_factory.mktemp("chromium-profile")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    command += ["--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1"]
    command += ["--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    found: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            match = re.search(r"DevTools listening on ws://([^/]+)/", line)
            if match and not found:
                found.append(match.group(1))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not found and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert found, f"chromium did not start (exit code {process.poll()})"
        yield found[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        process.stderr.close()


@pytest.fixture
def page(browser: str) -> Iterator[Page]:
    import httpx

    target = httpx.put(f"http://{browser}/json/new?about:blank", timeout=30).json()
    try:
        with websockets_sync.connect(target["webSocketDebuggerUrl"], max_size=None) as socket:
            tab = Page(socket)
            tab.send("Page.enable")
            tab.send("Runtime.enable")
            yield tab
    finally:
        httpx.get(f"http://{browser}/json/close/{target['id']}", timeout=30)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen
class Inner:
    n: int
    flag: bool = False


@attrs.frozen
class Query:
    text: str
    count: int
    ratio: float
    loud: bool
    color: Color
    mode: Literal["short", "long"]
    tags: list[str]
    inner: Inner
    history: list[BaseMessage]


@runnable
def describe(query: Query) -> str:
    said = [(message.type, message.content) for message in query.history]
    return (
        f"{query.text}|{query.count}|{query.ratio}|{query.loud}|{query.color.value}|"
        f"{query.mode}|{query.tags}|{query.inner.n},{query.inner.flag}|{said}"
    )


class Gate:
    """Holds the joke's answer after its first words until the test has seen them on the page:
    the page shows it growing whatever the load on the machine, where a renderer that stalls
    while the whole answer arrives would otherwise see it appear at once. A page that held the
    answer back would never show the first words (`Page.wait_for` fails)."""

    def __init__(self) -> None:
        self.shown = threading.Event()

    def hold(self, chunks: Iterator[str]) -> Iterator[str]:
        sent = ""
        for chunk in chunks:
            if sent:
                self.shown.wait(60)
            sent += chunk
            yield chunk


GATE = Gate()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    joke = (
        ChatPromptTemplate.from_template("tell me a joke about {topic}")
        | FakeListChatModel(responses=[ANSWER], token_sleep=0.02)
        | StrOutputParser()
        | RunnableGenerator(GATE.hold, name="gate")
    )
    app = create_app(joke, path="/joke")
    from runnables.serve import add_routes

    add_routes(app, describe, path="/describe")
    yield from serve_in_thread(app)


# Record every state of the output, to see it grow rather than appear at once.
WATCH_OUTPUT = """
window.__seen = [];
new MutationObserver(() => window.__seen.push(document.getElementById("output").textContent))
  .observe(document.getElementById("output"), {childList: true, characterData: true, subtree: true});
"""


def run_joke(page: Page, url: str, endpoint: str) -> list[str]:
    page.send("Page.navigate", url=f"{url}/joke/playground/")
    page.wait_for("document.body?.dataset.ready === 'true'")
    page.type_into("input[name=topic]", "bears")
    page.evaluate(f"document.getElementById('endpoint').value = {json.dumps(endpoint)}")
    page.evaluate(WATCH_OUTPUT)
    GATE.shown.clear()
    page.evaluate("document.getElementById('run').click()")
    page.wait_for("document.getElementById('output').textContent !== ''")
    GATE.shown.set()
    page.wait_for("document.getElementById('status').textContent === 'done'")
    seen: list[str] = page.evaluate("window.__seen")
    return seen


@pytest.mark.parametrize("endpoint", ["stream_log", "stream_events"])
def test_the_playground_streams_the_answer_and_shows_server_text_as_text(
    page: Page, url: str, endpoint: str, tmp_path: Path
) -> None:
    seen = run_joke(page, url, endpoint)

    assert page.evaluate("document.getElementById('output').textContent") == ANSWER
    partial = [text for text in seen if text and text != ANSWER]
    assert partial, "the output appeared at once instead of growing"
    assert all(ANSWER.startswith(text) for text in partial)
    # The model's markup is text: no element was made of it, and its handler never ran.
    assert page.evaluate("document.querySelectorAll('main img').length") == 0
    assert page.evaluate("window.__xss") is None
    steps = page.evaluate("document.getElementById('steps').textContent")
    assert "FakeListChatModel" in steps
    assert "ChatPromptTemplate" in steps

    shot = page.send("Page.captureScreenshot", format="png")["data"]
    import base64

    (tmp_path / f"playground-{endpoint}.png").write_bytes(base64.b64decode(shot))


def test_the_playground_builds_a_config_form_and_shows_a_refusal(page: Page, url: str) -> None:
    page.send("Page.navigate", url=f"{url}/joke/playground/")
    page.wait_for("document.body?.dataset.ready === 'true'")
    fields = page.evaluate(
        "[...document.querySelectorAll('#config-fields [name]')].map(e => e.name)"
    )
    assert {"tags", "max_concurrency", "recursion_limit"} <= set(fields)
    # A recursion limit over the server's is refused; the 422's detail is shown as text.
    page.evaluate("document.getElementById('config-section').open = true")
    page.type_into("input[name=recursion_limit]", "100000")
    page.type_into("input[name=topic]", "bears")
    page.evaluate("document.getElementById('run').click()")
    status = page.wait_for(
        "document.getElementById('status').className === 'error'"
        " && document.getElementById('status').textContent"
    )
    assert "422" in status
    assert "recursion_limit" in status


FILL_QUERY = """
const set = (selector, value) => { document.querySelector(selector).value = value; };
const click = (selector) => document.querySelector(selector).click();
set("textarea[name=text]", "hello");
set("input[name=count]", "3");
set("input[name=ratio]", "0.5");
click("input[name=loud]");
set("select[name=color]", "1");
set("select[name=mode]", "1");
click("fieldset[name=tags] > button");
click("fieldset[name=tags] > button");
const tags = document.querySelectorAll("fieldset[name=tags] input");
tags[0].value = "x"; tags[1].value = "y";
set("fieldset[name=inner] input[name=n]", "7");
click("fieldset[name=history] > button");
const roles = document.querySelectorAll("select[name='history role']");
const contents = document.querySelectorAll("textarea[name='history content']");
roles[0].value = "system"; contents[0].value = "be brief";
roles[1].value = "human"; contents[1].value = "hi";
"""


def test_the_form_covers_every_kind_of_field_and_sends_what_was_filled(
    page: Page, url: str
) -> None:
    page.send("Page.navigate", url=f"{url}/describe/playground/")
    page.wait_for("document.body?.dataset.ready === 'true'")
    page.evaluate(FILL_QUERY)
    page.evaluate("document.getElementById('run').click()")
    page.wait_for("document.getElementById('status').textContent === 'done'")
    assert page.evaluate("document.getElementById('output').textContent") == (
        "hello|3|0.5|True|blue|long|['x', 'y']|7,False|[('system', 'be brief'), ('human', 'hi')]"
    )
