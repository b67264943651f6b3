"""`runnables.otel`: a run's span is the current span while its own code runs, so the spans
that code starts (an instrumented HTTP client, a driver, the user's own) are its children.

Checked with the real SDK and its in-memory exporter, on asyncio and trio, for every kind of
leaf, every way of calling, and streams left early; each test also checks that the span
current around the call is current again after it, and that OpenTelemetry logged no error
(a token detached in another context is logged, not raised).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from unittest.mock import MagicMock

import anyio
import attrs
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from runnables import (
    Runnable,
    RunnableBase,
    RunnableConfig,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
)
from runnables.documents import Document
from runnables.messages import AIMessage, AIMessageChunk, BaseMessage
from runnables.models import BaseChatModel
from runnables.otel import OpenTelemetryCallback
from runnables.retrievers import BaseRetriever
from runnables.tools import tool


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture
def tracer(provider: TracerProvider) -> Tracer:
    return provider.get_tracer("app")


@pytest.fixture(autouse=True)
def no_context_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """OpenTelemetry logs (never raises) a context detached out of turn or in another context."""
    with caplog.at_level(logging.WARNING, logger="opentelemetry"):
        yield
    assert [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")] == []


def traced(provider: TracerProvider, limit: int | None = None) -> Any:
    """A config tracing to `provider` (with `max_concurrency=limit`: leaves holding slots,
    and stream consumers fed chunk by chunk, take other paths)."""
    return {"callbacks": [OpenTelemetryCallback(provider)], "max_concurrency": limit}


def span_of(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    (span,) = [s for s in spans if s.name == name]
    return span


def assert_inner_spans_under(exporter: InMemorySpanExporter, step: str, count: int = 1) -> None:
    """Each span named `inner` is a child of a span named `step` (there are `count` of them)."""
    spans = exporter.get_finished_spans()
    inner = [s for s in spans if s.name == "inner"]
    assert len(inner) == count
    parents = {s.context.span_id: s.name for s in spans if s.context is not None}
    assert [parents.get(s.parent.span_id) if s.parent else None for s in inner] == [step] * count


def steps(tracer: Tracer) -> dict[str, Callable[..., Any]]:
    """A step of each kind of lifted function, each starting a span `inner` as it runs."""

    def sync_function(x: int) -> int:
        with tracer.start_as_current_span("inner"):
            return x + 1

    async def async_function(x: int) -> int:
        await anyio.sleep(0)
        with tracer.start_as_current_span("inner"):
            return x + 1

    def sync_generator(x: int) -> Iterator[int]:
        with tracer.start_as_current_span("inner"):
            pass
        yield x + 1

    async def async_generator(x: int) -> AsyncIterator[int]:
        await anyio.sleep(0)
        with tracer.start_as_current_span("inner"):
            pass
        yield x + 1

    def sync_transform(xs: Iterator[int]) -> Iterator[int]:
        for x in xs:
            with tracer.start_as_current_span("inner"):
                pass
            yield x + 1

    async def async_transform(xs: AsyncIterator[int]) -> AsyncIterator[int]:
        async for x in xs:
            with tracer.start_as_current_span("inner"):
                pass
            yield x + 1

    return {
        f.__name__: f
        for f in (
            sync_function,
            async_function,
            sync_generator,
            async_generator,
            sync_transform,
            async_transform,
        )
    }


KINDS = [
    "sync_function",
    "async_function",
    "sync_generator",
    "async_generator",
    "sync_transform",
    "async_transform",
]


def step_of(tracer: Tracer, kind: str) -> Any:
    func = steps(tracer)[kind]
    return RunnableGenerator(func) if kind.endswith("transform") else RunnableLambda(func)


@pytest.mark.parametrize("limit", [None, 1])
@pytest.mark.parametrize("kind", KINDS)
def test_sync_calls_make_the_steps_span_current(
    kind: str,
    limit: int | None,
    provider: TracerProvider,
    tracer: Tracer,
    exporter: InMemorySpanExporter,
) -> None:
    chain = RunnableLambda(lambda x: x) | step_of(tracer, kind)
    with tracer.start_as_current_span("request") as request:
        assert chain.invoke(1, traced(provider, limit)) == 2
        assert trace.get_current_span() is request
        assert list(chain.stream(1, traced(provider, limit))) == [2]
        assert trace.get_current_span() is request
        assert chain.batch([1, 2, 3], traced(provider, limit)) == [2, 3, 4]
        assert trace.get_current_span() is request
    assert_inner_spans_under(exporter, kind, count=5)


@pytest.mark.anyio
@pytest.mark.parametrize("limit", [None, 1])
@pytest.mark.parametrize("kind", KINDS)
async def test_async_calls_make_the_steps_span_current(
    anyio_backend: str,
    kind: str,
    limit: int | None,
    provider: TracerProvider,
    tracer: Tracer,
    exporter: InMemorySpanExporter,
) -> None:
    chain = RunnableLambda(lambda x: x) | step_of(tracer, kind)
    with tracer.start_as_current_span("request") as request:
        assert await chain.ainvoke(1, traced(provider, limit)) == 2
        assert trace.get_current_span() is request
        assert [c async for c in chain.astream(1, traced(provider, limit))] == [2]
        assert trace.get_current_span() is request
        assert await chain.abatch([1, 2], traced(provider, limit)) == [2, 3]
        assert trace.get_current_span() is request
        events = [e async for e in chain.astream_events(1, traced(provider, limit))]
        assert events[-1]["data"]["output"] == 2
        assert trace.get_current_span() is request
    assert_inner_spans_under(exporter, kind, count=5)


def test_parallel_branches_on_worker_threads_each_see_their_own_span(
    provider: TracerProvider, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    def branch(name: str) -> Any:
        def work(x: int) -> int:
            with tracer.start_as_current_span(f"inner {name}"):
                return x

        return RunnableLambda(work, name=name)

    parallel = RunnableParallel(a=branch("a"), b=branch("b"), c=branch("c"))
    assert parallel.invoke(1, traced(provider)) == {"a": 1, "b": 1, "c": 1}
    spans = exporter.get_finished_spans()
    for name in "abc":
        assert span_of(spans, f"inner {name}").parent == span_of(spans, name).context
    assert trace.get_current_span() is trace.INVALID_SPAN


@pytest.mark.anyio
async def test_a_nested_call_inside_a_lifted_function_nests_its_span_and_gives_it_back(
    anyio_backend: str, provider: TracerProvider, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    def leaf(x: int) -> int:
        with tracer.start_as_current_span("inner"):
            return x

    nested = RunnableLambda(leaf)
    seen: list[Any] = []

    def outer(x: int) -> int:
        here = trace.get_current_span()
        result = nested.invoke(x)
        seen.append(trace.get_current_span() is here)
        return result

    async def aouter(x: int) -> int:
        here = trace.get_current_span()
        result = await nested.ainvoke(x)
        seen.append(trace.get_current_span() is here)
        return result

    assert RunnableLambda(outer).invoke(1, traced(provider)) == 1
    assert await RunnableLambda(aouter).ainvoke(1, traced(provider)) == 1
    assert seen == [True, True]
    spans = exporter.get_finished_spans()
    for name in ("outer", "aouter"):
        (leaf_span,) = [
            s for s in spans if s.name == "leaf" and s.parent == span_of(spans, name).context
        ]
        (inner,) = [s for s in spans if s.name == "inner" and s.parent == leaf_span.context]
        assert inner.parent == leaf_span.context


@attrs.frozen
class TracingModel(BaseChatModel):
    """A chat model whose every hook starts a span `inner`, as an instrumented client would."""

    tracer: Tracer = attrs.field(eq=False, hash=False)

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        with self.tracer.start_as_current_span("inner"):
            return AIMessage("hi")

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        with self.tracer.start_as_current_span("inner"):
            return AIMessage("hi")

    def _stream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        with self.tracer.start_as_current_span("inner"):
            pass
        yield AIMessageChunk("hi")

    async def _astream_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        with self.tracer.start_as_current_span("inner"):
            pass
        yield AIMessageChunk("hi")


@attrs.frozen
class TracingRetriever(BaseRetriever):
    tracer: Tracer = attrs.field(eq=False, hash=False)

    def _get_relevant_documents(self, query: str) -> list[Document]:
        with self.tracer.start_as_current_span("inner"):
            return [Document(query)]

    async def _aget_relevant_documents(self, query: str) -> list[Document]:
        with self.tracer.start_as_current_span("inner"):
            return [Document(query)]


@attrs.frozen
class SyncOnlyRetriever(BaseRetriever):
    """Its async path is the sync hook in a worker thread."""

    tracer: Tracer = attrs.field(eq=False, hash=False)

    def _get_relevant_documents(self, query: str) -> list[Document]:
        with self.tracer.start_as_current_span("inner"):
            return [Document(query)]


def components(tracer: Tracer) -> dict[str, Runnable[Any, Any]]:
    @tool
    def lookup(query: str) -> str:
        """Looks `query` up."""
        with tracer.start_as_current_span("inner"):
            return query

    @tool
    async def alookup(query: str) -> str:
        """Looks `query` up, asynchronously."""
        with tracer.start_as_current_span("inner"):
            return query

    return {
        "TracingModel": TracingModel(tracer),
        "TracingRetriever": TracingRetriever(tracer),
        "SyncOnlyRetriever": SyncOnlyRetriever(tracer),
        "lookup": lookup,
        "alookup": alookup,
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    "name", ["TracingModel", "TracingRetriever", "SyncOnlyRetriever", "lookup", "alookup"]
)
async def test_models_retrievers_and_tools_make_their_span_current(
    anyio_backend: str,
    name: str,
    provider: TracerProvider,
    tracer: Tracer,
    exporter: InMemorySpanExporter,
) -> None:
    component = components(tracer)[name]
    calls = 0
    if name != "alookup":  # (an async tool has no sync path)
        component.invoke("q", traced(provider))
        list(component.stream("q", traced(provider)))
        calls += 2
    await component.ainvoke("q", traced(provider))
    [c async for c in component.astream("q", traced(provider))]
    calls += 2
    assert trace.get_current_span() is trace.INVALID_SPAN
    spans = exporter.get_finished_spans()
    steps = [s for s in spans if s.name != "inner"]
    assert len(steps) == calls
    inner = [s for s in spans if s.name == "inner"]
    assert sorted(s.parent.span_id for s in inner if s.parent) == sorted(
        s.context.span_id for s in steps if s.context
    )


def test_a_sync_stream_left_early_closes_inside_its_span(
    provider: TracerProvider, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    def numbers(x: int) -> Iterator[int]:
        try:
            yield from range(x, x + 100)
        finally:
            with tracer.start_as_current_span("inner"):
                pass

    chain = RunnableLambda(lambda x: x) | RunnableLambda(numbers)
    with tracer.start_as_current_span("request") as request:
        for chunk in chain.stream(1, traced(provider)):
            assert chunk == 1
            assert trace.get_current_span() is request
            break
        assert trace.get_current_span() is request
    assert_inner_spans_under(exporter, "numbers")


@pytest.mark.anyio
async def test_an_async_stream_left_early_or_cancelled_closes_inside_its_span(
    anyio_backend: str, provider: TracerProvider, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    async def numbers(x: int) -> AsyncIterator[int]:
        try:
            yield x
            await anyio.sleep_forever()
            yield x  # pragma: no cover - cancelled above
        finally:
            with tracer.start_as_current_span("inner"):
                pass

    chain = RunnableLambda(lambda x: x) | RunnableLambda(numbers)
    with tracer.start_as_current_span("request") as request:
        stream = chain.astream(1, traced(provider))
        async for chunk in stream:
            assert chunk == 1
            assert trace.get_current_span() is request
            break
        await stream.aclose()
        assert trace.get_current_span() is request
        with anyio.move_on_after(0.05):
            async for _ in chain.astream_events(1, traced(provider)):
                assert trace.get_current_span() is request
        assert trace.get_current_span() is request
        with anyio.move_on_after(0.05):
            async for _ in chain.astream(1, traced(provider)):
                assert trace.get_current_span() is request
        assert trace.get_current_span() is request
    assert_inner_spans_under(exporter, "numbers", count=3)


def test_untraced_calls_and_other_callbacks_leave_the_current_span_alone(
    provider: TracerProvider, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    seen: list[Any] = []
    step = RunnableLambda(lambda x: seen.append(trace.get_current_span()) or x)

    class Quiet:
        run_inline = True

        def on_start(self, run: object) -> None:
            pass

    with tracer.start_as_current_span("request") as request:
        step.invoke(1)
        step.invoke(1, {"callbacks": [Quiet()], "max_concurrency": 2})
    assert seen == [request, request]


def test_no_warning_under_dev_mode_on_either_loop() -> None:
    """`-X dev` and warnings as errors: asyncio's debug mode checks what leaks across tasks."""
    script = textwrap.dedent(
        """
        import anyio, logging, sys
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from runnables import RunnableLambda
        from runnables.otel import OpenTelemetryCallback

        logging.basicConfig(level=logging.WARNING)
        provider = TracerProvider()
        tracer = provider.get_tracer("app")

        async def numbers(x):
            with tracer.start_as_current_span("inner"):
                pass
            for i in range(3):
                yield i
                await anyio.sleep(0)

        chain = RunnableLambda(lambda x: x) | RunnableLambda(numbers)

        async def main():
            config = {"callbacks": [OpenTelemetryCallback(provider)]}
            with tracer.start_as_current_span("request") as request:
                assert await chain.ainvoke(1, config) == 3
                async for _ in chain.astream(1, config):
                    break
                async for _ in chain.astream_events(1, config):
                    break
                with anyio.move_on_after(0.01):
                    async for _ in chain.astream(1, config):
                        await anyio.sleep(1)
                assert trace.get_current_span() is request

        for backend in ("asyncio", "trio"):
            anyio.run(main, backend=backend)
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")


def test_a_mock_callback_is_asked_for_its_notifications_only() -> None:
    """The code scope hook is a method of the callback's class, not a name a mock makes up."""
    callback = MagicMock()
    assert RunnableLambda(lambda x: x + 1).invoke(1, {"callbacks": [callback]}) == 2
    assert [name for name, _, _ in callback.method_calls] == ["on_start", "on_end"]


class LangChainStyle(RunnableBase[int, int]):
    """A runnable writing the public `invoke`/`ainvoke`, as LangChain's do."""

    __slots__ = ("tracer",)

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def invoke(self, input: int, config: RunnableConfig | None = None) -> int:
        with self.tracer.start_as_current_span("inner"):
            return input

    async def ainvoke(self, input: int, config: RunnableConfig | None = None) -> int:
        with self.tracer.start_as_current_span("inner"):
            return input


@pytest.mark.anyio
async def test_a_runnable_writing_invoke_runs_it_in_its_span(
    anyio_backend: str, provider: TracerProvider, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    step = LangChainStyle(tracer)
    chain = RunnableLambda(lambda x: x) | step
    assert chain.invoke(1, traced(provider)) == 1
    assert await chain.ainvoke(1, traced(provider)) == 1
    assert_inner_spans_under(exporter, "LangChainStyle", count=2)
