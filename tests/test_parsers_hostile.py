"""Output parsers against hostile model output.

Streaming reads each chunk once (no re-parse of the text so far); deep nesting, huge
numbers, NaN and every other bad text raise `OutputParserException` with a short reason; a
code fence inside a JSON string is text. Properties are checked on generated JSON values
with random chunkings, and on random text, against `json.loads` and LangChain.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import attrs
import jsonpatch  # pyright: ignore[reportMissingTypeStubs]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runnables.messages import AIMessageChunk
from runnables.parsers import (
    AttrsOutputParser,
    CommaSeparatedListOutputParser,
    JsonOutputParser,
    OutputParserException,
    parse_json_markdown,
    parse_partial_json,
)


def _stream(text_chunks: Iterable[str], *, diff: bool = False) -> list[Any]:
    return list(JsonOutputParser(diff=diff).transform(iter(text_chunks)))


def _split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _lazy_split(text: str, size: int) -> Iterator[str]:
    return (text[i : i + size] for i in range(0, len(text), size))


def prefix_of(partial: Any, final: Any) -> bool:
    """Whether ``partial`` is what a prefix of the text of ``final`` shows.

    A container holds a prefix of the final one's items (keys in the same order), every
    item but the last equal to the final one, the last itself a prefix; a string is a
    prefix of the final string; a number is any number (its digits are still arriving);
    anything else is equal, with its type.
    """
    if isinstance(final, dict):
        if not isinstance(partial, dict):
            return False
        keys, final_keys = list(partial), list(final)
        if keys != final_keys[: len(keys)]:
            return False
        items, final_items = [partial[k] for k in keys], [final[k] for k in keys]
    elif isinstance(final, list):
        if not isinstance(partial, list) or len(partial) > len(final):
            return False
        items, final_items = list(partial), final[: len(partial)]
    elif isinstance(final, str):
        return isinstance(partial, str) and final.startswith(partial)
    elif type(final) in (int, float):
        return type(partial) in (int, float)
    else:
        return type(partial) is type(final) and partial == final
    if items[:-1] != final_items[:-1]:
        return False
    return not items or prefix_of(items[-1], final_items[-1])


# ------------------------------------------------------------------ strategies

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=25,
)
containers = st.one_of(
    st.lists(json_values, max_size=4), st.dictionaries(st.text(max_size=6), json_values, max_size=4)
)
dumps_options = st.fixed_dictionaries(
    {
        "ensure_ascii": st.booleans(),
        "indent": st.sampled_from([None, 0, 2]),
        "separators": st.sampled_from([None, (",", ":")]),
    }
)


@st.composite
def chunkings(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` cut at random places (every chunk non-empty)."""
    if len(text) < 2:
        return [text]
    cuts = sorted(draw(st.sets(st.integers(1, len(text) - 1), max_size=len(text))))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def chunked_json(
    draw: st.DrawFn, values: st.SearchStrategy[Any] = containers
) -> tuple[str, list[str]]:
    text = json.dumps(draw(values), **draw(dumps_options))
    return text, draw(chunkings(text))


def _check_stream(text: str, chunks: list[str]) -> None:
    expected = json.loads(text)
    snapshots = _stream(chunks)
    assert snapshots[-1] == expected
    for earlier, later in itertools.pairwise(snapshots):
        assert prefix_of(earlier, later), (earlier, later)
    for partial in snapshots:
        assert prefix_of(partial, expected), (partial, expected)
    # diff mode: the operations, applied one chunk after another, rebuild every snapshot
    state: Any = None
    rebuilt = []
    for ops in _stream(chunks, diff=True):
        state = jsonpatch.apply_patch(state, ops)  # pyright: ignore[reportUnknownMemberType]
        rebuilt.append(state)
    assert rebuilt == snapshots


# ------------------------------------------------------------------ properties


@settings(max_examples=150, deadline=None)
@given(chunked_json())
def test_streamed_values_are_prefixes_and_end_at_json_loads(case: tuple[str, list[str]]) -> None:
    _check_stream(*case)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(json_values, min_size=3, max_size=25).map(json.dumps),
    st.integers(65, 600),
    st.integers(0, 64),
)
def test_containers_a_big_chunk_holds_whole_are_read_at_once(
    text: str, size: int, skip: int
) -> None:
    """A container that a chunk holds entirely is handed to the `json` module's scanner;
    one that goes on in the next chunk is read character by character, as before."""
    _check_stream(text, [text[:skip], *_split(text[skip:], size)] if skip else _split(text, size))


