"""`bind(**kwargs)` on any runnable: keyword arguments bound to a lifted function's calls."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from runnables.errors import RunnablesTypeError

if TYPE_CHECKING:
    from runnables._core.base import RunnableBase

__all__ = ["Keywords", "bind_keywords"]

In = TypeVar("In")
Out = TypeVar("Out")


class Keywords(functools.partial[Any]):
    """A function with keyword arguments bound, equal to another binding the same ones (so
    that two equal `bind` calls give equal runnables, as values should), and annotated as the
    function is (so the runnable keeps its types)."""

    def __new__(cls, func: Callable[..., Any], /, **keywords: Any) -> Keywords:
        self = super().__new__(cls, func, **keywords)
        self.__wrapped__ = func  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
        self.__annotations__ = getattr(func, "__annotations__", {})
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Keywords):
            return NotImplemented
        return (self.func, self.args, self.keywords) == (other.func, other.args, other.keywords)

    def __hash__(self) -> int:
        try:
            return hash((self.func, self.args, tuple(self.keywords.items())))
        except TypeError:  # an unhashable bound value: equal values still hash alike
            return hash((self.func, tuple(self.keywords)))


def _check_accepts(func: Callable[..., Any], kwargs: Mapping[str, Any], who: str) -> None:
    """A `TypeError` naming the keywords `func` has no parameter for."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # no signature to read: the call will tell
        return
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return
    keywords = [p for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if keywords and keywords[0].kind is keywords[0].POSITIONAL_OR_KEYWORD:
        keywords = keywords[1:]  # the input's parameter
    names = {p.name for p in keywords}
    unknown = sorted(set(kwargs) - names - {"config"})
    if "config" in kwargs:
        raise RunnablesTypeError(f"cannot bind 'config' to {who}: use with_config(...)")
    if unknown:
        raise RunnablesTypeError(
            f"cannot bind {unknown} to {who}: it takes no such keyword parameter "
            f"(it takes {sorted(names)})"
        )


def bind_keywords(
    runnable: RunnableBase[In, Out], kwargs: Mapping[str, Any]
) -> RunnableBase[In, Out]:
    """`runnable` with `kwargs` given to each call of the function it runs: a lifted function
    gets them as keyword arguments, a binding passes them to what it binds."""
    from runnables._core.base import RunnableBase
    from runnables._core.configurable import (
        RunnableConfigurableAlternatives,
        RunnableConfigurableFields,
    )
    from runnables._primitives.binding import RunnableBinding
    from runnables._primitives.each import RunnableEach
    from runnables._primitives.fallbacks import RunnableWithFallbacks
    from runnables._primitives.lambda_ import RunnableLambda
    from runnables._primitives.retry import RunnableRetry

    if not kwargs:
        return runnable
    checked = cast("object", runnable)
    # A wrapper binds what it wraps: whichever of its runnables a call runs gets the keywords.
    if isinstance(checked, (RunnableBinding, RunnableRetry, RunnableEach)):
        wrapper = cast("RunnableBinding[In, Out]", checked)
        return attrs.evolve(wrapper, bound=bind_keywords(wrapper.bound, kwargs))
    if isinstance(checked, RunnableWithFallbacks):
        guarded = cast("RunnableWithFallbacks[In, Out]", checked)
        return attrs.evolve(
            guarded,
            runnable=bind_keywords(guarded.runnable, kwargs),
            fallbacks=[bind_keywords(fallback, kwargs) for fallback in guarded.fallbacks],
        )
    if isinstance(checked, RunnableConfigurableFields):
        fields = cast("RunnableConfigurableFields[In, Out]", checked)
        return attrs.evolve(fields, default=bind_keywords(fields.default, kwargs))
    if isinstance(checked, RunnableConfigurableAlternatives):
        chooser = cast("RunnableConfigurableAlternatives[In, Out]", checked)
        return attrs.evolve(
            chooser,
            default=bind_keywords(chooser.default, kwargs),
            alternatives={
                key: _bound_alternative(alternative, kwargs)
                for key, alternative in chooser.alternatives.items()
            },
        )
    # One that binds options its own way (a model):
    if type(runnable).bind is not RunnableBase.bind:  # pyright: ignore[reportUnknownMemberType]
        return runnable.bind(**kwargs)
    if isinstance(checked, RunnableLambda):
        lam = cast("RunnableLambda[In, Out]", checked)
        _check_accepts(lam.func, kwargs, f"function {lam.name!r}")
        afunc = lam.afunc
        if afunc is not None:
            _check_accepts(afunc, kwargs, f"function {lam.name!r} (afunc)")
        return RunnableLambda(
            Keywords(lam.func, **kwargs),
            Keywords(afunc, **kwargs) if afunc is not None else None,
            name=lam.name,
        )
    raise RunnablesTypeError(
        f"{runnable.name} takes no call keywords, so cannot bind {sorted(kwargs)}: bind them "
        "on the step that uses them (a lifted function or a model), e.g. "
        "`prompt | model.bind(stop=[...])`"
    )


def _bound_alternative(alternative: object, kwargs: Mapping[str, Any]) -> object:
    """A configurable alternative (a runnable, or a factory of one) with `kwargs` bound."""
    from runnables._core.base import RunnableBase

    if isinstance(alternative, RunnableBase):
        return bind_keywords(cast("RunnableBase[Any, Any]", alternative), kwargs)
    return _BoundFactory(cast("Callable[[], object]", alternative), dict(kwargs))


@attrs.frozen
class _BoundFactory:
    """A factory of a configurable alternative whose runnable gets keywords bound once built
    (a value: equal for equal factories and keywords)."""

    factory: Callable[[], object]
    kwargs: dict[str, Any] = attrs.field(hash=False)

    def __call__(self) -> RunnableBase[Any, Any]:
        from runnables._primitives.coerce import coerce_to_runnable

        return bind_keywords(coerce_to_runnable(self.factory()), self.kwargs)


def is_prompt(value: object) -> bool:
    """Whether `value` is a prompt template (for `get_prompts`)."""
    from runnables.prompts import ChatPromptTemplate, PromptTemplate

    return isinstance(value, (PromptTemplate, ChatPromptTemplate))
