"""OpenTelemetry spans for runs (`pip install runnables[otel]`).

`OpenTelemetryCallback` is a callback: give it in `config["callbacks"]` (or bind it with
`with_config`) and every run of the call becomes a span of your tracer provider (the global
one unless you pass another), the run tree becoming the span tree; a call made inside one of
your own spans is its child. Without it nothing is traced and nothing is paid.

Each span is named as its run and carries `runnables.run_type`, `runnables.run_id`,
`runnables.tags` and, unless `record_content=False`, the run's input and output as JSON text
cut to `max_content_length` characters and marked `...` where cut (`runnables.input`,
`runnables.output`; the input of a step fed by a stream is known, and recorded, at its end).
A run that fails records the exception, `error.type` (its fully qualified class name) and an
error status. Model runs (`chat_model`,
`llm`) follow the OpenTelemetry GenAI semantic conventions: span kind CLIENT, named
`"chat <model>"` / `"text_completion <model>"` once the model is known, with
`gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.response.model`,
`gen_ai.provider.name` (and `gen_ai.system`, its older name, for backends that read that),
`gen_ai.usage.input_tokens` / `output_tokens`, and for a streamed answer the seconds to its
first chunk (`gen_ai.response.time_to_first_chunk`, and a `gen_ai.first_chunk` event).

The spans are started and ended in place (not on a callback worker), as the runs start and
end. While a step's own code runs (a function, a generator's step, a model's, retriever's or
tool's hooks), its span is the current span, so the spans that code starts (an instrumented
HTTP client's, a driver's, your own) are its children; it is current around each call and
each step of a stream only, and the current span after the call is what it was before.
"""

from __future__ import annotations

import datetime
import enum
import json
import time
import uuid
from collections.abc import Mapping
from functools import partial
from pathlib import PurePath
from typing import Any, cast

import attrs
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from runnables._core.runs import CodeScope, Run

__all__ = ["OpenTelemetryCallback"]

_MODEL_RUNS = {"chat_model": "chat", "llm": "text_completion"}
_OK = Status(StatusCode.OK)


def _json_default(value: object) -> Any:
    """What JSON text shows of a value `json` cannot write: an attrs value by its fields (with
    its message kind), a moment in ISO 8601, an id or path as its text, an enum by its value,
    a set as a list; anything else by its `repr`."""
    cls: type[Any] = type(value)
    if attrs.has(cls):
        data = attrs.asdict(cast("attrs.AttrsInstance", value), recurse=False)
        kind = getattr(cls, "type", None)
        return {"type": kind, **data} if isinstance(kind, str) else data
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, PurePath)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return list(cast("set[Any]", value))
    return repr(value)


