"""`python -m runnables demo`: each fake answer fits its prompt, the output has no separator
lines, and it ends by saying where its source and the docs are."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from runnables._demo import DemoChatModel
from runnables.prompts import ChatPromptTemplate


@pytest.fixture(scope="module")
def output() -> str:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    done = subprocess.run(
        [sys.executable, "-m", "runnables", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=True,
    )
    return done.stdout


def test_each_section_gets_the_answer_its_prompt_asks_for(output: str) -> None:
    combined = next(line for line in output.splitlines() if line.startswith("combined.invoke"))
    joke, poem = combined.split("'poem': ")
    assert "bear feet" in joke
    assert "poem" not in joke.split("'joke'")[1]
    assert "Majestic bears" in poem
    assert "chain2.invoke" in output
    assert "Majestic bears" in output.split("chain2.invoke")[1]
    assert "cheetahs" not in output.split("===== invoke")[1].split("=====")[0]


def test_no_separator_lines_and_readable_schemas(output: str) -> None:
    assert not [line for line in output.splitlines() if re.fullmatch(r"\s*[-=]{2,}\s*", line)]
    assert "     'required': ['topic']}" in output  # one key per line


def test_it_ends_saying_where_the_source_and_the_docs_are(output: str) -> None:
    last = output.rstrip().splitlines()[-2:]
    assert "src/runnables/_demo.py" in last[0]
    assert "docs/" in last[1]
    assert "mkdocs serve" in last[1]


def test_the_demo_model_answers_by_the_words_of_its_prompt() -> None:
    model = DemoChatModel(token_sleep=0.0)
    poem = ChatPromptTemplate.from_template("write a poem about {topic}") | model
    assert "cat" in str(poem.invoke({"topic": "cats"}).content)
    with pytest.raises(ValueError, match="no answer for 'hello'"):
        model.invoke("hello")
