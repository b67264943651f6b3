# pyright: reportUnusedVariable=false, reportUnknownVariableType=false
"""LangChain's helpers: bind, as_tool, get_name, pipe(name=), RouterRunnable, RunnableMap,
passthrough taps, the config helpers, Graph's ends, and a tool's batch of ToolCalls."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from runnables import (
    RouterRunnable,
    RunnableBase,
    RunnableConfig,
    RunnableLambda,
    RunnableMap,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
    ensure_config,
    get_config_list,
    merge_configs,
    patch_config,
    run_in_executor,
)
from runnables.graph import Node
from runnables.messages import AIMessage, ToolMessage
from runnables.tools import Tool, tool


def to_len(text: str) -> int:
    return len(text)


def add(x: int, *, k: int = 1) -> int:
    return x + k


def show(value: str) -> None:
    print(value)


def bind_and_helpers() -> None:
    assert_type(RunnableLambda(add).bind(k=2), RunnableBase[int, int])
    assert_type(RunnableLambda(to_len).get_name("input"), str)
    assert_type(RunnableLambda(to_len).get_input_jsonschema(), dict[str, Any])
    assert_type(RunnableLambda(to_len).get_output_jsonschema(), dict[str, Any])
    assert_type(RunnableLambda(to_len).get_prompts(), list[RunnableBase[Any, Any]])
    assert_type(RunnableLambda(to_len).as_tool(name="length"), Tool[int])
    assert_type(RunnableLambda(to_len).pipe(add, name="n"), RunnableSequence[str, int])
    assert_type(RunnableLambda(to_len).pipe(name="n"), RunnableSequence[str, int])
    RunnableLambda(to_len).pipe(to_len, name="n")  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]


def router_and_map() -> None:
    router = RouterRunnable({"a": RunnableLambda(to_len), "b": RunnableLambda(to_len)})
    assert_type(router, RouterRunnable[int])
    assert_type(RouterRunnable({"a": to_len}), RouterRunnable[int])
    assert_type(RouterRunnable({"a": to_len, "b": RunnableLambda(to_len)}), RouterRunnable[Any])
    assert_type(router.invoke({"key": "a", "input": "x"}), int)
    bad = router.invoke("a")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert_type(RunnableMap(a=to_len), RunnableParallel[str])


def taps() -> None:
    tap = RunnablePassthrough(show)
    assert_type(tap, RunnablePassthrough[str])
    assert_type(tap.invoke("x"), str)
    bad = tap.invoke(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


async def config_helpers() -> None:
    assert_type(ensure_config(), RunnableConfig)
    assert_type(ensure_config({"tags": ["a"]}), RunnableConfig)
    assert_type(patch_config(None, recursion_limit=3), RunnableConfig)
    assert_type(merge_configs({"tags": ["a"]}, None), RunnableConfig)
    assert_type(get_config_list(None, 2), list[RunnableConfig])
    bad = ensure_config({"tagz": ["a"]})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert_type(await run_in_executor(None, to_len, "abc"), int)
    assert_type(await run_in_executor(None, add, 1, k=2), int)
    bad_args = await run_in_executor(None, to_len, 1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def graph_ends() -> None:
    graph = RunnableLambda(to_len).get_graph()
    assert_type(graph.first_node(), Node | None)
    assert_type(graph.last_node(), Node | None)
    assert_type(graph.to_json(), dict[str, list[dict[str, Any]]])


def tool_batches(message: AIMessage) -> None:
    @tool
    def double(x: int) -> int:
        """Double x."""
        return 2 * x

    assert_type(double.batch(message.tool_calls), list[ToolMessage])
    assert_type(double.batch([{"x": 1}]), list[int])
    assert_type(
        double.batch(message.tool_calls, return_exceptions=True), list[ToolMessage | Exception]
    )


async def tool_abatches(message: AIMessage) -> None:
    @tool
    def double(x: int) -> int:
        """Double x."""
        return 2 * x

    assert_type(await double.abatch(message.tool_calls), list[ToolMessage])
