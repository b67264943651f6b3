"""`RunnablePassthrough`, `RunnableAssign` and `RunnablePick`: the dict helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import attrs
from typing_extensions import TypeVar

from runnables._core.base import RunnableBase
from runnables._core.config import RunnableConfig
from runnables._core.interop import run_coroutine_blocking
from runnables._core.leaf import aleaf, aleaf_in_thread, leaf
from runnables._core.public import public
from runnables._core.streaming import NOTHING, AddableDict, Total, closing_chunks
from runnables._core.tee import SKIP, tee_tasks, tee_threads
from runnables._primitives.parallel import RunnableParallel
from runnables.errors import RunnablesTypeError

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.protocol import SupportsInvoke

__all__ = ["RunnableAssign", "RunnablePassthrough", "RunnablePick"]

T = TypeVar("T")
# `dict[str, Any]` unless the `runnables.mypy` plugin types the new keys.
Out = TypeVar("Out", covariant=True, default=dict[str, Any])


@public
@attrs.frozen
class RunnablePassthrough(RunnableBase[T, T]):
    """Return the input unchanged (streams pass straight through).

    `func` (and `afunc` for async calls) taps the input for a side effect: it is called with
    the whole input (a stream's chunks added up, once the stream ends), and what it returns
    is ignored. It may take a `config` parameter to receive the run's config.
    `RunnablePassthrough.assign(k=r, ...)` builds a `RunnableAssign` that adds keys to a dict.
    """

    func: Callable[[T], object] | Callable[[T, RunnableConfig], object] | None = None
    afunc: (
        Callable[[T], Awaitable[object]] | Callable[[T, RunnableConfig], Awaitable[object]] | None
    ) = None
    #: Whether `func` / `afunc` take the run's config.
    _configs: tuple[bool, bool] = attrs.field(init=False, eq=False, repr=False)
    _await_func: bool = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        from runnables._primitives.lambda_ import accepts_config, function_kind

        for tap in (self.func, self.afunc):
            if tap is not None and function_kind(tap) in ("generator", "async generator"):
                raise RunnablesTypeError(
                    f"RunnablePassthrough taps the input with a function, not a generator: {tap!r}"
                )
        if self.afunc is not None and function_kind(self.afunc) != "async":
            raise RunnablesTypeError(f"afunc must be an async function, got {self.afunc!r}")
        configs = tuple(tap is not None and accepts_config(tap) for tap in (self.func, self.afunc))
        object.__setattr__(self, "_configs", configs)
        is_async = self.func is not None and function_kind(self.func) == "async"
        object.__setattr__(self, "_await_func", is_async)

    def _kwargs(self, ctx: RunContext, of_afunc: bool) -> dict[str, Any]:
        return {"config": ctx.as_config()} if self._configs[of_afunc] else {}

    def _tap(self, input: T, ctx: RunContext) -> None:
        if self.func is None or self._await_func:
            run_coroutine_blocking(lambda: self._atap(input, ctx))
            return
        leaf(ctx, self.func, input, **self._kwargs(ctx, False))

    async def _atap(self, input: T, ctx: RunContext) -> None:
        if self.afunc is not None:
            afunc = cast("Callable[..., Awaitable[object]]", self.afunc)
            await aleaf(ctx, afunc, input, **self._kwargs(ctx, True))
        elif self._await_func:
            func = cast("Callable[..., Awaitable[object]]", self.func)
            await aleaf(ctx, func, input, **self._kwargs(ctx, False))
        elif self.func is not None:
            await aleaf_in_thread(ctx, self.func, input, **self._kwargs(ctx, False))

    def _invoke(self, input: T, ctx: RunContext) -> T:
        if self.func is not None or self.afunc is not None:
            self._tap(input, ctx)
        return input

    async def _ainvoke(self, input: T, ctx: RunContext) -> T:
        if self.func is not None or self.afunc is not None:
            await self._atap(input, ctx)
        return input

    def _transform(self, inputs: Iterator[T], ctx: RunContext) -> Iterator[T]:
        if self.func is None and self.afunc is None:
            yield from inputs
            return
        total = Total()
        for chunk in inputs:
            total.add(chunk)
            yield chunk
        if (whole := total.value) is not NOTHING:
            self._tap(whole, ctx)

    async def _atransform(self, inputs: AsyncIterator[T], ctx: RunContext) -> AsyncIterator[T]:
        if self.func is None and self.afunc is None:
            async for chunk in inputs:
                yield chunk
            return
        total = Total()
        async for chunk in inputs:
            total.add(chunk)
            yield chunk
        if (whole := total.value) is not NOTHING:
            await self._atap(whole, ctx)

    @classmethod
    def assign(  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        cls, **branches: SupportsInvoke[dict[str, Any], Any] | Callable[[dict[str, Any]], Any]
    ) -> RunnableAssign:
        """A runnable returning its dict input plus `branches`' outputs (computed concurrently)."""
        return RunnableAssign.of(branches)


def _require_dict(value: object, who: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RunnablesTypeError(f"{who} needs a dict input, got {type(value).__name__}: {value!r}")
    return cast("Mapping[str, Any]", value)


@public
@attrs.frozen
class RunnableAssign(RunnableBase[dict[str, Any], Out]):
    """Its dict input plus new keys computed (concurrently) from that same input."""

    mapper: RunnableParallel[dict[str, Any]]

    @classmethod
    def of(
        cls,
        branches: Mapping[
            str, SupportsInvoke[dict[str, Any], Any] | Callable[[dict[str, Any]], Any]
        ],
    ) -> RunnableAssign:
        return RunnableAssign(RunnableParallel(branches))

    @property
    def bound(self) -> RunnableParallel[dict[str, Any]]:
        """The wrapped parallel (`mapper`, LangChain's name), as every wrapper calls it."""
        return self.mapper

    @property
    def name(self) -> str:
        return f"RunnableAssign<{','.join(key for key, _ in self.mapper.branches)}>"

    def _invoke(self, input: dict[str, Any], ctx: RunContext) -> Out:
        _require_dict(input, self.name)
        added = self.mapper._call(input, ctx.with_local_tag("map:key:__assign__"))
        return cast("Out", {**input, **added})

    async def _ainvoke(self, input: dict[str, Any], ctx: RunContext) -> Out:
        _require_dict(input, self.name)
        added = await self.mapper._acall(input, ctx.with_local_tag("map:key:__assign__"))
        return cast("Out", {**input, **added})

    def _passthrough(self) -> Callable[[Any], Any]:
        """What passes through of each input chunk: its keys that no branch assigns."""
        keys = {key for key, _ in self.mapper.branches}
        name = self.name

        def passthrough(chunk: Any) -> Any:
            passed = {k: v for k, v in _require_dict(chunk, name).items() if k not in keys}
            return AddableDict(passed) if passed else SKIP

        return passthrough

    # As LangChain's: each input chunk passes through (less the assigned keys) as it arrives,
    # while the branches are fed the same chunks (most of them add the chunks up, needing
    # the whole dict); their outputs come as they are made, mostly once the input has ended.

    def _transform(self, inputs: Iterator[dict[str, Any]], ctx: RunContext) -> Iterator[Out]:
        tagged = ctx.with_local_tag("map:key:__assign__")
        mapper = self.mapper
        merged = tee_threads(
            inputs,
            [partial(mapper._call_transform, ctx=tagged)],
            self._passthrough(),
            lockstep=ctx.budget is not None,
        )
        for _, chunk in merged:
            yield cast("Out", chunk)

    async def _atransform(
        self, inputs: AsyncIterator[dict[str, Any]], ctx: RunContext
    ) -> AsyncIterator[Out]:
        tagged = ctx.with_local_tag("map:key:__assign__")
        mapper = self.mapper
        merged = tee_tasks(
            inputs,
            [partial(mapper._acall_transform, ctx=tagged)],
            self._passthrough(),
            lockstep=ctx.budget is not None,
        )
        async with closing_chunks(merged) as chunks:
            async for _, chunk in chunks:
                yield cast("Out", chunk)


@public
@attrs.frozen(init=False)
class RunnablePick(RunnableBase[Mapping[str, Any], Any]):
    """Pick one key of a dict (its value) or several keys (a sub-dict of those present)."""

    keys: str | tuple[str, ...]

    def __init__(self, keys: str | Sequence[str]) -> None:
        self.__attrs_init__(keys if isinstance(keys, str) else tuple(keys))  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]

    @property
    def name(self) -> str:
        keys = [self.keys] if isinstance(self.keys, str) else self.keys
        return f"RunnablePick<{','.join(keys)}>"

    def _pick(self, value: Mapping[str, Any]) -> Any:
        if isinstance(self.keys, str):
            try:
                return value[self.keys]
            except KeyError:
                raise KeyError(
                    f"{self.name}: key {self.keys!r} not in input keys {sorted(value)!r}"
                ) from None
        return {key: value[key] for key in self.keys if key in value}

    def _invoke(self, input: Mapping[str, Any], ctx: RunContext) -> Any:
        return self._pick(_require_dict(input, self.name))

    async def _ainvoke(self, input: Mapping[str, Any], ctx: RunContext) -> Any:
        return self._pick(_require_dict(input, self.name))

    def _chunk(self, chunk: Mapping[str, Any]) -> Any:
        chunk = _require_dict(chunk, self.name)
        if isinstance(self.keys, str):
            return chunk.get(self.keys, _SKIP)
        picked = AddableDict({key: chunk[key] for key in self.keys if key in chunk})
        return picked or _SKIP

    def _transform(self, inputs: Iterator[Mapping[str, Any]], ctx: RunContext) -> Iterator[Any]:
        for chunk in inputs:
            if (picked := self._chunk(chunk)) is not _SKIP:
                yield picked

    async def _atransform(
        self, inputs: AsyncIterator[Mapping[str, Any]], ctx: RunContext
    ) -> AsyncIterator[Any]:
        async for chunk in inputs:
            if (picked := self._chunk(chunk)) is not _SKIP:
                yield picked


_SKIP: Any = object()
