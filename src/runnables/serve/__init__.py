"""Serve any runnable over HTTP in LangServe's wire format, and call one served elsewhere.

Server (extra ``runnables[serve]``: Starlette, uvicorn): ``add_routes(app, chain,
path="/joke")`` adds ``/joke/invoke``, ``/batch``, ``/stream``, ``/stream_log``,
``/stream_events`` and the three schema endpoints to a Starlette (or FastAPI) app;
``create_app(chain)`` builds such an app. Streams are Server-Sent Events.

Client (needs only httpx): ``RemoteRunnable[In, Out](url)`` is a runnable calling a server
of either kind. The names load on first use, so the client never imports the server's
libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._client import RemoteConnectionError as RemoteConnectionError
    from ._client import RemoteError as RemoteError
    from ._client import RemoteInputError as RemoteInputError
    from ._client import RemoteRunnable as RemoteRunnable
    from ._routes import Limits as Limits
    from ._routes import PerRequestHook as PerRequestHook
    from ._routes import add_routes as add_routes
    from ._routes import create_app as create_app

__all__ = [
    "Limits",
    "PerRequestHook",
    "RemoteConnectionError",
    "RemoteError",
    "RemoteInputError",
    "RemoteRunnable",
    "add_routes",
    "create_app",
]

_WHERE = {
    "Limits": "._routes",
    "PerRequestHook": "._routes",
    "RemoteConnectionError": "._client",
    "RemoteError": "._client",
    "RemoteInputError": "._client",
    "RemoteRunnable": "._client",
    "add_routes": "._routes",
    "create_app": "._routes",
}

if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """Load a public name from its private module the first time it is asked for."""
        module = _WHERE.get(name)
        if module is None:
            raise AttributeError(f"module 'runnables.serve' has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        if hasattr(value, "__module__") and name != "PerRequestHook":
            value.__module__ = __name__
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*globals(), *__all__])
