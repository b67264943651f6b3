"""`RunnableWithMessageHistory`: a runnable that remembers the conversation of each session."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar, cast, final, overload

import attrs

from runnables._chat_history import BaseChatMessageHistory
from runnables._core.base import RunnableBase
from runnables._core.configurable import ConfigurableFieldSpec, unique_config_specs
from runnables._core.streaming import NOTHING, Total, aone, close_chunks, closing_chunks
from runnables._primitives.coerce import coerce_to_runnable
from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    MessageLike,
    convert_to_messages,
)

if TYPE_CHECKING:
    from runnables._core.context import RunContext
    from runnables._core.protocol import Runnable

__all__ = ["HistoryInput", "RunnableWithMessageHistory"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
O2 = TypeVar("O2")

HistoryInput: TypeAlias = str | BaseMessage | Sequence[MessageLike] | dict[str, Any]
"""What a wrapper without `input_messages_key` takes: the new message(s) of a turn (a string is
a human message), or a dict holding them under its one key or under ``"input"``."""


class FieldSpecLike(Protocol):
    """A configurable field spec: only its `id` matters here (LangChain's
    `ConfigurableFieldSpec` is one)."""

    @property
    def id(self) -> str: ...


def _key_of(spec: object) -> str:
    key = spec if isinstance(spec, str) else getattr(spec, "id", None)
    if not isinstance(key, str) or not key:
        msg = f"history_factory_config: expected field specs with a str `id` (or str keys), got {spec!r}"
        raise RunnablesTypeError(msg)
    return key


def _check_factory(func: Callable[..., object], keys: Sequence[str]) -> None:
    """Refuse a `get_session_history` that cannot take the session keys: one key is passed by
    position, several by name."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # a builtin or an object without one: trust it
        return
    try:
        if len(keys) == 1:
            signature.bind(keys[0])
        else:
            signature.bind(**dict.fromkeys(keys))
    except TypeError as error:
        passed = (
            f"one argument (the {keys[0]!r} value)" if len(keys) == 1 else f"{list(keys)} by name"
        )
        msg = (
            f"history_factory_config passes get_session_history {passed}, but it takes "
            f"{list(signature.parameters)} ({error})"
        )
        raise RunnablesValueError(msg) from None


def _spec_of(spec: str | FieldSpecLike) -> ConfigurableFieldSpec:
    """Our spec for a history key: given as a spec (ours or LangChain's) or a bare key."""
    if isinstance(spec, str):
        if spec == "session_id":
            return ConfigurableFieldSpec(
                id="session_id",
                annotation=str,
                name="Session ID",
                description="Unique identifier for a session.",
                default="",
                is_shared=True,
                required=True,
            )
        return ConfigurableFieldSpec(id=spec, annotation=str, is_shared=True, required=True)
    return ConfigurableFieldSpec(
        id=spec.id,
        annotation=getattr(spec, "annotation", None) or str,
        name=getattr(spec, "name", None),
        description=getattr(spec, "description", None),
        default=getattr(spec, "default", None),
        is_shared=bool(getattr(spec, "is_shared", True)),
        required=True,
    )


def _messages_in(value: object, where: str) -> list[BaseMessage]:
    """A turn's input value as messages: a string is a human message, a list converted item by
    item."""
    if isinstance(value, str):
        return convert_to_messages(value)
    if isinstance(value, BaseMessage):
        return [value]
    if isinstance(value, (list, tuple)):
        return convert_to_messages(cast("Sequence[MessageLike]", value))
    msg = f"{where}: expected a str, a message or a list of messages, got {type(value).__name__}"
    raise RunnablesTypeError(msg)


def _messages_out(value: object, where: str) -> list[BaseMessage]:
    """A turn's output value as messages to store: a string is an AI message, and a streamed
    `AIMessageChunk` is stored as the complete `AIMessage` it adds up to."""
    if isinstance(value, str):
        return [AIMessage(value)]
    if isinstance(value, AIMessageChunk):
        return [value.to_message()]
    if isinstance(value, BaseMessage):
        return [value]
    if isinstance(value, (list, tuple)):
        messages = _messages_in(cast("Sequence[object]", value), where)
        return [m.to_message() if isinstance(m, AIMessageChunk) else m for m in messages]
    msg = f"{where}: expected a str, a message or a list of messages, got {type(value).__name__}"
    raise RunnablesTypeError(msg)


