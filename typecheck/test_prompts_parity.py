# pyright: reportUnusedVariable=false
"""LangChain's prompt and parser spellings keep their types: message templates that add,
few-shot prompts, mustache, list/XML/tool call parsers and the missing-variable error."""

from __future__ import annotations

from typing import Any

import attrs
from typing_extensions import assert_type

from runnables.errors import PromptInputError, RunnablesValueError
from runnables.messages import AIMessage
from runnables.models import FakeListChatModel
from runnables.parsers import (
    AttrsToolsParser,
    JsonOutputKeyToolsParser,
    JsonOutputToolsParser,
    MarkdownListOutputParser,
    NumberedListOutputParser,
    XMLOutputParser,
)
from runnables.prompts import (
    ChatMessagePromptTemplate,
    ChatPromptTemplate,
    ChatPromptValue,
    FewShotChatMessagePromptTemplate,
    FewShotPromptTemplate,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    PromptTemplate,
    StringPromptValue,
    SystemMessagePromptTemplate,
)


def message_templates_add() -> None:
    system = SystemMessagePromptTemplate.from_template("You are {role}.")
    assert_type(system, SystemMessagePromptTemplate)
    assert_type(system + "{question}", ChatPromptTemplate)
    assert_type(system + HumanMessagePromptTemplate.from_template("{q}"), ChatPromptTemplate)
    assert_type(system + [("ai", "{a}"), AIMessage("fixed")], ChatPromptTemplate)  # noqa: RUF005
    critic = ChatMessagePromptTemplate.from_template("{verdict}", role="critic")
    assert_type(critic, ChatMessagePromptTemplate)
    assert_type(ChatPromptTemplate.from_messages([critic]) + critic, ChatPromptTemplate)
    bad = system + 3  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue, reportUnknownVariableType]


def template_formats() -> None:
    text = PromptTemplate.from_template("{{#items}}{{.}}{{/items}}", template_format="mustache")
    assert_type(text.invoke({"items": ["a"]}), StringPromptValue)
    assert_type(text + "{{more}}", PromptTemplate)
    chat = ChatPromptTemplate.from_messages([("human", "{{q}}")], template_format="mustache")
    assert_type(chat.invoke({"q": "x"}), ChatPromptValue)
    bad = PromptTemplate.from_template("{{ x }}", template_format="jinja2")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def few_shot() -> None:
    examples = [{"q": "2+2", "a": "4"}]
    text = FewShotPromptTemplate(
        examples=examples, example_prompt=PromptTemplate("{q}={a}"), suffix="{input}="
    )
    assert_type(text.invoke({"input": "1+1"}), StringPromptValue)
    assert_type(text.format(input="1+1"), str)
    shots = FewShotChatMessagePromptTemplate(
        examples=examples,
        example_prompt=ChatPromptTemplate.from_messages([("human", "{q}"), ("ai", "{a}")]),
    )
    assert_type(shots.invoke({}), ChatPromptValue)
    chat = ChatPromptTemplate.from_messages([("system", "Add."), shots, ("human", "{input}")])
    assert_type(chat, ChatPromptTemplate)
    bad = FewShotPromptTemplate(  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
        examples=examples, example_prompt=PromptTemplate("{q}")
    )


def missing_variables() -> None:
    error = PromptInputError("prompt 'p' needs variables ['x']; got []")
    as_key: KeyError = error
    as_value: RunnablesValueError = error
    placeholder = MessagesPlaceholder("history", n_messages=10)
    bad = MessagesPlaceholder("history", n_messages="10")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


@attrs.frozen
class Add:
    a: int
    b: int


@attrs.frozen
class Search:
    query: str


def parsers(message: AIMessage) -> None:
    assert_type(NumberedListOutputParser().invoke("1. a"), list[str])
    assert_type(MarkdownListOutputParser().invoke(message), list[str])
    assert_type(XMLOutputParser(tags=["a"]).invoke("<a/>"), dict[str, Any])
    assert_type(JsonOutputToolsParser(first_tool_only=True).invoke(message), Any)
    assert_type(JsonOutputKeyToolsParser(key_name="Add").invoke(message), Any)
    assert_type(AttrsToolsParser([Add]).invoke(message), list[Add])
    tools: list[type[Add | Search]] = [Add, Search]
    assert_type(AttrsToolsParser(tools).invoke(message), list[Add | Search])
    chain = (
        ChatPromptTemplate.from_template("{q}") | FakeListChatModel(["x"]) | AttrsToolsParser([Add])
    )
    assert_type(chain.invoke({"q": "add"}), list[Add])
    wrong = ChatPromptTemplate.from_template("{q}") | AttrsToolsParser([Add])  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue, reportUnknownVariableType]
    bad = AttrsToolsParser(Add)  # type: ignore[arg-type, var-annotated]  # pyright: ignore[reportArgumentType, reportUnknownVariableType]
