"""The validation driver: an explicit stack of steps, so data of any depth validates.

A compiled :class:`Plan` either checks a value directly (``check``, for leaves) or walks
it with a generator (``walk``) that yields ``(plan, child value, key or index)`` for each
child and receives the structured child back, or has a :class:`Failure` thrown in. The
driver keeps the generators on a list instead of the Python call stack, so nesting is
bounded by memory, never by the recursion limit. It also knows which objects are being
walked, so data that contains itself (a list appended to itself) fails instead of looping.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Any

from ._errors import ROOT, ConstraintViolation, Invalid, Path, render

__all__ = ["SAME", "Failure", "Plan", "Step", "as_failure", "raise_any", "run", "structure_each"]

#: A segment meaning "the same position" (a union handing its value to a member).
SAME: Any = object()

Step = Generator[tuple["Plan", object, Any], Any, Any]


class Failure(Exception):
    """Validation failed at or below a step: ``(path, message)`` pairs, or child failures.

    A step that saw several failures raises one holding them as ``children`` (no copying,
    so errors rising through deep data stay cheap); :meth:`flatten` lists them in order.
    ``mismatch`` says the value was simply of another kind (a union tries its next
    member quietly); ``causes`` keeps exceptions raised by user code, such as an attrs
    validator, so they are chained rather than swallowed.
    """

    def __init__(
        self,
        errors: list[tuple[Path, str]],
        *,
        children: list[Failure] | None = None,
        mismatch: bool = False,
        causes: tuple[Exception, ...] = (),
    ) -> None:
        super().__init__(errors)
        self.errors = errors
        self.children = children or []
        self.mismatch = mismatch
        self.causes = causes

    @classmethod
    def at(cls, path: Path, message: str) -> Failure:
        """One problem at ``path``."""
        return cls([(path, message)])

    def flatten(self) -> tuple[list[tuple[Path, str]], list[Exception]]:
        """Every ``(path, message)`` in input order, and the user exceptions behind them."""
        errors: list[tuple[Path, str]] = []
        causes: list[Exception] = []
        pending: list[Failure] = [self]
        while pending:
            failure = pending.pop()
            errors.extend(failure.errors)
            causes.extend(failure.causes)
            pending.extend(reversed(failure.children))
        return errors, causes


def raise_any(failures: list[Failure]) -> None:
    """Raise the failures a step collected below its own position, if any, as one."""
    if failures:
        raise Failure([], children=failures)


def as_failure(exc: Exception, path: Path) -> Failure:
    """Turn what a check or a step raised at ``path`` into a :class:`Failure`."""
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, Invalid):
        return Failure([(path, str(exc))], mismatch=not isinstance(exc, ConstraintViolation))
    return Failure([(path, f"{type(exc).__name__}: {exc}")], causes=(exc,))


class Plan:
    """How to validate one type: a direct ``check`` or a ``walk`` over its children.

    ``ranks`` maps each JSON kind the type admits (``"string"``, ``"integer"``, ...) to
    its place in the union rule: a lower rank is tried first. Plans are compiled once
    per type; a recursive type's plan refers to itself.
    """

    __slots__ = ("check", "name", "ranks", "walk")

    def __init__(
        self,
        name: str,
        ranks: dict[str, int],
        check: Callable[[Any], Any] | None = None,
        walk: Callable[[Any, Path], Step] | None = None,
    ) -> None:
        self.name = name
        self.ranks = ranks
        self.check = check
        self.walk = walk

    def become(self, other: Plan) -> None:
        """Fill a placeholder made while its (recursive) type was being compiled."""
        self.name = other.name
        self.ranks = other.ranks
        self.check = other.check
        self.walk = other.walk


def structure_each(
    entries: Iterable[tuple[int | str, Plan, object]], path: Path, failures: list[Failure]
) -> Step:
    """Structure each ``(key or index, plan, value)``; failures go to ``failures``.

    Returns the results in order (``None`` where an entry failed, so check ``failures``).
    Leaves are checked right here, which keeps long lists of scalars fast.
    """
    results: list[Any] = []
    for segment, plan, value in entries:
        check = plan.check
        try:
            results.append(check(value) if check is not None else (yield plan, value, segment))
        except Exception as exc:
            failures.append(as_failure(exc, (path, segment)))
            results.append(None)
    return results


def run(plan: Plan, value: object) -> Any:
    """Validate ``value`` with ``plan``, or raise the :class:`Failure` listing every error."""
    stack: list[tuple[Step, Path, int | None]] = []
    walking: dict[int, Path] = {}  # id of each value on the stack -> where it was met
    outcome: Any = None
    failure: Failure | None = None
    target: Plan | None = plan
    path: Path = ROOT
    while True:
        if target is not None:
            if target.check is not None:
                try:
                    outcome = target.check(value)
                except Exception as exc:
                    failure = as_failure(exc, path)
            else:
                assert target.walk is not None
                outcome = None
                met = walking.get(id(value))
                if met is None:
                    walking[id(value)] = path
                    stack.append((target.walk(value, path), path, id(value)))
                elif met is path:  # a union or constraint handing the value on, in place
                    stack.append((target.walk(value, path), path, None))
                else:
                    failure = Failure.at(
                        path, f"the data contains itself: this is the object at {render([met])[0]}"
                    )
            target = None
        if not stack:
            if failure is not None:
                raise failure
            return outcome
        step, here, key = stack[-1]
        try:
            if failure is None:
                target, value, segment = step.send(outcome)
            else:
                thrown, failure = failure, None
                target, value, segment = step.throw(thrown)
        except StopIteration as stop:
            stack.pop()
            if key is not None:
                del walking[key]
            outcome = stop.value
            continue
        except Exception as exc:
            stack.pop()
            if key is not None:
                del walking[key]
            failure = as_failure(exc, here)
            # Its traceback would keep the frame of every step it passed alive: drop it, or
            # failures rising through deep data slow down with the garbage they hold.
            failure.__traceback__ = None
            continue
        path = here if segment is SAME else (here, segment)
