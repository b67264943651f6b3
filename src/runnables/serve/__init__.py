"""Serve any runnable over HTTP in LangServe's wire format (extra ``runnables[serve]``).

``add_routes(app, chain, path="/joke")`` adds ``/joke/invoke``, ``/batch``, ``/stream``,
``/stream_log``, ``/stream_events`` and the three schema endpoints to a Starlette (or
FastAPI) app; ``create_app(chain)`` builds such an app. Streams are Server-Sent Events.
"""

from __future__ import annotations

from ._routes import Limits, PerRequestHook, add_routes, create_app

__all__ = ["Limits", "PerRequestHook", "add_routes", "create_app"]

for _public in (Limits, add_routes, create_app):
    _public.__module__ = __name__
