"""Serving a configurable runnable: the client may set what the runnable declares, and bad or
missing keys are refused by name before anything runs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from runnables import ConfigurableField, RunnableConfig, RunnableWithMessageHistory
from runnables.history import InMemoryChatMessageHistory
from runnables.models import FakeListChatModel
from runnables.serve import create_app

pytestmark = pytest.mark.anyio

MODEL = FakeListChatModel(responses=["a b"]).configurable_fields(
    responses=ConfigurableField(id="answers", name="Answers", description="what to say")
)


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def chat_with_history() -> RunnableWithMessageHistory[Any, Any]:
    store: dict[str, InMemoryChatMessageHistory] = {}

    def get(session_id: str) -> InMemoryChatMessageHistory:
        return store.setdefault(session_id, InMemoryChatMessageHistory())

    return RunnableWithMessageHistory(FakeListChatModel(responses=["hello"]), get)


async def test_the_config_schema_is_the_runnables_own() -> None:
    async with client(create_app(MODEL, configurable={"user": str})) as http:
        schema = (await http.get("/config_schema")).json()
    configurable = schema["properties"]["configurable"]
    assert configurable["properties"] == {
        "answers": {
            "title": "Answers",
            "description": "what to say",
            "type": "array",
            "items": {"type": "string"},
            "default": ["a b"],
        },
        "user": {"title": "User", "type": "string"},
    }
    assert configurable["additionalProperties"] is False


async def test_the_client_sets_a_declared_field_and_a_bad_value_is_refused_by_name() -> None:
    async with client(create_app(MODEL)) as http:
        set_ = await http.post(
            "/invoke", json={"input": "hi", "config": {"configurable": {"answers": ["c"]}}}
        )
        default = await http.post("/invoke", json={"input": "hi"})
        bad = await http.post(
            "/invoke", json={"input": "hi", "config": {"configurable": {"answers": "c"}}}
        )
        unknown = await http.post(
            "/invoke", json={"input": "hi", "config": {"configurable": {"answer": ["c"]}}}
        )
    assert set_.json()["output"]["content"] == "c"
    assert default.json()["output"]["content"] == "a b"
    assert bad.status_code == 422
    assert bad.json()["detail"] == ["$.config.configurable.answers: expected list, got str"]
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == [
        "$.config.configurable.answer: not a configurable field (declared: 'answers')"
    ]


async def test_a_missing_or_mistyped_session_id_is_a_422_naming_it() -> None:
    async with client(create_app(chat_with_history())) as http:
        missing = await http.post("/invoke", json={"input": "hi"})
        batch = await http.post("/batch", json={"inputs": ["hi"]})
        mistyped = await http.post(
            "/invoke", json={"input": "hi", "config": {"configurable": {"session_id": 1}}}
        )
        good = await http.post(
            "/invoke", json={"input": "hi", "config": {"configurable": {"session_id": "s"}}}
        )
    assert missing.status_code == 422
    assert missing.json()["detail"] == [
        "$.config.configurable.session_id: missing (required by the runnable, a str)"
    ]
    assert batch.status_code == 422
    assert batch.json()["detail"][0].startswith("$.config[0].configurable.session_id: missing")
    assert mistyped.status_code == 422
    assert mistyped.json()["detail"] == ["$.config.configurable.session_id: expected str, got int"]
    assert good.json()["output"]["content"] == "hello"


async def test_the_per_request_hook_may_supply_the_session() -> None:
    def per_user(request: Request, config: RunnableConfig) -> RunnableConfig:
        return {**config, "configurable": {"session_id": request.headers["x-user"]}}

    app = create_app(chat_with_history(), per_request=per_user)
    async with client(app) as http:
        answer = await http.post("/invoke", json={"input": "hi"}, headers={"x-user": "ann"})
    assert answer.json()["output"]["content"] == "hello"


@pytest.mark.parametrize(
    ("declared", "problem"),
    [
        ({"user": "str"}, r"configurable\['user'\]: 'str' is not a type runnables.schema can"),
        ({"session_id": int}, r"configurable\['session_id'\]: declared as <class 'int'>, but"),
    ],
)
def test_a_bad_declaration_is_refused_when_the_app_is_built(
    declared: dict[str, Any], problem: str
) -> None:
    with pytest.raises(TypeError, match=problem):
        create_app(chat_with_history(), configurable=declared)
