"""Cancel the work of a request the moment its client goes away.

Neither Starlette nor uvicorn cancels a handler when the connection closes: a run waiting on
a slow model would go on for nobody. Once the body is read, the only message ``receive``
still delivers is ``http.disconnect``, so one task waiting for it can cancel the rest.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
import attrs

if TYPE_CHECKING:
    from starlette.types import Receive

__all__ = ["Departure", "cancelled_on_disconnect"]


@attrs.define
class Departure:
    """Whether the client left while the block ran."""

    left: bool = False


@asynccontextmanager
async def cancelled_on_disconnect(receive: Receive) -> AsyncGenerator[Departure]:
    """Run the block; cancel it (and set ``left``) if the client disconnects meanwhile.

    Call only after the request body has been read in full.
    """
    departure = Departure()

    async def watch(scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        departure.left = True
        scope.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(watch, group.cancel_scope)
        yield departure
        group.cancel_scope.cancel()
