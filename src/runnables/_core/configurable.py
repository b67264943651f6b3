"""Per-request configuration: fields and alternatives chosen by `config["configurable"]`.

`RunnableConfigurableFields` rebuilds an attrs runnable with some fields taken from the call's
config (each value checked against the field's type); `RunnableConfigurableAlternatives` picks
one of several runnables by a key. Both add no run of their own, as in LangChain: the events
are the configured runnable's. `config_specs` lists what a chain can be configured with.
"""

from __future__ import annotations

import sys
import types
import typing
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast, final

import attrs

from runnables._core.base import RunnableBase
from runnables._core.public import public
from runnables._core.streaming import add_note
from runnables._schema._constraints import Constraint
from runnables.errors import RunnablesTypeError, RunnablesValueError

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables.schema import Schema

__all__ = [
    "AnyConfigurableField",
    "ConfigurableField",
    "ConfigurableFieldMultiOption",
    "ConfigurableFieldSingleOption",
    "ConfigurableFieldSpec",
    "RunnableConfigurableAlternatives",
    "RunnableConfigurableFields",
    "config_specs_of",
    "unique_config_specs",
]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)

#: How many configured runnables each wrapper keeps, keyed by the values that built them.
_CACHE_SIZE = 32


def _nonempty(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise RunnablesTypeError(f"{attribute.name} must be a non-empty str, got {value!r}")


@public
@attrs.frozen
class ConfigurableField:
    """A field that a call may set through `config["configurable"][id]`.

    `annotation` overrides the field's own type (which is what the value is checked against);
    `is_shared` marks a key that several runnables read (it is never prefixed).
    """

    id: str = attrs.field(validator=_nonempty)
    name: str | None = None
    description: str | None = None
    annotation: Any = None
    is_shared: bool = False


def _options(value: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(cast("object", value), Mapping) or not value:
        raise RunnablesTypeError(f"options must be a non-empty dict of named values, got {value!r}")
    return dict(value)


def _check_default(instance: ConfigurableFieldSingleOption, _: object, value: str) -> None:
    if value not in instance.options:
        raise RunnablesValueError(
            f"option field {instance.id!r}: default {value!r} is not one of the options "
            f"{sorted(instance.options)}"
        )


def _check_defaults(
    instance: ConfigurableFieldMultiOption, _: object, value: tuple[str, ...]
) -> None:
    unknown = [key for key in value if key not in instance.options]
    if unknown:
        raise RunnablesValueError(
            f"option field {instance.id!r}: defaults {unknown} are not among the options "
            f"{sorted(instance.options)}"
        )


@public
@attrs.frozen
class ConfigurableFieldSingleOption:
    """A field set to one of named `options` by its name (`default` when the call names none)."""

    id: str = attrs.field(validator=_nonempty)
    options: dict[str, Any] = attrs.field(converter=_options, hash=False)
    default: str = attrs.field(validator=_check_default)
    name: str | None = None
    description: str | None = None
    is_shared: bool = False


@public
@attrs.frozen
class ConfigurableFieldMultiOption:
    """A field set to the list of the named `options` a call chooses (`default` when none)."""

    id: str = attrs.field(validator=_nonempty)
    options: dict[str, Any] = attrs.field(converter=_options, hash=False)
    default: tuple[str, ...] = attrs.field(converter=tuple, validator=_check_defaults)
    name: str | None = None
    description: str | None = None
    is_shared: bool = False


AnyConfigurableField: TypeAlias = (
    ConfigurableField | ConfigurableFieldSingleOption | ConfigurableFieldMultiOption
)


@public
@attrs.frozen
class ConfigurableFieldSpec:
    """One key a runnable reads from `config["configurable"]`: its type, default and text.

    `required` marks a key without which the runnable cannot run (a history's session id);
    servers refuse a request that lacks it.
    """

    id: str = attrs.field(validator=_nonempty)
    annotation: Any
    name: str | None = None
    description: str | None = None
    default: Any = attrs.field(default=None, hash=False)
    is_shared: bool = False
    dependencies: tuple[str, ...] | None = None
    required: bool = False


def unique_config_specs(
    specs: Iterable[ConfigurableFieldSpec],
) -> tuple[ConfigurableFieldSpec, ...]:
    """`specs` without repeats, sorted by id; two different specs for one id are an error."""
    by_id: dict[str, ConfigurableFieldSpec] = {}
    for spec in specs:
        seen = by_id.setdefault(spec.id, spec)
        if seen != spec:
            raise RunnablesValueError(
                f"conflicting config specs for {spec.id!r}: {seen!r} and {spec!r}; give the "
                "fields different ids"
            )
    return tuple(by_id[key] for key in sorted(by_id))


def _runnables_in(value: object) -> Iterator[RunnableBase[Any, Any]]:
    """The runnables held in one attrs field value: itself, or inside tuples, lists, dicts."""
    if isinstance(value, RunnableBase):
        yield cast("RunnableBase[Any, Any]", value)
    elif isinstance(value, (tuple, list)):
        for item in cast("Sequence[object]", value):
            yield from _runnables_in(item)
    elif isinstance(value, Mapping):
        for item in cast("Mapping[object, object]", value).values():
            yield from _runnables_in(item)


def _code_names(code: types.CodeType) -> Iterator[str]:
    """The global names a function's code (nested functions included) refers to."""
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_names(constant)


def _function_deps(func: types.FunctionType) -> Iterator[RunnableBase[Any, Any]]:
    """The runnables a function refers to by name (a global or a closure variable): what it
    may call, as LangChain's `RunnableLambda.deps`."""
    for cell in func.__closure__ or ():
        try:
            value: object = cell.cell_contents
        except ValueError:  # a variable not yet bound
            continue
        if isinstance(value, RunnableBase):
            yield cast("RunnableBase[Any, Any]", value)
    for name in dict.fromkeys(_code_names(func.__code__)):
        value = func.__globals__.get(name)
        if isinstance(value, RunnableBase):
            yield cast("RunnableBase[Any, Any]", value)


#: The runnables whose specs are being collected (a function may refer to its own chain).
_COLLECTING: ContextVar[frozenset[int]] = ContextVar("runnables_config_specs", default=frozenset())


def config_specs_of(runnable: object) -> tuple[ConfigurableFieldSpec, ...]:
    """The config specs of the runnables an attrs runnable is made of (its fields' values) and
    of those its functions refer to."""
    cls: Any = type(runnable)
    collecting = _COLLECTING.get()
    if not attrs.has(cls) or id(runnable) in collecting:
        return ()
    token = _COLLECTING.set(collecting | {id(runnable)})
    try:
        found: list[ConfigurableFieldSpec] = []
        for field in attrs.fields(cls):
            value = getattr(runnable, field.name)
            children = (
                _function_deps(value)
                if isinstance(value, types.FunctionType)
                else _runnables_in(value)
            )
            for child in children:
                found.extend(child.config_specs)
        return unique_config_specs(found)
    finally:
        _COLLECTING.reset(token)


# ---------------------------------------------------------------- fields


def _init_fields(cls: type[Any]) -> dict[str, attrs.Attribute[Any]]:
    """The attrs fields of `cls` a caller sets, by the name `__init__` takes."""
    return {(a.alias or a.name): a for a in attrs.fields(cls) if a.init}


def _field_type(cls: type[Any], attribute: attrs.Attribute[Any]) -> object:
    """The resolved type of one field; `None` when it names what exists only for the type
    checkers (the class's other fields may still resolve)."""
    try:
        return typing.get_type_hints(cls)[attribute.name]
    except (NameError, TypeError, KeyError):
        pass
    if not isinstance(attribute.type, str):
        return attribute.type
    module = sys.modules.get(cls.__module__)
    try:
        return eval(attribute.type, vars(module) if module else {})
    except (NameError, AttributeError, SyntaxError, TypeError):
        return None


def _describable(annotation: object) -> bool:
    from runnables.schema import json_schema

    try:
        json_schema(annotation)
    except TypeError:
        return False
    return True


def _option_key(field: ConfigurableFieldSingleOption | ConfigurableFieldMultiOption) -> Any:
    """The type of an option field's key: the option names as a `Literal`."""
    return typing.Literal[tuple(field.options)]


def _relocate(errors: Sequence[str], where: str) -> list[str]:
    return [where + error[1:] if error.startswith("$") else f"{where}: {error}" for error in errors]


def _field_dict(value: Mapping[str, AnyConfigurableField]) -> dict[str, AnyConfigurableField]:
    return dict(value)


class _Configures(RunnableBase[In, Out]):
    """What both configurable wrappers share: they describe themselves as their default
    runnable (no run of their own, as in LangChain)."""

    if TYPE_CHECKING:
        default: RunnableBase[In, Out]

    @property
    def name(self) -> str:
        return self.default.name

    @property
    def run_type(self) -> str:
        return self.default.run_type

    @property
    def input_type(self) -> Any:
        return self.default.input_type

    @property
    def output_type(self) -> Any:
        return self.default.output_type

    @property
    def input_schema(self) -> Schema[Any]:
        return self.default.input_schema

    @property
    def output_schema(self) -> Schema[Any]:
        return self.default.output_schema


@final
@public
@attrs.frozen
class RunnableConfigurableFields(_Configures[In, Out]):
    """`default` with the fields named in `fields` set, per call, from
    `config["configurable"]`; a field the call does not set keeps `default`'s value.

    Each configured value is checked against the field's type (or the `annotation` its
    `ConfigurableField` gives); the runnable is rebuilt with `attrs.evolve`, so its own checks
    run too. It adds no run of its own.
    """

    default: RunnableBase[In, Out]
    # Dicts stay out of the hash (equal wrappers still hash alike): hashable as `default` is.
    fields: dict[str, AnyConfigurableField] = attrs.field(converter=_field_dict, hash=False)
    _types: dict[str, Any] = attrs.field(init=False, eq=False, repr=False)
    _cache: dict[object, RunnableBase[In, Out]] = attrs.field(
        init=False, eq=False, repr=False, factory=dict
    )

    def __attrs_post_init__(self) -> None:
        cls = type(self.default)
        if not attrs.has(cls):
            raise RunnablesTypeError(
                f"{cls.__name__} is not an attrs class: configurable_fields needs fields to set"
            )
        known = _init_fields(cls)
        types: dict[str, Any] = {}
        for key, field in self.fields.items():
            if key not in known:
                raise RunnablesValueError(
                    f"{cls.__name__} has no field {key!r} to make configurable; its fields are "
                    f"{sorted(known)}"
                )
            if not isinstance(cast("object", field), AnyConfigurableField):
                raise RunnablesTypeError(
                    f"configurable_fields({key}=...): expected a ConfigurableField or an option "
                    f"field, got {field!r:.100}"
                )
            if isinstance(field, ConfigurableField):
                annotation = (
                    field.annotation
                    if field.annotation is not None
                    else _field_type(cls, known[key])
                )
                if annotation is None or not _describable(annotation):
                    raise RunnablesTypeError(
                        f"field {key!r} of {cls.__name__} has type {annotation!r}, which "
                        "runnables.schema cannot check; give ConfigurableField(..., annotation=...)"
                    )
                types[key] = annotation
            elif isinstance(field, ConfigurableFieldSingleOption):
                types[key] = _option_key(field)
            else:
                types[key] = list[_option_key(field)]  # type: ignore[misc]
        object.__setattr__(self, "_types", types)

    # ------------------------------------------------ description

    @property
    def config_specs(self) -> tuple[ConfigurableFieldSpec, ...]:
        own: list[ConfigurableFieldSpec] = []
        for key, field in self.fields.items():
            attribute = _init_fields(type(self.default))[key]
            if isinstance(field, ConfigurableField):
                own.append(
                    ConfigurableFieldSpec(
                        id=field.id,
                        annotation=self._types[key],
                        name=field.name,
                        description=field.description,
                        default=getattr(self.default, attribute.name),
                        is_shared=field.is_shared,
                    )
                )
            else:
                single = isinstance(field, ConfigurableFieldSingleOption)
                own.append(
                    ConfigurableFieldSpec(
                        id=field.id,
                        annotation=self._types[key],
                        name=field.name,
                        description=field.description,
                        default=field.default if single else list(field.default),
                        is_shared=field.is_shared,
                    )
                )
        return unique_config_specs([*own, *self.default.config_specs])

    def configurable_fields(
        self, **fields: AnyConfigurableField
    ) -> RunnableConfigurableFields[In, Out]:
        """More fields of the same runnable (a field named again is replaced)."""
        return RunnableConfigurableFields(self.default, {**self.fields, **fields})

    # ------------------------------------------------ the configured runnable

    def _value(self, key: str, field: AnyConfigurableField, given: object) -> object:
        from runnables.schema import SchemaError, validate

        title = f"field {key!r} of {type(self.default).__name__}"
        where = f"configurable[{field.id!r}]"
        try:
            checked: Any = validate(self._types[key], given)
        except SchemaError as error:
            raise SchemaError(_relocate(error.errors, where), title) from None
        if isinstance(field, ConfigurableFieldSingleOption):
            return field.options[checked]
        if isinstance(field, ConfigurableFieldMultiOption):
            return [field.options[name] for name in checked]
        return checked

    def prepare(self, configurable: Mapping[str, Any]) -> RunnableBase[In, Out]:
        """The runnable a call with these `config["configurable"]` values runs."""
        chosen = {
            key: configurable[field.id]
            for key, field in self.fields.items()
            if field.id in configurable
        }
        if not chosen:
            return self.default
        try:
            cache_key: object = tuple(chosen.items())
            hash(cache_key)
        except TypeError:
            cache_key = None
        if cache_key is not None and (hit := self._cache.get(cache_key)) is not None:
            return hit
        values = {key: self._value(key, self.fields[key], given) for key, given in chosen.items()}
        try:
            configured: RunnableBase[In, Out] = attrs.evolve(cast("Any", self.default), **values)
        except Exception as error:  # the runnable's own checks: say which keys set the values
            ids = [self.fields[key].id for key in values]
            add_note(error, f"while configuring {self.default.name} from configurable {ids}")
            raise
        if cache_key is not None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[cache_key] = configured
        return configured

    def _call(self, input: In, ctx: RunContext) -> Out:
        return self.prepare(ctx.configurable)._call(input, ctx)

    async def _acall(self, input: In, ctx: RunContext) -> Out:
        return await self.prepare(ctx.configurable)._acall(input, ctx)

    def _call_transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        return self.prepare(ctx.configurable)._call_transform(inputs, ctx)

    def _acall_transform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        return self.prepare(ctx.configurable)._acall_transform(inputs, ctx)

    _invoke = _call
    _ainvoke = _acall
    _transform = _call_transform
    _atransform = _acall_transform


# ---------------------------------------------------------------- alternatives


def _alternatives(value: Mapping[str, object]) -> dict[str, object]:
    from runnables._primitives.coerce import coerce_to_runnable

    result: dict[str, object] = {}
    for key, alternative in value.items():
        if isinstance(alternative, RunnableBase) or not callable(alternative):
            result[key] = coerce_to_runnable(cast("object", alternative))
        else:
            result[key] = alternative  # a factory, called when its key is chosen
    return result


@final
@public
@attrs.frozen
class RunnableConfigurableAlternatives(_Configures[In, Out]):
    """`default` or one of `alternatives`, chosen per call by
    `config["configurable"][which.id]` (`default_key` names `default`).

    An alternative is a runnable or a function of no arguments that builds one. With
    `prefix_keys`, the keys of the alternatives' own fields are namespaced
    (``"<which.id>==<key>/<field id>"``) so that alternatives may use the same field ids.
    It adds no run of its own.
    """

    which: ConfigurableField
    default: RunnableBase[In, Out]
    alternatives: dict[str, object] = attrs.field(converter=_alternatives, hash=False)
    default_key: str = "default"
    prefix_keys: bool = False

    def __attrs_post_init__(self) -> None:
        if not isinstance(cast("object", self.which), ConfigurableField):
            raise RunnablesTypeError(f"which must be a ConfigurableField, got {self.which!r:.100}")
        if self.default_key in self.alternatives:
            raise RunnablesValueError(
                f"alternative {self.default_key!r} is the default's key (default_key); "
                "name it differently or pass another default_key"
            )

    @property
    def keys(self) -> tuple[str, ...]:
        """Every value `which` may take: `default_key`, then the alternatives' keys."""
        return (self.default_key, *self.alternatives)

    def _prefixed(self, key: str, spec: ConfigurableFieldSpec) -> ConfigurableFieldSpec:
        if not self.prefix_keys or spec.is_shared:
            return spec
        return attrs.evolve(spec, id=f"{self.which.id}=={key}/{spec.id}")

    @property
    def config_specs(self) -> tuple[ConfigurableFieldSpec, ...]:
        which = ConfigurableFieldSpec(
            id=self.which.id,
            annotation=typing.Literal[self.keys],
            name=self.which.name,
            description=self.which.description,
            default=self.default_key,
            is_shared=self.which.is_shared,
        )
        inner = [self._prefixed(self.default_key, s) for s in self.default.config_specs]
        for key, alternative in self.alternatives.items():
            if isinstance(alternative, RunnableBase):
                runnable = cast("RunnableBase[Any, Any]", alternative)
                inner.extend(self._prefixed(key, s) for s in runnable.config_specs)
        return unique_config_specs([which, *inner])

    def prepare(
        self, configurable: Mapping[str, Any]
    ) -> tuple[RunnableBase[In, Out], Mapping[str, Any]]:
        """The runnable a call with these `config["configurable"]` values runs, and the
        values it sees (with `prefix_keys`, its own keys unprefixed)."""
        chosen = configurable.get(self.which.id, self.default_key)
        if not isinstance(chosen, str) or chosen not in self.keys:
            raise RunnablesValueError(
                f"configurable[{self.which.id!r}] must be one of {list(self.keys)}, got {chosen!r}"
            )
        if self.prefix_keys:
            namespace = f"{self.which.id}=="
            unknown = [
                key
                for key in configurable
                if key.startswith(namespace)
                and key[len(namespace) :].split("/", 1)[0] not in self.keys
            ]
            if unknown:
                raise RunnablesTypeError(
                    f"unknown configurable key(s) {unknown}: {namespace}<key>/... names an "
                    f"alternative, one of {list(self.keys)}"
                )
            mine = f"{namespace}{chosen}/"
            configurable = {key.removeprefix(mine): value for key, value in configurable.items()}
        if chosen == self.default_key:
            return self.default, configurable
        alternative = self.alternatives[chosen]
        if not isinstance(alternative, RunnableBase):
            from runnables._primitives.coerce import coerce_to_runnable

            built = cast("Callable[[], object]", alternative)()
            alternative = coerce_to_runnable(built)
        return cast("RunnableBase[In, Out]", alternative), configurable

    def _context(self, ctx: RunContext) -> tuple[RunnableBase[In, Out], RunContext]:
        runnable, configurable = self.prepare(ctx.configurable)
        if configurable is not ctx.configurable:
            ctx = ctx.replace(configurable=configurable)
        return runnable, ctx

    def _call(self, input: In, ctx: RunContext) -> Out:
        runnable, ctx = self._context(ctx)
        return runnable._call(input, ctx)

    async def _acall(self, input: In, ctx: RunContext) -> Out:
        runnable, ctx = self._context(ctx)
        return await runnable._acall(input, ctx)

    def _call_transform(self, inputs: Iterator[In], ctx: RunContext) -> Iterator[Out]:
        runnable, ctx = self._context(ctx)
        return runnable._call_transform(inputs, ctx)

    def _acall_transform(self, inputs: AsyncIterator[In], ctx: RunContext) -> AsyncIterator[Out]:
        runnable, ctx = self._context(ctx)
        return runnable._acall_transform(inputs, ctx)

    _invoke = _call
    _ainvoke = _acall
    _transform = _call_transform
    _atransform = _acall_transform


# ---------------------------------------------------------------- schemas


_NO_DEFAULT: Any = object()


@attrs.frozen
class _Shown(Constraint):
    """How a config field shows in JSON Schema: its title, text and default (it checks
    nothing)."""

    title: str | None
    description: str | None = None
    default: Any = attrs.field(default=_NO_DEFAULT, hash=False)

    def apply(self, schema: dict[str, Any]) -> None:
        if self.title is not None:
            schema["title"] = self.title
        if self.description is not None:
            schema["description"] = self.description
        if self.default is not _NO_DEFAULT:
            schema["default"] = self.default

    def check(self, value: Any) -> str | None:
        return None


def _shown(spec: ConfigurableFieldSpec) -> Any:
    """The spec's annotation, marked with its title, text and default where JSON can hold it."""
    from runnables.schema import SchemaError, unstructure, validate

    default = _NO_DEFAULT
    if not spec.required:
        try:
            default = unstructure(spec.default)
            validate(spec.annotation, default)
        except (SchemaError, TypeError, ValueError):  # no default of the field's type
            default = _NO_DEFAULT
    return typing.Annotated[spec.annotation, _Shown(spec.name, spec.description, default)]


#: The `RunnableConfig` keys `config_schema(include=...)` can add, as they show in the schema.
_INCLUDABLE: dict[str, Any] = {
    "tags": typing.Annotated[list[str], _Shown("Tags")],
    "metadata": typing.Annotated[dict[str, Any], _Shown("Metadata")],
    "run_name": typing.Annotated[str, _Shown("Run Name")],
    "max_concurrency": typing.Annotated[int | None, _Shown("Max Concurrency")],
    "recursion_limit": typing.Annotated[int, _Shown("Recursion Limit", default=25)],
    "run_id": typing.Annotated[uuid.UUID, _Shown("Run Id")],
}


def config_schema(
    title: str, specs: Sequence[ConfigurableFieldSpec], include: Sequence[str] = ()
) -> Schema[dict[str, Any]]:
    """The schema of a config whose `configurable` object has a key per spec (others allowed,
    as functions may read keys nobody declares), each field titled and described by its spec,
    with its default where JSON can hold it; `include` adds other `RunnableConfig` keys."""
    from runnables.schema import Schema

    if isinstance(include, str):
        raise RunnablesTypeError(f"include must be a list of config keys, got {include!r}")
    unknown = [key for key in include if key not in _INCLUDABLE and key != "configurable"]
    if unknown:
        raise RunnablesValueError(
            f"config_schema(include=...) cannot include {unknown}; it includes some of "
            f"{sorted(_INCLUDABLE)} (configurable is always there; callbacks are not data)"
        )
    configurable = Schema.object(
        "Configurable",
        {spec.id: _shown(spec) for spec in specs},
        required=[spec.id for spec in specs if spec.required],
    )
    fields = {key: _INCLUDABLE[key] for key in include if key in _INCLUDABLE}
    return Schema.object(title, {"configurable": configurable.type, **fields}, required=())


def config_jsonschema(title: str, specs: Sequence[ConfigurableFieldSpec]) -> dict[str, Any]:
    """`config_schema`'s JSON Schema."""
    return config_schema(title, specs).json_schema()
