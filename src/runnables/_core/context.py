"""The run context: what a running runnable passes to its children, and the ContextVar that
carries it into user functions so that nested calls become child runs without plumbing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from runnables._core.config import DEFAULT_RECURSION_LIMIT, RunnableConfig, check_config
from runnables._core.runs import NO_HANDLERS, Handlers, adapt_callback
from runnables.errors import RunnablesRecursionError

if TYPE_CHECKING:
    from runnables._core.budget import Budget, Slot
    from runnables._core.runs import Callback, Run

__all__ = ["ROOT", "RunContext", "context_for"]

_EMPTY: Mapping[str, Any] = {}


class RunContext(NamedTuple):
    """Immutable call state: inherited config, the concurrency budget and the tracing state.

    `run_name`, `run_id` and `local_tags` are pending: they belong to the next run started
    under this context and are not inherited by that run's children. A tuple, so that no
    code can change a context others share (`ROOT` above all); `replace` makes a new one.
    """

    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = _EMPTY
    callbacks: tuple[Callback, ...] = ()
    configurable: Mapping[str, Any] = _EMPTY
    recursion_limit: int = DEFAULT_RECURSION_LIMIT
    max_concurrency: int | None = None
    budget: Budget | None = None
    #: The slot of the leaf whose code is running, lent to the runnables that code calls.
    lender: Slot | None = None
    parent_run: Run | None = None
    run_name: str | None = None
    run_id: uuid.UUID | None = None
    local_tags: tuple[str, ...] = ()
    depth: int = 0
    #: `callbacks` sorted by notification (`replace` keeps the two in step).
    handlers: Handlers = NO_HANDLERS

    @property
    def tracing(self) -> bool:
        """Whether anyone listens; when not, no run records are built."""
        return bool(self.callbacks)

    def replace(self, **changes: Any) -> RunContext:
        """A new context with `changes`."""
        if "callbacks" in changes:
            changes["handlers"] = Handlers(changes["callbacks"], self.handlers)
        values = list(self)
        for name, value in changes.items():
            values[_POSITION[name]] = value
        return _new_context(RunContext, values)

    def merged(self, config: RunnableConfig, *, call: bool) -> RunContext:
        """This context with `config` merged in.

        A call's config (`call=True`) overrides pending names; a bound config (from
        `with_config`) only fills in what the call did not set.
        """
        check_config(config)
        if not config:
            return self
        from runnables._core.budget import Budget

        changes: dict[str, Any] = {}
        if tags := config.get("tags"):
            changes["tags"] = (*self.tags, *(t for t in tags if t not in self.tags))
        if metadata := config.get("metadata"):
            changes["metadata"] = (
                {**metadata, **self.metadata} if not call else {**self.metadata, **metadata}
            )
        if callbacks := config.get("callbacks"):
            changes["callbacks"] = (
                *self.callbacks,
                *(c for c in map(adapt_callback, callbacks) if c not in self.callbacks),
            )
        if configurable := config.get("configurable"):
            changes["configurable"] = (
                {**configurable, **self.configurable}
                if not call
                else {**self.configurable, **configurable}
            )
        if "recursion_limit" in config and (
            call or self.recursion_limit == DEFAULT_RECURSION_LIMIT
        ):
            changes["recursion_limit"] = config["recursion_limit"]
        if (limit := config.get("max_concurrency")) is not None:
            changes["max_concurrency"] = limit
            # A budget inside one at least as strict could never bind: do without it (a
            # binding's own limit, merged for a whole batch and again for each of its items).
            if self.budget is None or self.budget.limit > limit:
                changes["budget"] = Budget(limit, parent=self.budget)
        if "run_name" in config and (call or self.run_name is None):
            changes["run_name"] = config["run_name"]
        if "run_id" in config and (call or self.run_id is None):
            changes["run_id"] = config["run_id"]
        return self.replace(**changes) if changes else self

    def child_of(self, run: Run) -> RunContext:
        """The context for the children of `run`: pending names and local tags consumed."""
        values = list(self)  # (`replace`, written out: this runs for every traced step)
        values[_PARENT_RUN] = run
        values[_RUN_NAME] = values[_RUN_ID] = None
        values[_LOCAL_TAGS] = ()
        return _new_context(RunContext, values)

    def for_children(self) -> RunContext:
        """The context an untraced runnable hands its children: its pending run name and id
        are its own (`child_of` consumes them for a traced one)."""
        if self.run_name is None and self.run_id is None:
            return self
        return self.replace(run_name=None, run_id=None)

    def with_local_tag(self, tag: str) -> RunContext:
        """A position tag (`seq:step:2`, `map:key:k`) for the next run only; free when not tracing."""
        if not self.tracing:
            return self
        return self.replace(local_tags=(*self.local_tags, tag))

    def nested(self, slot: Slot | None = None) -> RunContext:
        """The context seen by a runnable called from inside a user function.

        It shares the function's budget, and may borrow `slot`, the function's own (see
        `budget`).
        """
        pending = self.run_name is not None or self.run_id is not None or self.local_tags
        if slot is None and not pending:
            return self
        return self.replace(
            lender=slot or self.lender, run_name=None, run_id=None, local_tags=(), depth=0
        )

    def deeper(self, what: str) -> RunContext:
        """One more level of runnables returned by functions; past the limit, `RecursionError`."""
        if self.depth + 1 > self.recursion_limit:
            raise RunnablesRecursionError(
                f"recursion_limit of {self.recursion_limit} reached while {what} returned a runnable "
                "to invoke; raise it with config={'recursion_limit': ...}"
            )
        return self.replace(depth=self.depth + 1)

    def as_config(self) -> RunnableConfig:
        """The config a user function receives when it asks for one."""
        config: RunnableConfig = {
            "tags": list(self.tags),
            "metadata": dict(self.metadata),
            "callbacks": list(self.callbacks),
            "configurable": dict(self.configurable),
            "recursion_limit": self.recursion_limit,
            "max_concurrency": self.max_concurrency,
        }
        if self.run_name is not None:
            config["run_name"] = self.run_name
        if self.run_id is not None:
            config["run_id"] = self.run_id
        return config


_POSITION = {name: position for position, name in enumerate(RunContext._fields)}
_PARENT_RUN, _RUN_NAME, _RUN_ID, _LOCAL_TAGS = (
    _POSITION[name] for name in ("parent_run", "run_name", "run_id", "local_tags")
)
#: `RunContext._make` without its checks (the values are complete).
_new_context = cast("Callable[[type[RunContext], list[Any]], RunContext]", tuple.__new__)

ROOT = RunContext()
CURRENT: ContextVar[RunContext | None] = ContextVar("runnables_current_context", default=None)


def context_for(config: RunnableConfig | None) -> RunContext:
    """The context for a public call: the enclosing function's (if any) with `config` merged."""
    base = CURRENT.get() or ROOT
    if config is None:
        return base
    return base.merged(config, call=True)


def enter(ctx: RunContext, slot: Slot | None = None) -> Token[RunContext | None]:
    """Publish `ctx` to user code (running on `slot`, if it holds one); returns a token for
    `leave`."""
    return CURRENT.set(ctx.nested(slot))


def enter_nested(nested: RunContext) -> Token[RunContext | None]:
    """`enter` for code that publishes the same context many times: give it `ctx.nested(slot)`."""
    return CURRENT.set(nested)


def leave(token: Token[RunContext | None]) -> None:
    """Undo `enter`."""
    CURRENT.reset(token)
