"""Per-request configuration: configurable fields and alternatives, config specs and schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import attrs
import pytest

from runnables import (
    ConfigurableField,
    ConfigurableFieldMultiOption,
    ConfigurableFieldSingleOption,
    ConfigurableFieldSpec,
    RunnableBase,
    RunnableConfig,
    RunnableConfigurableAlternatives,
    RunnableConfigurableFields,
    RunnableLambda,
    RunnableParallel,
    RunnableWithMessageHistory,
    runnable,
)
from runnables.history import InMemoryChatMessageHistory
from runnables.messages import AIMessage, BaseMessage
from runnables.models import FakeListChatModel, FakeListLLM, OpenAIChatModel
from runnables.parsers import StrOutputParser
from runnables.prompts import ChatPromptTemplate, PromptTemplate
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore
from runnables.schema import SchemaError

if TYPE_CHECKING:
    from decimal import Decimal as OnlyForCheckers

ANSWERS = ConfigurableField(id="answers", name="Answers", description="what the model says")


def model() -> RunnableConfigurableFields[Any, AIMessage]:
    return FakeListChatModel(responses=["a b"]).configurable_fields(responses=ANSWERS)


def say(answer: str) -> RunnableConfig:
    return {"configurable": {"answers": [answer]}}


# ------------------------------------------------------------------ fields


def test_a_configured_field_changes_the_call_and_nothing_else() -> None:
    chat = model()
    assert chat.invoke("hi", say("c d")).content == "c d"
    assert chat.invoke("hi").content == "a b"
    assert chat.default == FakeListChatModel(responses=["a b"])


def test_prompts_retrievers_and_http_models_have_configurable_fields() -> None:
    prompt = PromptTemplate.from_template("hello {x}").configurable_fields(
        template=ConfigurableField(id="template")
    )
    assert prompt.invoke({"x": 1}, {"configurable": {"template": "bye {x}"}}).text == "bye 1"
    store = InMemoryVectorStore.from_texts(["a", "b", "c"], HashingEmbeddings())
    retriever = store.as_retriever(k=1).configurable_fields(k=ConfigurableField(id="k"))
    assert len(retriever.invoke("a")) == 1
    assert len(retriever.invoke("a", {"configurable": {"k": 3}})) == 3
    openai = OpenAIChatModel(model="m", base_url="http://127.0.0.1:9/v1", api_key="k")
    tuned = openai.configurable_fields(
        temperature=ConfigurableField(id="temperature"), model=ConfigurableField(id="model")
    )
    configured = tuned.prepare({"temperature": 0.5, "model": "other"})
    assert configured == openai.__class__(
        model="other", base_url="http://127.0.0.1:9/v1", api_key="k", temperature=0.5
    )


def test_a_typo_in_a_field_name_is_an_error_listing_the_fields() -> None:
    with pytest.raises(ValueError, match=r"FakeListChatModel has no field 'respnses'.*'responses'"):
        FakeListChatModel(responses=["x"]).configurable_fields(respnses=ANSWERS)


def test_a_value_of_the_wrong_type_names_the_field_and_what_was_expected() -> None:
    with pytest.raises(SchemaError, match=r"configurable\['answers'\]: expected list, got str"):
        model().invoke("hi", {"configurable": {"answers": "c d"}})
    store = InMemoryVectorStore.from_texts(["a"], HashingEmbeddings())
    retriever = store.as_retriever().configurable_fields(k=ConfigurableField(id="k"))
    with pytest.raises(SchemaError, match=r"field 'k' of VectorStoreRetriever"):
        retriever.invoke("a", {"configurable": {"k": "3"}})


def test_the_runnables_own_checks_run_on_the_configured_value() -> None:
    store = InMemoryVectorStore.from_texts(["a"], HashingEmbeddings())
    retriever = store.as_retriever().configurable_fields(k=ConfigurableField(id="k"))
    with pytest.raises(ValueError, match="k must be at least 0, got -1") as caught:
        retriever.invoke("a", {"configurable": {"k": -1}})
    assert "while configuring VectorStoreRetriever from configurable ['k']" in str(
        getattr(caught.value, "__notes__", [])
    )


def test_a_field_whose_type_cannot_be_checked_needs_an_annotation() -> None:
    store = InMemoryVectorStore.from_texts(["a"], HashingEmbeddings())
    with pytest.raises(TypeError, match=r"field 'vectorstore'.*annotation="):
        store.as_retriever().configurable_fields(vectorstore=ConfigurableField(id="store"))
    other = InMemoryVectorStore.from_texts(["b"], HashingEmbeddings())
    retriever = store.as_retriever().configurable_fields(
        vectorstore=ConfigurableField(id="store", annotation=object)
    )
    [found] = retriever.invoke("b", {"configurable": {"store": other}})
    assert found.page_content == "b"


@attrs.frozen
class Greeter(RunnableBase[str, str]):
    """An attrs runnable of a user's own, one field typed with a name only checkers see."""

    greeting: str = "hello"
    price: OnlyForCheckers | None = None

    def invoke(self, input: str, config: RunnableConfig | None = None) -> str:
        return f"{self.greeting}, {input}"