@pytest.mark.parametrize("bad", ["NaN", "1e400", "[1,]", '{"a" 1}', "9" * 5000, "[" * 2000])
def test_bad_text_inside_a_big_chunk_is_refused(bad: str) -> None:
    text = f'[{{"pad": "{"x" * 80}"}}, [{bad}], [1]]'
    with pytest.raises(OutputParserException):
        JsonOutputParser().invoke(text)
    for size in (1, 200, len(text)):
        with pytest.raises(OutputParserException):
            _stream(_split(text, size))


@settings(max_examples=100, deadline=None)
@given(chunked_json(json_values), st.sampled_from(["```json\n{}\n```", "Sure:\n```\n{}```\nBye"]))
def test_fenced_answers_stream_to_json_loads(case: tuple[str, list[str]], frame: str) -> None:
    text, _ = case
    answer = frame.replace("{}", text)
    out = _stream(_split(answer, 3))
    assert out[-1] == json.loads(text)
    assert JsonOutputParser().invoke(answer) == json.loads(text)


json_ish = st.text(alphabet='{}[]:,"\\/ \n\t`0123456789.eE+-truefalsnNIfinityxu', max_size=40)


@st.composite
def mutated_json(draw: st.DrawFn) -> str:
    """A JSON text with a few characters deleted, inserted or replaced."""
    text = json.dumps(draw(json_values))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        char = draw(st.sampled_from(list('{}[]:,"\\ 0-.eEtn`x')))
        text = draw(st.sampled_from([text[:at] + char + text[at:], text[:at] + text[at + 1 :]]))
    return text


@settings(max_examples=250, deadline=None)
@given(st.one_of(json_ish, mutated_json()).flatmap(lambda t: st.tuples(st.just(t), chunkings(t))))
def test_random_text_raises_only_parser_errors_and_streams_agree(
    case: tuple[str, list[str]],
) -> None:
    text, chunks = case
    try:
        expected = JsonOutputParser().invoke(text)
    except OutputParserException:
        expected = OutputParserException
    try:
        streamed = _stream(chunks)
    except OutputParserException:
        assert expected is OutputParserException, "the stream refused text that invoke accepts"
    else:
        assert expected is not OutputParserException, "the stream accepted text invoke refuses"
        assert streamed[-1] == expected
    with contextlib.suppress(OutputParserException):
        parse_partial_json(text)


simple_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="abcXYZ", max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet="kK", max_size=3), children, max_size=3)
    ),
    max_leaves=12,
).filter(lambda value: isinstance(value, (list, dict)))


@settings(max_examples=100, deadline=None)
@given(simple_values, st.integers(1, 6))
def test_same_snapshots_as_langchain(value: Any, size: int) -> None:
    """Where LangChain's partial parser has no quirks (no escapes, no space at the end of an
    open string), both parsers show the same values at the same chunks."""
    from langchain_core.output_parsers import JsonOutputParser as LangChainJsonOutputParser

    chunks = _split(json.dumps(value, separators=(",", ":")), size)
    expected = list(LangChainJsonOutputParser().transform(iter(chunks)))
    assert _stream(chunks) == expected


# ------------------------------------------------------------------ examples


CODE = {"answer": "```python\nprint(1)\n```"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (json.dumps(CODE), CODE),
        (f"```json\n{json.dumps(CODE)}\n```", CODE),
        (f"Here it is:\n```json\n{json.dumps(CODE)}\n```\nDone.", CODE),
        ('  ["```", "```json", "`"]  ', ["```", "```json", "`"]),
    ],
)
def test_code_fence_inside_a_json_string_is_text(text: str, expected: Any) -> None:
    assert JsonOutputParser().invoke(text) == expected
    for size in (1, 4):
        assert _stream(_split(text, size))[-1] == expected


def test_trailing_prose_fails_as_soon_as_it_arrives() -> None:
    def answer() -> Iterator[str]:
        yield "[1]"
        yield " some prose"
        raise AssertionError("read past the prose")

    out = JsonOutputParser().transform(answer())
    assert next(out) == [1]
    with pytest.raises(OutputParserException, match="Extra data at line 1 column 5"):
        next(out)


@pytest.mark.parametrize("size", [3, 100_000_000])
@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 100_000 + "1" + "}" * 100_000,
        "```json\n" + "[" * 100_000,
    ],
)
def test_deep_nesting_is_refused(text: str, size: int) -> None:
    with pytest.raises(OutputParserException, match="nested deeper than"):
        _stream(_lazy_split(text, size))
    with pytest.raises(OutputParserException, match="nested"):
        JsonOutputParser().invoke(text)
    with pytest.raises(OutputParserException, match="nested"):
        AttrsOutputParser(Box).invoke(text)


