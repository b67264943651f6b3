"""`SecretStr`, a string that never shows itself, and `Redactor`, which masks a secret (or any
run of 8 of its characters, or of its base64) in text and JSON data a server sent back.

The rule: the secret itself and every run of its base64 that depends on the secret alone
(in each alignment and both alphabets) are masked whole, whatever their length (base64 runs
from 4 characters up); of the forms 8 characters or longer, every run of 8 is masked too, so
a truncated or partly quoted key goes as well."""

from __future__ import annotations

import base64
from typing import Any, Final, cast, final

from runnables.errors import RunnablesTypeError, RunnablesValueError

__all__ = ["MASK", "Redactor", "SecretStr", "check_header_value"]

MASK: Final = "**********"

#: Runs this long shared with a secret are masked (shorter secrets are masked whole).
_GRAM = 8

#: The shortest base64 run of a secret that is masked: a secret under 4 characters is
#: masked as itself only (its base64 runs are too short to tell from other text).
_SHORTEST = 4


@final
class SecretStr:
    """A secret (an API key) whose `repr` and `str` hide it; `get_secret_value()` gives it.

    Immutable, equal and hashed by value, so models built from equal keys compare equal. Not an
    attrs class on purpose: `attrs.asdict` and cattrs would walk into an attrs class and copy
    the secret out; this one they leave whole.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise RunnablesTypeError(f"SecretStr takes a str, got {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self._value

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SecretStr is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("SecretStr is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretStr):
            return NotImplemented
        return self._value == other._value

    def __hash__(self) -> int:
        return hash((SecretStr, self._value))

    def __repr__(self) -> str:
        return f"SecretStr('{MASK}')" if self._value else "SecretStr('')"

    def __str__(self) -> str:
        return MASK if self._value else ""

    def __reduce__(self) -> tuple[type[SecretStr], tuple[str]]:
        return (SecretStr, (self._value,))


def check_header_value(what: str, value: str) -> None:
    """Refuse a value an HTTP header cannot carry (printable ASCII, no whitespace), saying
    what is wrong and where without showing the value."""
    for position, char in enumerate(value):
        code = ord(char)
        if code < 32 or code == 127:
            problem = "a control character"
        elif code > 127:
            problem = "a non-ASCII character"
        elif char == " ":
            problem = "whitespace"
        else:
            continue
        hint = " (a key read from a file often ends in a newline: strip it)" if char == "\n" else ""
        raise RunnablesValueError(
            f"{what} contains {problem} at position {position} of {len(value)}; an API key "
            f"is printable ASCII without spaces{hint}"
        )


def _base64_runs(secret: str) -> list[str]:
    """The characters of the secret's base64 that depend on nothing but the secret, for each
    of the three alignments it can have inside longer encoded text, in both alphabets; runs
    shorter than `_SHORTEST` are left out (they would mask ordinary text)."""
    raw = secret.encode()
    runs: list[str] = []
    for shift in range(3):
        text = base64.b64encode(b"\0" * shift + raw + b"\0\0").decode()
        # character j holds bits 6j..6j+5; the secret's bits are 8*shift..8*(shift+len)
        run = text[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6]
        if len(run) >= _SHORTEST:
            runs += [run, run.replace("+", "-").replace("/", "_")]
    return runs


@final
class Redactor:
    """Masks a secret in what a server sent back: every run of text sharing `_GRAM` characters
    with it (so a truncated or partly quoted key goes too), or with its base64 form."""

    __slots__ = ("_grams", "_short")

    def __init__(self, secret: str) -> None:
        forms = list(dict.fromkeys([secret, *_base64_runs(secret)])) if secret else []
        self._grams = {
            form[start : start + _GRAM] for form in forms for start in range(len(form) - _GRAM + 1)
        }
        self._short = sorted((form for form in forms if len(form) < _GRAM), key=len, reverse=True)

    def text(self, text: str) -> str:
        """`text` with every run touching the secret replaced by `MASK`."""
        for short in self._short:
            text = text.replace(short, MASK)
        if not self._grams:
            return text
        masked = [False] * len(text)
        for start in range(len(text) - _GRAM + 1):
            if text[start : start + _GRAM] in self._grams:
                masked[start : start + _GRAM] = [True] * _GRAM
        if not any(masked):
            return text
        parts: list[str] = []
        for position, char in enumerate(text):
            if not masked[position]:
                parts.append(char)
            elif position == 0 or not masked[position - 1]:
                parts.append(MASK)
        return "".join(parts)

    def finds(self, text: str) -> bool:
        """Whether `text` shows the secret (or a run of it)."""
        return self.text(text) != text

    def data(self, value: object) -> object:
        """JSON data with the secret masked in every string, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            items = cast("dict[Any, object]", value).items()
            return {
                (self.text(key) if isinstance(key, str) else key): self.data(item)
                for key, item in items
            }
        if isinstance(value, list):
            return [self.data(item) for item in cast("list[object]", value)]
        return value
