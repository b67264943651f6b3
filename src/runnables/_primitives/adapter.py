"""`Adapted`: an object of the user's with `invoke` and `ainvoke` as a step of a chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from runnables._core.base import RunnableBase
from runnables._core.leaf import aleaf, leaf

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.protocol import SupportsInvoke

__all__ = ["Adapted", "supports_invoke"]


def supports_invoke(thing: object) -> bool:
    """Whether `thing` has the `SupportsInvoke` methods (a cheap check, unlike `isinstance`
    with the runtime-checkable protocol)."""
    kind = type(thing)
    return callable(getattr(kind, "invoke", None)) and callable(getattr(kind, "ainvoke", None))


@attrs.frozen
class Adapted(RunnableBase[Any, Any]):
    """Calls the wrapped object's own `invoke` / `ainvoke` with the run's config, as a leaf;
    everything else (batches, one-chunk streams, retries, events) comes from `RunnableBase`."""

    wrapped: SupportsInvoke[Any, Any]

    @property
    def name(self) -> str:
        name = getattr(self.wrapped, "name", None)
        return name if isinstance(name, str) else type(self.wrapped).__name__

    def _invoke(self, input: Any, ctx: RunContext) -> Any:
        return leaf(ctx, self.wrapped.invoke, input, ctx.as_config())

    async def _ainvoke(self, input: Any, ctx: RunContext) -> Any:
        return await aleaf(ctx, self.wrapped.ainvoke, input, ctx.as_config())
