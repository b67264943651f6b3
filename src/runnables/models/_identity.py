"""A model's identity in its runs' metadata, under the `ls_*` keys LangChain's models use.

LangChain's chat models and LLMs put `ls_provider`, `ls_model_name`, `ls_model_type`,
`ls_temperature`, `ls_max_tokens` and `ls_stop` in the metadata of their runs
(`_get_ls_params`); tracers read them there (the OpenTelemetry callback's
`gen_ai.request.model` and `gen_ai.provider.name`, LangSmith, LangChain handlers). Our models
give the same keys, worked out by the same rules, so that a trace names the model either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["default_provider", "ls_params"]


def default_provider(class_name: str, model_type: str) -> str:
    """The provider a model class names when it does not say, as LangChain derives it: the
    class name lowercased, without a leading or trailing "Chat" (chat models) or a trailing
    "LLM" (text models)."""
    if model_type == "chat":
        if class_name.startswith("Chat"):
            class_name = class_name[4:]
        elif class_name.endswith("Chat"):
            class_name = class_name[:-4]
    else:
        class_name = class_name.removesuffix("LLM")
    return class_name.lower()


def _first(kind: type[Any] | tuple[type[Any], ...], *values: object) -> Any:
    """The first of `values` of type `kind` (a bool is no number), else None."""
    return next(
        (v for v in values if isinstance(v, kind) and not isinstance(v, bool)),
        None,
    )


def ls_params(
    model: object,
    provider: str,
    model_type: str,
    stop: Sequence[str] | None,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """The `ls_*` metadata of a call of `model` with bound `options` (`stop` apart): each
    value from the options first, then from the model's field of that name."""
    params: dict[str, Any] = {"ls_provider": provider, "ls_model_type": model_type}
    name = _first(
        str, options.get("model"), getattr(model, "model", None), getattr(model, "model_name", None)
    )
    if name is not None:
        params["ls_model_name"] = name
    temperature = _first(
        (int, float), options.get("temperature"), getattr(model, "temperature", None)
    )
    if temperature is not None:
        params["ls_temperature"] = temperature
    max_tokens = _first(int, options.get("max_tokens"), getattr(model, "max_tokens", None))
    if max_tokens is not None:
        params["ls_max_tokens"] = max_tokens
    stops = stop if stop else getattr(model, "stop", None)
    if stops:
        params["ls_stop"] = list(stops)
    return params
