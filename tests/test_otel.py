"""`runnables.otel`: runs as OpenTelemetry spans, checked with the SDK's in-memory exporter."""

from __future__ import annotations

import datetime
import enum
import json
import uuid
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from openai_server import OpenAIServer, Reply
from runnables import RunnableLambda, RunnableParallel, RunnablePassthrough, RunnableSequence
from runnables.models import FakeListChatModel, OpenAIChatModel
from runnables.otel import OpenTelemetryCallback
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore

ANSWER = "Harrison worked at Kensho."


class Color(enum.Enum):
    RED = "red"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def retrieval_chain() -> Any:
    prompt = ChatPromptTemplate.from_template("Context: {context}\nQuestion: {question}")
    store = InMemoryVectorStore.from_texts(["harrison worked at kensho"], HashingEmbeddings())
    return (
        {
            "context": store.as_retriever().with_config(run_name="Docs"),
            "question": RunnablePassthrough(),
        }
        | prompt
        | FakeListChatModel([ANSWER]).with_config(run_name="my_llm")
        | StrOutputParser()
    )


def tree(spans: tuple[ReadableSpan, ...]) -> list[tuple[int, str]]:
    """(depth, name) of each span, depth-first in start order."""
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    ids = {s.context.span_id for s in spans if s.context is not None}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = span.parent.span_id if span.parent is not None else None
        by_parent.setdefault(parent if parent in ids else None, []).append(span)
    out: list[tuple[int, str]] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in by_parent.get(parent, []):
            out.append((depth, span.name))
            assert span.context is not None
            walk(span.context.span_id, depth + 1)

    walk(None, 0)
    return out


SEED_TREE = [
    (0, "RunnableSequence"),
    (1, "RunnableParallel<context,question>"),
    (2, "Docs"),
    (2, "RunnablePassthrough"),
    (1, "ChatPromptTemplate"),
    (1, "my_llm"),
    (1, "StrOutputParser"),
]


