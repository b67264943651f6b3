# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""Per-request configuration: configurable fields and alternatives keep the runnable's types."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from runnables import (
    ConfigurableField,
    ConfigurableFieldSingleOption,
    ConfigurableFieldSpec,
    Runnable,
    RunnableConfigurableAlternatives,
    RunnableConfigurableFields,
    RunnableLambda,
    RunnableSequence,
)
from runnables.messages import AIMessage
from runnables.models import FakeListChatModel, LanguageModelInput
from runnables.parsers import StrOutputParser
from runnables.schema import Schema


def word_count(text: str) -> int:
    return len(text.split())


def shout(text: str) -> str:
    return text.upper()


def anything_len(value: object) -> bool:
    return bool(value)


def fields_keep_types() -> None:
    model = FakeListChatModel(responses=["a"])
    tuned = model.configurable_fields(responses=ConfigurableField(id="answers"))
    assert_type(tuned, RunnableConfigurableFields[LanguageModelInput, AIMessage])
    assert_type(tuned.invoke("hi"), AIMessage)
    assert_type(tuned | StrOutputParser(), RunnableSequence[LanguageModelInput, str])
    as_runnable: Runnable[str, AIMessage] = tuned
    option = ConfigurableFieldSingleOption(id="mode", options={"a": ["x"]}, default="a")
    assert_type(
        tuned.configurable_fields(sleep=option),
        RunnableConfigurableFields[LanguageModelInput, AIMessage],
    )
    assert_type(tuned.config_specs, tuple[ConfigurableFieldSpec, ...])
    assert_type(tuned.config_schema(), Schema[dict[str, Any]])
    assert_type(tuned.get_config_jsonschema(), dict[str, Any])


def alternatives_keep_types() -> None:
    r = RunnableLambda(word_count)
    which = ConfigurableField(id="counter")
    assert_type(
        r.configurable_alternatives(which, other=r), RunnableConfigurableAlternatives[str, int]
    )
    # A factory of an alternative, and one taking a wider input and giving a narrower output.
    assert_type(
        r.configurable_alternatives(which, built=lambda: r, wide=RunnableLambda(anything_len)),
        RunnableConfigurableAlternatives[str, int],
    )
    assert_type(r.configurable_alternatives(which).invoke("a b"), int)


def refused() -> None:
    r = RunnableLambda(word_count)
    which = ConfigurableField(id="counter")
    # An alternative whose output is not the runnable's.
    bad_output = r.configurable_alternatives(which, other=RunnableLambda(shout))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # A factory building one of other types.
    bad_factory = r.configurable_alternatives(which, other=lambda: RunnableLambda(shout))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # A field must be described by a ConfigurableField (or an option field), not a bare value.
    model = FakeListChatModel(responses=["a"])
    bad_field = model.configurable_fields(responses=["x"])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # `which` is a ConfigurableField, not the key alone.
    bad_which = r.configurable_alternatives("counter", other=r)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
