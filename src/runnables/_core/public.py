"""`public`: report a name defined in a private module under the package it is exported from."""

from __future__ import annotations

from typing import TypeVar

__all__ = ["public"]

T = TypeVar("T")


def public(obj: T) -> T:
    """Set `obj.__module__` to `runnables`, where users import it from, as soon as it is
    defined: reprs, tracebacks, pickles and docs then show the public path."""
    obj.__module__ = "runnables"
    return obj
