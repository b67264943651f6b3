"""What the wrappers that catch failures (retry, fallbacks) may catch: `Exception`s only, so
that interrupts, exits and cancellation always reach the caller unchanged."""

from __future__ import annotations

from typing import Any, cast

import attrs

from runnables.errors import RunnablesTypeError

__all__ = ["check_exception_types"]


def check_exception_types(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: `value` is a tuple of exception classes (refused now, not when a
    failure first needs matching against it)."""
    kinds = cast("tuple[object, ...]", value) if isinstance(value, tuple) else None
    if kinds is None or not all(
        isinstance(kind, type) and issubclass(kind, BaseException) for kind in kinds
    ):
        raise RunnablesTypeError(
            f"{attribute.name} must be a tuple of exception classes, got {value!r}"
        )
