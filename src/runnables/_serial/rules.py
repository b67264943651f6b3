"""How each class is written and rebuilt: an attrs class by its fields through its own
`__init__`; the classes whose `__init__` takes other arguments by a rule each."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import attrs

__all__ = ["SECRETS", "Rule", "fields_of", "rule_for"]

#: The environment variable each secret field is read from, as LangChain names it.
SECRETS: dict[tuple[str, str], str] = {
    ("runnables.models.openai:OpenAIChatModel", "api_key"): "OPENAI_API_KEY",
}


@attrs.frozen
class Rule:
    """How to write a class's state as named values, and how to build it from them."""

    read: Callable[[Any], dict[str, Any]]
    build: Callable[..., Any]


_FACTORY = cast("type", type(attrs.Factory(str)))


def _attrs_fields(obj: Any) -> dict[str, Any]:
    """The fields that make the value what it is (`eq`), with their defaults left out."""
    values: dict[str, Any] = {}
    cls: type[Any] = obj.__class__
    for field in attrs.fields(cls):
        if not (field.eq and field.init):
            continue
        value = getattr(obj, field.name)
        default: Any = field.default
        if isinstance(default, _FACTORY):
            made: Any = default
            default = made.factory(obj) if made.takes_self else made.factory()
        if default is not attrs.NOTHING and _same(value, default):
            continue
        values[field.alias] = value
    return values


def _same(value: object, default: object) -> bool:
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:  # an `==` that fails decides nothing: write the value
        return False


def _generated_init(cls: type) -> bool:
    code = getattr(vars(cls).get("__init__"), "__code__", None)
    return code is not None and code.co_filename.startswith("<attrs generated")


@functools.cache
def _rules() -> dict[type, Rule]:
    from runnables._primitives.branch import RunnableBranch
    from runnables._primitives.each import RunnableEach
    from runnables._primitives.generator import RunnableGenerator
    from runnables._primitives.keywords import Keywords
    from runnables._primitives.lambda_ import RunnableLambda
    from runnables._primitives.parallel import RunnableParallel
    from runnables._primitives.passthrough import RunnablePick
    from runnables._primitives.router import RouterRunnable
    from runnables._primitives.sequence import RunnableSequence
    from runnables._primitives.tuple_ import RunnableTuple
    from runnables._with_history import RunnableWithMessageHistory
    from runnables.retrievers.vectorstore import InMemoryVectorStore
    from runnables.tools import Tool

    def sequence(steps: Any, explicit_name: Any = None) -> Any:
        return RunnableSequence(*steps, name=explicit_name)

    def parallel(branches: Any, explicit_name: Any = None) -> Any:
        return RunnableParallel(dict(branches), name=explicit_name)

    def tuple_(bound: Any, explicit_name: Any = None) -> Any:
        return RunnableTuple(*(branch for _, branch in bound.branches), name=explicit_name)

    def branch(branches: Any, default: Any) -> Any:
        return RunnableBranch(*branches, default=default)

    def lambda_fields(value: Any) -> dict[str, Any]:
        """A lambda's fields, keywords bound with `bind` written apart from the functions."""
        fields = _attrs_fields(value)
        for name in ("func", "afunc"):
            if isinstance(bound := fields.get(name), Keywords):
                fields[name] = bound.func
                fields["bound_keywords"] = dict(bound.keywords)
        return fields

    def lambda_(
        func: Any, afunc: Any = None, explicit_name: Any = None, bound_keywords: Any = None
    ) -> Any:
        built = RunnableLambda(func, afunc, name=explicit_name)
        return built.bind(**bound_keywords) if bound_keywords else built

    def router(routes: Any) -> Any:
        return RouterRunnable(dict(routes))

    def generator(
        transform_fn: Any = None, atransform_fn: Any = None, explicit_name: Any = None
    ) -> Any:
        if transform_fn is None:
            return RunnableGenerator(atransform_fn, name=explicit_name)
        return RunnableGenerator(transform_fn, atransform_fn, name=explicit_name)

    def tool(func: Any, explicit_name: Any = None, explicit_description: Any = None) -> Any:
        return Tool(func, name=explicit_name, description=explicit_description)

    def store(embedding: Any, entries: Any) -> Any:
        built = InMemoryVectorStore(embedding)
        built.__setstate__({"embedding": embedding, "entries": dict(entries)})
        return built

    def store_state(value: Any) -> dict[str, Any]:
        state: dict[str, Any] = value.__getstate__()
        return state

    return {
        RunnableSequence: Rule(_attrs_fields, sequence),
        RunnableParallel: Rule(_attrs_fields, parallel),
        RunnableTuple: Rule(_attrs_fields, tuple_),
        RunnableBranch: Rule(_attrs_fields, branch),
        RunnableEach: Rule(_attrs_fields, RunnableEach),
        RunnablePick: Rule(_attrs_fields, RunnablePick),
        RunnableLambda: Rule(lambda_fields, lambda_),
        RouterRunnable: Rule(_attrs_fields, router),
        RunnableGenerator: Rule(_attrs_fields, generator),
        Tool: Rule(_attrs_fields, tool),
        RunnableWithMessageHistory: Rule(_attrs_fields, RunnableWithMessageHistory),
        InMemoryVectorStore: Rule(store_state, store),
    }


def rule_for(cls: type) -> Rule | None:
    """The rule for `cls`: its own, or the attrs one if attrs wrote its `__init__`."""
    rule = _rules().get(cls)
    if rule is None and attrs.has(cls) and _generated_init(cls):
        return Rule(_attrs_fields, cls)
    return rule


def fields_of(obj: Any) -> dict[str, Any] | None:
    """The named values that rebuild `obj`, or None if its class has no rule."""
    cls: type[Any] = obj.__class__
    rule = rule_for(cls)
    return None if rule is None else rule.read(obj)
