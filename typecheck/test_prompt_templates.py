# pyright: reportUnusedVariable=false
"""LangChain's spellings of prompts type-check: ``input_variables=`` and list content."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from runnables.prompts import ChatPromptTemplate, ChatPromptValue, PromptTemplate


def keyword_spelling() -> None:
    prompt = PromptTemplate(input_variables=["topic"], template="a joke about {topic}")
    assert_type(prompt, PromptTemplate)
    assert_type(prompt.input_variables, list[str])
    bad = PromptTemplate(input_variables=[1], template="{x}")  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]


def list_content_and_dicts() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", [{"type": "text", "text": "You answer {style}."}]),
            ("human", ["{question}", {"type": "image_url", "image_url": {"url": "{image}"}}]),
            {"role": "user", "content": "{more}"},
        ]
    )
    assert_type(prompt.invoke({"style": "s", "question": "q", "image": "i"}), ChatPromptValue)
    values: dict[str, Any] = {}
    assert_type(prompt.format_messages(**values)[0].content, str | list[str | dict[str, Any]])