def test_an_attrs_runnable_of_your_own_has_configurable_fields() -> None:
    greeter = Greeter().configurable_fields(greeting=ConfigurableField(id="greeting"))
    assert greeter.invoke("ann", {"configurable": {"greeting": "hi"}}) == "hi, ann"
    with pytest.raises(SchemaError, match=r"configurable\['greeting'\]: expected str, got int"):
        greeter.invoke("ann", {"configurable": {"greeting": 1}})
    with pytest.raises(TypeError, match=r"field 'price' of Greeter.*annotation="):
        Greeter().configurable_fields(price=ConfigurableField(id="price"))


def test_single_and_multi_option_fields_choose_values_by_name() -> None:
    single = FakeListChatModel(responses=["x"]).configurable_fields(
        responses=ConfigurableFieldSingleOption(
            id="mode", options={"short": ["s"], "long": ["l o n g"]}, default="short"
        )
    )
    assert single.invoke("q").content == "x"  # no key given: the runnable as built
    assert single.invoke("q", {"configurable": {"mode": "long"}}).content == "l o n g"
    with pytest.raises(SchemaError, match=r"configurable\['mode'\]"):
        single.invoke("q", {"configurable": {"mode": "medium"}})
    [spec] = single.config_specs
    assert spec == ConfigurableFieldSpec(
        id="mode", annotation=Literal["short", "long"], default="short"
    )
    stops = OpenAIChatModel(model="m", base_url="http://127.0.0.1:9/v1").configurable_fields(
        stop=ConfigurableFieldMultiOption(
            id="stops", options={"dot": ".", "nl": "\n"}, default=["dot"]
        )
    )
    assert stops.prepare({"stops": ["dot", "nl"]}).stop == (".", "\n")
    [spec] = stops.config_specs
    assert spec.annotation == list[Literal["dot", "nl"]]
    assert spec.default == ["dot"]


def test_option_fields_refuse_defaults_that_are_not_options() -> None:
    with pytest.raises(ValueError, match=r"default 'x' is not one of the options \['a'\]"):
        ConfigurableFieldSingleOption(id="o", options={"a": 1}, default="x")
    with pytest.raises(ValueError, match=r"defaults \['x'\]"):
        ConfigurableFieldMultiOption(id="o", options={"a": 1}, default=["a", "x"])
    with pytest.raises(TypeError, match="non-empty str"):
        ConfigurableField(id="")


def test_the_wrapper_is_a_value_and_caches_what_it_builds() -> None:
    assert model() == model()
    assert hash(model()) == hash(model())
    assert hash(alternatives()) == hash(alternatives())
    assert model() != FakeListChatModel(responses=["a b"]).configurable_fields(
        responses=ConfigurableField(id="other")
    )
    retriever = (
        InMemoryVectorStore.from_texts(["a"], HashingEmbeddings())
        .as_retriever()
        .configurable_fields(k=ConfigurableField(id="k"))
    )
    assert retriever.prepare({"k": 2}) is retriever.prepare({"k": 2})
    assert retriever.prepare({}) is retriever.default
    more = retriever.configurable_fields(extra_tags=ConfigurableField(id="tags"))
    assert {spec.id for spec in more.config_specs} == {"k", "tags"}


@pytest.mark.anyio
async def test_every_call_form_runs_the_configured_runnable() -> None:
    chain = ChatPromptTemplate.from_template("say {x}") | model() | StrOutputParser()
    config = say("c d")
    given = {"x": "y"}
    assert chain.invoke(given, config) == "c d"
    assert await chain.ainvoke(given, config) == "c d"
    assert chain.batch([given, given], config) == ["c d", "c d"]
    assert await chain.abatch([given], [config]) == ["c d"]
    assert dict(chain.batch_as_completed([given], config)) == {0: "c d"}
    assert [x async for x in chain.abatch_as_completed([given], config)] == [(0, "c d")]
    assert "".join(chain.stream(given, config)) == "c d"
    assert "".join([x async for x in chain.astream(given, config)]) == "c d"
    events = [e async for e in chain.astream_events(given, config, version="v2")]
    assert events[-1]["data"]["output"] == "c d"
    names = {e["name"] for e in events}
    assert "FakeListChatModel" in names
    assert "RunnableConfigurableFields" not in names  # no run of its own, as in LangChain
    state = None
    async for log in chain.astream_log(given, config, diff=False):
        state = log.state
    assert state is not None
    assert state["final_output"] == "c d"
    assert "FakeListChatModel" in state["logs"]
    assert list(chain.stream_events(given, config))[-1]["data"]["output"] == "c d"


