"""Incremental JSON for streamed model output: every chunk is read once, in one pass.

`JsonStream` is a state machine over a stack of open containers plus one pending token (a
string, number or literal). It keeps the value built so far and reports, after each chunk,
what a consumer can see change: a snapshot of the partial value, or RFC 6902 operations
turning the previous one into it. No step recurses, so nesting costs no stack. `decode`
reads a complete answer with the same rules (a Markdown fence is found the same way) through
the `json` module's C scanner. Both raise `JsonTextError` (a reason and a position).
"""

# The reading loop in `JsonStream.changes` has more paths than pyright's loop inference follows:
# it reports what the loop reads from ``self`` as partially unknown (mypy checks it fully).
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false

from __future__ import annotations

import itertools
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

__all__ = ["MAX_DEPTH", "NOTHING", "JsonStream", "JsonTextError", "decode"]

NOTHING: Any = object()

# Deeper nesting is refused: no model answer needs it, every snapshot copies the open
# containers, and Python's json scanner recurses once per level (beyond the recursion limit
# it raises; with the limit raised far enough the process crashes).
MAX_DEPTH = 1000

# A growing string is shown again once it has grown by 1/_STRING_STEP of its length (every
# character while it is shorter): each showing copies it, so streaming stays linear.
_STRING_STEP = 256
# A snapshot is taken once it has 1/_SNAPSHOT_STEP as many items to copy as chunks have
# arrived since the last one (at every change while the open containers are small).
_SNAPSHOT_STEP = 128
# A container starting this many characters before the end of a chunk is first tried whole.
_WHOLE = 64
# A number is shown while it grows only up to this many characters (converting it is linear).
_NUMBER_PREVIEW = 100

_WS = " \t\n\r"
_TAG = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-")
_NUMBER_CHARS = frozenset("0123456789+-.eE")
_DIGITS = {digit: int(digit) for digit in "0123456789"}
_NEGATIVE_DIGITS = {digit: -value for digit, value in _DIGITS.items()}
_HEX = frozenset("0123456789abcdefABCDEF")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS: dict[str, tuple[str, Any]] = {
    "t": ("true", True),
    "f": ("false", False),
    "n": ("null", None),
}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_SPACE = frozenset(_WS)
_AFTER_NUMBER = frozenset(",]}" + _WS)
# one-character chunks of text in a string (the test for any other chunk is slower)
_PLAIN = frozenset(chr(code) for code in range(256)) - {'"', "\\"}
_NOT_WS = re.compile(r"[^ \t\n\r]")

# states
# (`JsonStream.changes` tells the first four apart by order: keep them first)
_VALUE, _FIRST_VALUE, _KEY, _FIRST_KEY, _START, _PROSE, _TAG_STATE = range(7)
_STRING, _ESCAPE, _UNICODE, _NUMBER_STATE, _LITERAL, _COLON, _AFTER = range(7, 14)
_TRAIL, _CLOSE, _DONE = range(14, 17)
# a key's text; a string after a high surrogate escape (whose low half may follow)
_KEY_STRING, _HIGH = range(17, 19)
_STATES = 19


