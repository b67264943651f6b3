"""Run records and the one notification point that callbacks, listeners, logs and events consume."""

from __future__ import annotations

import datetime
import inspect
import logging
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, NamedTuple, Protocol, TypeAlias, Union, runtime_checkable

import attrs

from runnables._core.dispatch import Dispatcher, is_async_method
from runnables._core.public import public
from runnables.errors import RunnablesTypeError

__all__ = [
    "NO_HANDLERS",
    "Notice",
    "asettle",
    "settle",
    "Callback",
    "CodeScope",
    "Handlers",
    "LangChainHandler",
    "OnEnd",
    "OnCustomEvent",
    "OnError",
    "OnStart",
    "OnStream",
    "Run",
    "adapt_callback",
    "new_run_id",
    "check_callback",
    "notify",
    "notify_async",
    "notify_soon",
]

_log = logging.getLogger("runnables")

_VERSION_BITS = ~(0xC000 << 48 | 0xF000 << 64)
_VERSION_4 = 0x8000 << 48 | 0x4000 << 64


def new_run_id() -> uuid.UUID:
    """A random (version 4) UUID, as `uuid.uuid4()` makes, without `UUID.__init__`'s parsing
    of arguments (a run id is made for every traced step)."""
    run_id = object.__new__(uuid.UUID)
    object.__setattr__(
        run_id, "int", int.from_bytes(os.urandom(16), "big") & _VERSION_BITS | _VERSION_4
    )
    object.__setattr__(run_id, "is_safe", uuid.SafeUUID.unknown)
    return run_id


@public
@attrs.define(eq=False)
class Run:
    """The record of one runnable's execution, filled in as it starts, streams and ends."""

    name: str
    run_type: str
    id: uuid.UUID = attrs.field(factory=new_run_id)
    parent_id: uuid.UUID | None = None
    tags: list[str] = attrs.field(factory=list)
    metadata: dict[str, Any] = attrs.field(factory=dict)
    inputs: Any = None
    outputs: Any = None
    error: BaseException | None = None
    start_time: datetime.datetime = attrs.field(
        factory=lambda: datetime.datetime.now(datetime.timezone.utc)
    )
    end_time: datetime.datetime | None = None
    child_ids: list[uuid.UUID] = attrs.field(factory=list)


@runtime_checkable
class OnStart(Protocol):
    """A callback told when a run starts (`on_start` may be sync or async)."""

    def on_start(self, run: Run, /) -> object: ...


@runtime_checkable
class OnStream(Protocol):
    """A callback told of each chunk a run streams (`on_stream` may be sync or async)."""

    def on_stream(self, run: Run, chunk: Any, /) -> object: ...


@runtime_checkable
class OnEnd(Protocol):
    """A callback told when a run ends with its output (`on_end` may be sync or async)."""

    def on_end(self, run: Run, /) -> object: ...


@runtime_checkable
class OnError(Protocol):
    """A callback told when a run fails (`on_error` may be sync or async)."""

    def on_error(self, run: Run, error: BaseException, /) -> object: ...


@runtime_checkable
class OnCustomEvent(Protocol):
    """A callback told of the custom events a running step dispatches
    (`dispatch_custom_event`), with LangChain's handler signature: the calling run's id and
    its inherited tags and metadata (`on_custom_event` may be sync or async)."""

    def on_custom_event(
        self,
        name: str,
        data: Any,
        /,
        *,
        run_id: uuid.UUID,
        tags: list[str],
        metadata: dict[str, Any],
    ) -> object: ...


@runtime_checkable
class LangChainHandler(Protocol):
    """A LangChain callback handler (a `langchain_core` `BaseCallbackHandler` subclass),
    driven by `runnables.langchain` (the `langchain` extra)."""

    def on_chain_start(self, *args: Any, **kwargs: Any) -> Any: ...

    def on_llm_start(self, *args: Any, **kwargs: Any) -> Any: ...

    def on_retriever_start(self, *args: Any, **kwargs: Any) -> Any: ...

    def on_tool_start(self, *args: Any, **kwargs: Any) -> Any: ...


Callback: TypeAlias = Union[OnStart, OnStream, OnEnd, OnError, OnCustomEvent, LangChainHandler]  # noqa: UP007
"""What `config["callbacks"]` holds: any object with at least one of `on_start(run)`,
`on_stream(run, chunk)`, `on_end(run)`, `on_error(run, error)` and
`on_custom_event(name, data, *, run_id, tags, metadata)`, each sync or async, or a
LangChain callback handler (with langchain-core installed). A callback that raises is logged
on the ``runnables`` logger and never breaks the run."""

