"""Per-request configuration compared with langchain-core on the same chains: what runs, the
events a configured runnable emits, the config specs and schema, and what is refused.

Deliberate differences, pinned here: a configured value is checked against the field's type
(runnables raises `SchemaError` naming the config key, LangChain pydantic's `ValidationError`
naming the field); an option field or alternative key is typed as a `Literal` of the names
(LangChain builds an `Enum`); the wrapper's `name` is the configured runnable's (LangChain's
`get_name()` says `RunnableConfigurableFields`; both name the run after the configured one).
"""

from __future__ import annotations

from typing import Any

import pytest

lc = pytest.importorskip("langchain_core.runnables")

from langchain_core.language_models import FakeListChatModel as LCFakeListChatModel  # noqa: E402
from langchain_core.output_parsers import StrOutputParser as LCStrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate  # noqa: E402
from langchain_core.prompts import PromptTemplate as LCPromptTemplate  # noqa: E402
from tests.test_differential_events import (  # noqa: E402
    NO_LC_DEPRECATION,
    both,
    collect,
    data_of,
    shapes,
    without_repeated_streams,
)

import runnables as ours  # noqa: E402
from runnables.models import FakeListChatModel  # noqa: E402
from runnables.parsers import StrOutputParser  # noqa: E402
from runnables.prompts import ChatPromptTemplate, PromptTemplate  # noqa: E402

pytestmark = pytest.mark.anyio

CONFIG = {"configurable": {"answers": ["c d"], "unread": "a key nobody declares"}}


def field(lib: str, id: str, **kwargs: Any) -> Any:
    module = ours if lib == "ours" else lc
    return module.ConfigurableField(id=id, **kwargs)


def configured_chain(lib: str) -> Any:
    prompt_cls = ChatPromptTemplate if lib == "ours" else LCChatPromptTemplate
    model_cls = FakeListChatModel if lib == "ours" else LCFakeListChatModel
    parser = StrOutputParser() if lib == "ours" else LCStrOutputParser()
    model = model_cls(responses=["a b"]).configurable_fields(
        responses=field(lib, "answers", name="Answers", description="what to say")
    )
    return prompt_cls.from_template("say {x}") | model | parser


async def test_a_configured_chain_emits_the_same_events() -> None:
    async def summarise(chain: Any, given: Any) -> Any:
        events, error = await collect(chain, given, config=CONFIG)
        assert error is None
        return without_repeated_streams(shapes(events)), data_of(events, root=False)

    mine, theirs = await both(lambda lib: (configured_chain(lib), {"x": "y"}), summarise)
    assert mine == theirs
    assert ("on_chat_model_end", "FakeListChatModel", 1, ("seq:step:2",)) in theirs[0]


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_every_call_form_gives_the_same_outputs(lib: str) -> None:
    chain = configured_chain(lib)
    config: Any = CONFIG
    assert chain.invoke({"x": "y"}, config) == "c d"
    assert chain.batch([{"x": "y"}, {"x": "z"}], config) == ["c d", "c d"]
    assert "".join(chain.stream({"x": "y"}, config)) == "c d"
    assert chain.invoke({"x": "y"}) == "a b"


def spec_summary(specs: Any) -> list[tuple[Any, ...]]:
    return [(s.id, s.name, s.description, list(s.default), s.is_shared) for s in specs]


def test_config_specs_agree() -> None:
    mine = configured_chain("ours").config_specs
    theirs = configured_chain("lc").config_specs
    assert spec_summary(mine) == spec_summary(theirs)
    assert spec_summary(theirs) == [("answers", "Answers", "what to say", ["a b"], False)]


def test_the_config_jsonschema_describes_the_same_fields() -> None:
    mine = configured_chain("ours").get_config_jsonschema()
    theirs = configured_chain("lc").get_config_jsonschema()
    assert mine["title"] == theirs["title"] == "RunnableSequenceConfig"
    assert (
        mine["$defs"]["Configurable"]["properties"] == theirs["$defs"]["Configurable"]["properties"]
    )


