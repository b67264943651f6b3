"""The call options an OpenAI-style model knows, so that `bind` can refuse a misspelt one."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from runnables.errors import RunnablesTypeError

__all__ = ["OPENAI_CALL_OPTIONS", "check_call_options"]

#: The request fields of OpenAI's chat and text completions a call may set (`model`,
#: `messages` and `stream` are the model's own), and `extra_body` for any other field.
OPENAI_CALL_OPTIONS = frozenset(
    {
        "audio",
        "best_of",
        "echo",
        "extra_body",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "metadata",
        "modalities",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream_options",
        "suffix",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    }
)


def check_call_options(model: str, options: Mapping[str, object], known: frozenset[str]) -> None:
    """Raise `TypeError` naming each option of `options` that is not in `known`."""
    unknown = sorted(key for key in options if key not in known)
    if not unknown:
        return
    hints = [
        f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key)
        for key in unknown
        for close in [difflib.get_close_matches(key, known, n=1)]
    ]
    raise RunnablesTypeError(
        f"{model} does not know the call option(s) {', '.join(hints)}; it accepts "
        f"{sorted(known)} (pass other request fields in extra_body={{...}})"
    )
