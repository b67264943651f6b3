"""`Runnable[In, Out]`: the structural interface users program against."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    Protocol,
    TypeAlias,
    TypeVar,
    overload,
    runtime_checkable,
)

from runnables._core.config import RunnableConfig
from runnables._core.public import public

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from runnables._core.runs import Run
    from runnables._primitives.binding import RunnableBinding
    from runnables._primitives.each import RunnableEach
    from runnables._primitives.retry import RunnableRetry
    from runnables._primitives.sequence import RunnableSequence
    from runnables.graph import Graph
    from runnables.tracing._events import StreamEvent
    from runnables.tracing._log import RunLog, RunLogPatch

__all__ = ["Branch", "Runnable", "SupportsInvoke"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
Next = TypeVar("Next")
T = TypeVar("T")


@public
@runtime_checkable
class SupportsInvoke(Protocol[In, Out]):
    """What a step of your own implements to compose with runnables: `invoke` and `ainvoke`.

    Anything with these two methods may stand in a chain (`step | mine`, `mine | step`,
    `pipe`, `RunnableSequence`, a dict of branches, `RunnableEach`, fallbacks); the library
    wraps it in a runnable that calls them, so the chain batches, streams (one chunk), retries
    and traces it like any other step. Subclass `RunnableBase` instead to get every method
    on the object itself.
    """

    def invoke(self, input: In, config: RunnableConfig | None = None) -> Out: ...

    async def ainvoke(self, input: In, config: RunnableConfig | None = None) -> Out: ...


# One branch of a parallel taking a `T`: a step, a function, or a dict of branches (nested
# dicts are parallels too, and are checked all the way down).
Branch: TypeAlias = SupportsInvoke[T, Any] | Callable[[T], Any] | Mapping[str, "Branch[T]"]


# pyright cannot prove the variance of a protocol that refers to itself (`__or__`); mypy does.
@public
@runtime_checkable
class Runnable(SupportsInvoke[In, Out], Protocol[In, Out]):  # pyright: ignore[reportInvalidTypeVarUse]
    """A step that turns an `In` into an `Out`, once, in batches or as a stream, sync or async,
    and that composes and wraps: what generic code over runnables programs against.

    Contravariant in `In` and covariant in `Out`: a `Runnable[object, bool]` may stand where a
    `Runnable[int, int]` is expected. Every runnable of this library satisfies it through
    `RunnableBase`, whose `batch` returns a `list` (declared `Sequence` here: a `list[Out]`
    would make `Out` invariant). To write a step of your own, subclass `RunnableBase` or
    implement the small `SupportsInvoke`.
    """

    @property
    def name(self) -> str: ...

    @overload
    def batch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[False] = False,
    ) -> Sequence[Out]: ...
    @overload
    def batch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[True],
    ) -> Sequence[Out | Exception]: ...
    @overload
    def batch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool,
    ) -> Sequence[Out | Exception]: ...

    @overload
    async def abatch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[False] = False,
    ) -> Sequence[Out]: ...
    @overload
    async def abatch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: Literal[True],
    ) -> Sequence[Out | Exception]: ...
    @overload
    async def abatch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool,
    ) -> Sequence[Out | Exception]: ...

    def stream(self, input: In, config: RunnableConfig | None = None) -> Iterator[Out]: ...

    def astream(self, input: In, config: RunnableConfig | None = None) -> AsyncIterator[Out]: ...

    def transform(
        self, inputs: Iterator[In], config: RunnableConfig | None = None
    ) -> Iterator[Out]: ...

    def atransform(
        self, inputs: AsyncIterator[In], config: RunnableConfig | None = None
    ) -> AsyncIterator[Out]: ...

    # The same overloads, in the same order, as `RunnableBase.__or__` (mypy matches overloads
    # in order). They return the concrete `RunnableSequence`, not `Runnable`: a protocol whose
    # generic method returns the protocol itself sends mypy and pyright into an endless
    # regress (a fresh `Next` at every level), so that no class would satisfy it.
    def astream_events(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v2"] = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[StreamEvent]: ...

    def stream_events(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v2"] = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> Iterator[StreamEvent]: ...

    @overload
    def astream_log(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        diff: Literal[True] = True,
        with_streamed_output_list: bool = True,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[RunLogPatch]: ...
    @overload
    def astream_log(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        diff: Literal[False],
        with_streamed_output_list: bool = True,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[RunLog]: ...

    def get_graph(self) -> Graph: ...

    @overload
    def __or__(self, other: SupportsInvoke[Out, Next]) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(
        self, other: Callable[[Iterator[Out]], Iterator[Next]]
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(
        self, other: Callable[[AsyncIterator[Out]], AsyncIterator[Next]]
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(self, other: Callable[[Out], Iterator[Next]]) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(self, other: Callable[[Out], AsyncIterator[Next]]) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(
        self, other: Callable[[Out], Coroutine[Any, Any, Next]]
    ) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(self, other: Callable[[Out], Runnable[Out, Next]]) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(self, other: Callable[[Out], Next]) -> RunnableSequence[In, Next]: ...
    @overload
    def __or__(self, other: Mapping[str, Branch[Out]]) -> RunnableSequence[In, dict[str, Any]]: ...

    # The wrappers, so that generic code over `Runnable[In, Out]` can use them.
    def with_config(
        self, config: RunnableConfig | None = None, **keys: Unpack[RunnableConfig]
    ) -> RunnableBinding[In, Out]: ...

    def with_retry(
        self,
        *,
        stop_after_attempt: int = 3,
        retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,),
        wait_exponential_jitter: bool = True,
    ) -> RunnableRetry[In, Out]: ...

    # No `with_fallbacks`: its fallbacks' type, `Sequence[SupportsInvoke[In, Out]]`, uses `In`
    # covariantly and `Out` contravariantly, so no runnable would be a `Runnable` of wider
    # types; and an unchecked `Sequence[SupportsInvoke[Any, Any]]` makes mypy solve a generic
    # `Runnable[str, T]` parameter to `T = Any`. Generic code uses `fallbacks(...)(step)`.
    def with_listeners(
        self,
        *,
        on_start: Callable[[Run], object] | None = None,
        on_end: Callable[[Run], object] | None = None,
        on_error: Callable[[Run], object] | None = None,
    ) -> RunnableBinding[In, Out]: ...

    def map(self) -> RunnableEach[In, Out]: ...
