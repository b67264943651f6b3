# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Custom events: `on_custom_event` narrows a `StreamEvent` to `CustomEvent` (its `data` is the
payload as given: `Any`); the dispatch functions take a name, a payload and an optional config;
an object with only `on_custom_event` is a `Callback`, one with a wrong signature is not."""

from __future__ import annotations

import uuid
from typing import Any

from typing_extensions import assert_type

from runnables import Callback, RunnableLambda, adispatch_custom_event, dispatch_custom_event
from runnables.tracing import CustomEvent, OnCustomEvent


def step(x: int) -> int:
    dispatch_custom_event("progress", {"done": x})
    dispatch_custom_event("progress", x, config={"tags": ["a"]})
    dispatch_custom_event(1, x)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    dispatch_custom_event("x", x, config={"tag": []})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    return x


async def astep(x: int) -> int:
    assert_type(await adispatch_custom_event("progress", x), None)
    return x


async def narrowed() -> None:
    async for ev in RunnableLambda(step).astream_events(1):
        if ev["event"] == "on_custom_event":
            assert_type(ev, CustomEvent)
            assert_type(ev["data"], Any)
            assert_type(ev["run_id"], str)


class Progress:
    def on_custom_event(
        self,
        name: str,
        data: Any,
        /,
        *,
        run_id: uuid.UUID,
        tags: list[str],
        metadata: dict[str, Any],
    ) -> None: ...


class LangChainStyle:
    """The signature LangChain's handlers use (keyword defaults, `**kwargs`) fits too."""

    async def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: uuid.UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None: ...


class WrongSignature:
    def on_custom_event(self, data: int) -> None: ...


def callbacks() -> None:
    one: OnCustomEvent = Progress()
    two: Callback = LangChainStyle()
    RunnableLambda(step).invoke(1, {"callbacks": [Progress(), LangChainStyle()]})
    bad: OnCustomEvent = WrongSignature()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
