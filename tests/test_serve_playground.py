"""The playground's files, served beside the endpoints with headers that keep it to itself."""

from __future__ import annotations

from importlib import resources

import httpx
import pytest

from runnables import runnable
from runnables.serve import create_app

pytestmark = pytest.mark.anyio


@runnable
def echo(text: str) -> str:
    return text


def client(path: str) -> httpx.AsyncClient:
    app = create_app(echo, path=path)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.mark.parametrize("path", ["", "/echo"])
async def test_the_page_and_its_files_are_served_under_the_path(path: str) -> None:
    async with client(path) as http:
        page = await http.get(f"{path}/playground/")
        script = await http.get(f"{path}/playground/playground.js")
        style = await http.get(f"{path}/playground/playground.css")
        bare = await http.get(f"{path}/playground")
        missing = await http.get(f"{path}/playground/other.js")
    assert page.status_code == script.status_code == style.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert '<script src="playground.js" defer></script>' in page.text
    assert (bare.status_code, bare.headers["location"]) == (308, f"{path}/playground/")
    assert missing.status_code == 404


async def test_the_page_may_load_and_call_only_its_own_origin() -> None:
    async with client("/echo") as http:
        page = await http.get("/echo/playground/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"


def test_the_script_never_turns_server_text_into_markup() -> None:
    script = (resources.files("runnables.serve") / "playground" / "playground.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    assert "http://" not in script
    assert "https://" not in script