def alternatives(lib: str, *, prefix_keys: bool = False) -> Any:
    model_cls = FakeListChatModel if lib == "ours" else LCFakeListChatModel
    other = model_cls(responses=["o"]).configurable_fields(responses=field(lib, "answers"))
    return model_cls(responses=["d"]).configurable_alternatives(
        field(lib, "llm"), default_key="fake", prefix_keys=prefix_keys, other=other
    )


@pytest.mark.parametrize("lib", ["ours", "lc"])
@pytest.mark.parametrize(
    ("configurable", "answer"),
    [
        ({}, "d"),
        ({"llm": "fake"}, "d"),
        ({"llm": "other"}, "o"),
        ({"llm": "other", "answers": ["x"]}, "x"),
        ({"llm": "other", "unread": 1}, "o"),
    ],
)
def test_alternatives_choose_alike(lib: str, configurable: dict[str, Any], answer: str) -> None:
    assert alternatives(lib).invoke("hi", {"configurable": configurable}).content == answer


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_prefixed_keys_reach_only_their_alternative(lib: str) -> None:
    chain = alternatives(lib, prefix_keys=True)
    chosen = {"llm": "other", "llm==other/answers": ["p"]}
    assert chain.invoke("hi", {"configurable": chosen}).content == "p"
    assert [s.id for s in chain.config_specs] == ["llm", "llm==other/answers"]


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_an_unknown_alternative_is_a_value_error(lib: str) -> None:
    with pytest.raises(ValueError, match="nope"):
        alternatives(lib).invoke("hi", {"configurable": {"llm": "nope"}})


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_a_typo_in_a_field_name_is_a_value_error_naming_it(lib: str) -> None:
    cls = PromptTemplate if lib == "ours" else LCPromptTemplate
    with pytest.raises(ValueError, match="templat"):
        cls.from_template("{x}").configurable_fields(templat=field(lib, "t"))


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_a_value_of_the_wrong_type_is_a_value_error(lib: str) -> None:
    chain = configured_chain(lib)
    with pytest.raises(ValueError, match=r"answers|responses"):
        chain.invoke({"x": "y"}, {"configurable": {"answers": "not a list"}})


async def test_a_chosen_alternative_as_the_root_emits_its_own_events() -> None:
    config = {"configurable": {"llm": "other"}}

    async def summarise(chain: Any, given: Any) -> Any:
        events, error = await collect(chain, given, config=config)
        assert error is None
        return without_repeated_streams(shapes(events)), data_of(events, root=True)

    mine, theirs = await both(lambda lib: (alternatives(lib), "hi"), summarise)
    assert mine == theirs
    assert theirs[0][0] == ("on_chat_model_start", "FakeListChatModel", 0, ())


@NO_LC_DEPRECATION
async def test_a_configured_chain_logs_the_same_entries() -> None:
    async def paths(chain: Any, given: Any) -> list[str]:
        found: list[str] = []
        async for patch in chain.astream_log(given, config=CONFIG):
            found.extend(op["path"] for op in patch.ops if op["path"].startswith("/logs/"))
        return sorted(set(found))

    mine, theirs = await both(lambda lib: (configured_chain(lib), {"x": "y"}), paths)
    assert mine == theirs
    assert "/logs/FakeListChatModel" in theirs


@pytest.mark.parametrize("lib", ["ours", "lc"])
def test_a_function_calling_a_configured_model_declares_its_fields(lib: str) -> None:
    tuned = configured_chain(lib)
    module = ours if lib == "ours" else lc

    def ask(question: str) -> str:
        return str(tuned.invoke({"x": question}))

    lifted = module.RunnableLambda(ask)
    assert [spec.id for spec in lifted.config_specs] == ["answers"]
    assert lifted.invoke("y", {"configurable": {"answers": ["deep"]}}) == "deep"
