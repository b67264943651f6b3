# pyright: reportUnusedVariable=false, reportUnusedImport=false
"""Imports: the checkers see only the real public names (the lazy loading is for run time)."""

from typing_extensions import assert_type

import runnables
from runnables import RunnableLambda


def misspelled_names_are_errors() -> None:
    from runnables import RunnableLamda  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownVariableType]  # noqa: F401

    bad = runnables.RunableSequence  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]


def real_names_keep_their_types() -> None:
    def length(text: str) -> int:
        return len(text)

    assert_type(RunnableLambda(length), RunnableLambda[str, int])
    assert_type(runnables.RunnableLambda(length), RunnableLambda[str, int])
