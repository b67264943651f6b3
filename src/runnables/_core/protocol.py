"""`Runnable[In, Out]`: the structural interface users program against."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload, runtime_checkable

from runnables._core.config import RunnableConfig
from runnables._core.public import public

if TYPE_CHECKING:
    from runnables._primitives.sequence import RunnableSequence
    from runnables.graph import Graph
    from runnables.tracing._events import StreamEvent
    from runnables.tracing._log import RunLog, RunLogPatch

__all__ = ["Runnable"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
Next = TypeVar("Next")


# pyright cannot prove the variance of a protocol that refers to itself (`__or__`); mypy does.
@public
@runtime_checkable
class Runnable(Protocol[In, Out]):  # pyright: ignore[reportInvalidTypeVarUse]
    """A step that turns an `In` into an `Out`, once, in batches or as a stream, sync or async.

    Contravariant in `In` and covariant in `Out`: a `Runnable[object, bool]` may stand where a
    `Runnable[int, int]` is expected. Every runnable of this library satisfies it through
    `RunnableBase`, whose `batch` returns a `list` (declared `Sequence` here to keep `Out`
    covariant).
    """

    @property
    def name(self) -> str: ...

    def invoke(self, input: In, config: RunnableConfig | None = None) -> Out: ...

    async def ainvoke(self, input: In, config: RunnableConfig | None = None) -> Out: ...

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
    def __or__(self, other: Runnable[Out, Next]) -> RunnableSequence[In, Next]: ...
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
    def __or__(
        self, other: Mapping[str, Runnable[Out, Any] | Callable[[Out], Any]]
    ) -> RunnableSequence[In, dict[str, Any]]: ...