def test_a_bound_config_configures_too() -> None:
    assert model().with_config(say("bound")).invoke("hi").content == "bound"


# ------------------------------------------------------------------ alternatives


def alternatives() -> RunnableConfigurableAlternatives[Any, AIMessage]:
    return FakeListChatModel(responses=["default"]).configurable_alternatives(
        ConfigurableField(id="llm", name="Model"),
        default_key="fake",
        other=FakeListChatModel(responses=["other"]),
        built=lambda: FakeListChatModel(responses=["built"]),
    )


def test_an_alternative_is_chosen_by_its_key() -> None:
    chat = alternatives()
    assert chat.invoke("hi").content == "default"
    assert chat.invoke("hi", {"configurable": {"llm": "fake"}}).content == "default"
    assert chat.invoke("hi", {"configurable": {"llm": "other"}}).content == "other"
    assert chat.invoke("hi", {"configurable": {"llm": "built"}}).content == "built"


def test_an_unknown_alternative_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"\['fake', 'other', 'built'\], got 'nope'"):
        alternatives().invoke("hi", {"configurable": {"llm": "nope"}})


def test_alternatives_of_another_kind_are_refused() -> None:
    with pytest.raises(ValueError, match="default_key"):
        FakeListLLM(responses=["x"]).configurable_alternatives(
            ConfigurableField(id="llm"), default=FakeListLLM(responses=["y"])
        )


def test_prefixed_keys_configure_one_alternative_and_refuse_unknown_ones() -> None:
    chat = model().configurable_alternatives(
        ConfigurableField(id="llm"),
        prefix_keys=True,
        other=FakeListChatModel(responses=["o"]).configurable_fields(responses=ANSWERS),
    )
    ids = [spec.id for spec in chat.config_specs]
    assert ids == ["llm", "llm==default/answers", "llm==other/answers"]
    picked = {"llm": "other", "llm==other/answers": ["mine"], "llm==default/answers": ["no"]}
    assert chat.invoke("hi", {"configurable": picked}).content == "mine"
    assert chat.invoke("hi", {"configurable": {"llm==default/answers": ["d"]}}).content == "d"
    with pytest.raises(TypeError, match=r"unknown configurable key\(s\) \['llm==othr/answers'\]"):
        chat.invoke("hi", {"configurable": {"llm==othr/answers": ["x"]}})


def test_config_specs_of_alternatives_list_the_choice_first() -> None:
    which, *_ = alternatives().config_specs
    assert which == ConfigurableFieldSpec(
        id="llm", annotation=Literal["fake", "other", "built"], name="Model", default="fake"
    )


# ------------------------------------------------------------------ specs and schemas


def test_config_specs_are_collected_through_every_wrapper() -> None:
    chat = model()
    parallel = RunnableParallel(a=chat, b=chat.with_retry(), c=chat.with_fallbacks([chat]))
    chain = ChatPromptTemplate.from_template("{x}") | parallel.with_config(tags=["t"])
    [spec] = chain.config_specs
    assert spec == ConfigurableFieldSpec(
        id="answers",
        annotation=tuple[str, ...],
        name="Answers",
        description="what the model says",
        default=("a b",),
    )
    assert (ChatPromptTemplate.from_template("{x}") | StrOutputParser()).config_specs == ()


def test_two_specs_of_one_id_with_different_types_are_refused() -> None:
    store = InMemoryVectorStore.from_texts(["a"], HashingEmbeddings())
    retriever = store.as_retriever().configurable_fields(k=ConfigurableField(id="answers"))
    chain = retriever | (lambda docs: str(docs)) | model()
    with pytest.raises(ValueError, match="conflicting config specs for 'answers'"):
        _ = chain.config_specs


def test_the_config_schema_lists_each_field_with_type_default_and_text() -> None:
    chain = ChatPromptTemplate.from_template("say {x}") | model() | StrOutputParser()
    document = chain.get_config_jsonschema()
    assert document["title"] == "RunnableSequenceConfig"
    assert document["properties"]["configurable"] == {
        "title": "Configurable",
        "$ref": "#/$defs/Configurable",
    }
    assert document["$defs"]["Configurable"]["properties"] == {
        "answers": {
            "title": "Answers",
            "description": "what the model says",
            "type": "array",
            "items": {"type": "string"},
            "default": ["a b"],
        }
    }
    schema = chain.config_schema()
    assert schema.validate({"configurable": {"answers": ["x"], "user": 1}}) == {
        "configurable": {"answers": ("x",), "user": 1}
    }
    with pytest.raises(SchemaError, match=r"\$.configurable.answers: expected list"):
        schema.validate({"configurable": {"answers": 3}})


