"""The small constraint vocabulary understood inside ``Annotated[T, ...]``.

Each constraint both narrows the JSON Schema (``apply``) and checks a structured value
(``check``), so the schema and the validator can never disagree. Metadata that is not a
:class:`Constraint` is ignored: it belongs to other libraries.
"""

from __future__ import annotations

import abc
import re
from typing import Any

import attrs

from runnables.errors import RunnablesTypeError

__all__ = ["Constraint", "Description", "Ge", "Gt", "Le", "Lt", "MaxLen", "MinLen", "Pattern"]

_LENGTH_KEYWORDS = {"string": "Length", "array": "Items", "object": "Properties"}


def _json_type(schema: dict[str, Any]) -> object:
    return schema.get("type")


class Constraint(abc.ABC):
    """Base of annotation constraints: subclass it to add a new one."""

    __slots__ = ()

    @abc.abstractmethod
    def apply(self, schema: dict[str, Any]) -> None:
        """Add this constraint's keywords to ``schema`` (raise ``TypeError`` if inapplicable)."""

    @abc.abstractmethod
    def check(self, value: Any) -> str | None:
        """Return an error message if ``value`` breaks the constraint, else ``None``."""


def _length_keyword(schema: dict[str, Any], prefix: str, owner: object) -> str:
    suffix = _LENGTH_KEYWORDS.get(str(_json_type(schema)))
    if suffix is None:
        raise RunnablesTypeError(
            f"{owner!r} applies to strings, arrays and objects, not {schema!r}"
        )
    return prefix + suffix


@attrs.frozen
class MinLen(Constraint):
    """At least ``length`` characters, items or keys (``minLength``/``minItems``/...)."""

    length: int

    def apply(self, schema: dict[str, Any]) -> None:
        schema[_length_keyword(schema, "min", self)] = self.length

    def check(self, value: Any) -> str | None:
        size = len(value)
        return f"length {size} is less than {self.length}" if size < self.length else None


@attrs.frozen
class MaxLen(Constraint):
    """At most ``length`` characters, items or keys (``maxLength``/``maxItems``/...)."""

    length: int

    def apply(self, schema: dict[str, Any]) -> None:
        schema[_length_keyword(schema, "max", self)] = self.length

    def check(self, value: Any) -> str | None:
        size = len(value)
        return f"length {size} is more than {self.length}" if size > self.length else None


def _number_keyword(schema: dict[str, Any], keyword: str, owner: object) -> str:
    if _json_type(schema) not in ("integer", "number"):
        raise RunnablesTypeError(f"{owner!r} applies to numbers, not {schema!r}")
    return keyword


@attrs.frozen
class Ge(Constraint):
    """Greater than or equal to ``bound`` (``minimum``)."""

    bound: int | float

    def apply(self, schema: dict[str, Any]) -> None:
        schema[_number_keyword(schema, "minimum", self)] = self.bound

    def check(self, value: Any) -> str | None:
        return None if value >= self.bound else f"{value!r} is less than {self.bound!r}"


@attrs.frozen
class Gt(Constraint):
    """Strictly greater than ``bound`` (``exclusiveMinimum``)."""

    bound: int | float

    def apply(self, schema: dict[str, Any]) -> None:
        schema[_number_keyword(schema, "exclusiveMinimum", self)] = self.bound

    def check(self, value: Any) -> str | None:
        return None if value > self.bound else f"{value!r} is not greater than {self.bound!r}"


@attrs.frozen
class Le(Constraint):
    """Less than or equal to ``bound`` (``maximum``)."""

    bound: int | float

    def apply(self, schema: dict[str, Any]) -> None:
        schema[_number_keyword(schema, "maximum", self)] = self.bound

    def check(self, value: Any) -> str | None:
        return None if value <= self.bound else f"{value!r} is more than {self.bound!r}"


@attrs.frozen
class Lt(Constraint):
    """Strictly less than ``bound`` (``exclusiveMaximum``)."""

    bound: int | float

    def apply(self, schema: dict[str, Any]) -> None:
        schema[_number_keyword(schema, "exclusiveMaximum", self)] = self.bound

    def check(self, value: Any) -> str | None:
        return None if value < self.bound else f"{value!r} is not less than {self.bound!r}"


@attrs.frozen
class Pattern(Constraint):
    """A string matching the regular expression ``regex`` anywhere (``pattern``).

    Keep to the syntax shared by Python and ECMA-262 so both sides agree.
    """

    regex: str

    def apply(self, schema: dict[str, Any]) -> None:
        if _json_type(schema) != "string":
            raise RunnablesTypeError(f"{self!r} applies to strings, not {schema!r}")
        schema["pattern"] = self.regex

    def check(self, value: Any) -> str | None:
        return None if re.search(self.regex, value) else f"does not match {self.regex!r}"


@attrs.frozen
class Description(Constraint):
    """Attach a ``description`` to any schema; validation is unaffected.

    Handy for TypedDict keys and :meth:`runnables.schema.Schema.object` fields, which
    have no field metadata of their own.
    """

    text: str

    def apply(self, schema: dict[str, Any]) -> None:
        schema["description"] = self.text

    def check(self, value: Any) -> str | None:
        return None
