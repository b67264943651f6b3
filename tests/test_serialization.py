"""`runnables.load`: every built-in runnable round-trips through `dumps`/`loads` to an equal
value, functions by import path; secrets are never written; what cannot be written is named."""

from __future__ import annotations

import contextlib
import json
import string
from collections.abc import Iterator
from typing import Any, Optional

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runnables import (
    RouterRunnable,
    Run,
    RunnableBase,
    RunnableBranch,
    RunnableEach,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnablePick,
    RunnableTuple,
    runnable,
)
from runnables.documents import Document
from runnables.history import InMemoryChatMessageHistory, RunnableWithMessageHistory
from runnables.load import DumpError, LoadError, dumpd, dumps, load, loads
from runnables.messages import AIMessage, HumanMessage, SystemMessage
from runnables.models import FakeListChatModel, FakeListLLM, OpenAIChatModel
from runnables.parsers import (
    AttrsOutputParser,
    CommaSeparatedListOutputParser,
    JsonOutputParser,
    StrOutputParser,
)
from runnables.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate
from runnables.retrievers import HashingEmbeddings, InMemoryVectorStore
from runnables.tools import tool
from strategies import chains, inputs

HERE = __name__  # this module, which loads must be allowed to import functions from


def shout(text: str) -> str:
    return text.upper()


def repeat(text: str, times: int = 1, sep: str = "") -> str:
    return sep.join([text] * times)


async def arepeat(text: str, times: int = 1, sep: str = "") -> str:
    return repeat(text, times, sep)


@runnable
def word_count(text: str) -> int:
    return len(text.split())


def words(text: str) -> Iterator[str]:
    yield from text.split()


def double_each(chunks: Iterator[int]) -> Iterator[int]:
    for chunk in chunks:
        yield 2 * chunk


def is_long(text: str) -> bool:
    return len(text) > 5


def on_end(run: Run) -> None:
    pass


