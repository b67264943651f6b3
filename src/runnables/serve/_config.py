"""Which parts of a run's config an HTTP client may set, and the check that enforces it.

LangServe drops config keys a client may not set; we refuse them, as the library refuses
unknown config keys, so a client never believes a setting took effect when it did not. The
``configurable`` keys a client may set are the runnable's `config_specs` (its configurable
fields and alternatives, a history's session keys) plus any the server declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import attrs

from runnables._core.base import RunnableBase
from runnables._core.config import RunnableConfig
from runnables._core.configurable import (
    ConfigurableFieldSpec,
    config_jsonschema,
    unique_config_specs,
)
from runnables.errors import RunnablesTypeError
from runnables.schema import SchemaError, json_schema, validate

__all__ = ["ConfigPolicy"]

_CLIENT_KEYS = ("tags", "metadata", "configurable", "max_concurrency", "recursion_limit")


def _relocate(error: str, where: str) -> str:
    """Move a ``$``-rooted error path under ``where``."""
    return where + error[1:] if error.startswith("$") else f"{where}: {error}"


@attrs.frozen
class ConfigPolicy:
    """The config keys a client may send: tags, metadata, declared ``configurable`` fields and
    limits no higher than the server's."""

    configurable: Mapping[str, Any]
    max_concurrency: int | None
    recursion_limit: int
    specs: tuple[ConfigurableFieldSpec, ...] = ()

    @classmethod
    def of(
        cls,
        runnable: RunnableBase[Any, Any],
        declared: Mapping[str, Any],
        max_concurrency: int | None,
        recursion_limit: int,
    ) -> ConfigPolicy:
        """The policy for serving `runnable`: its config specs and the `declared` extra
        ``configurable`` keys (each a type the schema deriver can check, and, for a key the
        runnable declares too, the same type)."""
        specs = {spec.id: spec for spec in runnable.config_specs}
        for key, tp in declared.items():
            try:
                json_schema(tp)
            except TypeError:
                msg = (
                    f"configurable[{key!r}]: {tp!r} is not a type runnables.schema can check; "
                    "give a type such as str"
                )
                raise RunnablesTypeError(msg) from None
            spec = specs.get(key)
            if spec is not None and spec.annotation != tp:
                msg = (
                    f"configurable[{key!r}]: declared as {tp!r}, but {runnable.name} reads it as "
                    f"{spec.annotation!r}"
                )
                raise RunnablesTypeError(msg)
            if spec is None:
                specs[key] = ConfigurableFieldSpec(id=key, annotation=tp)
        merged = unique_config_specs(specs.values())
        types = {spec.id: spec.annotation for spec in merged}
        return cls(types, max_concurrency, recursion_limit, merged)

    def missing(self, config: RunnableConfig, where: str) -> list[str]:
        """Messages for the required ``configurable`` keys `config` lacks (after the
        per-request hook, which may add them)."""
        given = config.get("configurable") or {}
        return [
            f"{where}.configurable.{spec.id}: missing (required by the runnable, a "
            f"{getattr(spec.annotation, '__name__', spec.annotation)})"
            for spec in self.specs
            if spec.required and spec.id not in given
        ]

    def check(self, sent: object, where: str, errors: list[str]) -> RunnableConfig:
        """Return the config ``sent`` asks for, appending a message to ``errors`` per bad key."""
        config: RunnableConfig = {}
        if self.max_concurrency is not None:
            config["max_concurrency"] = self.max_concurrency
        if sent is None:
            return config
        if not isinstance(sent, dict):
            errors.append(f"{where}: expected an object, got {type(sent).__name__}")
            return config
        entries = cast("dict[str, object]", sent)
        for key, value in entries.items():
            path = f"{where}.{key}"
            if key not in _CLIENT_KEYS:
                allowed = ", ".join(_CLIENT_KEYS)
                errors.append(f"{path}: a client may not set {key!r} (allowed: {allowed})")
            elif key == "tags":
                config["tags"] = self._valid(list[str], value, path, errors) or []
            elif key == "metadata":
                config["metadata"] = self._valid(dict[str, Any], value, path, errors) or {}
            elif key == "configurable":
                config["configurable"] = self._configurable(value, path, errors)
            elif key == "max_concurrency":
                self._max_concurrency(value, path, errors, config)
            else:
                limit = self._valid(int, value, path, errors)
                if limit is not None and not 1 <= limit <= self.recursion_limit:
                    errors.append(f"{path}: must be between 1 and {self.recursion_limit}")
                elif limit is not None:
                    config["recursion_limit"] = limit
        return config

    def _max_concurrency(
        self, value: object, path: str, errors: list[str], config: RunnableConfig
    ) -> None:
        if value is None:
            return
        asked = self._valid(int, value, path, errors)
        if asked is None:
            return
        if asked < 1 or (self.max_concurrency is not None and asked > self.max_concurrency):
            top = "" if self.max_concurrency is None else f" and at most {self.max_concurrency}"
            errors.append(f"{path}: must be at least 1{top}, got {asked}")
        else:
            config["max_concurrency"] = asked

    def _configurable(self, value: object, path: str, errors: list[str]) -> dict[str, Any]:
        fields: dict[str, Any] = self._valid(dict[str, Any], value, path, errors) or {}
        result: dict[str, Any] = {}
        for key, item in fields.items():
            if key not in self.configurable:
                declared = ", ".join(map(repr, self.configurable)) or "none"
                errors.append(f"{path}.{key}: not a configurable field (declared: {declared})")
            else:
                result[key] = self._valid(self.configurable[key], item, f"{path}.{key}", errors)
        return result

    @staticmethod
    def _valid(tp: Any, value: object, path: str, errors: list[str]) -> Any:
        try:
            return validate(tp, value)
        except SchemaError as error:
            errors.extend(_relocate(message, path) for message in error.errors)
            return None

    def json_schema(self, title: str) -> dict[str, Any]:
        """The JSON Schema of the config a client may send."""
        specs = self.specs or tuple(
            ConfigurableFieldSpec(id=key, annotation=tp) for key, tp in self.configurable.items()
        )
        document = config_jsonschema(title, specs)
        definitions = document.pop("$defs", {})
        configurable = (
            definitions.pop("Configurable", None) or document["properties"]["configurable"]
        )
        configurable.pop("required", None)  # the per-request hook may add required keys
        configurable["additionalProperties"] = False
        limit = {"type": "integer", "minimum": 1}
        most = {} if self.max_concurrency is None else {"maximum": self.max_concurrency}
        return {
            "title": title,
            "type": "object",
            "properties": {
                "tags": json_schema(list[str], title="Tags"),
                "metadata": json_schema(dict[str, Any], title="Metadata"),
                "configurable": configurable,
                "max_concurrency": {"title": "Max Concurrency", **limit, **most},
                "recursion_limit": {
                    "title": "Recursion Limit",
                    **limit,
                    "maximum": self.recursion_limit,
                },
            },
            "additionalProperties": False,
            **({"$defs": definitions} if definitions else {}),
        }
