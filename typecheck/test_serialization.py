# pyright: reportUnusedVariable=false
"""Serialization: `dumps` takes any value, `loads` gives a runnable of unknown types, or the
type asked for with `type=`."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from runnables import Runnable, RunnableSequence
from runnables.load import dumpd, dumps, load, loads
from runnables.prompts import PromptTemplate


def writing(chain: Runnable[str, int]) -> None:
    assert_type(dumps(chain), str)
    assert_type(dumps(chain, pretty=True), str)
    assert_type(dumpd(chain), dict[str, Any])


def loading(text: str) -> None:
    assert_type(loads(text), Runnable[Any, Any])
    assert_type(loads(text, allowed=["mymodule"]), Runnable[Any, Any])
    assert_type(loads(text, type=PromptTemplate), PromptTemplate)
    assert_type(loads(text, type=RunnableSequence[str, int]), RunnableSequence[str, int])
    assert_type(loads(text, type=Runnable[str, int]), Runnable[str, int])
    assert_type(load(dumpd(PromptTemplate("{x}")), type=PromptTemplate), PromptTemplate)
    typed: Runnable[str, int] = loads(text, type=Runnable[str, int])
    assert_type(typed.invoke("a"), int)


def refused(text: str) -> None:
    loads(text, pretty=True)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    loads(text, secrets_map={"KEY": 1})  # type: ignore[dict-item]  # pyright: ignore[reportArgumentType]
    wrong: Runnable[str, str] = loads(text, type=Runnable[str, int])  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