_CALLBACK_PROTOCOLS = (OnStart, OnStream, OnEnd, OnError, OnCustomEvent)
_callback_types: set[type[object]] = set()  # types seen to be callbacks


def check_callback(callback: object) -> None:
    """Raise `TypeError` unless `callback` has at least one of the callback methods."""
    kind = type(callback)
    if kind in _callback_types:
        return
    if isinstance(callback, type):
        raise RunnablesTypeError(
            f"{callback.__name__} is a class; give an instance of it as a callback"
        )
    if _langchain_handler(callback):
        return
    if not isinstance(callback, _CALLBACK_PROTOCOLS):
        hint = (
            " (it looks like a LangChain callback handler: runnables drives subclasses of "
            "langchain_core's BaseCallbackHandler when langchain-core is installed, "
            "`pip install runnables[langchain]`)"
            if any(hasattr(callback, name) for name in ("on_chain_start", "on_llm_start"))
            else ""
        )
        raise RunnablesTypeError(
            f"{callback!r:.100} is not a callback: it has none of the methods on_start, "
            f"on_stream, on_end, on_error, on_custom_event{hint}"
        )
    _callback_types.add(kind)


def _langchain_handler(callback: object) -> bool:
    """Whether `callback` is a LangChain callback handler (never imports LangChain: a handler
    exists only once its module is loaded)."""
    base = sys.modules.get("langchain_core.callbacks.base")
    return base is not None and isinstance(callback, base.BaseCallbackHandler)


def adapt_callback(callback: Callback) -> Callback:
    """`callback`, or for a LangChain callback handler the callback that drives it
    (`runnables.langchain`)."""
    if type(callback) in _callback_types or not _langchain_handler(callback):
        return callback
    from runnables.langchain._handlers import as_callback

    return as_callback(callback)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType] - checked above


class CodeScope(NamedTuple):
    """Something a callback publishes to a run's own code (the user code of a leaf) while it
    runs, as OpenTelemetry's current span: `enter()` publishes it and returns a token,
    `leave(token)` undoes that. Both are called in the same context, around each call and
    each step of a stream, so nothing stays published between steps nor after the run.

    A callback offers one by having a method `_code_scope(run) -> CodeScope | None`, asked
    each time a leaf is about to run the code of a run it observes (after its `on_start`);
    a private hook: the library's own OpenTelemetry callback is the one that needs it. Calls
    no such callback observes pay nothing for it (see `scopes`).
    """

    enter: Callable[[], Any]
    leave: Callable[[Any], object]


class Notice:
    """Who is told of one kind of notification: the methods called in place (the library's
    own observers, and callbacks with `run_inline = True`) and, through the call's
    `Dispatcher`, a user's callbacks."""

    __slots__ = ("inline", "own", "post")

    def __init__(
        self, callbacks: Sequence[object], name: str, dispatcher: Dispatcher | None
    ) -> None:
        inline: list[Callable[..., object]] = []
        queued: list[Callable[..., object]] = []
        trusted: list[object] = []
        for callback in callbacks:
            method = getattr(callback, name, None)
            if method is not None:
                (inline if getattr(callback, "run_inline", False) else queued).append(method)
                if getattr(callback, "never_raises", False) is True:
                    trusted.append(callback)
        self.inline = tuple(inline)
        #: The one observer, when that is all there is and it is one of the library's own,
        #: which never raises (a stream asks it for a per-run emitter: see `TracedStream`).
        self.own: Any = trusted[0] if len(inline) == 1 and not queued and trusted else None
        self.post: Callable[[tuple[Any, ...]], None] | None = None
        if queued and dispatcher is not None:
            self.post = partial(
                dispatcher.post,
                tuple(m for m in queued if not is_async_method(m)),
                tuple(m for m in queued if is_async_method(m)),
            )


