"""`to_langchain`: a runnables runnable as a LangChain `Runnable`, for LCEL and LangGraph."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from langchain_core.callbacks import AsyncCallbackManagerForChainRun, CallbackManagerForChainRun
from langchain_core.runnables import Runnable as LCRunnable
from langchain_core.runnables import RunnableConfig as LCConfig
from langchain_core.utils.pydantic import TypeBaseModel

from runnables._core.config import RunnableConfig
from runnables._core.context import CURRENT
from runnables._core.protocol import Runnable
from runnables._core.streaming import close_chunks, closing_chunks
from runnables.langchain._convert import from_lc, lc_type, to_lc
from runnables.langchain._handlers import as_callback
from runnables.langchain._pydantic import pydantic_model

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["to_langchain"]

I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741

_INHERITED = ("tags", "metadata", "configurable", "recursion_limit", "max_concurrency")


def _our_config(
    config: LCConfig | None,
    run_manager: CallbackManagerForChainRun | AsyncCallbackManagerForChainRun | None,
) -> RunnableConfig:
    """The runnables config for a call LangChain makes: its inherited parts and, when LangChain
    has handlers, callbacks telling them of the runnable's inner runs (in place, so that its
    event stream has them in order). The run LangChain made for the call is the runnable's."""
    ours: dict[str, Any] = {}
    for key in _INHERITED:
        value = (config or {}).get(key)
        if value is not None:
            ours[key] = value
    if run_manager is not None:
        handlers = run_manager.get_child().handlers
        if handlers:
            run_id = run_manager.run_id
            ours["callbacks"] = [as_callback(h, skip=run_id, inline=True) for h in handlers]
            ours["run_id"] = run_id
    return cast("RunnableConfig", ours)


class RunnablesRunnable(LCRunnable[I, O], Generic[I, O]):
    """A runnables runnable as a LangChain `Runnable`: usable in LCEL (`|` with LangChain
    runnables), as a LangGraph node, with every LangChain call form. LangChain makes one run
    for it (named as the runnable); the runnable's inner runs are its children for
    LangChain's callbacks, `astream_events` and `astream_log`. Values cross converted:
    LangChain's messages, documents and prompt values in, LangChain's out.
    """

    def __init__(self, runnable: Runnable[I, O]) -> None:
        self.runnable = runnable
        self.name: str | None = runnable.name
        self._models: dict[str, type[BaseModel] | None] = {}

    def __repr__(self) -> str:
        return f"to_langchain({self.runnable!r})"

    @property
    def InputType(self) -> Any:  # LangChain's name: the type of what LangChain passes in
        return lc_type(getattr(self.runnable, "input_type", Any))

    @property
    def OutputType(self) -> Any:  # LangChain's name: the type of what LangChain gets back
        return lc_type(getattr(self.runnable, "output_type", Any))

    # LangChain's schemas are built from `InputType` / `OutputType`, which for a chain that
    # starts with a prompt is an open `dict[str, Any]`; ours, derived, name the prompt's
    # variables (so that `.as_tool()` has arguments).

    def _model(self, which: str, suffix: str) -> type[BaseModel] | None:
        if which not in self._models:
            self._models[which] = pydantic_model(self.runnable, which, self.get_name(suffix))
        return self._models[which]

    def get_input_schema(self, config: LCConfig | None = None) -> TypeBaseModel:
        """The runnable's derived input schema (`input_schema`), as a pydantic model."""
        return self._model("input_schema", "Input") or super().get_input_schema(config)

    def get_output_schema(self, config: LCConfig | None = None) -> TypeBaseModel:
        """The runnable's derived output schema (`output_schema`), as a pydantic model."""
        return self._model("output_schema", "Output") or super().get_output_schema(config)

    def _run_type(self) -> str | None:
        kind = getattr(self.runnable, "run_type", "chain")
        return kind if kind in ("prompt", "parser") else None

    # -- LangChain calls, each traced by LangChain's own `*_with_config`

    def invoke(self, input: I, config: LCConfig | None = None, **kwargs: Any) -> O:
        return self._call_with_config(self._invoke, input, config, run_type=self._run_type())

    async def ainvoke(self, input: I, config: LCConfig | None = None, **kwargs: Any) -> O:
        return await self._acall_with_config(
            self._ainvoke, input, config, run_type=self._run_type()
        )

    def stream(self, input: I, config: LCConfig | None = None, **kwargs: Any) -> Iterator[O]:
        return self.transform(iter((input,)), config)

    def transform(
        self, input: Iterator[I], config: LCConfig | None = None, **kwargs: Any
    ) -> Iterator[O]:
        return self._transform_stream_with_config(
            input, self._transform, config, run_type=self._run_type()
        )

    def astream(self, input: I, config: LCConfig | None = None, **kwargs: Any) -> AsyncIterator[O]:
        async def one() -> AsyncIterator[I]:
            yield input

        return self.atransform(one(), config)

    def atransform(
        self, input: AsyncIterator[I], config: LCConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[O]:
        return self._atransform_stream_with_config(
            input, self._atransform, config, run_type=self._run_type()
        )

    # -- the runnable's calls, outside any runnables context: LangChain's run is the parent

    def _invoke(self, input: I, run_manager: CallbackManagerForChainRun, config: LCConfig) -> O:
        token = CURRENT.set(None)
        try:
            output = self.runnable.invoke(from_lc(input), _our_config(config, run_manager))
        finally:
            CURRENT.reset(token)
        converted: O = to_lc(output)
        return converted

    async def _ainvoke(
        self, input: I, run_manager: AsyncCallbackManagerForChainRun, config: LCConfig
    ) -> O:
        token = CURRENT.set(None)
        try:
            output = await self.runnable.ainvoke(from_lc(input), _our_config(config, run_manager))
        finally:
            CURRENT.reset(token)
        converted: O = to_lc(output)
        return converted

    def _transform(
        self, inputs: Iterator[I], run_manager: CallbackManagerForChainRun, config: LCConfig
    ) -> Iterator[O]:
        ours = _our_config(config, run_manager)
        token = CURRENT.set(None)
        try:
            chunks = self.runnable.transform((from_lc(i) for i in inputs), ours)
        finally:
            CURRENT.reset(token)
        try:
            for chunk in chunks:
                converted: O = to_lc(chunk)
                yield converted
        finally:
            close_chunks(chunks)

    async def _atransform(
        self,
        inputs: AsyncIterator[I],
        run_manager: AsyncCallbackManagerForChainRun,
        config: LCConfig,
    ) -> AsyncIterator[O]:
        async def converted_inputs() -> AsyncIterator[I]:
            async for item in inputs:
                yield from_lc(item)

        ours = _our_config(config, run_manager)
        token = CURRENT.set(None)
        try:
            chunks = self.runnable.atransform(converted_inputs(), ours)
        finally:
            CURRENT.reset(token)
        async with closing_chunks(chunks) as stream:
            async for chunk in stream:
                converted: O = to_lc(chunk)
                yield converted


def to_langchain(runnable: Runnable[I, O]) -> LCRunnable[I, O]:
    """A LangChain `Runnable` running `runnable`: usable in LCEL and as a LangGraph node (see
    `RunnablesRunnable`)."""
    return RunnablesRunnable(runnable)
