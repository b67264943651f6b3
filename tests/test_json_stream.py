"""The streaming JSON reader split at every kind of place.

`JsonOutputParser` reads one-character chunks (and any others) through readers per state;
these properties hold for generated JSON with whitespace anywhere it may stand, escapes,
``\\u`` escapes and surrogate pairs, and numbers, cut at random places or into single
characters: the diffs applied in order rebuild every snapshot, the last one is the
non-streaming parse, and `feed` (the async and tool-call path) yields what the sync stream
yields.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import jsonpatch  # pyright: ignore[reportMissingTypeStubs]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runnables._json_stream import NOTHING, JsonStream
from runnables.parsers import JsonOutputParser, OutputParserException, parse_json_markdown

keys = st.text(alphabet=st.sampled_from('ab/~"\\é😀\n'), max_size=4) | st.text(max_size=4)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('xy "\\/\n\t\u00e9\u2028😀\U0001f600'), max_size=8)
    | st.text(max_size=6)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)
spaces = st.text(alphabet=" \t\n\r", max_size=2)


def spaced(value: Any, space: Callable[[], str], ascii_only: bool) -> str:
    """``value`` as JSON with ``space()`` wherever JSON allows whitespace."""
    if isinstance(value, dict):
        members = [
            f"{space()}{json.dumps(key, ensure_ascii=ascii_only)}{space()}:"
            f"{space()}{spaced(item, space, ascii_only)}{space()}"
            for key, item in value.items()
        ]
        return "{" + (",".join(members) or space()) + "}"
    if isinstance(value, list):
        items = [f"{space()}{spaced(item, space, ascii_only)}{space()}" for item in value]
        return "[" + (",".join(items) or space()) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


@st.composite
def spaced_json(draw: st.DrawFn) -> str:
    value = draw(values.filter(lambda value: isinstance(value, (list, dict))))
    ascii_only = draw(st.booleans())
    text = spaced(value, lambda: draw(spaces), ascii_only)
    return draw(spaces) + text + draw(spaces)


@st.composite
def cut(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` in one-character chunks, or cut at random places."""
    if len(text) < 2 or draw(st.booleans()):
        return list(text)
    cuts = sorted(draw(st.sets(st.integers(1, len(text) - 1), max_size=len(text))))
    return [text[a:b] for a, b in itertools.pairwise([0, *cuts, len(text)])]


def _stream(chunks: list[str], *, diff: bool) -> list[Any]:
    return list(JsonOutputParser(diff=diff).transform(iter(chunks)))


def _fed(chunks: list[str], *, diff: bool) -> list[Any]:
    stream = JsonStream(diff=diff)
    changes = [stream.feed(chunk) for chunk in chunks]
    end = stream.end()
    return [change for change in [*changes, end] if change is not NOTHING]


def _check(text: str, chunks: list[str]) -> None:
    expected = json.loads(text)
    snapshots = _stream(chunks, diff=False)
    assert snapshots[-1] == expected == parse_json_markdown(text)
    state: Any = None
    rebuilt = []
    diffs = _stream(chunks, diff=True)
    for ops in diffs:
        state = jsonpatch.apply_patch(state, ops)  # pyright: ignore[reportUnknownMemberType]
        rebuilt.append(state)
    assert rebuilt == snapshots
    assert _fed(chunks, diff=True) == diffs
    assert _fed(chunks, diff=False) == snapshots


@settings(max_examples=300, deadline=None)
@given(spaced_json().flatmap(lambda text: st.tuples(st.just(text), cut(text))))
def test_diffs_rebuild_the_snapshots_and_end_at_the_parse(case: tuple[str, list[str]]) -> None:
    _check(*case)


@pytest.mark.parametrize(
    "value",
    [
        {"k😀/~": 'a😀b\u00e9\\"/\n', "\u00e9": ["\U0001f600\U0001f601"]},
        ["\ud800", "\udc00x", "\ud800\ud800\udc00", "\\u"],
    ],
)
def test_escapes_and_surrogate_pairs_split_anywhere(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=True)
    for at in range(1, len(text)):
        _check(text, [text[:at], text[at:]])
    _check(text, list(text))


@pytest.mark.parametrize(
    "text",
    [
        "[-0, 0, 10, -105, 7]",
        '{"a": 12345.5, "b": -0.25e-3, "c": 1E5, "d": 2e+10, "e": 1.0}',
        "[" + "9" * 150 + ", -" + "1" * 120 + "]",
        '[123456789012345678901234567890, {"n": -4}]',
    ],
)
def test_numbers_split_anywhere(text: str) -> None:
    for at in range(1, len(text)):
        _check(text, [text[:at], text[at:]])
    _check(text, list(text))


@pytest.mark.parametrize("text", ["[01]", "[-]", "[1.]", "[--1]", "[1e]", "[-01]", "[1.5.2]"])
def test_bad_numbers_are_refused_however_split(text: str) -> None:
    for chunks in ([text], list(text), [text[:2], text[2:]]):
        for diff in (False, True):
            with pytest.raises(OutputParserException):
                _stream(chunks, diff=diff)


def test_growing_integers_are_shown_digit_by_digit() -> None:
    assert _stream(list("[-120, 45]"), diff=True) == [
        [{"op": "replace", "path": "", "value": []}],
        [{"op": "add", "path": "/0", "value": -1}],
        [{"op": "replace", "path": "/0", "value": -12}],
        [{"op": "replace", "path": "/0", "value": -120}],
        [{"op": "add", "path": "/1", "value": 4}],
        [{"op": "replace", "path": "/1", "value": 45}],
    ]
    assert _stream(list('{"a/b": 0.5}'), diff=False) == [{}, {"a/b": 0}, {"a/b": 0.5}]
    assert _stream(list('{"a/b": 0.5}'), diff=True)[1:] == [
        [{"op": "add", "path": "/a~1b", "value": 0}],
        [{"op": "replace", "path": "/a~1b", "value": 0.5}],
    ]


MIXED = (
    '{"a": [1, -20, 3.25, 0, -0.5, 1e3, 2E-2, true, false, null], "k\\"/~\\u00e9": '
    '"x\\ny\\ud83d\\ude00z", "": {}, "e": [], "n": {"m": [{"d": 10.0}, "s"]} , "t" :true}'
)


@pytest.mark.parametrize(
    "text", [MIXED, json.dumps({"s": "ab" * 300 + "c", "t": ["c" * 700 + "\n", 7]})]
)
def test_one_character_reading_hands_over_to_any_chunk_anywhere(text: str) -> None:
    # `changes` reads one-character chunks itself and hands any other chunk to `_scan`,
    # and back: every state it can be in meets a longer chunk, and starts from a longer one
    for at in range(1, len(text), 1 if text is MIXED else 97):
        _check(text, [*text[:at], text[at:]])
        _check(text, [text[:at], *text[at:]])
