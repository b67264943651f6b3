"""`to_langchain(r)`'s schemas are `r`'s derived ones, so that LangChain's `.as_tool()` has the
arguments a chain starting with a prompt takes: checked against the same chain written in
LangChain, and with the tool bound to a real `ChatOpenAI` against the loopback server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import FakeListChatModel as LCFakeListChatModel
from langchain_core.output_parsers import StrOutputParser as LCStrOutputParser
from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI

from openai_server import OpenAIServer, Reply
from runnables import RunnableLambda
from runnables.langchain import to_langchain
from runnables.models import FakeListChatModel
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate

pytestmark = pytest.mark.filterwarnings(
    "ignore::langchain_core._api.beta_decorator.LangChainBetaWarning"
)

TEMPLATE = "tell me a {adjective} joke about {topic}"


def ours() -> Any:
    chain = (
        ChatPromptTemplate.from_template(TEMPLATE) | FakeListChatModel(["ha"]) | StrOutputParser()
    )
    return to_langchain(chain)


def theirs() -> Any:
    prompt = LCChatPromptTemplate.from_template(TEMPLATE)
    return prompt | LCFakeListChatModel(responses=["ha"]) | LCStrOutputParser()


def test_the_input_schema_is_the_derived_one() -> None:
    chain = ChatPromptTemplate.from_template(TEMPLATE) | FakeListChatModel(["ha"])
    exported = to_langchain(chain)
    assert exported.get_input_jsonschema() == chain.input_schema.json_schema()
    assert exported.get_input_jsonschema()["required"] == ["adjective", "topic"]
    assert exported.input_schema.model_validate({"adjective": "dry", "topic": "cats"})


def test_as_tool_takes_the_prompts_variables_as_langchain_does() -> None:
    tool, native = (
        ours().as_tool(name="joke", description="a joke"),
        theirs().as_tool(name="joke", description="a joke"),
    )
    assert convert_to_openai_tool(tool) == convert_to_openai_tool(native)
    assert tool.args == native.args
    assert tool.invoke({"adjective": "dry", "topic": "cats"}) == "ha"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # LangChain's async runs on asyncio
async def test_as_tool_runs_asynchronously(anyio_backend: str) -> None:
    tool = ours().as_tool(name="joke", description="a joke")
    assert await tool.ainvoke({"adjective": "dry", "topic": "cats"}) == "ha"


def test_the_output_schema_is_the_derived_one_too() -> None:
    assert ours().get_output_jsonschema() == theirs().get_output_jsonschema()
    shaped = RunnableLambda(lambda text: {"text": text}).with_types(
        input_type=str, output_type=dict[str, str]
    )
    assert to_langchain(shaped).get_output_jsonschema()["additionalProperties"] == {
        "type": "string"
    }


def test_a_model_keeps_langchains_schema_for_what_crosses_converted() -> None:
    model = to_langchain(FakeListChatModel(["a"]))
    assert model.get_output_jsonschema()["title"] == "AIMessage"  # LangChain's message
    assert "anyOf" in model.get_input_jsonschema()


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def test_a_chat_model_is_offered_the_tool_with_its_arguments(server: OpenAIServer) -> None:
    model = ChatOpenAI(base_url=server.base_url, api_key="sk-test", model="gpt-test", max_retries=0)  # pyright: ignore[reportArgumentType]
    tool = ours().as_tool(name="joke", description="tells a joke")
    call = ("call_1", "joke", {"adjective": "dry", "topic": "cats"})
    server.script(Reply("", tool_calls=(call,)))
    answer = model.bind_tools([tool]).invoke("a joke please")
    (offered,) = server.requests[0].body["tools"]
    assert offered["function"]["parameters"]["required"] == ["adjective", "topic"]
    assert set(offered["function"]["parameters"]["properties"]) == {"adjective", "topic"}
    assert tool.invoke(answer.tool_calls[0]["args"]) == "ha"