class Handlers:
    """The callbacks of a call sorted by notification, worked out once per set of callbacks
    (not at every notification), with the `Dispatcher` of its user callbacks."""

    __slots__ = (
        "code_scopes",
        "dispatcher",
        "on_end",
        "on_error",
        "on_start",
        "on_stream",
        "wants_model_tokens",
    )

    def __init__(self, callbacks: Sequence[object], previous: Handlers | None = None) -> None:
        dispatcher: Dispatcher | None = None
        if any(not getattr(c, "run_inline", False) for c in callbacks):
            # One per call: a wrapper adding its own observers keeps the call's order.
            dispatcher = previous.dispatcher if previous is not None else None
            if dispatcher is None:
                dispatcher = Dispatcher()
        self.dispatcher: Dispatcher | None = dispatcher
        self.on_start = Notice(callbacks, "on_start", dispatcher)
        self.on_stream = Notice(callbacks, "on_stream", dispatcher)
        self.on_end = Notice(callbacks, "on_end", dispatcher)
        self.on_error = Notice(callbacks, "on_error", dispatcher)
        #: The `_code_scope` methods of the callbacks offering one (see `CodeScope`).
        self.code_scopes: tuple[Callable[[Run], CodeScope | None], ...] = ()
        #: Whether a callback asks chat models for their tokens even when they are invoked
        #: (`wants_model_tokens`: a LangChain streaming handler, see `runnables.langchain`).
        self.wants_model_tokens = False
        for callback in callbacks:  # (a loop: cheaper than a generator for a few callbacks)
            offer: Callable[[Run], CodeScope | None] | None = getattr(callback, "_code_scope", None)
            # (A class's method, not what a mock's `__getattr__` makes up for any name.)
            if offer is not None and hasattr(type(callback), "_code_scope"):
                self.code_scopes += (offer,)
            if getattr(callback, "wants_model_tokens", False):
                self.wants_model_tokens = True


NO_HANDLERS = Handlers(())


def notify(notice: Notice, *args: Any) -> None:
    """Tell `notice`'s observers, from sync code (an async one runs to completion); one that
    raises is logged and the run goes on."""
    for method in notice.inline:
        try:
            result = method(*args)
            if result is not None and inspect.isawaitable(result):
                from runnables._core.interop import run_coroutine_blocking

                run_coroutine_blocking(partial(_await, result))
        except Exception:
            _log.exception("callback %r raised; the run goes on", method)
    if notice.post is not None:
        notice.post(args)


async def _await(awaitable: Awaitable[object]) -> object:
    return await awaitable


def notify_soon(notice: Notice, *args: Any) -> Awaitable[None] | None:
    """Tell `notice`'s observers from async code: what can be done in place is done now, and
    an awaitable is returned only if an observer has something to wait for (a full event
    queue, an async method), so that the common case costs no coroutine."""
    for method in notice.inline:
        try:
            result = method(*args)
        except Exception:
            _log.exception("callback %r raised; the run goes on", method)
            continue
        if result is not None and inspect.isawaitable(result):
            rest = notice.inline[notice.inline.index(method) + 1 :]
            return _notify_rest(result, rest, notice, args)
    if notice.post is not None:
        notice.post(args)
    return None


async def _notify_rest(
    pending: Awaitable[object],
    methods: tuple[Callable[..., object], ...],
    notice: Notice,
    args: tuple[Any, ...],
) -> None:
    try:
        await pending
    except Exception:
        _log.exception("a callback raised; the run goes on")
    for method in methods:
        try:
            result = method(*args)
            if result is not None and inspect.isawaitable(result):
                await result
        except Exception:
            _log.exception("callback %r raised; the run goes on", method)
    if notice.post is not None:
        notice.post(args)


async def notify_async(notice: Notice, *args: Any) -> None:
    """Tell `notice`'s observers from async code, waiting for what they wait for."""
    pending = notify_soon(notice, *args)
    if pending is not None:
        await pending


def settle(handlers: Handlers, run: Run) -> None:
    """At the end of a call's root run (sync): let its user callbacks catch up (bounded)."""
    if run.parent_id is None and handlers.dispatcher is not None:
        handlers.dispatcher.wait()


async def asettle(handlers: Handlers, run: Run) -> None:
    """`settle` from async code."""
    if run.parent_id is None and handlers.dispatcher is not None:
        await handlers.dispatcher.wait_async()


def start_run(name: str, run_type: str, inputs: Any, ctx: Any) -> Run:
    """Build the run record for a runnable starting under `ctx` (only when someone listens)."""
    parent = ctx.parent_run
    run = Run(
        name=ctx.run_name or name,
        run_type=run_type,
        id=ctx.run_id or new_run_id(),
        parent_id=parent.id if parent is not None else None,
        tags=[*ctx.tags, *ctx.local_tags],
        metadata=dict(ctx.metadata),
        inputs=inputs,
    )
    if parent is not None:
        parent.child_ids.append(run.id)
    return run


def finish_run(run: Run, outputs: Any = None, error: BaseException | None = None) -> None:
    """Stamp the end of a run with its output or error."""
    run.end_time = datetime.datetime.now(datetime.timezone.utc)
    if error is None:
        run.outputs = outputs
    else:
        run.error = error
