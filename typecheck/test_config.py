# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""`RunnableConfig` is a closed `TypedDict`: unknown keys and wrong value types are errors."""

from __future__ import annotations

import uuid

from typing_extensions import assert_type

from runnables import Callback, Run, RunnableBinding, RunnableConfig, RunnableLambda


class EndsOnly:
    """A callback may write any one of the four methods, sync or async."""

    async def on_end(self, run: Run) -> None:
        return None


class ErrorsOnly:
    def on_error(self, run: Run, error: BaseException) -> None:
        return None


class LangChainStyle:
    """No method runnables calls: not a callback."""

    def on_chain_start(self, serialized: dict[str, object], inputs: object) -> None:
        return None


def to_len(text: str) -> int:
    return len(text)


def config_values() -> None:
    r = RunnableLambda(to_len)
    config: RunnableConfig = {
        "tags": ["a"],
        "metadata": {"k": 1},
        "callbacks": [],
        "run_name": "n",
        "max_concurrency": None,
        "recursion_limit": 10,
        "configurable": {"x": 1},
        "run_id": uuid.uuid4(),
    }
    assert_type(r.invoke("a", config), int)
    assert_type(r.invoke("a", {"max_concurrency": 3}), int)
    assert_type(r.batch(["a"], {"max_concurrency": 3}), list[int])
    assert_type(r.with_config(config), RunnableBinding[str, int])
    assert_type(r.with_config(config, run_name="x"), RunnableBinding[str, int])
    assert_type(r.with_config(max_concurrency=2, recursion_limit=5), RunnableBinding[str, int])
    callbacks: list[Callback] = [EndsOnly(), ErrorsOnly()]
    assert_type(r.invoke("a", {"callbacks": callbacks}), int)


async def negative() -> None:
    r = RunnableLambda(to_len)
    # An unknown key in a config literal given to a call. (mypy reports the whole literal as
    # not a `RunnableConfig | None`, under `arg-type`; assigned to a plain `RunnableConfig`
    # it names the key, under `typeddict-unknown-key`.)
    bad_invoke = r.invoke("a", {"tag": ["a"]})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    bad_ainvoke = await r.ainvoke("a", {"timeout": 3})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    bad_batch = r.batch(["a"], {"max_concurency": 2})  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    bad_stream = r.stream("a", {"runname": "x"})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # An unknown key given to with_config, as a dict or as a keyword.
    bad_dict = r.with_config({"tag": ["a"]})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    bad_kwarg = r.with_config(tag=["a"])  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    # A known key with a value of the wrong type.
    bad_value = r.invoke("a", {"tags": "a"})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    bad_kw_value = r.with_config(max_concurrency="2")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    bad_variable: RunnableConfig = {"tags": [], "verbose": True}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
    # Something with none of the callback methods is not a callback.
    no_callback = r.invoke("a", {"callbacks": [LangChainStyle()]})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    not_a_list = r.invoke("a", {"callbacks": EndsOnly()})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