class OpenTelemetryCallback:
    """A callback exporting every run as an OpenTelemetry span (see the module docstring).

    Args:
        tracer_provider: where spans go; the global provider when None.
        record_content: whether inputs and outputs are recorded (they may hold private data).
        max_content_length: the most characters of an input or output recorded (a longer
            one is cut there, and `...` added); at least 0.
    """

    run_inline = True  # spans start and end in place, in order

    __slots__ = (
        "_contexts",
        "_encode",
        "_first_chunk",
        "_input_later",
        "_spans",
        "_tracer",
        "max_content_length",
        "record_content",
    )

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        *,
        record_content: bool = True,
        max_content_length: int = 4096,
    ) -> None:
        self._tracer = trace.get_tracer("runnables", tracer_provider=tracer_provider)
        self.record_content: bool = record_content
        if max_content_length < 0:
            raise ValueError(f"max_content_length must be 0 or more, got {max_content_length}")
        self.max_content_length: int = max_content_length
        # Each open run's span, and the context making it a parent (made for its first child).
        # Single dict and set operations only, which need no lock.
        self._spans: dict[uuid.UUID, Span] = {}
        self._contexts: dict[uuid.UUID, otel_context.Context] = {}
        self._first_chunk: set[uuid.UUID] = set()
        #: Runs whose input was not known at their start (a step fed by a stream): recorded at
        #: their end.
        self._input_later: set[uuid.UUID] = set()
        self._encode = json.JSONEncoder(default=_json_default, ensure_ascii=False).encode

    def _text(self, value: Any) -> str:
        limit = self.max_content_length
        kind: type[Any] = type(cast("object", value))
        if kind is str and 0 <= limit < len(value):  # its JSON text is longer: encode what shows
            value = value[:limit]
        try:
            text = str(value) if kind is int else self._encode(value)
        except (TypeError, ValueError):  # a cycle, or keys JSON cannot have
            text = repr(value)
        return text if len(text) <= limit else text[:limit] + "..."

    def _context(self, run_id: uuid.UUID | None) -> otel_context.Context | None:
        """The context making the span of run `run_id` the current one (None if it has none):
        its children's parent, and what its own code runs in."""
        if run_id is None:
            return None
        context = self._contexts.get(run_id)
        if context is None:
            span = self._spans.get(run_id)
            if span is None:
                return None
            context = self._contexts[run_id] = trace.set_span_in_context(span)
        return context

    def _code_scope(self, run: Run) -> CodeScope | None:
        """`run`'s span as the current span of its own code, while that runs (the core asks
        for it once per run, and attaches and detaches it around each step of that code)."""
        context = self._context(run.id)
        if context is None:
            return None
        return CodeScope(partial(otel_context.attach, context), otel_context.detach)

    def on_start(self, run: Run) -> None:
        operation = _MODEL_RUNS.get(run.run_type)
        attributes: dict[str, Any] = {
            "runnables.run_type": run.run_type,
            "runnables.run_id": str(run.id),
        }
        if run.tags:
            attributes["runnables.tags"] = list(run.tags)
        if operation is not None:
            attributes["gen_ai.operation.name"] = operation
            model = run.metadata.get("ls_model_name")
            if model:
                attributes["gen_ai.request.model"] = str(model)
            provider = run.metadata.get("ls_provider")
            if provider:
                attributes["gen_ai.provider.name"] = attributes["gen_ai.system"] = str(provider)
        if self.record_content:
            if run.inputs is not None:
                attributes["runnables.input"] = self._text(run.inputs)
            else:
                self._input_later.add(run.id)
        self._spans[run.id] = self._tracer.start_span(
            run.name,
            context=self._context(run.parent_id),
            kind=SpanKind.INTERNAL if operation is None else SpanKind.CLIENT,
            attributes=attributes,
        )

    def on_stream(self, run: Run, chunk: Any) -> None:
        if run.run_type not in _MODEL_RUNS or run.id in self._first_chunk:
            return
        span = self._spans.get(run.id)
        if span is None:
            return
        self._first_chunk.add(run.id)
        now = time.time_ns()
        started = getattr(span, "start_time", None) or now
        span.set_attribute("gen_ai.response.time_to_first_chunk", (now - started) / 1e9)
        span.add_event("gen_ai.first_chunk", timestamp=now)

    def on_end(self, run: Run) -> None:
        attributes = self._late_input(run)
        span = self._finish(run)
        if span is None:
            return
        if self.record_content and run.outputs is not None:
            attributes["runnables.output"] = self._text(run.outputs)
        if run.run_type in _MODEL_RUNS:
            self._model_attributes(span, run, attributes)
        if attributes:
            span.set_attributes(attributes)
        span.set_status(_OK)
        span.end()

    def on_error(self, run: Run, error: BaseException) -> None:
        attributes = self._late_input(run)
        span = self._finish(run)
        if span is None:
            return
        if attributes:
            span.set_attributes(attributes)
        span.record_exception(error)
        span.set_attribute("error.type", _error_type(error))
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:1024]))
        span.end()

    def _late_input(self, run: Run) -> dict[str, Any]:
        """The input attribute of a run whose input was known only at its end."""
        if run.id not in self._input_later:
            return {}
        self._input_later.discard(run.id)
        if run.inputs is None:
            return {}
        return {"runnables.input": self._text(run.inputs)}

    def _finish(self, run: Run) -> Span | None:
        self._first_chunk.discard(run.id)
        self._contexts.pop(run.id, None)
        return self._spans.pop(run.id, None)

    def _model_attributes(self, span: Span, run: Run, attributes: dict[str, Any]) -> None:
        output = run.outputs
        metadata: Mapping[str, Any] = getattr(output, "response_metadata", None) or {}
        model = (
            metadata.get("model_name") or metadata.get("model") or run.metadata.get("ls_model_name")
        )
        if model:
            attributes["gen_ai.response.model"] = str(model)
            span.update_name(f"{_MODEL_RUNS[run.run_type]} {model}")
        usage: Mapping[str, Any] = getattr(output, "usage_metadata", None) or {}
        for ours, theirs in (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens")):
            if ours in usage:
                attributes[f"gen_ai.usage.{theirs}"] = int(usage[ours])


def _error_type(error: BaseException) -> str:
    """`error.type` as the semantic conventions ask: the exception's fully qualified class name
    (a builtin's bare name)."""
    kind = type(error)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"