def history(session_id: str) -> InMemoryChatMessageHistory:
    return InMemoryChatMessageHistory()


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two numbers."""
    return a * b


@attrs.frozen
class Joke:
    setup: str
    punchline: str


def round_trip(value: Any, **kwargs: Any) -> Any:
    text = dumps(value)
    back = loads(text, type=object, allowed=[HERE], **kwargs)
    assert dumps(back) == text
    return back


BUILT_INS: dict[str, Any] = {
    "sequence": RunnableLambda(shout) | StrOutputParser(),
    "named sequence": RunnableLambda(shout).pipe(StrOutputParser()).with_config(run_name="s"),
    "parallel": RunnableParallel(b=RunnablePassthrough(), a=word_count, name="both"),
    "dict coerced": {"x": word_count, "y": shout} | RunnablePassthrough(),
    "tuple": RunnableTuple(word_count, shout),
    "branch": RunnableBranch((is_long, shout), (word_count, RunnablePassthrough()), shout),
    "assign": RunnablePassthrough.assign(n=RunnablePick("text") | word_count),
    "pick one": RunnablePick("a"),
    "pick many": RunnablePick(["a", "b"]),
    "each": RunnableEach(word_count),
    "map": RunnableLambda(shout).map(),
    "lambda with afunc and name": RunnableLambda(shout, name="loud"),
    "generator lambda": RunnableLambda(words),
    "generator": RunnableGenerator(double_each, name="dbl"),
    "bound keywords": RunnableLambda(repeat).bind(times=2, sep="-"),
    "bound keywords, async too": RunnableLambda(repeat, arepeat).bind(times=3),
    "binding holding bound keywords": RunnableLambda(repeat).with_config(tags=["t"]).bind(times=2),
    "router": RouterRunnable({"loud": shout, "twice": RunnableLambda(repeat).bind(times=2)}),
    "decorated": word_count,
    "equal to a decorated one": RunnableLambda(word_count.func),
    "retry": word_count.with_retry(stop_after_attempt=5, retry_if_exception_type=(KeyError,)),
    "fallbacks": RunnableLambda(shout).with_fallbacks(
        [RunnablePassthrough()], exceptions_to_handle=(ValueError, TypeError)
    ),
    "fallbacks with key": RunnablePassthrough().with_fallbacks(
        [RunnablePassthrough()], exception_key="error"
    ),
    "config": word_count.with_config(
        tags=["a", "b"], metadata={"k": [1, 2.5, None, {"$odd": True}]}, max_concurrency=3
    ),
    "listeners": word_count.with_listeners(on_end=on_end),
    "types": RunnablePassthrough().with_types(input_type=str, output_type=Joke),
    "generic types": RunnablePassthrough().with_types(
        input_type=dict[str, Any], output_type=list[tuple[Joke, int]]
    ),
    "union types": RunnablePassthrough().with_types(
        input_type=int | str | None,
        output_type=Optional[list[Joke]],  # noqa: UP045 - typing.Union is written too
    ),
    "prompt": PromptTemplate.from_template("tell {n} jokes about {topic}").partial(n="3"),
    "chat prompt": ChatPromptTemplate.from_messages(
        [
            ("system", "You are {role}"),
            MessagesPlaceholder("history", optional=True),
            SystemMessage("fixed"),
            ("ai", "ok"),
            ("human", [{"type": "text", "text": "{q}"}]),
        ]
    ),
    "parsers": StrOutputParser() | JsonOutputParser() | CommaSeparatedListOutputParser(),
    "attrs parser": AttrsOutputParser(Joke),
    "chat model": FakeListChatModel(["a", "b"], sleep=0.5).bind(stop=["x"], temperature=0),
    "llm": FakeListLLM(["a"], token_sleep=0.1),
    "openai": OpenAIChatModel(
        "gpt-4o-mini", base_url="http://127.0.0.1:9/v1", temperature=0.2, stop=["\n"]
    ),
    "tools bound": FakeListChatModel(["a"]).bind_tools([multiply], tool_choice="multiply"),
    "structured": FakeListChatModel(["{}"]).with_structured_output(Joke),
    "tool": multiply,
    "embeddings": HashingEmbeddings(64, ngram=2),
    "history": RunnableWithMessageHistory(
        FakeListChatModel(["hi"]), history, output_messages_key=None
    ),
    "messages": [HumanMessage("hi", id="1"), AIMessage("yo", name="bot")],
    "document": Document("text", {"source": "x"}, id="d1"),
}


@pytest.mark.parametrize("name", list(BUILT_INS))
def test_built_ins_round_trip_to_an_equal_value(name: str) -> None:
    value = BUILT_INS[name]
    back = round_trip(value)
    assert back == value
    assert type(back) is type(value)


def test_a_loaded_chain_runs_as_the_original() -> None:
    chain = (
        ChatPromptTemplate.from_messages([("human", "{q}")])
        | FakeListChatModel(["one two three"])
        | StrOutputParser()
        | {"n": word_count, "loud": shout}
    )
    back = loads(dumps(chain), allowed=[HERE])
    assert back.invoke({"q": "?"}) == chain.invoke({"q": "?"}) == {"n": 3, "loud": "ONE TWO THREE"}


def test_a_vector_store_is_written_with_its_documents_and_vectors() -> None:
    store = InMemoryVectorStore.from_texts(
        ["cats purr", "dogs bark"], HashingEmbeddings(32), [{"i": 0}, {"i": 1}], ids=["a", "b"]
    )
    retriever = store.as_retriever(k=1)
    back = round_trip(retriever)
    # a store is a mutable container compared by identity: equal written forms, same answers
    assert back.vectorstore is not store
    assert back.invoke("cats") == retriever.invoke("cats")
    assert len(back.vectorstore) == 2


def test_output_is_sorted_and_pretty_prints() -> None:
    chain = RunnableParallel(b=word_count, a=RunnablePassthrough())
    text = dumps(chain, pretty=True)
    assert text.splitlines()[0] == "{"
    assert json.loads(text) == dumpd(chain) == json.loads(dumps(chain))
    assert dumps(chain) == json.dumps(json.loads(dumps(chain)), sort_keys=True, ensure_ascii=False)
    assert dumpd(chain)["runnables"] == 1


# ------------------------------------------------------------------ random chains


@settings(max_examples=50)
@given(chains, inputs)
def test_random_chains_round_trip(chain: RunnableBase[int, int], x: int) -> None:
    back = loads(dumps(chain), allowed=["strategies"])
    assert back == chain
    assert hash(back) == hash(chain)
    assert back.invoke(x) == chain.invoke(x)


wrapped = st.one_of(
    chains,
    chains.map(lambda c: c.with_retry(stop_after_attempt=2)),
    chains.map(lambda c: c.with_config(tags=["t"], run_name="n")),
    st.tuples(chains, chains).map(lambda t: t[0].with_fallbacks([t[1]])),
    chains.map(RunnableEach),
    st.tuples(chains, chains).map(lambda t: RunnableTuple(t[0], t[1])),
)


@settings(max_examples=50)
@given(st.recursive(wrapped, lambda c: st.tuples(c, c).map(lambda t: t[0] | t[1]), max_leaves=4))
def test_random_wrapped_chains_round_trip(chain: RunnableBase[Any, Any]) -> None:
    assert loads(dumps(chain), allowed=["strategies"]) == chain


RUNNABLE_BUILT_INS = [v for v in BUILT_INS.values() if isinstance(v, RunnableBase)]


def _combine(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    pairs = st.tuples(children, children)
    return st.one_of(
        pairs.map(lambda t: t[0] | t[1]),
        pairs.map(lambda t: RunnableParallel(first=t[0], second=t[1])),
        pairs.map(lambda t: RunnableBranch((is_long, t[0]), t[1])),
        pairs.map(lambda t: t[0].with_fallbacks([t[1]], exceptions_to_handle=(KeyError,))),
        children.map(lambda c: c.with_retry(stop_after_attempt=4)),
        children.map(lambda c: c.with_config(tags=["x"], metadata={"n": 1}, run_name="r")),
        children.map(RunnableEach),
        children.map(lambda c: RunnablePassthrough.assign(out=c)),
    )


components = st.recursive(st.sampled_from(RUNNABLE_BUILT_INS), _combine, max_leaves=5)


@settings(max_examples=100)
@given(components)
def test_random_chains_of_every_component_round_trip(chain: RunnableBase[Any, Any]) -> None:
    text = dumps(chain)
    back = loads(text, allowed=[HERE])
    assert back == chain
    assert dumps(back) == text


# ------------------------------------------------------------------ what cannot be written


def test_a_lambda_is_named_with_its_place_in_the_chain() -> None:
    chain = RunnableLambda(shout) | {"a": RunnablePassthrough(), "b": lambda x: x}
    with pytest.raises(
        DumpError,
        match=r"\$\.steps\[1\]\.branches\[1\]\[1\]\.func: cannot write .*<lambda>.*lambda",
    ):
        dumps(chain)


def test_a_loaded_router_and_bound_keywords_run_as_the_originals() -> None:
    router = RouterRunnable({"loud": shout, "twice": RunnableLambda(repeat).bind(times=2)})
    back = loads(dumps(router), allowed=[HERE])
    assert back.invoke({"key": "twice", "input": "ab"}) == "abab"
    assert back.invoke({"key": "loud", "input": "ab"}) == "AB"


def test_a_route_that_cannot_be_written_is_named() -> None:
    with pytest.raises(DumpError, match=r"\$\.routes\[1\]\[1\]\.func: cannot write .*<lambda>"):
        dumps(RouterRunnable({"loud": shout, "same": lambda x: x}))


def test_a_local_function_is_named() -> None:
    def local(x: int) -> int:
        return x

    with pytest.raises(DumpError, match=r"local.*inside a function; move it to module level"):
        dumps(RunnablePassthrough() | local)


def test_a_closure_over_a_callable_object_is_refused() -> None:
    class Adder:
        def __call__(self, x: int) -> int:
            return x + 1

    with pytest.raises(DumpError, match=r"\$\.func: cannot write the callable"):
        dumps(RunnableLambda(Adder()))


def test_a_model_replaying_an_iterator_cannot_be_written() -> None:
    from runnables.models import GenericFakeChatModel

    with pytest.raises(DumpError, match=r"\$\.messages: cannot write a _Replay"):
        dumps(GenericFakeChatModel(messages=iter(["a"])))


# ------------------------------------------------------------------ secrets

KEY = "sk-test-0123456789abcdef"


def test_a_secret_is_written_as_the_name_of_its_variable() -> None:
    model = OpenAIChatModel("gpt-4o-mini", api_key=KEY)
    text = dumps(model, pretty=True)
    assert KEY not in text
    assert KEY[3:12] not in text
    assert '"$secret": "OPENAI_API_KEY"' in text
    back = loads(text, secrets_map={"OPENAI_API_KEY": KEY})
    assert back == model


def test_a_secret_comes_from_the_environment_only_when_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = OpenAIChatModel("gpt-4o-mini", api_key=KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with pytest.raises(
        LoadError, match=r"\$\.api_key: the secret 'OPENAI_API_KEY' is not in secrets_map"
    ):
        loads(dumps(model))
    assert loads(dumps(model), secrets_from_env=True) == model
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(LoadError, match="not in secrets_map or the environment"):
        loads(dumps(model), secrets_from_env=True)


def test_a_model_without_a_key_still_reads_the_environment_at_call_time() -> None:
    model = OpenAIChatModel("gpt-4o-mini")
    assert "secret" not in dumps(model)
    assert loads(dumps(model)) == model


# ------------------------------------------------------------------ the allow-list


def test_a_function_not_allowed_is_refused_by_path() -> None:
    text = dumps(RunnableLambda(shout))
    with pytest.raises(LoadError, match=rf"\$\.func: '{HERE}:shout' is not allowed"):
        loads(text)
    assert loads(text, allowed=[f"{HERE}:shout"]) == RunnableLambda(shout)
    assert loads(text, allowed=[shout]) == RunnableLambda(shout)
    import sys

    assert loads(text, allowed=[sys.modules[HERE]]) == RunnableLambda(shout)


def test_a_function_from_the_standard_library_must_be_allowed_too() -> None:
    text = dumps(RunnableLambda(string.capwords))
    with pytest.raises(LoadError, match="'string:capwords' is not allowed"):
        loads(text)
    assert loads(text, allowed=["string"]).invoke("a b") == "A B"
    method = dumps(RunnableLambda(str.lower))
    assert '"builtins:str.lower"' in method
    assert loads(method, allowed=["builtins:str.lower"]).invoke("AB") == "ab"


def test_allowed_is_a_list_not_a_string() -> None:
    with pytest.raises(LoadError, match=r"not one string: allowed=\['string'\]"):
        loads(dumps(RunnableLambda(string.capwords)), allowed="string")
    with pytest.raises(LoadError, match="allowed takes module names"):
        loads(dumps(RunnableLambda(string.capwords)), allowed=[3])


def document(value: Any) -> str:
    return json.dumps({"runnables": 1, "value": value})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"$ref": "os:system"}, r"\$: 'os:system' is not allowed"),
        ({"$class": "subprocess:Popen", "args": "ls"}, "'subprocess:Popen' is not allowed"),
        ({"$ref": "builtins:eval"}, "'builtins:eval' is not allowed"),
        ({"$ref": "runnables.load:loads"}, "not a class runnables defines"),
        ({"$ref": "runnables:_WHERE"}, "'runnables:_WHERE' is not allowed"),
        ({"$ref": f"{HERE}:json.loads"}, "imported there from elsewhere"),
        ({"$class": f"{HERE}:shout"}, "not a class runnables can rebuild"),
        ({"$ref": "os.path"}, "not a 'module:qualname' path"),
        ({"$alias": [{"$ref": "builtins:str"}]}, "needs a class and its type arguments"),
        ({"$alias": [1, 2]}, "needs a class and its type arguments"),
        ({"$union": [{"$ref": "builtins:str"}, 2]}, "takes types and null"),
        ({"$union": [None]}, "unknown kind '\\$union' or wrong body"),
        ({"$ref": "a b:c"}, "not a 'module:qualname' path"),
        ({"$ref": f"{HERE}:shout.__globals__"}, "not a 'module:qualname' path"),
        ({"$ref": "runnables:NoSuchThing"}, "cannot import 'runnables:NoSuchThing'"),
    ],
)
def test_loading_refuses_paths_outside_the_allow_list(value: Any, message: str) -> None:
    with pytest.raises(LoadError, match=message):
        loads(document(value), type=object, allowed=[HERE])


CALLS: list[str] = []


def side_effect(x: object) -> object:
    CALLS.append("called")
    return x


def test_loading_imports_functions_but_never_calls_them() -> None:
    loads(dumps(RunnableLambda(side_effect)), allowed=[HERE])
    loads(document({"$ref": f"{HERE}:side_effect"}), type=object, allowed=[HERE])
    assert CALLS == []


# ------------------------------------------------------------------ hostile text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (document(json.loads("[" * 300 + "]" * 300)), "nested deeper than 200 levels"),
        (document(int("9" * 50)), "integer of 50 digits is too large"),
        ('{"runnables": 1, "value": 1e999}', "too large"),
        ('{"runnables": 1, "value": NaN}', "NaN is not a JSON number"),
        (document({"$eval": "x"}), "unknown kind '\\$eval'"),
        (document({"$tuple": "x"}), "unknown kind '\\$tuple' or wrong body"),
        (document({"$tuple": [], "x": 1}), "must be the only key"),
        (document({"$class": "runnables:RunnablePick", "$x": 1}), "has field names"),
        (
            document({"$class": "runnables:RunnablePick", "nope": 1}),
            "cannot build runnables:RunnablePick: TypeError",
        ),
        (document({"$class": "runnables:RunnablePick", "keys": 1}), "cannot build"),
        (
            document({"$class": "runnables:RunnableSequence", "steps": {"$tuple": [1]}}),
            "cannot build",
        ),
        ('{"runnables": 2, "value": 1}', "format 2 is not one this version reads"),
        ('{"lc": 1, "type": "constructor"}', "not a runnables document"),
        ('{"runnables": 1}', "exactly the keys"),
        ("{", "not valid JSON"),
        (document(1), "the document holds a int, not a Runnable"),
    ],
)
def test_hostile_text_is_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(LoadError, match=message):
        loads(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["$class", "$ref", "$tuple", "$dict", "$secret", "keys", "steps", "x"])
            | st.text(max_size=4),
            children
            | st.sampled_from(
                [
                    "runnables:RunnablePick",
                    "runnables:RunnableLambda",
                    "builtins:KeyError",
                    "os:system",
                ]
            ),
            max_size=3,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(json_values)
def test_random_documents_load_or_raise_load_error(value: Any) -> None:
    with contextlib.suppress(LoadError):
        loads(document(value), type=object)


@settings(max_examples=200)
@given(st.text() | st.binary())
def test_random_text_loads_or_raises_load_error(text: str | bytes) -> None:
    with contextlib.suppress(LoadError):
        loads(text, type=object)


# ------------------------------------------------------------------ typed loads


def test_a_typed_load_checks_the_class_and_the_declared_types() -> None:
    from runnables import Runnable, RunnableSequence

    text = dumps(RunnableLambda(shout) | word_count)
    chain = loads(text, type=RunnableSequence[str, int], allowed=[HERE])
    assert chain.invoke("a b") == 2
    assert loads(text, type=Runnable[str, int], allowed=[HERE]).invoke("a") == 1
    assert loads(text, type=Runnable[str, object], allowed=[HERE]).invoke("a") == 1
    with pytest.raises(LoadError, match="takes str and gives int; expected Runnable\\[str, str\\]"):
        loads(text, type=Runnable[str, str], allowed=[HERE])
    with pytest.raises(LoadError, match="holds a RunnableSequence, not a RunnableParallel"):
        loads(text, type=RunnableParallel, allowed=[HERE])
    assert load(dumpd(PromptTemplate("{x}")), type=PromptTemplate) == PromptTemplate("{x}")