class JsonTextError(ValueError):
    """Text that is not (a prefix of) a JSON answer: ``reason`` at character ``position``."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} (char {position})")
        self.reason = reason
        self.position = position


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


class _Refused(ValueError):
    """A JSON number or constant that the parsers refuse (their position is added later)."""


def _number(token: str) -> int | float:
    """The value of a complete JSON number token, refusing what Python cannot hold exactly."""
    if _NUMBER.fullmatch(token) is None:
        raise _Refused(f"invalid number {token[:40]!r}")
    if "." in token or "e" in token or "E" in token:
        return _float(token)
    try:
        return int(token)
    except ValueError:  # longer than sys.get_int_max_str_digits()
        raise _Refused(f"number too large ({len(token)} digits)") from None


def _float(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise _Refused(f"number out of range {token[:40]!r}")
    return value


class JsonStream:
    """Feed text chunks with `feed`; each call returns what changed (or `NOTHING`).

    With ``diff=False`` a change is reported as a snapshot of the whole partial value; the
    snapshot copies only the open containers and shares completed values with later
    snapshots. With ``diff=True`` it is a list of JSON Patch operations. ``bare=True`` reads
    the text as JSON only; otherwise an answer that does not start with ``{`` or ``[`` is
    searched for a ``` fence and nothing is reported until one opens.
    """

    # (slots: past 30 attributes an instance's dict is not shared, and reading an
    # attribute takes a dict lookup instead of an index)
    __slots__ = (
        "_backticks",
        "_by_char",
        "_changed",
        "_deep",
        "_depth_limit",
        "_diff",
        "_exact_length",
        "_fenced",
        "_hex",
        "_high",
        "_key_mode",
        "_length",
        "_literal",
        "_literal_value",
        "_ops",
        "_parts",
        "_pending_op",
        "_readers",
        "_root",
        "_shown",
        "_slot",
        "_snapshot_at",
        "_spent",
        "_stack",
        "_start",
        "_state",
        "_tail",
        "_target",
        "_target_key",
        "_unsafe_recursion",
        "_whole_in",
        "chunks",
    )

    def __init__(self, *, diff: bool = False, bare: bool = False) -> None:
        self._diff = diff
        self._state = _VALUE if bare else _START
        self._fenced = False
        self.chunks: list[str] = []  # the text so far
        self._depth_limit = MAX_DEPTH
        # open containers, innermost last: [container, key in it or None, JSON pointer]
        self._stack: list[list[Any]] = []
        self._root: Any = NOTHING
        self._changed = False
        self._ops: list[dict[str, Any]] = []
        self._pending_op: dict[str, Any] | None = None
        # the pending token
        self._parts: list[str] = []
        self._length: int = 0  # characters in a pending number or literal
        self._exact_length: int = 0  # a pending number's length when it was shown exactly
        self._start = (0, 0)  # where the token started: (chunks read, index in the last)
        self._key_mode = False
        self._high = ""  # a high surrogate waiting for its low half
        self._hex = ""
        self._literal = ""
        self._literal_value: Any = None
        self._shown: Any = NOTHING  # the pending token's value as last placed
        self._slot = ""  # its JSON pointer (diff mode)
        self._target: Any = None  # its container (None: it is the root)
        self._target_key: Any = None  # and its key there (-1 in a list)
        self._tail = ""  # the last characters of prose (a fence may span chunks)
        self._backticks = 0
        self._spent = 0  # characters that attempts to read a whole container covered
        self._snapshot_at = 0  # chunks read at the last snapshot
        self._unsafe_recursion = sys.getrecursionlimit() > MAX_DEPTH
        self._whole_in = 0  # the chunk (its number) those attempts were in
        self._deep = False  # whether it nests too deep for the json scanner
        by_state = {
            _STRING: self._read_string,
            _KEY_STRING: self._read_string,
            _HIGH: self._read_string,
            _AFTER: self._read_after,
            _VALUE: self._read_value,
            _FIRST_VALUE: self._read_value,
            _NUMBER_STATE: self._read_number,
            _KEY: self._read_key,
            _FIRST_KEY: self._read_key,
            _COLON: self._read_colon,
            _ESCAPE: self._read_escape,
            _UNICODE: self._read_unicode,
            _LITERAL: self._read_literal,
        }
        self._readers = [by_state.get(state, self._read_outside) for state in range(_STATES)]

    # ------------------------------------------------------------------ reading

    def feed(self, chunk: str) -> Any:
        """Read one chunk; return the change it made visible, or `NOTHING`."""
        self.chunks.append(chunk)
        return self._scan(chunk)

    def _scan(self, chunk: str) -> Any:
        """Read any chunk, one reader per state, then report what changed."""
        readers = self._readers
        i = 0
        n = len(chunk)
        while i < n:
            i = readers[self._state](chunk, i)
        return self._report()

    def changes(
        self,
        chunks: Iterable[Any],
        text: Callable[[Any], str],
        fail: Callable[[JsonTextError, str], Exception],
    ) -> Iterator[Any]:
        """`feed` each chunk (its `text` if not a `str`), yielding the changes it makes visible,
        and then `finish`; an error is raised as ``fail`` makes it from the text so far.

        At one character a chunk, a call per chunk costs more than the reading: the commonest
        chunks (text in a key or string, a value's first character, a digit, punctuation,
        space) are read here in one loop, the state in a local variable, and any other goes
        to `_scan`, which `feed` uses (the tests compare the two). A step here changes what
        `_scan` would and yields what its report would. The text of a key or string is read
        in a loop of its own, which goes on to the next chunk without finding the state.
        """
        chunk_list = self.chunks
        stack = self._stack
        diff = self._diff
        state = self._state
        # A key's text is ``self._parts`` and then the chunks from ``key_at`` on: read here,
        # its characters are only counted.
        key_at = len(chunk_list)
        fraction = False  # whether the pending number is an integer, a '.' and digits
        value: Any = NOTHING  # a value to place (``new``) or the pending token's new value
        new = False
        shown: Any  # the value a change shows
        length: int  # (declared: a checker cannot infer it through these loops)
        more = True  # whether an inner loop left chunks to read
        segments: dict[str, str] = {}  # keys as JSON pointer parts
        chunks = iter(chunks)
        # (the states and str as local variables: a local is read faster than a global)
        VALUE, FIRST_VALUE, KEY, FIRST_KEY = _VALUE, _FIRST_VALUE, _KEY, _FIRST_KEY
        STRING, NUMBER, LITERAL, COLON = _STRING, _NUMBER_STATE, _LITERAL, _COLON
        AFTER, KEY_STRING, string_type, type_of = _AFTER, _KEY_STRING, str, type
        try:
            for chunk in chunks:
                if type_of(chunk) is not string_type:
                    chunk = text(chunk)
                chunk_list.append(chunk)
                if state <= FIRST_VALUE:  # (VALUE, FIRST_VALUE)
                    if chunk in _SPACE:
                        continue
                    if chunk == '"':
                        self._parts = [""]
                        self._key_mode = False
                        state = STRING
                        value = ""
                        new = True
                    elif chunk in _DIGITS:
                        self._parts = [chunk]
                        self._length = self._exact_length = 1
                        self._start = (len(chunk_list), 0)
                        state = NUMBER
                        fraction = False
                        value = _DIGITS[chunk]
                        new = True
                    elif chunk in _LITERALS:
                        word, value = _LITERALS[chunk]
                        start = len(chunk_list)
                        state = LITERAL
                        expected = chunk
                        for expected in word[1:]:
                            for chunk in chunks:
                                if type_of(chunk) is not string_type:
                                    chunk = text(chunk)
                                chunk_list.append(chunk)
                                break
                            else:
                                more = False
                                break
                            if chunk != expected:
                                break
                        if more and chunk == expected:
                            new = True
                        else:  # (to `_scan`, or the end)
                            self._literal, self._literal_value = word, value
                            self._start = (start, 0)
                            self._length = len(chunk_list) - start + (not more)
                            if not more:
                                break
                            value = NOTHING
                    elif (chunk == "{" or chunk == "[") and len(stack) < self._depth_limit:
                        value = {} if chunk == "{" else []
                        state = FIRST_KEY if chunk == "{" else FIRST_VALUE
                        new = True
                elif state <= FIRST_KEY:  # (KEY, FIRST_KEY)
                    if chunk == '"':
                        key_at = len(chunk_list)
                        for chunk in chunks:
                            if type_of(chunk) is not string_type:
                                chunk = text(chunk)
                            chunk_list.append(chunk)
                            if chunk not in _PLAIN and ('"' in chunk or "\\" in chunk):
                                break
                        else:
                            more = False
                        if not more or chunk != '"':  # the end, or a chunk for `_scan`
                            state = KEY_STRING
                            self._parts = []
                            self._key_mode = True
                            if not more:
                                break
                        else:
                            stack[-1][1] = "".join(chunk_list[key_at:-1])
                            for chunk in chunks:  # (the colon, most likely)
                                if type_of(chunk) is not string_type:
                                    chunk = text(chunk)
                                chunk_list.append(chunk)
                                break
                            else:
                                state = COLON
                                break
                            if chunk == ":":
                                state = VALUE
                                continue
                            state = COLON
                    elif chunk in _SPACE:
                        continue
                elif state == AFTER:
                    if chunk == ",":
                        # (a list's frame has no key; an object's has one after its first value)
                        state = VALUE if stack[-1][1] is None else KEY
                        continue
                    if chunk in _SPACE:
                        continue
                    if (chunk == "}" or chunk == "]") and (chunk == "}") == (
                        type(stack[-1][0]) is dict
                    ):
                        stack.pop()
                        if not stack:
                            state = _CLOSE if self._fenced else _TRAIL
                        continue
                elif state == NUMBER:
                    length = self._length
                    shown = self._shown
                    if (
                        chunk in _DIGITS
                        and type(shown) is int
                        and shown  # (not after a leading 0, where a digit is invalid)
                        and self._exact_length == length < _NUMBER_PREVIEW
                    ):
                        # an integer shown exactly gains digits: each value follows without
                        # parsing (until the preview's length)
                        parts = self._parts
                        slot = self._slot
                        digits = _DIGITS if shown > 0 else _NEGATIVE_DIGITS
                        while True:
                            shown = shown * 10 + digits[chunk]
                            parts.append(chunk)
                            if diff:  # (the value is placed at the end)
                                yield [{"op": "replace", "path": slot, "value": shown}]
                            else:
                                if self._target is None:
                                    self._root = shown
                                else:
                                    self._target[self._target_key] = shown
                                self._changed = True
                                change = self._flush()
                                if change is not NOTHING:
                                    yield change
                            for chunk in chunks:
                                if type_of(chunk) is not string_type:
                                    chunk = text(chunk)
                                chunk_list.append(chunk)
                                break
                            else:
                                more = False
                                break
                            if chunk not in digits or len(parts) == _NUMBER_PREVIEW:
                                break
                        if self._target is None:
                            self._root = shown
                        else:
                            self._target[self._target_key] = shown
                        self._shown = shown
                        # (a number's parts are its characters)
                        self._length = self._exact_length = length = len(parts)
                        if not more:
                            break
                    if chunk in _DIGITS and length < _NUMBER_PREVIEW:
                        if fraction:
                            self._parts.append(chunk)
                            self._length = self._exact_length = length + 1
                            number = float("".join(self._parts))
                            if type(shown) is float and number == shown:
                                continue
                            value = number
                            new = False
                    elif length == self._exact_length and chunk in _AFTER_NUMBER and stack:
                        # the end of a number read whole
                        self._shown = NOTHING
                        if chunk == ",":
                            state = VALUE if stack[-1][1] is None else KEY
                            continue
                        state = AFTER
                        if chunk in _SPACE:
                            continue
                        if (chunk == "}") == (type(stack[-1][0]) is dict):
                            stack.pop()
                            if not stack:
                                state = _CLOSE if self._fenced else _TRAIL
                            continue
                    elif (
                        chunk == "."
                        and type(shown) is int
                        and self._exact_length == length < _NUMBER_PREVIEW
                    ):
                        self._parts.append(chunk)
                        self._length = length + 1
                        self._exact_length = 0
                        fraction = True
                        continue
                elif state == STRING:
                    if (
                        diff
                        and len(self._parts[0]) < _STRING_STEP
                        and (chunk in _PLAIN or (chunk and '"' not in chunk and "\\" not in chunk))
                    ):
                        # a short string (`_parts` is just the string shown) grows by a patch
                        # per chunk; it is put in its container once it stops growing here, as
                        # nothing reads the container in between
                        string = self._parts[0]
                        slot = self._slot
                        while True:
                            string += chunk
                            yield [{"op": "replace", "path": slot, "value": string}]
                            if len(string) >= _STRING_STEP:
                                break
                            for chunk in chunks:
                                if type_of(chunk) is not string_type:
                                    chunk = text(chunk)
                                chunk_list.append(chunk)
                                break
                            else:
                                more = False
                                break
                            if chunk not in _PLAIN and ('"' in chunk or "\\" in chunk or not chunk):
                                break
                        if self._target is None:
                            self._root = string
                        else:
                            self._target[self._target_key] = string
                        if chunk == '"' and stack:  # the string ends (`chunk` is read if plain)
                            self._shown = NOTHING
                            state = AFTER
                            continue
                        self._parts[0] = self._shown = string
                        if not more:
                            break
                        if len(string) >= _STRING_STEP:  # (the chunk is read)
                            continue
                    elif chunk in _PLAIN or ('"' not in chunk and "\\" not in chunk):
                        parts = self._parts  # the string as last shown, then the parts added since
                        target = self._target
                        target_key = self._target_key
                        slot = self._slot
                        string = parts[0]
                        while True:
                            if len(string) < _STRING_STEP:
                                string += chunk
                                parts[0] = string
                                show = chunk != ""
                            else:
                                parts.append(chunk)
                                show = len(parts) - 1 >= len(string) // _STRING_STEP
                                if show:
                                    string = "".join(parts)
                                    parts = self._parts = [string]
                            if show:
                                if target is None:
                                    self._root = string
                                else:
                                    target[target_key] = string
                                if diff:
                                    yield [{"op": "replace", "path": slot, "value": string}]
                                else:
                                    self._changed = True
                                    change = self._flush()
                                    if change is not NOTHING:
                                        yield change
                            for chunk in chunks:
                                if type_of(chunk) is not string_type:
                                    chunk = text(chunk)
                                chunk_list.append(chunk)
                                break
                            else:
                                more = False
                                break
                            if chunk not in _PLAIN and ('"' in chunk or "\\" in chunk):
                                break
                        self._shown = string
                        if not more:
                            break
                    if chunk == '"' and stack:
                        parts = self._parts
                        if len(parts) == 1 and parts[0] is self._shown:  # shown whole already
                            self._shown = NOTHING
                            state = AFTER
                            continue
                elif state == LITERAL:
                    word = self._literal
                    length = self._length + 1
                    if chunk == word[length - 1]:
                        self._length = length
                        if length < len(word):
                            continue
                        value = self._literal_value
                        new = True
                elif state == COLON:
                    if chunk == ":":
                        state = VALUE
                        continue
                    if chunk in _SPACE:
                        continue
                elif state == KEY_STRING:
                    if chunk == '"':
                        parts = self._parts
                        parts.extend(chunk_list[key_at:-1])
                        stack[-1][1] = "".join(parts)
                        state = COLON
                        continue
                    if chunk in _PLAIN or ('"' not in chunk and "\\" not in chunk):
                        continue
                if value is NOTHING:  # any other chunk
                    if state == KEY_STRING:
                        self._parts.extend(chunk_list[key_at:-1])
                    self._state = state
                    change = self._scan(chunk)
                    state = self._state
                    key_at = len(chunk_list)
                    fraction = False
                    if change is not NOTHING:
                        yield change
                    continue
                if new:  # as `_place`
                    if not stack:
                        container = key = None
                        path = ""
                        op = "replace"
                        self._root = value
                    else:
                        container, key, pointer = stack[-1]
                        if key is None:  # a list
                            container.append(value)
                            key = -1
                            path = f"{pointer}/{len(container) - 1}"
                            op = "add"
                        else:
                            op = "replace" if key in container else "add"
                            container[key] = value
                            try:
                                path = pointer + segments[key]
                            except KeyError:
                                segments[key] = _pointer(key)
                                path = pointer + segments[key]
                    shown = value
                    if state <= FIRST_KEY:  # (FIRST_VALUE, FIRST_KEY): a container opens
                        shown = {} if state == FIRST_KEY else []
                        stack.append([value, None, path])
                    elif state == LITERAL:
                        self._shown = NOTHING
                        state = AFTER if stack else _CLOSE if self._fenced else _TRAIL
                    else:  # a string or number: it grows there
                        self._target = container
                        self._target_key = key
                        self._slot = path
                        self._shown = value
                else:  # the pending number's new value
                    self._shown = shown = value
                    target = self._target
                    if target is None:
                        self._root = value
                    else:
                        target[self._target_key] = value
                    op = "replace"
                    path = self._slot
                value = NOTHING
                if diff:
                    yield [{"op": op, "path": path, "value": shown}]
                else:
                    self._changed = True
                    change = self._flush()
                    if change is not NOTHING:
                        yield change
            if state == KEY_STRING:
                self._parts.extend(chunk_list[key_at:])
            self._state = state
            change = self.finish()
        except JsonTextError as error:
            raise fail(error, "".join(chunk_list)) from None
        if change is not NOTHING:
            yield change

    # Each reader reads from ``chunk[i]`` in its state and returns where to go on.

    def _read_string(self, chunk: str, i: int) -> int:
        quote = chunk.find('"', i)
        backslash = chunk.find("\\", i, quote if quote >= 0 else len(chunk))
        stop = backslash if backslash >= 0 else quote if quote >= 0 else len(chunk)
        if stop > i:
            self._append(chunk[i:stop])
            return stop
        if backslash == i:
            self._state = _ESCAPE
        else:
            self._end_string()
        return i + 1

    def _read_after(self, chunk: str, i: int) -> int:
        char = chunk[i]
        if char == ",":
            # (a list's frame has no key; an object's has one after its first value)
            self._state = _VALUE if self._stack[-1][1] is None else _KEY
        elif char == "}" or char == "]":
            self._close(char, i)
        elif char not in _SPACE:
            self._fail("Expecting ',' delimiter", i)
        return i + 1

    def _read_value(self, chunk: str, i: int) -> int:
        char = chunk[i]
        if char in _SPACE:
            return i + 1
        if char == "]" and self._state == _FIRST_VALUE:
            self._close(char, i)
        elif (
            (char == "{" or char == "[")
            and len(chunk) - i > _WHOLE
            and len(self._stack) < self._depth_limit
        ):
            return self._read_whole(chunk, i)
        else:
            self._begin_value(char, i)
        return i + 1

    def _read_whole(self, chunk: str, i: int) -> int:
        """Read a container that the chunk holds entirely with the `json` module's scanner.

        If the container does not end in this chunk (or is invalid) it is read character
        by character instead; the text the failed attempts covered is counted, and
        attempts stop at four times the chunk, so reading stays linear.
        """
        if self._whole_in != len(self.chunks):  # the first attempt in this chunk
            self._whole_in = len(self.chunks)
            self._spent = 0
            # the json scanner could recurse past the C stack: check the nesting first
            self._deep = self._unsafe_recursion and _too_deep(chunk[i:])
        if self._deep or self._spent >= 4 * len(chunk):
            self._begin_value(chunk[i], i)
            return i + 1
        try:
            value, end = _DECODER.raw_decode(chunk, i)
        except json.JSONDecodeError as exc:
            self._spent += exc.pos - i
        except (ValueError, RecursionError):
            self._spent += len(chunk) - i
        else:
            self._place(value, value)
            self._after_value()
            return end
        self._begin_value(chunk[i], i)
        return i + 1

    def _read_number(self, chunk: str, i: int) -> int:
        char = chunk[i]
        if char in _NUMBER_CHARS:
            self._parts.append(char)
            self._length += 1
            return i + 1
        self._end_number()
        return i

    def _read_key(self, chunk: str, i: int) -> int:
        char = chunk[i]
        if char == '"':
            self._begin_string(i, key=True)
        elif char == "}" and self._state == _FIRST_KEY:
            self._close(char, i)
        elif char not in _SPACE:
            self._fail("Expecting property name enclosed in double quotes", i)
        return i + 1

    def _read_colon(self, chunk: str, i: int) -> int:
        char = chunk[i]
        if char == ":":
            self._state = _VALUE
        elif char not in _SPACE:
            self._fail("Expecting ':' delimiter", i)
        return i + 1

    def _read_escape(self, chunk: str, i: int) -> int:
        char = chunk[i]
        if char == "u":
            self._hex = ""
            self._state = _UNICODE
        elif char in _ESCAPES:
            self._append(_ESCAPES[char])
            self._state = _KEY_STRING if self._key_mode else _STRING
        else:
            self._fail("Invalid \\escape", i - 1)
        return i + 1

    def _read_unicode(self, chunk: str, i: int) -> int:
        char = chunk[i]
        if char not in _HEX:
            self._fail("Invalid \\uXXXX escape", i - 2 - len(self._hex))
        self._hex += char
        if len(self._hex) == 4:
            self._unicode(int(self._hex, 16))
            self._state = _HIGH if self._high else _KEY_STRING if self._key_mode else _STRING
        return i + 1

    def _read_literal(self, chunk: str, i: int) -> int:
        word = self._literal
        if chunk[i] != word[self._length]:
            raise JsonTextError("Expecting value", self._position(self._start))
        self._length += 1
        if self._length == len(word):
            self._place(self._literal_value, self._literal_value)
            self._after_value()
        return i + 1

    def _read_outside(self, chunk: str, i: int) -> int:
        return self._outside(self._state, chunk, i)

    def _outside(self, state: int, chunk: str, i: int) -> int:
        """Read text around the JSON value: leading space, prose, a fence, what follows."""
        n = len(chunk)
        if state == _DONE:
            return n
        match = _NOT_WS.search(chunk, i)
        if state == _START:
            if match is None:
                return n
            i = match.start()
            self._state = _VALUE if chunk[i] in "{[" else _PROSE
            return i
        if state == _PROSE:
            seen = self._tail + chunk[i:]
            found = seen.find("```")
            if found < 0:
                self._tail = seen[-2:]
                return n
            self._state = _TAG_STATE
            self._fenced = True
            return i + found + 3 - len(self._tail)
        if state == _TAG_STATE:
            while i < n and chunk[i] in _TAG:
                i += 1
            if i < n:
                self._state = _VALUE
            return i
        if state == _TRAIL:
            if match is not None:
                self._fail("Extra data", match.start())
            return n
        # _CLOSE: space, then the closing ```
        if self._backticks == 0:
            if match is None:
                return n
            i = match.start()
        if chunk[i] != "`":
            self._fail("Extra data", i - self._backticks)
        self._backticks += 1
        if self._backticks == 3:
            self._state = _DONE
        return i + 1

    # ------------------------------------------------------------------ values

    def _begin_value(self, char: str, i: int) -> None:
        if char == '"':
            self._begin_string(i, key=False)
        elif char == "-" or "0" <= char <= "9":
            self._parts = [char]
            self._length = 1
            self._exact_length = 0
            self._start = (len(self.chunks), i)
            self._shown = NOTHING
            self._state = _NUMBER_STATE
        elif char == "{" or char == "[":
            if len(self._stack) >= self._depth_limit:
                self._fail(f"JSON nested deeper than {self._depth_limit} levels", i)
            container: Any = {} if char == "{" else []
            path = self._place(container, {} if char == "{" else [])
            self._stack.append([container, None, path])
            self._state = _FIRST_KEY if char == "{" else _FIRST_VALUE
        elif char in _LITERALS:
            self._literal, self._literal_value = _LITERALS[char]
            self._length = 1
            self._start = (len(self.chunks), i)
            self._state = _LITERAL
        else:
            self._fail("Expecting value", i)

    def _begin_string(self, i: int, *, key: bool) -> None:
        self._parts = [""]  # the string as last shown, then the parts added since
        self._key_mode = key
        self._state = _KEY_STRING if key else _STRING
        if not key:
            self._shown = NOTHING
            self._place_pending("")

    def _append(self, text: str) -> None:
        if self._high:
            self._parts.append(self._high)
            self._high = ""
            self._state = _KEY_STRING if self._key_mode else _STRING
        self._parts.append(text)

    def _unicode(self, code: int) -> None:
        if self._high:
            if 0xDC00 <= code <= 0xDFFF:
                high = ord(self._high)
                self._high = ""
                self._append(chr(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)))
                return
            self._append("")  # the lone high surrogate stands as it is
        if 0xD800 <= code <= 0xDBFF:
            self._high = chr(code)
        else:
            self._append(chr(code))

    def _end_string(self) -> None:
        if self._high:
            self._append("")
        text = "".join(self._parts)
        self._parts = []
        if self._key_mode:
            self._stack[-1][1] = text
            self._state = _COLON
            return
        if text != self._shown:
            self._place_pending(text)
        self._after_value()

    def _end_number(self) -> None:
        if self._length != self._exact_length:
            value = self._number("".join(self._parts))
            if type(value) is not type(self._shown) or value != self._shown:
                self._place_pending(value)
        self._after_value()

    def _after_value(self) -> None:
        self._shown = NOTHING
        if self._stack:
            self._state = _AFTER
        else:
            self._state = _CLOSE if self._fenced else _TRAIL

    def _close(self, char: str, i: int) -> None:
        frame = self._stack.pop()
        if (char == "}") != (type(frame[0]) is dict):
            self._fail(f"unexpected {char!r}", i)
        self._after_value()

    # ------------------------------------------------------------------ placing

    def _place(self, value: Any, shown: Any) -> str:
        """Put a new value in its container (or at the root) and record the change; the
        value's place is kept as `_target` and `_target_key`, where a pending token grows.

        ``shown`` is what a diff carries (a fresh empty container, as the value itself will
        keep growing). Returns the value's JSON pointer (diff mode only).
        """
        self._changed = True
        self._pending_op = None
        stack = self._stack
        if not stack:
            self._root = value
            self._target = None
            if self._diff:
                self._ops.append({"op": "replace", "path": "", "value": shown})
            return ""
        container, key, pointer = stack[-1]
        path: str = pointer
        self._target = container
        if key is None:  # a list (an object's frame has a key once a value can be placed)
            container.append(value)
            self._target_key = -1
            if self._diff:
                path = f"{path}/{len(container) - 1}"
                self._ops.append({"op": "add", "path": path, "value": shown})
            return path
        self._target_key = key
        op = "replace" if key in container else "add"
        container[key] = value
        if self._diff:
            path += _pointer(key) if "~" in key or "/" in key else "/" + key
            self._ops.append({"op": op, "path": path, "value": shown})
        return path

    def _place_pending(self, value: Any) -> None:
        """Show the pending token's current value: placed the first time, replaced after."""
        first = self._shown is NOTHING
        self._shown = value
        if first:
            self._slot = self._place(value, value)
            if self._diff:
                self._pending_op = self._ops[-1]
            return
        self._changed = True
        if self._target is None:
            self._root = value
        else:
            self._target[self._target_key] = value
        if self._diff:
            if self._pending_op is not None:
                self._pending_op["value"] = value
            else:
                self._pending_op = {"op": "replace", "path": self._slot, "value": value}
                self._ops.append(self._pending_op)

    def _report(self, *, final: bool = False) -> Any:
        """At the end of a chunk: show how far a pending string or number has grown, and
        return what changed since the last report (``final``: even if that is costly)."""
        state = self._state
        if state in (_STRING, _HIGH, _ESCAPE, _UNICODE):
            # parts added since the string was last shown (at most two per character)
            if not self._key_mode and len(self._parts) - 1 >= (
                len(self._parts[0]) // _STRING_STEP or 1
            ):
                text = "".join(self._parts)
                self._parts = [text]
                self._place_pending(text)
        elif state == _NUMBER_STATE and self._length <= _NUMBER_PREVIEW:
            self._show_number()
        return self._flush(final=final)

    def _show_number(self) -> None:
        """Show the value of the longest number the pending token starts with."""
        token = "".join(self._parts)
        if token.isdigit() and (token[0] != "0" or len(token) == 1):
            value: Any = int(token)
            exact = True
        else:
            match = _NUMBER.match(token)
            if match is None:
                return
            value = self._number(match.group())
            exact = match.end() == len(token)
        shown = self._shown
        if type(value) is not type(shown) or value != shown:
            self._place_pending(value)
        # a number shown from its whole token so far need not be read again at its end
        self._exact_length = len(token) if exact else 0

    def _flush(self, *, final: bool = False) -> Any:
        """What changed since the last report: the operations, or a snapshot (``final``:
        even if that is costly)."""
        if not self._changed:
            return NOTHING
        if self._diff:
            self._changed = False
            ops = self._ops
            self._ops = []
            self._pending_op = None
            return ops
        if not final:
            # A snapshot copies the open containers: take one only once enough chunks have
            # arrived since the last to pay for it, so that snapshots too stay linear.
            cost = len(self._stack) + sum([len(frame[0]) for frame in self._stack])
            if cost > _SNAPSHOT_STEP * (len(self.chunks) - self._snapshot_at):
                return NOTHING
            self._snapshot_at = len(self.chunks)
        self._changed = False
        return self.partial()

    # ------------------------------------------------------------------ results

    def partial(self) -> Any:
        """The value so far (`NOTHING` before it starts): open containers copied, the rest
        shared."""
        inner: Any = NOTHING
        for container, key, _ in reversed(self._stack):
            copy: Any = container.copy()
            if inner is not NOTHING:
                copy[-1 if key is None else key] = inner
            inner = copy
        if inner is NOTHING:
            return self._root
        return inner

    def finish(self) -> Any:
        """The change the end of the text makes, or, if nothing showed, the whole value
        (in diff mode as one operation). Raises if the whole text is not a JSON answer."""
        if self.complete:  # (read and checked already)
            return self.end()
        value = decode("".join(self.chunks))
        if self.started:
            return self.end()
        return [{"op": "replace", "path": "", "value": value}] if self._diff else value

    def end(self) -> Any:
        """The change the end of the text makes (a number at the very end is complete);
        called once the whole text has been read as valid."""
        if self._state == _NUMBER_STATE:
            self._end_number()
        return self._report(final=True)

    @property
    def complete(self) -> bool:
        """Whether the text so far is a whole answer (only space or a fence may follow)."""
        state = self._state
        return state in (_TRAIL, _DONE) or (state == _CLOSE and self._backticks == 0)

    @property
    def started(self) -> bool:
        """Whether any part of a value has been shown yet."""
        return self._root is not NOTHING

    def _fail(self, reason: str, i: int) -> NoReturn:
        raise JsonTextError(reason, self._position((len(self.chunks), i)))

    def _position(self, mark: tuple[int, int]) -> int:
        """The offset in the whole text of index ``mark[1]`` of chunk number ``mark[0]``."""
        return sum(map(len, self.chunks[: mark[0] - 1])) + mark[1]

    def _number(self, token: str) -> int | float:
        try:
            return _number(token)
        except _Refused as refused:
            raise JsonTextError(str(refused), self._position(self._start)) from None


# ---------------------------------------------------------------------- complete text


def _constant(name: str) -> NoReturn:
    raise _Refused(f"{name} is not JSON")


_DECODER = json.JSONDecoder(strict=False, parse_float=_float, parse_constant=_constant)


def _skip_space(text: str, i: int) -> int:
    match = _NOT_WS.search(text, i)
    return len(text) if match is None else match.start()


def _raw_decode(text: str, i: int) -> tuple[Any, int]:
    # With the recursion limit raised, the json scanner would recurse past the C stack.
    if sys.getrecursionlimit() > MAX_DEPTH and _too_deep(text[i:]):
        raise JsonTextError(f"JSON nested deeper than {MAX_DEPTH} levels", i)
    try:
        return _DECODER.raw_decode(text, i)
    except json.JSONDecodeError as exc:
        raise JsonTextError(exc.msg, exc.pos) from None
    except _Refused as exc:
        raise JsonTextError(str(exc), i) from None
    except ValueError as exc:  # an integer longer than sys.get_int_max_str_digits()
        raise JsonTextError(f"number too large: {str(exc).split(':')[0]}", i) from None
    except RecursionError:
        raise JsonTextError("JSON nested too deeply", i) from None


_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _too_deep(text: str) -> bool:
    """Whether a value starting anywhere in `text` (which starts outside a string) could
    nest deeper than `MAX_DEPTH`, counting the brackets outside strings."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    steps = (_DEPTH_STEP.get(match.group(), 0) for match in _STRING_OR_BRACKET.finditer(text))
    depths = [0, *itertools.accumulate(steps)]
    return max(depths) - min(depths) > MAX_DEPTH


def decode(text: str) -> Any:
    """The JSON value of a complete answer, read as `JsonStream` reads it.

    An answer starting with ``{`` or ``[`` is that JSON and nothing else; otherwise the
    first ``` fence holds it (a language tag, then the value, then space and the closing
    fence or the end), or, with no fence, the whole answer is one JSON value.
    """
    start = _skip_space(text, 0)
    fence = -1 if text.startswith(("{", "["), start) else text.find("```")
    if fence < 0:
        value, end = _raw_decode(text, start)
        rest = _skip_space(text, end)
        if rest < len(text):
            raise JsonTextError("Extra data", rest)
        return value
    start = fence + 3
    while start < len(text) and text[start] in _TAG:
        start += 1
    value, end = _raw_decode(text, _skip_space(text, start))
    rest = _skip_space(text, end)
    if rest < len(text) and not text.startswith("```", rest):
        raise JsonTextError("Extra data", rest)
    return value
