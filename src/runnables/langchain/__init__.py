"""Bridges to LangChain (`pip install runnables[langchain]`): `from_langchain` wraps a
LangChain runnable as a typed runnables value, `to_langchain` hands a runnables chain to
LangChain (LCEL, LangGraph), and LangChain callback handlers given in `config["callbacks"]`
are told of runnables' runs. Importing this module imports `langchain_core`;
`import runnables` does not.
"""

try:
    import langchain_core  # noqa: F401  # pyright: ignore[reportUnusedImport]
except ImportError as _missing:  # (private: not part of the module's API)
    raise ImportError(
        "runnables.langchain needs langchain-core: pip install 'runnables[langchain]'"
    ) from _missing

from runnables.langchain._convert import from_lc as from_langchain_value
from runnables.langchain._convert import to_lc as to_langchain_value
from runnables.langchain._export import to_langchain
from runnables.langchain._wrap import LangChainRunnable, from_langchain

__all__ = [
    "LangChainRunnable",
    "from_langchain",
    "from_langchain_value",
    "to_langchain",
    "to_langchain_value",
]
