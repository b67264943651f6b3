"""runnables: strictly typed, composable, streaming pipeline steps."""

from runnables._core.base import RunnableBase
from runnables._core.config import RunnableConfig
from runnables._core.protocol import Runnable
from runnables._core.runs import Callback, Run
from runnables._primitives.binding import RunnableBinding
from runnables._primitives.branch import RunnableBranch
from runnables._primitives.each import RunnableEach
from runnables._primitives.fallbacks import RunnableWithFallbacks
from runnables._primitives.generator import RunnableGenerator
from runnables._primitives.lambda_ import RunnableLambda, runnable
from runnables._primitives.parallel import RunnableParallel
from runnables._primitives.passthrough import RunnableAssign, RunnablePassthrough, RunnablePick
from runnables._primitives.retry import RunnableRetry
from runnables._primitives.sequence import RunnableSequence

__all__ = [
    "Callback",
    "Run",
    "Runnable",
    "RunnableAssign",
    "RunnableBase",
    "RunnableBinding",
    "RunnableBranch",
    "RunnableConfig",
    "RunnableEach",
    "RunnableGenerator",
    "RunnableLambda",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnablePick",
    "RunnableRetry",
    "RunnableSequence",
    "RunnableWithFallbacks",
    "runnable",
]


def _show_public_module() -> None:
    """Make reprs, tracebacks and docs show `runnables.X`, not the private module."""
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", "").startswith("runnables._"):
            obj.__module__ = "runnables"


_show_public_module()
