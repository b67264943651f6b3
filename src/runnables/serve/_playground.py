"""The playground page of a served runnable: static files shipped with the package.

The page (``playground/``) builds its form from ``../input_schema`` and ``../config_schema``
and runs ``../stream_log`` or ``../stream_events``, so one copy serves every path.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

__all__ = ["playground_routes"]

_FILES = {
    "": ("index.html", "text/html; charset=utf-8"),
    "playground.js": ("playground.js", "text/javascript; charset=utf-8"),
    "playground.css": ("playground.css", "text/css; charset=utf-8"),
}

# Only this origin's own script, styles and endpoints: an injected tag could load nothing.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _load() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("runnables.serve") / "playground"
    return {name: ((folder / file).read_bytes(), media) for name, (file, media) in _FILES.items()}


def playground_routes(path: str) -> list[Route]:
    """``GET {path}/playground/`` and its two files; ``{path}/playground`` redirects there."""
    files = _load()

    async def page(request: Request) -> Response:
        content, media = files[request.url.path.rsplit("/", 1)[1]]
        return Response(content, media_type=media, headers=_HEADERS)

    async def to_folder(request: Request) -> Response:
        return RedirectResponse(f"{request.url.path}/", status_code=308)

    routes = [
        Route(f"{path}/playground", to_folder, methods=["GET"]),
        Route(f"{path}/playground/", page, methods=["GET"]),
    ]
    routes += [Route(f"{path}/playground/{name}", page, methods=["GET"]) for name in _FILES if name]
    return routes
