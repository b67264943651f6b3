"""A mypy plugin that types dict outputs by their keys: `plugins = ["runnables.mypy"]`.

Without it a parallel's output is `dict[str, Any]` (what the type system can say on its own).
With it, mypy types `step | {"a": f, "b": g}`, `RunnableParallel(a=f, b=g)`, `.assign(...)`
and `.pick(...)` outputs as `TypedDict`s of each branch's output, so `out["a"]` is precise and
`out["typo"]` is an error. mypy's plugin API changes between releases, so the plugin refuses
to load under a mypy it was not tested with (`SUPPORTED_MYPY`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from contextlib import contextmanager

from mypy.checker import TypeChecker
from mypy.errorcodes import TYPEDDICT_ITEM
from mypy.maptype import map_instance_to_supertype
from mypy.nodes import (
    ARG_POS,
    ARG_STAR2,
    Context,
    DictExpr,
    Expression,
    LambdaExpr,
    ListExpr,
    OpExpr,
    StrExpr,
    TempNode,
    TypeInfo,
)
from mypy.plugin import (
    CheckerPluginInterface,
    FunctionContext,
    MethodContext,
    MethodSigContext,
    Plugin,
)
from mypy.subtypes import is_subtype
from mypy.type_visitor import TypeTranslator
from mypy.typeops import make_simplified_union
from mypy.types import (
    AnyType,
    CallableType,
    FunctionLike,
    Instance,
    ProperType,
    Type,
    TypeAliasType,
    TypedDictType,
    TypeOfAny,
    get_proper_type,
)
from mypy.version import __version__ as mypy_version

from runnables.errors import RunnablesError

__all__ = [
    "SUPPORTED_MYPY",
    "UnsupportedMypyError",
    "check_mypy_version",
    "plugin",
]

#: The mypy releases (major, minor) this plugin is tested against; CI runs the pinned one.
SUPPORTED_MYPY = ((2, 4),)

_BASE = "runnables._core.base.RunnableBase"
_PROTOCOL = "runnables._core.protocol.SupportsInvoke"
_SEQUENCE = "runnables._primitives.sequence.RunnableSequence"
_PARALLEL = "runnables._primitives.parallel.RunnableParallel"
_ASSIGN = "runnables._primitives.passthrough.RunnableAssign"


class UnsupportedMypyError(RunnablesError, RuntimeError):
    """The running mypy is not one the plugin was tested with."""


def check_mypy_version(version: str) -> None:
    """Refuse a mypy outside `SUPPORTED_MYPY`: its plugin API may differ in ways that would
    make the plugin's types silently wrong."""
    parts = version.split("+")[0].split(".")
    try:
        release = (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        release = None
    if release not in SUPPORTED_MYPY:
        supported = ", ".join(f"{major}.{minor}.x" for major, minor in SUPPORTED_MYPY)
        raise UnsupportedMypyError(
            f"runnables.mypy supports mypy {supported}, not {version}: install a supported "
            "mypy or remove 'runnables.mypy' from the plugins in your mypy configuration"
        )


check_mypy_version(mypy_version)


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    check_mypy_version(version)
    return _Plugin


class _Plugin(Plugin):
    """Hooks on the calls that build dict outputs; every other call is left to mypy."""

    def _is_runnable(self, method_fullname: str) -> bool:
        # mypy names a method by the class of the object it is called on, not the defining one.
        owner = self.lookup_fully_qualified(method_fullname.rpartition(".")[0])
        info = owner.node if owner else None
        return isinstance(info, TypeInfo) and (info.has_base(_BASE) or info.has_base(_PROTOCOL))

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        hook = _METHOD_HOOKS.get(fullname.rpartition(".")[2])
        return hook if hook and self._is_runnable(fullname) else None

    def get_method_signature_hook(
        self, fullname: str
    ) -> Callable[[MethodSigContext], FunctionLike] | None:
        hook = _SIGNATURE_HOOKS.get(fullname.rpartition(".")[2])
        return hook if hook and self._is_runnable(fullname) else None

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        return _parallel if fullname == _PARALLEL else None


# ------------------------------------------------------------------ types of runnables


def _checker(api: CheckerPluginInterface) -> TypeChecker:
    assert isinstance(api, TypeChecker)  # the only implementation mypy has
    return api


def _info(checker: TypeChecker, fullname: str) -> TypeInfo:
    """A class of the library (looked up by module: `runnables` imports its parts lazily)."""
    module, _, name = fullname.rpartition(".")
    node = checker.modules[module].names[name].node
    assert isinstance(node, TypeInfo)
    return node


def _io(checker: TypeChecker, tp: Type) -> tuple[Type, Type] | None:
    """The `(In, Out)` of a runnable type, or None if it is not one."""
    proper = get_proper_type(tp)
    if not isinstance(proper, Instance):
        return None
    for fullname in (_BASE, _PROTOCOL):
        if proper.type.has_base(fullname):
            mapped = map_instance_to_supertype(proper, _info(checker, fullname))
            return mapped.args[0], mapped.args[1]
    return None


def _with_output(checker: TypeChecker, tp: Type, output: Type) -> Type:
    """`tp` (a runnable whose last type argument is its output) with another output, unless
    the code declared the `dict[str, Any]` form (`par: RunnableParallel[str] = ...`)."""
    proper = get_proper_type(tp)
    if not isinstance(proper, Instance) or not proper.args:
        return tp
    precise = Instance(proper.type, [*proper.args[:-1], output], proper.line, proper.column)
    expected = checker.expr_checker.type_context[-1]
    if expected is not None and not is_subtype(precise, expected) and is_subtype(tp, expected):
        return tp
    return precise


def _typed_dict(checker: TypeChecker, items: dict[str, Type], required: set[str]) -> TypedDictType:
    return TypedDictType(items, required, set(), checker.named_type("typing._TypedDict"))


def _dict_any(checker: TypeChecker) -> Instance:
    """`dict[str, Any]`: what a parallel outputs to mypy without the plugin."""
    any_type = AnyType(TypeOfAny.special_form)
    return checker.named_generic_type(
        "builtins.dict", [checker.named_type("builtins.str"), any_type]
    )


# ------------------------------------------------------------------ branch outputs

_probing: list[bool] = []


@contextmanager
def _probe(checker: TypeChecker) -> Generator[Callable[[], bool]]:
    """Check something without reporting errors or storing types; yields "did it fail?"."""
    _probing.append(True)
    # No expected type: the probe sits inside a call whose expected type is another's.
    checker.expr_checker.type_context.append(None)
    try:
        with checker.msg.filter_errors() as watcher, checker.local_type_map:
            yield watcher.has_new_errors
    finally:
        checker.expr_checker.type_context.pop()
        _probing.pop()


def _branch_output(checker: TypeChecker, input: Type, branch: Expression) -> Type | None:
    """What `branch` (a step, a function or a dict of branches) outputs for `input`, by the
    same rules as `|`; None if it does not take `input`."""
    if isinstance(branch, DictExpr):
        return _dict_output(checker, input, branch)
    probe = Instance(_info(checker, _BASE), [input, input])
    with _probe(checker) as failed:
        if not isinstance(branch, LambdaExpr):
            # Its type once, not re-inferred against each overload (a lambda needs that).
            branch = TempNode(checker.expr_checker.accept(branch), context=branch)
        result, _ = checker.expr_checker.check_method_call_by_name(
            "__or__", probe, [branch], [ARG_POS], branch
        )
        if failed():
            return None
    io = _io(checker, result)
    return io[1] if io else None


def _branches_output(
    checker: TypeChecker, input: Type, branches: list[tuple[str, Expression]]
) -> TypedDictType | None:
    """The TypedDict of `branches`' outputs; a branch that does not take a TypedDict input
    (a function of `dict[str, Any]`) is tried with `dict[str, Any]`, what it runs on."""
    items: dict[str, Type] = {}
    for key, branch in branches:
        output = _branch_output(checker, input, branch)
        if output is None and isinstance(get_proper_type(input), TypedDictType):
            loose = _dict_any(checker)
            output = _branch_output(checker, loose, branch)
        if output is None:
            return None
        items[key] = output
    return _typed_dict(checker, items, set(items))


def _literal_branches(expr: DictExpr) -> list[tuple[str, Expression]] | None:
    branches: list[tuple[str, Expression]] = []
    for key, value in expr.items:
        if not isinstance(key, StrExpr):
            return None  # `**spread` or a computed key: the keys are not known
        branches.append((key.value, value))
    return branches


def _dict_output(checker: TypeChecker, input: Type, expr: DictExpr) -> TypedDictType | None:
    branches = _literal_branches(expr)
    return None if branches is None else _branches_output(checker, input, branches)


# ------------------------------------------------------------------ hooks


def _or_dict(ctx: MethodContext) -> Type:
    """`step | {"a": f}`: the sequence outputs a TypedDict of the branches' outputs."""
    checker = _checker(ctx.api)
    io = _io(checker, ctx.type)
    if _probing or io is None or not ctx.args or len(ctx.args[0]) != 1:
        return ctx.default_return_type
    (other,) = ctx.args[0]
    if not isinstance(other, DictExpr):
        output = _or_assign(checker, io[1], ctx.arg_types[0][0])
    else:
        output = _dict_output(checker, io[1], other)
    return (
        ctx.default_return_type
        if output is None
        else _with_output(checker, ctx.default_return_type, output)
    )


def _or_assign(checker: TypeChecker, left: Type, right: Type) -> Type | None:
    """`typed | RunnablePassthrough.assign(k=f)` outputs the left's keys plus the new ones
    (after an untyped dict: `dict[str, Any]`, as without the plugin)."""
    left, right = get_proper_type(left), get_proper_type(right)
    if not (
        isinstance(right, Instance)
        and right.type.fullname == _ASSIGN
        and isinstance(added := get_proper_type(right.args[0]), TypedDictType)
    ):
        return None
    if not isinstance(left, TypedDictType):
        return _dict_any(checker)
    required = (left.required_keys - set(added.items)) | added.required_keys
    return _typed_dict(checker, {**left.items, **added.items}, required)


class _Replace(TypeTranslator):
    def __init__(self, old: ProperType, new: Type) -> None:
        super().__init__()
        self.old = old
        self.new = new

    def visit_type_alias_type(self, t: TypeAliasType) -> Type:
        return t

    def visit_typeddict_type(self, t: TypedDictType) -> Type:
        return self.new if t == self.old else super().visit_typeddict_type(t)


# mypy calls a signature hook once per overload item: the last call's decision, kept.
_last_widen: list[tuple[Context, bool]] = []


def _or_widen(ctx: MethodSigContext) -> FunctionLike:
    """`typed | step` where `step` takes `dict[str, Any]` (not the TypedDict, which no dict
    type accepts): check it as the `dict[str, Any]` it gets at run time."""
    checker = _checker(ctx.api)
    io = _io(checker, ctx.type)
    output = get_proper_type(io[1]) if io else None
    if _probing or not isinstance(output, TypedDictType) or len(ctx.args[0]) != 1:
        return ctx.default_signature
    (other,) = ctx.args[0]
    loose = _dict_any(checker)
    if not (_last_widen and _last_widen[0][0] is ctx.context):
        widen = not isinstance(other, DictExpr) and (
            _branch_output(checker, output, other) is None
            and _branch_output(checker, loose, other) is not None
        )
        _last_widen[:] = [(ctx.context, widen)]
    if not _last_widen[0][1]:
        return ctx.default_signature
    widened = ctx.default_signature.accept(_Replace(output, loose))
    assert isinstance(widened, FunctionLike)
    return widened


def _ror_dict(ctx: MethodSigContext) -> FunctionLike:
    """`{"a": f} | step`: `step` gets the TypedDict of the branches' outputs, so a step taking
    a TypedDict (not only `dict[str, Any]`) is checked against the keys."""
    checker = _checker(ctx.api)
    io = _io(checker, ctx.type)
    # mypy passes the left operand as its (joined) type; the expression is the operation's.
    other = ctx.context.left if isinstance(ctx.context, OpExpr) else None
    if _probing or io is None:
        return ctx.default_signature
    if not (_last_ror and _last_ror[0][0] is ctx.context):
        _last_ror[:] = [(ctx.context, _typed_left(checker, other))]
    typed = _last_ror[0][1]
    if typed is None:
        return ctx.default_signature
    input, output = typed
    step_input, step_output = io
    if not (is_subtype(output, step_input) or is_subtype(_dict_any(checker), step_input)):
        return ctx.default_signature  # mypy's own overloads report the mismatch
    step_output = _or_assign(checker, output, ctx.type) or step_output
    sequence = Instance(_info(checker, _SEQUENCE), [input, step_output])
    # mypy types `copy_modified`'s parameters with its `Bogus` alias, unknown to pyright.
    return ctx.default_signature.copy_modified(  # pyright: ignore[reportUnknownMemberType]
        arg_types=[_dict_any(checker)], ret_type=sequence, variables=[]
    )


_last_ror: list[tuple[Context, tuple[Type, TypedDictType] | None]] = []


def _typed_left(checker: TypeChecker, left: Expression | None) -> tuple[Type, TypedDictType] | None:
    """The input and the TypedDict output of a dict of branches on the left of `|`."""
    branches = _literal_branches(left) if isinstance(left, DictExpr) else None
    if not branches:
        return None
    input = _common_input(checker, [branch for _, branch in branches])
    output = None if input is None else _branches_output(checker, input, branches)
    return None if input is None or output is None else (input, output)


def _common_input(checker: TypeChecker, branches: list[Expression]) -> Type | None:
    """The input every branch takes: the first branch input type that all accept."""
    candidates: list[Type] = []
    for branch in branches:
        if isinstance(branch, DictExpr):
            continue
        with _probe(checker):
            io = _io(checker, tp := checker.expr_checker.accept(branch))
            proper = get_proper_type(tp)
        if io is not None:
            candidates.append(io[0])
        elif isinstance(proper, CallableType) and proper.arg_types and not proper.variables:
            candidates.append(proper.arg_types[0])
    for candidate in candidates:
        if isinstance(get_proper_type(candidate), AnyType):
            continue  # an unannotated lambda's: a typed branch says more
        if all(_branch_output(checker, candidate, branch) is not None for branch in branches):
            return candidate
    return None


def _assign_branches(ctx: MethodSigContext) -> FunctionLike:
    """`typed.assign(k=f)`: a branch may take the TypedDict (as well as `dict[str, Any]`)."""
    checker = _checker(ctx.api)
    io = _io(checker, ctx.type)
    output = get_proper_type(io[1]) if io else None
    signature = ctx.default_signature
    if _probing or not isinstance(output, TypedDictType):
        return signature
    any_type = AnyType(TypeOfAny.special_form)
    typed = [
        Instance(_info(checker, _PROTOCOL), [output, any_type]),
        CallableType(
            [output], [ARG_POS], [None], any_type, checker.named_type("builtins.function")
        ),
    ]
    arg_types = [
        make_simplified_union([tp, *typed]) if kind == ARG_STAR2 else tp
        for tp, kind in zip(signature.arg_types, signature.arg_kinds, strict=True)
    ]
    return signature.copy_modified(arg_types=arg_types)  # pyright: ignore[reportUnknownMemberType]


def _pick(ctx: MethodContext) -> Type:
    """`.pick("k")` is the key's type and `.pick(["a", "b"])` a TypedDict of those keys; a key
    the output does not have is an error."""
    checker = _checker(ctx.api)
    io = _io(checker, ctx.type)
    output = get_proper_type(io[1]) if io else None
    if not isinstance(output, TypedDictType) or len(ctx.args[0]) != 1:
        return ctx.default_return_type
    (keys,) = ctx.args[0]
    names: list[str] = []
    if isinstance(keys, StrExpr):
        names = [keys.value]
    elif isinstance(keys, ListExpr) and all(isinstance(item, StrExpr) for item in keys.items):
        names = [item.value for item in keys.items if isinstance(item, StrExpr)]
    else:
        return ctx.default_return_type
    missing = [name for name in names if name not in output.items]
    if missing:
        ctx.api.fail(
            f"pick: {_quoted(missing)} not among the keys of the output ({_quoted(output.items)})",
            keys,
            code=TYPEDDICT_ITEM,
        )
        return _with_output(checker, ctx.default_return_type, AnyType(TypeOfAny.from_error))
    if isinstance(keys, StrExpr):
        return _with_output(checker, ctx.default_return_type, output.items[names[0]])
    picked = _typed_dict(
        checker,
        {name: output.items[name] for name in names},
        {name for name in names if name in output.required_keys},
    )
    return _with_output(checker, ctx.default_return_type, picked)


def _quoted(keys: Iterable[str]) -> str:
    return ", ".join(f'"{key}"' for key in keys)


def _assign(ctx: MethodContext) -> Type:
    """`.assign(k=f)` outputs its input's keys plus the new ones; `RunnablePassthrough.assign`
    (whose input is unknown) outputs the new ones, merged with its input's in `typed | it`."""
    checker = _checker(ctx.api)
    io = _io(checker, ctx.type) if not isinstance(get_proper_type(ctx.type), FunctionLike) else None
    base = get_proper_type(io[1]) if io else None
    input: Type = base if isinstance(base, TypedDictType) else _dict_any(checker)
    branches = [
        (name, expr)
        for names, exprs in zip(ctx.arg_names, ctx.args, strict=True)
        for name, expr in zip(names, exprs, strict=True)
        if name is not None
    ]
    added = _branches_output(checker, input, branches)
    if added is None:
        return ctx.default_return_type
    if isinstance(base, TypedDictType):
        items = {**base.items, **added.items}
        added = _typed_dict(
            checker, items, (base.required_keys - set(added.items)) | set(added.items)
        )
    elif io is not None:
        return ctx.default_return_type  # the input's keys are not known
    return _with_output(checker, ctx.default_return_type, added)


def _parallel(ctx: FunctionContext) -> Type:
    """`RunnableParallel({...}, k=f)`: the output is a TypedDict of the branches' outputs."""
    checker = _checker(ctx.api)
    io = _io(checker, ctx.default_return_type)
    if io is None:
        return ctx.default_return_type
    branches: list[tuple[str, Expression]] = []
    for names, exprs in zip(ctx.arg_names, ctx.args, strict=True):
        for name, expr in zip(names, exprs, strict=True):
            if name == "name":
                continue
            if name is not None:
                branches.append((name, expr))
            elif isinstance(expr, DictExpr) and (literal := _literal_branches(expr)) is not None:
                branches.extend(literal)
            else:
                return ctx.default_return_type
    merged = dict(branches)
    output = _branches_output(checker, io[0], list(merged.items()))
    return (
        ctx.default_return_type
        if output is None
        else _with_output(checker, ctx.default_return_type, output)
    )


_SIGNATURE_HOOKS: dict[str, Callable[[MethodSigContext], FunctionLike]] = {
    "__or__": _or_widen,
    "__ror__": _ror_dict,
    "assign": _assign_branches,
}

_METHOD_HOOKS: dict[str, Callable[[MethodContext], Type]] = {
    "__or__": _or_dict,
    "pick": _pick,
    "assign": _assign,
}
