"""What the typed forms of issue #11 do at run time: the programs the checkers now accept run
as typed, and the ones they now reject would have failed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from typing import Any, Optional, TypedDict, TypeVar

import pytest

from runnables import (
    Run,
    Runnable,
    RunnableConfig,
    RunnableEach,
    RunnableLambda,
    RunnableParallel,
    SupportsInvoke,
    runnable,
    with_config,
    with_fallbacks,
    with_listeners,
    with_retry,
    with_types,
)
from runnables.errors import RunnablesTypeError
from runnables.parsers import AttrsOutputParser, OutputParserException

T = TypeVar("T")


def to_len(text: str) -> int:
    return len(text)


def double(n: int) -> int:
    return n * 2


async def ato_len(text: str) -> int:
    return len(text)


def words(text: str) -> Iterator[str]:
    yield from text.split()


# -- item 8: right programs that were rejected


def test_with_types_takes_a_union_or_optional() -> None:
    r = RunnableLambda(to_len)
    assert r.with_types(output_type=Optional[int]).output_schema.json_schema()["anyOf"] == [  # noqa: UP045
        {"type": "integer"},
        {"type": "null"},
    ]
    assert r.with_types(input_type=int | str).input_schema.validate(3) == 3


def test_pipe_lifts_functions_like_or() -> None:
    shout = RunnableLambda(str.upper)
    assert shout.pipe(to_len).invoke("abc") == 3
    assert shout.pipe(ato_len).invoke("abc") == 3
    assert shout.pipe(words).invoke("a b") == "AB"
    assert shout.pipe(to_len, double).invoke("abc") == 6


def test_each_returns_a_fresh_list_per_call() -> None:
    each: RunnableEach[str, int] = RunnableLambda(to_len).map()
    first = each.invoke(["a"])
    first.append(99)
    assert each.invoke(["a"]) == [1]


class Steps:
    @runnable
    def size(text: str) -> int:  # no `self`: a runnable is not a method
        return len(text)


def test_runnable_in_a_class_needs_no_staticmethod() -> None:
    assert Steps.size.invoke("ab") == 2
    assert Steps().size.invoke("abc") == 3


# -- item 4: lifting rules


def misnamed_config(text: str, cfg: RunnableConfig) -> int:
    return len(text)


def extra_options(text: str, options: Mapping[str, Any]) -> int:
    return len(text)


def config_first(config: RunnableConfig) -> int:
    return 0


def no_input() -> int:
    return 0


@pytest.mark.parametrize(
    ("func", "message"),
    [
        (misnamed_config, "parameter 'cfg' would never be given"),
        (extra_options, "parameter 'options' would never be given"),
        (config_first, "cannot be named 'config'"),
        (no_input, "no positional parameter for the input"),
    ],
)
def test_a_parameter_no_call_would_give_is_refused_at_decoration(
    func: Callable[..., Any], message: str
) -> None:
    # Before: lifted silently, then `TypeError: missing 1 required positional argument` at
    # the first call (and `cfg: RunnableConfig = None` was never given the config).
    with pytest.raises(RunnablesTypeError, match=message):
        runnable(func)
    with pytest.raises(TypeError, match=message):
        RunnableLambda(func) | double


def test_config_by_name_optional_keyword_only_and_bound_extras_lift() -> None:
    def keyword(text: str, *, config: RunnableConfig) -> str:
        return ",".join(config.get("tags", []))

    def defaulted(text: str, limit: int = 2) -> str:
        return text[:limit]

    assert runnable(keyword).invoke("a", {"tags": ["n"]}) == "n"
    assert runnable(defaulted).invoke("abc") == "ab"
    assert runnable(functools.partial(extra_options, options={})).invoke("abc") == 3
    assert RunnableLambda(len).invoke("abc") == 3  # a builtin without a signature


def returns_an_iterator(text: str) -> Iterator[str]:
    return iter(text.split())


async def returns_a_coroutine_function(text: str) -> int:
    return len(text)


def returns_a_coroutine(text: str) -> Coroutine[Any, Any, int]:
    return returns_a_coroutine_function(text)


def lengths(chunks: Iterator[str]) -> Iterator[int]:
    return map(len, chunks)


def test_a_function_declared_to_return_an_iterator_streams() -> None:
    # Before: typed `RunnableLambda[str, str]`, but `invoke` returned the iterator object.
    step = runnable(returns_an_iterator)
    assert step.invoke("a b") == "ab"
    assert list(step.stream("a b")) == ["a", "b"]
    # ... and one that takes an iterator too is a stream transformer, as with a generator.
    assert list((RunnableLambda(str.upper) | lengths).stream("abc")) == [3]


@pytest.mark.anyio
async def test_a_function_declared_to_return_a_coroutine_is_awaited() -> None:
    step = runnable(returns_a_coroutine)
    assert await step.ainvoke("abc") == 3
    assert step.invoke("ab") == 2


def choose(text: str) -> Runnable[str, int]:
    return RunnableLambda(to_len)


def test_a_router_gives_what_its_runnable_gives() -> None:
    # Typed `RunnableLambda[str, int]`, not `RunnableLambda[str, Runnable[str, int]]`.
    assert runnable(choose).invoke("abc") == 3
    assert (RunnableLambda(str.upper) | choose).invoke("ab") == 2


# -- items 2 and 3: steps of your own, generic code


class WordCount:
    """Only the two call methods (`SupportsInvoke`)."""

    def __init__(self) -> None:
        self.configs: list[RunnableConfig | None] = []

    def invoke(self, input: str, config: RunnableConfig | None = None) -> int:
        self.configs.append(config)
        return len(input.split())

    async def ainvoke(self, input: str, config: RunnableConfig | None = None) -> int:
        return self.invoke(input, config)


def test_an_object_with_invoke_and_ainvoke_composes() -> None:
    # Before: type-checked in `|`, then `TypeError: cannot use ... as a step`.
    mine = WordCount()
    shout = RunnableLambda(str.upper)
    assert isinstance(mine, SupportsInvoke)
    assert (shout | mine).invoke("a b") == 2
    assert (mine | RunnableLambda(double)).invoke("a b c") == 6  # a function has no `|`
    assert shout.pipe(mine, double).invoke("a b") == 4
    assert (shout | {"n": mine}).invoke("a b") == {"n": 2}
    assert RunnableEach(mine).invoke(["a", "b c"]) == [1, 2]
    assert RunnableLambda(to_len).with_fallbacks([mine]).invoke("x y") == 3
    assert (shout | mine).batch(["a", "b c d"]) == [1, 3]
    assert list((shout | mine).stream("a b")) == [2]
    # It gets the run's config, and shows in the chain under its class name.
    (shout | mine).invoke("a", {"tags": ["t"]})
    config = mine.configs[-1]
    assert config is not None
    assert "t" in config["tags"]
    assert (shout | mine).steps[-1].name == "WordCount"


@pytest.mark.anyio
async def test_an_object_with_invoke_and_ainvoke_runs_async() -> None:
    assert await (RunnableLambda(str.upper) | WordCount()).ainvoke("a b") == 2


def test_an_object_without_ainvoke_is_still_refused() -> None:
    class OnlyInvoke:
        def invoke(self, input: str) -> str:
            return input

    with pytest.raises(TypeError, match="an object with invoke and ainvoke methods"):
        RunnableLambda(str.upper) | OnlyInvoke()  # type: ignore[operator]


def per_line(step: Runnable[str, T]) -> Runnable[Sequence[str], list[T]]:
    return step.with_retry(stop_after_attempt=2).with_config(tags=["line"]).map()


def test_generic_code_over_runnable() -> None:
    assert per_line(RunnableLambda(to_len)).invoke(["a", "bb"]) == [1, 2]
    batch = RunnableLambda(to_len).batch(["a"])
    assert type(batch) is list


# -- items 5, 6, 7: dicts of branches, sources of `Any`


def test_nested_dicts_run_as_nested_parallels() -> None:
    shout = RunnableLambda(str.upper)
    chain = shout | {"n": to_len, "inner": {"loud": str.lower}}
    assert chain.invoke("ab") == {"n": 2, "inner": {"loud": "ab"}}


def test_what_the_rejected_programs_would_have_done() -> None:
    # `pick` / `assign` on a step whose output is not a dict (now a type error).
    with pytest.raises(TypeError):
        RunnableLambda(to_len).pick("x").invoke("abc")  # type: ignore[misc]

    # Branches that disagree on their input (mypy: `RunnableParallel[Never]`).
    def negate(n: int) -> int:
        return -n

    with pytest.raises(TypeError, match="bad operand type for unary -: 'str'"):
        RunnableParallel(n=to_len, d=negate).invoke("ab")


class Movie(TypedDict):
    title: str
    year: int


def test_attrs_output_parser_parses_into_any_described_type() -> None:
    assert AttrsOutputParser(list[int]).invoke("[1, 2]") == [1, 2]
    assert AttrsOutputParser(Movie).invoke('{"title": "x", "year": 1}') == {"title": "x", "year": 1}
    assert AttrsOutputParser(int | None).invoke("null") is None
    with pytest.raises(OutputParserException, match="missing required key 'year'"):
        AttrsOutputParser(Movie).invoke('{"title": "x"}')


# -- item 11: decorator forms of the wrappers


def count(text: str) -> int:
    return len(text)


def backup(text: str) -> int:
    return -1


def test_each_decorator_equals_its_method_form() -> None:
    step = runnable(count)
    fallback = runnable(backup)
    seen: list[str] = []

    def on_end(run: Run) -> None:
        seen.append(run.name)

    retrying = with_retry(stop_after_attempt=2, retry_if_exception_type=(TimeoutError,))
    assert retrying(step) == step.with_retry(
        stop_after_attempt=2, retry_if_exception_type=(TimeoutError,)
    )
    assert with_fallbacks(fallback)(step) == step.with_fallbacks([fallback])
    assert with_config(run_name="n", tags=["t"])(step) == step.with_config(run_name="n", tags=["t"])
    assert with_listeners(on_end=on_end)(step) == step.with_listeners(on_end=on_end)
    assert with_types(input_type=bytes)(step) == step.with_types(input_type=bytes)
    assert with_types(output_type=float)(step) == step.with_types(output_type=float)
    assert with_types(input_type=bytes, output_type=float)(step) == step.with_types(
        input_type=bytes, output_type=float
    )
    with_listeners(on_end=on_end)(step).invoke("a")
    assert seen == ["count"]


def test_decorators_stack_bottom_up() -> None:
    calls: list[str] = []

    @with_retry(stop_after_attempt=3, wait_exponential_jitter=False)
    @with_fallbacks(runnable(backup))
    @with_config(tags=["inner"])
    @runnable
    def flaky(text: str) -> int:
        calls.append(text)
        raise ValueError(text)

    plain = RunnableLambda(flaky.bound.runnable.bound.func)  # the function under the decorators
    assert flaky == plain.with_config(tags=["inner"]).with_fallbacks([runnable(backup)]).with_retry(
        stop_after_attempt=3, wait_exponential_jitter=False
    )
    # The fallback answers inside the retry, so the function runs once.
    assert flaky.invoke("x") == -1
    assert calls == ["x"]


def test_decorators_over_async_and_generator_functions() -> None:
    @with_retry(stop_after_attempt=2)
    @runnable
    async def alength(text: str) -> int:
        return len(text)

    @with_config(run_name="words")
    @runnable
    def words(text: str) -> Iterator[str]:
        yield from text.split()

    assert alength.invoke("abc") == 3
    assert list(words.stream("a b")) == ["a", "b"]
    assert words.name == "words"


def test_decorators_take_any_step_and_check_config_early() -> None:
    assert with_retry()(WordCount()).invoke("a b") == 2
    with pytest.raises(TypeError, match="max_concurency"):
        with_config(max_concurency=2)  # type: ignore[call-arg]