def branches_sorted(found: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The parallel's two branches start together: their order is not fixed."""
    return [*found[:2], *sorted(found[2:4]), *found[4:]]


@pytest.mark.anyio
async def test_the_seed_chain_as_a_span_tree(
    anyio_backend: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    callback = OpenTelemetryCallback(provider)
    chain = retrieval_chain()
    assert await chain.ainvoke("where did harrison work?", {"callbacks": [callback]}) == ANSWER
    spans = exporter.get_finished_spans()
    assert branches_sorted(tree(spans)) == SEED_TREE
    llm = next(
        s for s in spans if s.attributes and s.attributes.get("runnables.run_type") == "chat_model"
    )
    assert llm.kind == SpanKind.CLIENT
    assert llm.attributes is not None
    assert llm.attributes["gen_ai.operation.name"] == "chat"
    docs = next(s for s in spans if s.name == "Docs")
    assert docs.attributes is not None
    assert docs.attributes["runnables.run_type"] == "retriever"
    assert "harrison worked at kensho" in str(docs.attributes["runnables.output"])
    assert all(s.status.status_code == StatusCode.OK for s in spans)


def test_batch_gives_one_tree_per_input(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    chain = RunnableLambda(lambda x: x + 1) | RunnableLambda(lambda x: x * 2)  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownVariableType]
    assert chain.batch([1, 2, 3], {"callbacks": [OpenTelemetryCallback(provider)]}) == [4, 6, 8]  # pyright: ignore[reportUnknownMemberType]
    found = tree(exporter.get_finished_spans())
    assert found == [(0, "RunnableSequence"), (1, "RunnableLambda"), (1, "RunnableLambda")] * 3


@pytest.mark.anyio
async def test_parallel_branches_and_fallbacks(
    anyio_backend: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    def fail(x: int) -> int:
        raise ValueError(f"no {x}")

    guarded = RunnableLambda(fail).with_fallbacks([RunnableLambda(lambda x: -x)])  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    chain = RunnableParallel(a=guarded, b=RunnableLambda(lambda x: x))  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    assert await chain.ainvoke(5, {"callbacks": [OpenTelemetryCallback(provider)]}) == {  # pyright: ignore[reportUnknownMemberType]
        "a": -5,
        "b": 5,
    }
    spans = exporter.get_finished_spans()
    found = tree(spans)
    assert found[0][1].startswith("RunnableParallel")
    # The fallbacks' run is named after the runnable it guards (as in LangChain).
    assert sorted(n for d, n in found if d == 1) == ["RunnableLambda", "fail"]
    assert sorted(n for d, n in found if d == 2) == ["RunnableLambda", "fail"]
    guard = next(
        s for s in spans if s.name == "fail" and s.parent == spans_named(spans, found[0][1]).context
    )
    failed = next(s for s in spans if s.name == "fail" and s is not guard)
    assert failed.parent == guard.context
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "ValueError"
    assert [e.name for e in failed.events] == ["exception"]
    assert guard.status.status_code == StatusCode.OK


def spans_named(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    (span,) = [s for s in spans if s.name == name]
    return span


def test_a_call_inside_a_users_span_is_its_child(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("request"):
        RunnableLambda(lambda x: x).invoke(1, {"callbacks": [OpenTelemetryCallback(provider)]})  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    assert tree(exporter.get_finished_spans()) == [(0, "request"), (1, "RunnableLambda")]


def test_content_limits_and_opt_out(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    echo = RunnableLambda(lambda x: x)  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownVariableType]
    echo.invoke("x" * 100, {"callbacks": [OpenTelemetryCallback(provider, max_content_length=10)]})  # pyright: ignore[reportUnknownMemberType]
    echo.invoke("secret", {"callbacks": [OpenTelemetryCallback(provider, record_content=False)]})  # pyright: ignore[reportUnknownMemberType]
    short, private = exporter.get_finished_spans()
    assert short.attributes is not None
    assert short.attributes["runnables.input"] == '"' + "x" * 9 + "..."
    assert private.attributes is not None
    assert "runnables.input" not in private.attributes
    assert "runnables.output" not in private.attributes


def test_model_runs_follow_the_genai_conventions(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    with OpenAIServer() as server:
        server.script(Reply("one two three", usage=usage))
        model = OpenAIChatModel("gpt-test", base_url=server.base_url, api_key="sk-test")
        callback = OpenTelemetryCallback(provider)
        chunks = list(model.stream("q", {"callbacks": [callback]}))
    assert "".join(c.text for c in chunks) == "one two three"
    (span,) = exporter.get_finished_spans()
    assert span.kind == SpanKind.CLIENT
    assert span.name == "chat gpt-test"
    attributes = dict(span.attributes or {})
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.response.model"] == "gpt-test"
    assert attributes["gen_ai.usage.input_tokens"] == 5
    assert attributes["gen_ai.usage.output_tokens"] == 3
    assert isinstance(attributes["gen_ai.response.time_to_first_chunk"], float)
    assert [e.name for e in span.events] == ["gen_ai.first_chunk"]


def test_siblings_share_their_parent_and_nothing_is_kept_after_the_call(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    callback = OpenTelemetryCallback(provider)
    steps = [RunnableLambda(lambda x: x + 1) for _ in range(3)]  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownVariableType]
    chain = RunnableSequence(*steps)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    assert chain.invoke(0, {"callbacks": [callback]}) == 3  # pyright: ignore[reportUnknownMemberType]
    assert chain.invoke(5, {"callbacks": [callback]}) == 8  # pyright: ignore[reportUnknownMemberType]
    spans = exporter.get_finished_spans()
    roots = [s for s in spans if s.parent is None]
    assert len(roots) == 2
    for root in roots:
        assert root.context is not None
        children = [s for s in spans if s.parent is not None and s.parent == root.context]
        assert [s.name for s in children] == ["RunnableLambda"] * 3
    assert (callback._spans, callback._contexts) == ({}, {})  # pyright: ignore[reportPrivateUsage]


@pytest.mark.parametrize("value", ["x" * 100, "\n\u00e9" * 50, 'ab"c' * 3])
def test_a_long_string_is_cut_as_its_whole_json_text_would_be(
    provider: TracerProvider, exporter: InMemorySpanExporter, value: str
) -> None:
    RunnableLambda(lambda x: x).invoke(
        value, {"callbacks": [OpenTelemetryCallback(provider, max_content_length=10)]}
    )  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownMemberType]
    (span,) = exporter.get_finished_spans()
    whole = json.dumps(value, ensure_ascii=False)
    assert (span.attributes or {})["runnables.input"] == whole[:10] + "..."


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (True, "true"),
        (None, None),
        (2.5, "2.5"),
        ("é", '"é"'),
        ({"a": [1]}, '{"a": [1]}'),
        (
            datetime.datetime(2026, 12, 4, 8, 30, tzinfo=datetime.timezone.utc),
            '"2026-12-04T08:30:00+00:00"',
        ),
        (datetime.date(2026, 12, 4), '"2026-12-04"'),
        (uuid.UUID(int=1), '"00000000-0000-0000-0000-000000000001"'),
        (PurePosixPath("/tmp/x"), '"/tmp/x"'),
        ({"color": Color.RED}, '{"color": "red"}'),
        (frozenset({3}), "[3]"),
    ],
)
def test_content_is_json_text(
    provider: TracerProvider, exporter: InMemorySpanExporter, value: Any, text: str | None
) -> None:
    RunnableLambda(lambda x: x).invoke(value, {"callbacks": [OpenTelemetryCallback(provider)]})  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownMemberType]
    (span,) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert attributes.get("runnables.input") == text
    assert attributes.get("runnables.output") == text


@pytest.mark.anyio
async def test_a_step_fed_by_a_stream_records_its_input_at_its_end(
    anyio_backend: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    chain = (
        ChatPromptTemplate.from_template("say {x}")
        | FakeListChatModel(["a b"])
        | StrOutputParser()
        | RunnableLambda(str.upper)
    )
    traced: Any = {"callbacks": [OpenTelemetryCallback(provider)]}
    chunks = [chunk async for chunk in chain.astream({"x": "y"}, traced)]
    assert "".join(chunks) == "A B"
    inputs = {
        s.name: (s.attributes or {}).get("runnables.input") for s in exporter.get_finished_spans()
    }
    assert json.loads(str(inputs["RunnableSequence"])) == {"x": "y"}
    assert inputs["StrOutputParser"] is not None
    assert json.loads(str(inputs["upper"])) == "a b"


def test_a_failing_step_fed_by_a_stream_records_its_input_and_qualified_error_type(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    class Refused(Exception):
        pass

    def refuse(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            if chunk == "b":
                raise Refused(chunk)
            yield chunk

    chain = FakeListChatModel(["a b"]) | StrOutputParser() | refuse
    with pytest.raises(Refused):
        list(chain.stream("hi", {"callbacks": [OpenTelemetryCallback(provider)]}))
    (failed,) = [s for s in exporter.get_finished_spans() if s.name == "refuse"]
    assert failed.attributes is not None
    assert json.loads(str(failed.attributes["runnables.input"])) == "a b"
    assert failed.attributes["error.type"] == f"{__name__}.{Refused.__qualname__}"


def test_a_negative_content_length_is_refused(provider: TracerProvider) -> None:
    with pytest.raises(ValueError, match="max_content_length must be 0 or more, got -1"):
        OpenTelemetryCallback(provider, max_content_length=-1)


def test_a_model_provider_is_named_under_both_semconv_names(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    model = FakeListChatModel(["hi"])
    model.invoke(
        "x",
        {
            "callbacks": [OpenTelemetryCallback(provider)],
            "metadata": {"ls_provider": "acme", "ls_model_name": "m-1"},
        },
    )
    (span,) = exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["gen_ai.provider.name"] == "acme"
    assert span.attributes["gen_ai.system"] == "acme"
    assert span.attributes["gen_ai.request.model"] == "m-1"