def _pick(value: Mapping[str, Any], key: str | None, default: str, where: str) -> tuple[str, Any]:
    """The entry holding the messages: `key`, else the only one, else `default` (as LangChain)."""
    if key is None:
        key = next(iter(value)) if len(value) == 1 else default
    if key not in value:
        msg = f"{where}: no key {key!r} in the dict; it has {sorted(value)!r}"
        raise RunnablesValueError(msg)
    return key, value[key]


@final
@attrs.frozen(init=False)
class RunnableWithMessageHistory(RunnableBase[In, Out]):
    """`runnable` with the conversation of a session loaded before each turn and the turn's
    messages saved after it.

    The session is chosen by `config["configurable"]`: by default its ``"session_id"``, passed
    to `get_session_history`; with `history_factory_config`, every key it lists, passed by
    name. The runnable gets the past messages followed by the new ones (or, with
    `input_messages_key`, the input dict with those under that key), or with
    `history_messages_key` the input dict with the past messages under that key. After the
    runnable has finished, the new messages and its output (under `output_messages_key` if it
    is a dict) are appended in one `add_messages` call; a turn that fails, is cancelled or whose
    stream is left unfinished saves nothing. `get_session_history` is called at the start of
    each turn, on the event loop in async calls, so it should only build the store (the
    stores here do no I/O until used).
    """

    runnable: RunnableBase[Any, Out]
    get_session_history: Callable[..., BaseChatMessageHistory]
    input_messages_key: str | None
    output_messages_key: str | None
    history_messages_key: str | None
    history_factory_config: tuple[str | FieldSpecLike, ...]

    @overload
    def __init__(
        self: RunnableWithMessageHistory[HistoryInput, O2],
        runnable: Runnable[list[BaseMessage], O2],
        get_session_history: Callable[..., BaseChatMessageHistory],
        *,
        input_messages_key: None = None,
        output_messages_key: str | None = None,
        history_messages_key: None = None,
        history_factory_config: Sequence[str | FieldSpecLike] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableWithMessageHistory[dict[str, Any], O2],
        runnable: Runnable[dict[str, Any], O2],
        get_session_history: Callable[..., BaseChatMessageHistory],
        *,
        input_messages_key: str,
        output_messages_key: str | None = None,
        history_messages_key: str | None = None,
        history_factory_config: Sequence[str | FieldSpecLike] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: RunnableWithMessageHistory[dict[str, Any], O2],
        runnable: Runnable[dict[str, Any], O2],
        get_session_history: Callable[..., BaseChatMessageHistory],
        *,
        input_messages_key: None = None,
        output_messages_key: str | None = None,
        history_messages_key: str,
        history_factory_config: Sequence[str | FieldSpecLike] | None = None,
    ) -> None: ...
    def __init__(
        self,
        runnable: Runnable[Any, Any],
        get_session_history: Callable[..., BaseChatMessageHistory],
        *,
        input_messages_key: str | None = None,
        output_messages_key: str | None = None,
        history_messages_key: str | None = None,
        history_factory_config: Sequence[str | FieldSpecLike] | None = None,
    ) -> None:
        if not callable(get_session_history):
            msg = f"get_session_history must be callable, got {get_session_history!r:.100}"
            raise RunnablesTypeError(msg)
        specs = tuple(history_factory_config or ("session_id",))
        _check_factory(get_session_history, [_key_of(spec) for spec in specs])
        self.__attrs_init__(  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
            coerce_to_runnable(runnable),
            get_session_history,
            input_messages_key,
            output_messages_key,
            history_messages_key,
            specs,
        )

    @property
    def history_keys(self) -> tuple[str, ...]:
        """The `config["configurable"]` keys that choose the session."""
        return tuple(_key_of(spec) for spec in self.history_factory_config)

    @property
    def config_specs(self) -> tuple[ConfigurableFieldSpec, ...]:
        """The session keys (required: a turn without them fails) and the runnable's own."""
        own = [_spec_of(spec) for spec in self.history_factory_config]
        return unique_config_specs([*own, *self.runnable.config_specs])

    @property
    def input_type(self) -> Any:
        if self.input_messages_key is None and self.history_messages_key is None:
            return HistoryInput
        return dict[str, Any]

    @property
    def output_type(self) -> Any:
        return self.runnable.output_type

    # ------------------------------------------------ decisions (no I/O)

    def _history(self, ctx: RunContext) -> BaseChatMessageHistory:
        """The session's history, from the factory and `ctx.configurable`."""
        keys = self.history_keys
        configurable = ctx.configurable
        missing = [key for key in keys if key not in configurable]
        if missing:
            example = {"configurable": dict.fromkeys(keys, "...")}
            msg = (
                f"RunnableWithMessageHistory needs config['configurable'] key(s) {missing}, "
                f"got {sorted(configurable)}; call it with config={example!r}"
            )
            raise RunnablesValueError(msg)
        if len(keys) == 1:
            history = self.get_session_history(configurable[keys[0]])
        else:
            history = self.get_session_history(**{key: configurable[key] for key in keys})
        for method in ("add_messages", "aadd_messages", "aget_messages"):
            if not callable(getattr(history, method, None)):
                msg = (
                    f"get_session_history returned {type(history).__name__}, which has no "
                    f"{method}(): expected a BaseChatMessageHistory"
                )
                raise RunnablesTypeError(msg)
        return history

    def _new_messages(self, input: object) -> list[BaseMessage]:
        """The messages this turn adds on the input side."""
        if isinstance(input, Mapping):
            key, value = _pick(
                cast("Mapping[str, Any]", input), self.input_messages_key, "input", "input"
            )
            return _messages_in(value, f"input[{key!r}]")
        if self.input_messages_key is not None or self.history_messages_key is not None:
            msg = f"RunnableWithMessageHistory with message keys needs a dict input, got {type(input).__name__}"
            raise RunnablesTypeError(msg)
        return _messages_in(input, "input")

    def _runnable_input(
        self, input: object, past: list[BaseMessage], new: list[BaseMessage]
    ) -> object:
        """What the wrapped runnable gets, given the past and new messages."""
        if self.history_messages_key is not None:
            return {**cast("Mapping[str, Any]", input), self.history_messages_key: past}
        if self.input_messages_key is not None:
            return {**cast("Mapping[str, Any]", input), self.input_messages_key: [*past, *new]}
        return [*past, *new]

    def _to_save(self, new: list[BaseMessage], output: object) -> list[BaseMessage]:
        """The turn's messages: the new ones and the output's."""
        if output is NOTHING:
            msg = "the wrapped runnable streamed no output: there is no answer to save"
            raise RunnablesValueError(msg)
        if isinstance(output, Mapping):
            key, output = _pick(
                cast("Mapping[str, Any]", output), self.output_messages_key, "output", "output"
            )
            return [*new, *_messages_out(output, f"output[{key!r}]")]
        return [*new, *_messages_out(output, "output")]

    # ------------------------------------------------ drivers

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        history = self._history(ctx)
        new = self._new_messages(input)
        given = self._runnable_input(input, history.messages, new)
        output = self.runnable._call(given, ctx)
        history.add_messages(self._to_save(new, output))
        return output

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        history = self._history(ctx)
        new = self._new_messages(input)
        given = self._runnable_input(input, await history.aget_messages(), new)
        output = await self.runnable._acall(given, ctx)
        await history.aadd_messages(self._to_save(new, output))
        return output

    def _stream(self, input: In, ctx: RunContext) -> Iterator[Out]:
        history = self._history(ctx)
        new = self._new_messages(input)
        given = self._runnable_input(input, history.messages, new)
        total = Total()
        chunks = self.runnable._call_transform(iter((given,)), ctx)
        try:
            for chunk in chunks:
                total.add(chunk)
                yield chunk
        finally:
            close_chunks(chunks)
        history.add_messages(self._to_save(new, total.value))

    async def _astream(self, input: In, ctx: RunContext) -> AsyncIterator[Out]:
        history = self._history(ctx)
        new = self._new_messages(input)
        given = self._runnable_input(input, await history.aget_messages(), new)
        total = Total()
        async with closing_chunks(self.runnable._acall_transform(aone(given), ctx)) as chunks:
            async for chunk in chunks:
                total.add(chunk)
                yield chunk
        await history.aadd_messages(self._to_save(new, total.value))
