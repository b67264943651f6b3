# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""runnables.serve: RemoteRunnable carries the types declared for it; add_routes takes any
runnable and a typed per-request hook."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from typing_extensions import assert_type

from runnables import Runnable, RunnableConfig, RunnableSequence, runnable
from runnables.messages import AIMessage
from runnables.models import FakeListChatModel
from runnables.prompts import ChatPromptTemplate
from runnables.serve import Limits, RemoteInputError, RemoteRunnable, add_routes, create_app
from runnables.tracing import RunLog, RunLogPatch, StreamEvent


@runnable
def shout(text: str) -> str:
    return text.upper()


def declared_by_subscript() -> None:
    remote = RemoteRunnable[str, int]("http://127.0.0.1:8000/count")
    assert_type(remote.invoke("a b"), int)
    assert_type(remote.batch(["a"]), list[int])
    as_protocol: Runnable[str, int] = remote
    bad = remote.invoke(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def declared_by_types() -> None:
    remote = RemoteRunnable("http://127.0.0.1:8000/shout", input_type=str, output_type=str)
    assert_type(remote, RemoteRunnable[str, str])
    assert_type(remote.stream("a"), Iterator[str])


async def composed() -> None:
    remote = RemoteRunnable[str, str]("http://127.0.0.1:8000/shout")
    chain = shout | remote | shout
    assert_type(chain, RunnableSequence[str, str])
    assert_type(await chain.ainvoke("a"), str)
    chat = ChatPromptTemplate.from_template("{topic}") | RemoteRunnable[Any, AIMessage]("u")
    assert_type(await chat.ainvoke({"topic": "x"}), AIMessage)
    wrong = remote | FakeListChatModel(["x"]) | RemoteRunnable[int, int]("u")  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]


async def observed() -> None:
    remote = RemoteRunnable[str, str]("http://127.0.0.1:8000/shout")
    patches = remote.astream_log("a")
    assert_type(patches, AsyncIterator[RunLogPatch])
    assert_type(remote.astream_log("a", diff=False), AsyncIterator[RunLog])
    assert_type(remote.astream_events("a"), AsyncIterator[StreamEvent])


def errors(error: RemoteInputError) -> None:
    assert_type(error.errors, list[str])
    assert_type(error.status_code, int | None)
    as_value_error: ValueError = error


def served() -> None:
    async def per_user(request: Request, config: RunnableConfig) -> RunnableConfig:
        return {**config, "configurable": {"user": request.headers["x-user"]}}

    app = Starlette()
    add_routes(app, shout, path="/shout", per_request=per_user, limits=Limits(run_seconds=5))
    assert_type(create_app(shout, configurable={"user": str}), Starlette)
    add_routes(app, shout, limits=5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
