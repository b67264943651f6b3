"""Which hooks a class writes itself: one mechanism, worked out once per class.

A base class marks the methods a subclass may replace with `@default_hook`; `written(cls,
names)` is then the names whose method on `cls` is not such a default. Base classes call it
from `__init_subclass__` and keep the answer on the class, so no call inspects the class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = ["default_hook", "written"]

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "__runnables_default_hook__"


def default_hook(method: F) -> F:
    """Mark `method` as the base class's default, that subclasses replace by writing their own."""
    setattr(method, _MARK, True)
    return method


def written(cls: type[object], names: Iterable[str]) -> frozenset[str]:
    """The hooks among `names` that `cls` (or a base below the defaults) writes itself."""
    return frozenset(name for name in names if not getattr(getattr(cls, name), _MARK, False))
