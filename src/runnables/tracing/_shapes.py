"""A run record as LangChain's tracers shape it, for listeners (and code ported from LangChain
that reads `run.inputs["input"]` or `run.outputs["generations"]`).

LangChain keeps a run's input and output as dicts: a value that is not a dict is wrapped as
`{"input": x}` / `{"output": y}`; a chat model's input is `{"messages": [[...]]}` and an
LLM's `{"prompts": [...]}`, their output an `LLMResult` dict of generations; a retriever's
output is `{"documents": [...]}`; a tool's input is its arguments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import attrs

if TYPE_CHECKING:
    from runnables._core.runs import Run

__all__ = ["langchain_run"]


def langchain_run(run: Run) -> Run:
    """A copy of `run` whose `inputs` and `outputs` have LangChain's shapes."""
    return attrs.evolve(
        run, inputs=_inputs(run.run_type, run.inputs), outputs=_outputs(run.run_type, run.outputs)
    )


def _inputs(run_type: str, value: Any) -> Any:
    from runnables.errors import RunnablesTypeError

    try:
        if run_type == "chat_model":
            from runnables.models.base import messages_of

            return {"messages": [messages_of(value)]}
        if run_type == "llm":
            from runnables.models.base import prompt_of

            return {"prompts": [prompt_of(value)]}
    except RunnablesTypeError:
        pass  # a value the model refuses is shown as it is
    if run_type == "tool":
        from runnables.tools import as_tool_call

        call = as_tool_call(value)
        if call is not None:
            return dict(call.args)
    return _as_dict(value, "input")


def _outputs(run_type: str, value: Any) -> Any:
    if value is None:
        return None
    if run_type in ("chat_model", "llm"):
        return _llm_result(run_type, value)
    if run_type == "retriever":
        return {"documents": value}
    return _as_dict(value, "output")


def _llm_result(run_type: str, output: Any) -> dict[str, Any]:
    if run_type == "chat_model":
        content = getattr(output, "content", output)
        text = content if isinstance(content, str) else ""
        generation = {
            "text": text,
            "message": output,
            "generation_info": None,
            "type": "ChatGeneration",
        }
    else:
        generation = {"text": output, "generation_info": None, "type": "Generation"}
    return {"generations": [[generation]], "llm_output": None, "run": None, "type": "LLMResult"}


def _as_dict(value: Any, key: str) -> dict[str, Any]:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {key: value}