def test_deep_nesting_is_refused_with_the_recursion_limit_raised() -> None:
    """Python's json scanner recurses once per level: with the recursion limit raised it
    would overflow the C stack and crash the process, so the parsers check first."""
    script = """
import sys
from runnables.parsers import JsonOutputParser, OutputParserException
sys.setrecursionlimit(1_000_000)
deep = "[" * 300_000 + "]" * 300_000
for chunks in ([deep], ["[", deep], [deep[:150_000], deep[150_000:]]):
    try:
        list(JsonOutputParser().transform(iter(chunks)))
    except OutputParserException as error:
        assert "nested deeper than 1000 levels" in str(error), error
try:
    JsonOutputParser().invoke(deep)
except OutputParserException as error:
    assert "nested deeper than 1000 levels" in str(error), error
text = "[" * 1000 + "]" * 1000
assert JsonOutputParser().invoke(text) == list(JsonOutputParser().transform(iter([text])))[-1]
print("refused")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "refused"), done.stderr[-2000:]


def test_moderate_nesting_still_parses() -> None:
    text = "[" * 200 + "]" * 200
    assert JsonOutputParser().invoke(text) == json.loads(text)
    assert _stream(_split(text, 1))[-1] == json.loads(text)
    assert parse_partial_json("[" * 200) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": ' + "1" * 5000 + "}", "number too large"),
        ("[" + "9" * 100_000 + "]", "number too large"),
        ('{"a": 1e400}', "number out of range"),
        ('{"a": -1e999}', "number out of range"),
        ("[NaN]", "NaN is not JSON|Expecting value"),
        ('{"a": Infinity}', "Infinity is not JSON|Expecting value"),
        ("[-Infinity]", "Infinity is not JSON|invalid number"),
        ("NaN", "NaN is not JSON"),
        ('{"a": 01}', "Expecting ',' delimiter|invalid number"),
        ('{"a": 1.}', "Expecting ',' delimiter|invalid number"),
    ],
)
def test_numbers_json_does_not_allow_or_python_cannot_hold(text: str, reason: str) -> None:
    with pytest.raises(OutputParserException, match=reason) as info:
        JsonOutputParser().invoke(text)
    assert len(str(info.value)) < 700
    for size in (1, 3, len(text)):
        with pytest.raises(OutputParserException, match=reason):
            _stream(_split(text, size))


def test_a_long_number_is_shown_while_short_then_once_complete() -> None:
    digits = "12345678901234567890" * 20
    out = _stream(_split("[" + digits + "]", 1))
    assert out[-1] == [int(digits)]
    assert len(out) <= 102  # the empty list, 100 growing previews, the whole number


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "x',
        '{"a": 1,}',
        '{"a" 1}',
        "[1 2]",
        '{"a": tru}',
        '["\\x"]',
        '["\\u12G4"]',
        "]",
        '{"a": [}',
        "```json\n{}\n`` x",
        '{"a": 1}```',
        "",
        "   ",
        'Here: {"a": 1}',
    ],
)
def test_bad_text_raises_a_parser_error_with_a_position(text: str) -> None:
    with pytest.raises(OutputParserException, match=r"at line \d+ column \d+ \(char \d+\)") as info:
        JsonOutputParser().invoke(text)
    assert info.value.llm_output == text
    for size in (1, 2):
        with pytest.raises(OutputParserException, match=r"at line \d+ column \d+"):
            _stream(_split(text, size) or [""])


def test_raw_control_characters_in_strings_are_accepted() -> None:
    """Models write raw newlines and tabs in strings; like LangChain, they are kept."""
    text = '{"code": "def f():\n\treturn 1"}'
    assert parse_json_markdown(text) == {"code": "def f():\n\treturn 1"}
    assert _stream(_split(text, 2))[-1] == {"code": "def f():\n\treturn 1"}


@pytest.mark.parametrize("size", [1, 2, 5])
def test_escapes_split_across_chunks_never_show_half_a_character(size: int) -> None:
    text = json.dumps({"s": 'a\n"\\ 😀 é \ud800 x'}, ensure_ascii=True)
    out = _stream(_split(text, size))
    assert out[-1] == json.loads(text)
    for partial in out:
        assert prefix_of(partial, out[-1])


def test_long_string_showings_stay_linear() -> None:
    """Each showing of a growing string copies it: past 256 characters a string is shown
    again only once it has grown by 1/256, so what is emitted stays linear in the text."""
    n = 200_000
    out = _stream(['{"s": "', *("x" * n), '"}'])
    emitted = sum(len(value["s"]) for value in out)
    assert out[-1] == {"s": "x" * n}
    assert emitted < 300 * n
    assert [len(value["s"]) for value in out[:258]] == list(range(258))


def test_snapshots_of_big_containers_stay_linear() -> None:
    """A snapshot copies the open containers: once they hold many items, a snapshot is
    taken only after 1/128 as many chunks as it copies items, so copying stays linear."""
    text = json.dumps(list(range(20_000)))
    out = _stream(list(text))
    assert out[:4] == [[], [0], [0, 1], [0, 1, 2]]
    assert out[-1] == json.loads(text)
    assert sum(len(value) for value in out) <= 130 * len(text)
    assert len(out) > 1000


def test_snapshots_grow_without_changing_what_they_showed() -> None:
    text = json.dumps({"a": [{"b": "c"}, {"d": [1, 2]}], "e": "f"})
    out = _stream(list(text))
    copies = [json.dumps(value) for value in out]
    assert [json.dumps(value) for value in out] == copies
    assert out[-1] == json.loads(text)


def test_diff_mode_emits_json_patch_operations() -> None:
    chunks = ['{"name": "Al', 'ice", "tags": ["a', '"], "n": 1', "2}"]
    assert _stream(chunks, diff=True) == [
        [
            {"op": "replace", "path": "", "value": {}},
            {"op": "add", "path": "/name", "value": "Al"},
        ],
        [
            {"op": "replace", "path": "/name", "value": "Alice"},
            {"op": "add", "path": "/tags", "value": []},
            {"op": "add", "path": "/tags/0", "value": "a"},
        ],
        [{"op": "add", "path": "/n", "value": 1}],
        [{"op": "replace", "path": "/n", "value": 12}],
    ]
    assert _stream(["4", "2"], diff=True) == [[{"op": "replace", "path": "", "value": 42}]]
    assert JsonOutputParser(diff=True) != JsonOutputParser()


# ------------------------------------------------------------------ the other parsers


@attrs.frozen
class Box:
    items: list[int]


def test_attrs_parser_names_paths_and_keeps_the_message_short() -> None:
    text = json.dumps({"items": ["x"] * 10_000})
    with pytest.raises(OutputParserException) as info:
        AttrsOutputParser(Box).invoke(text)
    message = str(info.value)
    assert "$.items[0]: expected int, got str" in message
    assert "and 9990 more" in message
    assert len(message) < 2000
    for wrong in ["[]", '{"items": {"a": 1}}', '{"items": [[1]]}', "null", '"items"']:
        with pytest.raises(OutputParserException, match=r"output does not fit Box:\n  \$"):
            AttrsOutputParser(Box).invoke(wrong)


def test_attrs_parser_streams_message_chunks_joined_once() -> None:
    text = json.dumps({"items": list(range(500))})
    chunks = [AIMessageChunk(char) for char in text]
    assert list(AttrsOutputParser(Box).transform(iter(chunks))) == [Box(list(range(500)))]


@pytest.mark.anyio
async def test_attrs_parser_streams_async() -> None:
    async def chunks() -> AsyncIterator[str]:
        for char in '{"items": [1, 2]}':
            yield char

    assert [value async for value in AttrsOutputParser(Box).atransform(chunks())] == [Box([1, 2])]


def test_comma_list_stream_carries_text_between_commas() -> None:
    chunks = ["a" * 5000, "b, c", "", ", d, ", "e" * 3, ",", " f"]
    out = list(CommaSeparatedListOutputParser().transform(iter(chunks)))
    assert out == [["a" * 5000 + "b"], ["c"], ["d"], ["eee"], ["f"]]
    assert [item for items in out for item in items] == CommaSeparatedListOutputParser().invoke(
        "".join(chunks)
    )


@pytest.mark.anyio
@pytest.mark.parametrize("diff", [False, True])
async def test_async_stream_matches_sync(diff: bool) -> None:
    text = '```json\n{"a": [1, "x\\u00e9y", {"b": null}], "c": "```"}\n```'
    chunks = _split(text, 3)

    async def source() -> AsyncIterator[str]:
        for chunk in chunks:
            yield chunk

    parser = JsonOutputParser(diff=diff)
    assert [value async for value in parser.atransform(source())] == _stream(chunks, diff=diff)

    async def bad() -> AsyncIterator[str]:
        yield "[1] and more"

    async with contextlib.aclosing(bad()) as source_of_bad:
        with pytest.raises(OutputParserException, match="Extra data"):
            [value async for value in parser.atransform(source_of_bad)]
