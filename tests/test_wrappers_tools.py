"""Review findings in tools, each reproduced first: descriptions from `Annotated` parameters,
tool names providers refuse, `tool.batch(message.tool_calls)`, and structured output to a
JSON Schema dict checked against the schema."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import pytest
from typing_extensions import Doc

from runnables.messages import AIMessage, ToolCall, ToolMessage
from runnables.models import GenericFakeChatModel
from runnables.parsers import OutputParserException
from runnables.tools import Tool, convert_to_openai_tool, tool


def count_words(
    text: Annotated[str, "the text to count in"],
    minimum: Annotated[int, Doc("the shortest word counted")] = 1,
) -> int:
    """Count the words of a text."""
    return len([word for word in text.split() if len(word) >= minimum])


def described(text: Annotated[str, "from the annotation"]) -> str:
    """Echo.

    Args:
        text: from the docstring
    """
    return text


def test_annotated_descriptions_reach_the_schema() -> None:
    counter = tool(count_words)
    assert counter.args["text"]["description"] == "the text to count in"
    assert counter.args["minimum"]["description"] == "the shortest word counted"
    parameters = convert_to_openai_tool(counter)["function"]["parameters"]
    assert parameters["properties"]["text"]["description"] == "the text to count in"
    assert counter.invoke({"text": "a bb ccc", "minimum": 2}) == 2


def test_an_annotated_description_wins_over_the_docstring() -> None:
    assert tool(described).args["text"]["description"] == "from the annotation"


@pytest.mark.parametrize("name", ["add numbers", "add.numbers", "x" * 65, "añadir"])
def test_tool_names_providers_refuse_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="would be refused by model providers"):
        Tool(count_words, name=name)


def test_tool_name_error_suggests_a_name() -> None:
    with pytest.raises(ValueError, match=r"e\.g\. name='add_numbers'"):
        tool("add numbers")(count_words)


def test_names_of_schema_tools_are_checked_too() -> None:
    with pytest.raises(ValueError, match="'my schema'"):
        convert_to_openai_tool({"title": "my schema", "type": "object", "properties": {}})
    with pytest.raises(ValueError, match="'bad name'"):
        convert_to_openai_tool({"type": "function", "function": {"name": "bad name"}})
    assert Tool(count_words, name="count-words_2").name == "count-words_2"


def test_batch_of_a_messages_tool_calls_answers_tool_messages() -> None:
    counter = tool(count_words)
    message = AIMessage(
        "",
        tool_calls=[
            ToolCall("count_words", {"text": "a b"}, id="1"),
            ToolCall("count_words", {"text": "a bb", "minimum": 2}, id="2"),
        ],
    )
    answers: list[ToolMessage] = counter.batch(message.tool_calls)
    assert answers == [
        ToolMessage("2", tool_call_id="1", name="count_words"),
        ToolMessage("1", tool_call_id="2", name="count_words"),
    ]
    assert counter.batch([{"text": "a"}]) == [1]


@pytest.mark.anyio
async def test_abatch_of_tool_calls() -> None:
    counter = tool(count_words)
    answers = await counter.abatch([ToolCall("count_words", {"text": "x"}, id="1")])
    assert answers == [ToolMessage("1", tool_call_id="1", name="count_words")]


MOVIE: dict[str, Any] = {
    "title": "Movie",
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "year": {"type": "integer"},
        "genres": {"type": "array", "items": {"type": "string"}},
        "rating": {"enum": ["G", "PG", "R"]},
    },
    "required": ["title", "year"],
}


def answers(*texts: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(text) for text in texts]))


def test_json_schema_output_that_fits_is_returned() -> None:
    model = answers('{"title": "Alien", "year": 1979, "genres": ["sf"]}')
    chain = model.with_structured_output(MOVIE, method="json_mode")
    assert chain.invoke("?") == {"title": "Alien", "year": 1979, "genres": ["sf"]}


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ('{"title": "Alien"}', "$: missing required key 'year'"),
        ('{"title": "Alien", "year": "1979"}', "$.year: expected integer, got string"),
        ('{"title": "Alien", "year": true}', "$.year: expected integer, got boolean"),
        ('{"title": "Alien", "year": 1979, "genres": ["sf", 1]}', "$.genres[1]: expected string"),
        ('{"title": "Alien", "year": 1979, "rating": "X"}', "$.rating: expected one of"),
    ],
)
def test_json_schema_output_that_does_not_fit_raises(answer: str, problem: str) -> None:
    chain = answers(answer).with_structured_output(MOVIE, method="json_mode")
    with pytest.raises(OutputParserException, match="does not fit Movie") as caught:
        chain.invoke("?")
    assert problem in str(caught.value)


def test_json_schema_tool_call_output_is_checked_and_include_raw_reports_it() -> None:
    call = AIMessage("", tool_calls=[ToolCall("Movie", {"title": "Alien"}, id="c")])
    model = GenericFakeChatModel(messages=iter([call]))
    result = model.with_structured_output(MOVIE, include_raw=True).invoke("?")
    assert result["parsed"] is None
    assert "missing required key 'year'" in str(result["parsing_error"])


def test_the_tools_page_examples_pass_mypy_strict(tmp_path: Path) -> None:
    page = Path(__file__).parent.parent / "docs" / "tools.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    example = tmp_path / "tools_page.py"
    example.write_text("\n\n".join(blocks), encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(example)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
