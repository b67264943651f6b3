"""runnables: strictly typed, composable, streaming pipeline steps.

The public names load on first use (PEP 562), so `import runnables` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runnables._core.base import RunnableBase as RunnableBase
    from runnables._core.config import RunnableConfig as RunnableConfig
    from runnables._core.config_helpers import ensure_config as ensure_config
    from runnables._core.config_helpers import get_config_list as get_config_list
    from runnables._core.config_helpers import merge_configs as merge_configs
    from runnables._core.config_helpers import patch_config as patch_config
    from runnables._core.config_helpers import run_in_executor as run_in_executor
    from runnables._core.configurable import ConfigurableField as ConfigurableField
    from runnables._core.configurable import (
        ConfigurableFieldMultiOption as ConfigurableFieldMultiOption,
    )
    from runnables._core.configurable import (
        ConfigurableFieldSingleOption as ConfigurableFieldSingleOption,
    )
    from runnables._core.configurable import ConfigurableFieldSpec as ConfigurableFieldSpec
    from runnables._core.configurable import (
        RunnableConfigurableAlternatives as RunnableConfigurableAlternatives,
    )
    from runnables._core.configurable import (
        RunnableConfigurableFields as RunnableConfigurableFields,
    )
    from runnables._core.protocol import Runnable as Runnable
    from runnables._core.protocol import SupportsInvoke as SupportsInvoke
    from runnables._core.runs import Callback as Callback
    from runnables._core.runs import Run as Run
    from runnables._primitives.binding import RunnableBinding as RunnableBinding
    from runnables._primitives.branch import RunnableBranch as RunnableBranch
    from runnables._primitives.decorators import with_config as with_config
    from runnables._primitives.decorators import with_fallbacks as with_fallbacks
    from runnables._primitives.decorators import with_listeners as with_listeners
    from runnables._primitives.decorators import with_retry as with_retry
    from runnables._primitives.decorators import with_types as with_types
    from runnables._primitives.each import RunnableEach as RunnableEach
    from runnables._primitives.fallbacks import RunnableWithFallbacks as RunnableWithFallbacks
    from runnables._primitives.generator import RunnableGenerator as RunnableGenerator
    from runnables._primitives.lambda_ import RunnableLambda as RunnableLambda
    from runnables._primitives.lambda_ import runnable as runnable
    from runnables._primitives.parallel import RunnableParallel as RunnableMap
    from runnables._primitives.parallel import RunnableParallel as RunnableParallel
    from runnables._primitives.passthrough import RunnableAssign as RunnableAssign
    from runnables._primitives.passthrough import RunnablePassthrough as RunnablePassthrough
    from runnables._primitives.passthrough import RunnablePick as RunnablePick
    from runnables._primitives.retry import ExponentialJitterParams as ExponentialJitterParams
    from runnables._primitives.retry import RunnableRetry as RunnableRetry
    from runnables._primitives.router import RouterInput as RouterInput
    from runnables._primitives.router import RouterRunnable as RouterRunnable
    from runnables._primitives.sequence import RunnableSequence as RunnableSequence
    from runnables._primitives.tuple_ import RunnableTuple as RunnableTuple
    from runnables.errors import RunnablesError as RunnablesError
    from runnables.history import RunnableWithMessageHistory as RunnableWithMessageHistory
    from runnables.tracing._custom import CustomEventError as CustomEventError
    from runnables.tracing._custom import adispatch_custom_event as adispatch_custom_event
    from runnables.tracing._custom import dispatch_custom_event as dispatch_custom_event

__all__ = [
    "Callback",
    "ConfigurableField",
    "ConfigurableFieldMultiOption",
    "ConfigurableFieldSingleOption",
    "ConfigurableFieldSpec",
    "CustomEventError",
    "ExponentialJitterParams",
    "Run",
    "Runnable",
    "RunnableAssign",
    "RunnableBase",
    "RunnableBinding",
    "RunnableBranch",
    "RunnableConfig",
    "RunnableConfigurableAlternatives",
    "RunnableConfigurableFields",
    "RunnableEach",
    "RunnableGenerator",
    "RunnableLambda",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnablePick",
    "RunnableRetry",
    "RunnableSequence",
    "RunnableTuple",
    "RunnableWithFallbacks",
    "RunnableWithMessageHistory",
    "RunnablesError",
    "SupportsInvoke",
    "adispatch_custom_event",
    "dispatch_custom_event",
    "runnable",
    "with_config",
    "with_fallbacks",
    "with_listeners",
    "with_retry",
    "with_types",
    # wrappers and helpers (LangChain's spellings)
    "RouterInput",
    "RouterRunnable",
    "RunnableMap",
    "ensure_config",
    "get_config_list",
    "merge_configs",
    "patch_config",
    "run_in_executor",
]

_WHERE = {
    "Callback": "runnables._core.runs",
    "ConfigurableField": "runnables._core.configurable",
    "ConfigurableFieldMultiOption": "runnables._core.configurable",
    "ConfigurableFieldSingleOption": "runnables._core.configurable",
    "ConfigurableFieldSpec": "runnables._core.configurable",
    "Run": "runnables._core.runs",
    "Runnable": "runnables._core.protocol",
    "RunnableAssign": "runnables._primitives.passthrough",
    "RunnableBase": "runnables._core.base",
    "RunnableBinding": "runnables._primitives.binding",
    "RunnableBranch": "runnables._primitives.branch",
    "RunnableConfig": "runnables._core.config",
    "RunnableConfigurableAlternatives": "runnables._core.configurable",
    "RunnableConfigurableFields": "runnables._core.configurable",
    "RunnableEach": "runnables._primitives.each",
    "RunnableGenerator": "runnables._primitives.generator",
    "RunnableLambda": "runnables._primitives.lambda_",
    "RunnableParallel": "runnables._primitives.parallel",
    "RunnablePassthrough": "runnables._primitives.passthrough",
    "RunnablePick": "runnables._primitives.passthrough",
    "RunnableRetry": "runnables._primitives.retry",
    "RunnableSequence": "runnables._primitives.sequence",
    "RunnableTuple": "runnables._primitives.tuple_",
    "RunnableWithFallbacks": "runnables._primitives.fallbacks",
    "RunnableWithMessageHistory": "runnables.history",
    "RunnablesError": "runnables.errors",
    "SupportsInvoke": "runnables._core.protocol",
    "runnable": "runnables._primitives.lambda_",
    "with_config": "runnables._primitives.decorators",
    "with_fallbacks": "runnables._primitives.decorators",
    "with_listeners": "runnables._primitives.decorators",
    "with_retry": "runnables._primitives.decorators",
    "with_types": "runnables._primitives.decorators",
    # wrappers and helpers (LangChain's spellings)
    "RouterInput": "runnables._primitives.router",
    "RouterRunnable": "runnables._primitives.router",
    "RunnableMap": "runnables._primitives.router",
    "ensure_config": "runnables._core.config_helpers",
    "get_config_list": "runnables._core.config_helpers",
    "merge_configs": "runnables._core.config_helpers",
    "patch_config": "runnables._core.config_helpers",
    "run_in_executor": "runnables._core.config_helpers",
    "CustomEventError": "runnables.tracing._custom",
    "ExponentialJitterParams": "runnables._primitives.retry",
    "adispatch_custom_event": "runnables.tracing._custom",
    "dispatch_custom_event": "runnables.tracing._custom",
}


if not TYPE_CHECKING:  # the checkers see only the names imported above: a typo is an error

    def __getattr__(name: str) -> Any:
        """Load a public name from its private module the first time it is asked for."""
        module = _WHERE.get(name)
        if module is None:
            raise AttributeError(f"module 'runnables' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*globals(), *__all__])