def test_config_schema_shows_each_fields_default_as_langchain_does() -> None:
    from langchain_core.language_models import FakeListChatModel as LangChainModel
    from langchain_core.runnables import ConfigurableField as LangChainField

    theirs = (
        LangChainModel(responses=["a b"])
        .configurable_fields(
            responses=LangChainField(
                id="answers", name="Answers", description="what the model says"
            )
        )
        .config_schema()
        .model_json_schema()["$defs"]["Configurable"]["properties"]["answers"]
    )
    ours = model().config_schema().json_schema()["$defs"]["Configurable"]["properties"]
    assert (
        ours["answers"]
        == theirs
        == {
            "title": "Answers",
            "description": "what the model says",
            "type": "array",
            "items": {"type": "string"},
            "default": ["a b"],
        }
    )


def test_config_schema_includes_the_config_keys_asked_for() -> None:
    from runnables._core.configurable import config_schema

    schema = model().config_schema(include=["tags", "recursion_limit"])
    properties = schema.json_schema()["properties"]
    assert list(properties) == ["configurable", "tags", "recursion_limit"]
    assert properties["tags"] == {"title": "Tags", "type": "array", "items": {"type": "string"}}
    assert properties["recursion_limit"] == {
        "title": "Recursion Limit",
        "type": "integer",
        "default": 25,
    }
    assert schema.validate({"tags": ["a"], "recursion_limit": 3}) == {
        "tags": ["a"],
        "recursion_limit": 3,
    }
    with pytest.raises(SchemaError, match=r"\$.tags"):
        schema.validate({"tags": "a"})
    with pytest.raises(ValueError, match=r"cannot include \['callbacks', 'tgas'\]"):
        config_schema("ChainConfig", (), include=["callbacks", "tgas"])


# ------------------------------------------------------------------ unknown keys


@runnable
def whose(text: str, config: RunnableConfig) -> str:
    return str(config.get("configurable", {}).get("user"))


def test_keys_nobody_declares_still_reach_functions_and_histories() -> None:
    """Outside a configurable runnable's own namespace a key is not refused: functions and
    histories read keys no spec lists (LangChain ignores unknown keys too)."""
    chain = model() | (lambda message: message.content) | whose
    assert chain.invoke("hi", {"configurable": {"user": "ann", "answers": ["x"]}}) == "ann"
    store: dict[str, InMemoryChatMessageHistory] = {}
    history = RunnableWithMessageHistory(
        FakeListChatModel(responses=["r"]),
        lambda session_id: store.setdefault(session_id, InMemoryChatMessageHistory()),
    )
    assert history.invoke("hi", {"configurable": {"session_id": "s", "other": 1}}).content == "r"
    assert len(store["s"].messages) == 2


def test_a_history_declares_its_session_keys_as_required_specs() -> None:
    def get(session_id: str) -> InMemoryChatMessageHistory:
        return InMemoryChatMessageHistory()

    history = RunnableWithMessageHistory(model(), get)
    answers, session = history.config_specs
    assert (session.id, session.annotation, session.required) == ("session_id", str, True)
    assert answers.id == "answers"


@pytest.mark.parametrize(
    ("factory", "keys", "problem"),
    [
        (lambda user_id, thread: None, None, r"passes get_session_history one argument"),
        (lambda *, session_id: None, None, r"one argument"),
        (lambda user_id: None, ["user_id", "thread"], r"\['user_id', 'thread'\] by name"),
    ],
)
def test_a_history_factory_that_cannot_take_its_keys_is_refused_at_build(
    factory: Callable[..., Any], keys: list[str] | None, problem: str
) -> None:
    def reply(messages: list[BaseMessage]) -> AIMessage:
        return AIMessage("x")

    with pytest.raises(ValueError, match=problem):
        RunnableWithMessageHistory(reply, factory, history_factory_config=keys)
    # a single key is passed by position, whatever the parameter is called
    RunnableWithMessageHistory(reply, lambda anything: InMemoryChatMessageHistory())


def test_a_function_that_calls_a_configurable_runnable_declares_its_specs() -> None:
    tuned = model()

    @runnable
    def ask(text: str) -> str:
        return tuned.invoke(text).text

    assert [spec.id for spec in (ask | StrOutputParser()).config_specs] == ["answers"]
    assert ask.invoke("hi", say("from inside")) == "from inside"

    def again(n: int) -> int:  # refers to the runnable it is part of
        return n if n > 2 else looping.invoke(n + 1)

    looping = RunnableLambda(again)
    assert looping.config_specs == ()
    assert looping.invoke(0) == 3
