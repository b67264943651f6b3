"""Message list utilities: trim a conversation to a token budget, filter it, merge runs of
one kind, and render it in OpenAI's chat format. Each works on a list at once, or (called
without messages) is a runnable to put in a chain."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, cast, overload

import attrs

from runnables.errors import RunnablesTypeError, RunnablesValueError
from runnables.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    MessageContent,
    MessageLike,
    SystemMessage,
    ToolMessage,
    convert_to_messages,
)

if TYPE_CHECKING:
    from runnables._primitives.lambda_ import RunnableLambda

__all__ = [
    "HasMessages",
    "MessageTypes",
    "MessagesInput",
    "TokenCounter",
    "convert_to_openai_messages",
    "filter_messages",
    "merge_message_runs",
    "trim_messages",
]


class HasMessages(Protocol):
    """Anything readable as a list of messages, such as a `ChatPromptValue`."""

    def to_messages(self) -> list[BaseMessage]: ...


MessagesInput: TypeAlias = Sequence[MessageLike] | HasMessages
"""What the utilities take: message-likes (as `convert_to_messages` reads them) or a prompt value."""

MessageTypes: TypeAlias = str | type[BaseMessage] | Sequence[str | type[BaseMessage]]
"""Message kinds, by `type` tag (``"human"``, ``"ai"``...) or by class (subclasses match)."""

TokenCounter: TypeAlias = Callable[[list[BaseMessage]], int] | Callable[[BaseMessage], int]
"""Counts the tokens of a list of messages (``len`` counts messages), or of one message
(its first parameter annotated `BaseMessage`: the counts are then added up)."""


def _messages(value: object) -> list[BaseMessage]:
    to_messages: object = getattr(value, "to_messages", None)
    if callable(to_messages):
        return list(cast("HasMessages", value).to_messages())
    if isinstance(value, str) or not isinstance(value, Sequence):
        msg = f"expected a sequence of messages or a prompt value, got {type(value).__name__}"
        raise RunnablesTypeError(msg)
    return convert_to_messages(cast("Sequence[MessageLike]", value))


def _runnable(
    func: Callable[..., list[BaseMessage]], name: str, **options: Any
) -> RunnableLambda[MessagesInput, list[BaseMessage]]:
    """`func` with `options` as a runnable taking the messages, named after the utility."""
    from runnables._primitives.lambda_ import RunnableLambda

    bound: Callable[[MessagesInput], list[BaseMessage]] = partial(func, **options)
    return RunnableLambda(bound, name=name)


def _types_of(types: MessageTypes | None) -> tuple[frozenset[str], tuple[type[BaseMessage], ...]]:
    if types is None:
        return frozenset(), ()
    items: Sequence[object] = [types] if isinstance(types, (str, type)) else types
    tags = frozenset(item for item in items if isinstance(item, str))
    classes: list[type[BaseMessage]] = []
    for item in items:
        if isinstance(item, type) and issubclass(cast("type[object]", item), BaseMessage):
            classes.append(item)
        elif not isinstance(item, str):
            msg = f"expected message type tags or BaseMessage classes, got {item!r}"
            raise RunnablesTypeError(msg)
    return tags, tuple(classes)


def _is_type(
    message: BaseMessage, types: tuple[frozenset[str], tuple[type[BaseMessage], ...]]
) -> bool:
    tags, classes = types
    return message.type in tags or isinstance(message, classes)


# --------------------------------------------------------------------------- filter


@overload
def filter_messages(
    messages: None = None,
    *,
    include_names: Sequence[str] | None = None,
    exclude_names: Sequence[str] | None = None,
    include_types: MessageTypes | None = None,
    exclude_types: MessageTypes | None = None,
    include_ids: Sequence[str] | None = None,
    exclude_ids: Sequence[str] | None = None,
    exclude_tool_calls: Sequence[str] | bool | None = None,
) -> RunnableLambda[MessagesInput, list[BaseMessage]]: ...
@overload
def filter_messages(
    messages: MessagesInput,
    *,
    include_names: Sequence[str] | None = None,
    exclude_names: Sequence[str] | None = None,
    include_types: MessageTypes | None = None,
    exclude_types: MessageTypes | None = None,
    include_ids: Sequence[str] | None = None,
    exclude_ids: Sequence[str] | None = None,
    exclude_tool_calls: Sequence[str] | bool | None = None,
) -> list[BaseMessage]: ...
def filter_messages(
    messages: MessagesInput | None = None,
    *,
    include_names: Sequence[str] | None = None,
    exclude_names: Sequence[str] | None = None,
    include_types: MessageTypes | None = None,
    exclude_types: MessageTypes | None = None,
    include_ids: Sequence[str] | None = None,
    exclude_ids: Sequence[str] | None = None,
    exclude_tool_calls: Sequence[str] | bool | None = None,
) -> list[BaseMessage] | RunnableLambda[MessagesInput, list[BaseMessage]]:
    """The messages that match no `exclude_*` condition and, if any `include_*` is given, at
    least one of those.

    `exclude_tool_calls=True` drops AI messages that call tools and every tool message; a list
    of tool call ids drops those calls (and an AI message left with none) and their results.
    """
    options: dict[str, Any] = {
        "include_names": include_names,
        "exclude_names": exclude_names,
        "include_types": include_types,
        "exclude_types": exclude_types,
        "include_ids": include_ids,
        "exclude_ids": exclude_ids,
        "exclude_tool_calls": exclude_tool_calls,
    }
    if messages is None:
        return _runnable(_filter, "filter_messages", **options)
    return _filter(messages, **options)


def _filter(
    messages: MessagesInput,
    *,
    include_names: Sequence[str] | None,
    exclude_names: Sequence[str] | None,
    include_types: MessageTypes | None,
    exclude_types: MessageTypes | None,
    include_ids: Sequence[str] | None,
    exclude_ids: Sequence[str] | None,
    exclude_tool_calls: Sequence[str] | bool | None,
) -> list[BaseMessage]:
    wanted_types, unwanted_types = _types_of(include_types), _types_of(exclude_types)
    dropped_calls = (
        frozenset(exclude_tool_calls)
        if exclude_tool_calls is not None and not isinstance(exclude_tool_calls, bool)
        else frozenset[str]()
    )
    including = bool(include_names or include_types or include_ids)
    kept: list[BaseMessage] = []
    for message in _messages(messages):
        if (
            (exclude_names and message.name in exclude_names)
            or (exclude_types and _is_type(message, unwanted_types))
            or (exclude_ids and message.id in exclude_ids)
        ):
            continue
        if exclude_tool_calls is True and (
            (isinstance(message, AIMessage) and message.tool_calls)
            or isinstance(message, ToolMessage)
        ):
            continue
        if dropped_calls:
            if isinstance(message, AIMessage) and message.tool_calls:
                calls = [call for call in message.tool_calls if call.id not in dropped_calls]
                if not calls:
                    continue
                content = message.content
                if not isinstance(content, str):
                    content = [
                        part
                        for part in content
                        if not (
                            isinstance(part, dict)
                            and part.get("type") == "tool_use"
                            and part.get("id") in dropped_calls
                        )
                    ]
                message = attrs.evolve(message, content=content, tool_calls=calls)
            elif isinstance(message, ToolMessage) and message.tool_call_id in dropped_calls:
                continue
        if (
            not including
            or (include_names and message.name in include_names)
            or (include_types and _is_type(message, wanted_types))
            or (include_ids and message.id in include_ids)
        ):
            kept.append(message)
    return kept


# --------------------------------------------------------------------------- merge


@overload
def merge_message_runs(
    messages: None = None, *, chunk_separator: str = "\n"
) -> RunnableLambda[MessagesInput, list[BaseMessage]]: ...
@overload
def merge_message_runs(
    messages: MessagesInput, *, chunk_separator: str = "\n"
) -> list[BaseMessage]: ...
def merge_message_runs(
    messages: MessagesInput | None = None, *, chunk_separator: str = "\n"
) -> list[BaseMessage] | RunnableLambda[MessagesInput, list[BaseMessage]]:
    """Merge each run of consecutive messages of one kind into one message, for models that
    want turns to alternate.

    Two string contents are joined with `chunk_separator`; AI messages' tool calls and usage
    add up. Tool messages are never merged (each answers its own call), nor are chat messages
    of different roles.
    """
    if messages is None:
        return _runnable(_merge, "merge_message_runs", chunk_separator=chunk_separator)
    return _merge(messages, chunk_separator=chunk_separator)


def _merge(messages: MessagesInput, *, chunk_separator: str) -> list[BaseMessage]:
    merged: list[BaseMessage] = []
    for message in _messages(messages):
        last = merged[-1] if merged else None
        if (
            last is None
            or isinstance(message, ToolMessage)
            or not isinstance(message, type(last))
            or (
                isinstance(message, ChatMessage)
                and isinstance(last, ChatMessage)
                and message.role != last.role
            )
        ):
            merged.append(message)
        else:
            merged[-1] = _merge_two(last, message, chunk_separator)
    return [m.to_message() if isinstance(m, AIMessageChunk) else m for m in merged]


def _merge_two(first: BaseMessage, second: BaseMessage, separator: str) -> BaseMessage:
    """`first` followed by `second` as one message of `first`'s kind."""
    if isinstance(first, AIMessageChunk):
        first = first.to_message()
    changes: dict[str, Any] = {
        "content": _join(first.content, second.content, separator),
        "additional_kwargs": _merge_extras(first.additional_kwargs, second.additional_kwargs),
        "name": first.name if first.name == second.name else None,
    }
    if isinstance(first, AIMessage) and isinstance(second, AIMessage):
        changes["tool_calls"] = [*first.tool_calls, *second.tool_calls]
        changes["usage_metadata"] = _add_usage(first.usage_metadata, second.usage_metadata)
        changes["id"] = first.id if first.id is not None else second.id
    return attrs.evolve(first, **changes)


def _join(first: MessageContent, second: MessageContent, separator: str) -> MessageContent:
    """Two contents as one: strings joined by `separator` (when neither is empty), a string
    and a list as one list, a list and a string with the string added to the list's last
    text."""
    if isinstance(first, str):
        if isinstance(second, str):
            return f"{first}{separator}{second}" if first and second else first + second
        return [first, *second]
    if not isinstance(second, str):
        return [*first, *second]
    if first and isinstance(first[-1], str):
        return [*first[:-1], first[-1] + second]
    return [*first, second] if second else list(first)


def _merge_extras(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """Two `additional_kwargs` as one: strings concatenate, dicts merge, lists add up."""
    merged = dict(first)
    for key, value in second.items():
        old: object = merged.get(key)
        if old is None:
            merged[key] = value
        elif value is None or value == old:
            continue
        elif isinstance(old, str) and isinstance(value, str):
            merged[key] = old + value
        elif isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = _merge_extras(
                cast("Mapping[str, Any]", old), cast("Mapping[str, Any]", value)
            )
        elif isinstance(old, list) and isinstance(value, list):
            merged[key] = [*cast("list[object]", old), *cast("list[object]", value)]
        else:
            merged[key] = value
    return merged


def _add_usage(
    first: dict[str, int] | None, second: dict[str, int] | None
) -> dict[str, int] | None:
    if first is None or second is None:
        return first if second is None else second
    return {key: first.get(key, 0) + second.get(key, 0) for key in {**first, **second}}


# --------------------------------------------------------------------------- trim


@overload
def trim_messages(
    messages: None = None,
    *,
    max_tokens: int,
    token_counter: TokenCounter,
    strategy: Literal["first", "last"] = "last",
    allow_partial: bool = False,
    end_on: MessageTypes | None = None,
    start_on: MessageTypes | None = None,
    include_system: bool = False,
    text_splitter: Callable[[str], list[str]] | None = None,
) -> RunnableLambda[MessagesInput, list[BaseMessage]]: ...
@overload
def trim_messages(
    messages: MessagesInput,
    *,
    max_tokens: int,
    token_counter: TokenCounter,
    strategy: Literal["first", "last"] = "last",
    allow_partial: bool = False,
    end_on: MessageTypes | None = None,
    start_on: MessageTypes | None = None,
    include_system: bool = False,
    text_splitter: Callable[[str], list[str]] | None = None,
) -> list[BaseMessage]: ...
def trim_messages(
    messages: MessagesInput | None = None,
    *,
    max_tokens: int,
    token_counter: TokenCounter,
    strategy: Literal["first", "last"] = "last",
    allow_partial: bool = False,
    end_on: MessageTypes | None = None,
    start_on: MessageTypes | None = None,
    include_system: bool = False,
    text_splitter: Callable[[str], list[str]] | None = None,
) -> list[BaseMessage] | RunnableLambda[MessagesInput, list[BaseMessage]]:
    """The longest run of messages from the start (``strategy="first"``) or the end
    (``"last"``) whose `token_counter` count is at most `max_tokens`, so that a long
    conversation fits a model's context window.

    Args:
        max_tokens: the budget.
        token_counter: counts a list of messages (``len`` counts messages), or one message
            when its first parameter is annotated `BaseMessage`.
        strategy: keep the first or (the usual) the last messages.
        allow_partial: also keep the part of the next message that fits: whole content
            blocks if it has several, else the lines (`text_splitter`'s pieces) of its text.
        end_on: drop messages from the end until one of these kinds comes last.
        start_on: with ``"last"``, drop messages from the start until one of these kinds
            comes first (e.g. ``"human"``, as many models require).
        include_system: with ``"last"``, always keep a leading system message.
        text_splitter: splits a text for `allow_partial`; by default into lines, each keeping
            its newline.
    """
    if isinstance(cast("object", max_tokens), bool) or not isinstance(
        cast("object", max_tokens), int
    ):
        msg = f"max_tokens must be an int, got {max_tokens!r}"
        raise RunnablesTypeError(msg)
    if strategy not in ("first", "last"):
        msg = f"strategy must be 'first' or 'last', got {strategy!r}"
        raise RunnablesValueError(msg)
    if start_on is not None and strategy == "first":
        msg = "start_on is only valid with strategy='last'"
        raise RunnablesValueError(msg)
    if include_system and strategy == "first":
        msg = "include_system is only valid with strategy='last'"
        raise RunnablesValueError(msg)
    trim = partial(
        _trim,
        max_tokens=max_tokens,
        count=_list_counter(token_counter),
        strategy=strategy,
        allow_partial=allow_partial,
        end_on=_types_of(end_on) if end_on else None,
        start_on=_types_of(start_on) if start_on else None,
        include_system=include_system,
        split=text_splitter or _lines,
    )
    if messages is None:
        return _runnable(trim, "trim_messages")
    return trim(messages)


_Types: TypeAlias = tuple[frozenset[str], tuple[type[BaseMessage], ...]]
_Count: TypeAlias = Callable[[list[BaseMessage]], int]


def _list_counter(token_counter: TokenCounter) -> _Count:
    """`token_counter` as a counter of lists (a counter of one message is summed)."""
    if not callable(token_counter):
        msg = f"token_counter must be a function, got {type(token_counter).__name__}"
        raise RunnablesTypeError(msg)
    try:
        parameters = list(inspect.signature(token_counter, eval_str=True).parameters.values())
    except (NameError, TypeError, ValueError):
        parameters = []
    annotation: object = parameters[0].annotation if parameters else None
    if isinstance(annotation, type) and issubclass(annotation, BaseMessage):
        one = cast("Callable[[BaseMessage], int]", token_counter)
        return lambda messages: sum(one(message) for message in messages)
    return cast("_Count", token_counter)


def _lines(text: str) -> list[str]:
    """`text` cut after each newline (a text ending in one has an empty last piece)."""
    pieces = text.split("\n")
    return [piece + "\n" for piece in pieces[:-1]] + pieces[-1:]


def _trim(
    messages: MessagesInput,
    *,
    max_tokens: int,
    count: _Count,
    strategy: Literal["first", "last"],
    allow_partial: bool,
    end_on: _Types | None,
    start_on: _Types | None,
    include_system: bool,
    split: Callable[[str], list[str]],
) -> list[BaseMessage]:
    items = _messages(messages)
    if strategy == "first":
        return _keep_first(items, max_tokens, count, split, allow_partial, end_on)
    items = _ending_on(items, end_on)
    system: list[BaseMessage] = []
    if include_system and items and isinstance(items[0], SystemMessage):
        system, items = items[:1], items[1:]
        max_tokens = max(0, max_tokens - count(system))
    # The last messages that fit are the first ones of the reversed conversation.
    kept = _keep_first(
        items[::-1], max_tokens, count, split, allow_partial, start_on, from_end=True
    )
    return [*system, *kept[::-1]]


def _keep_first(
    items: list[BaseMessage],
    max_tokens: int,
    count: _Count,
    split: Callable[[str], list[str]],
    allow_partial: bool,
    end_on: _Types | None,
    *,
    from_end: bool = False,
) -> list[BaseMessage]:
    """The longest prefix of `items` within `max_tokens` (plus a part of the next message if
    allowed), then cut back until it ends on `end_on`. With `from_end`, `items` is a reversed
    conversation: a partial message keeps its last parts, in their order."""
    if not items:
        return []
    if count(items) <= max_tokens:
        kept = items
    else:
        kept = items[: _longest_fitting(len(items), lambda n: count(items[:n]) <= max_tokens)]
        if allow_partial:
            part = _partial(kept, items[len(kept)], max_tokens, count, split, from_end)
            if part is not None:
                kept = [*kept, part]
    return _ending_on(kept, end_on)


def _ending_on(items: list[BaseMessage], end_on: _Types | None) -> list[BaseMessage]:
    """`items` up to the last message of an `end_on` kind (all of them without `end_on`)."""
    end = len(items)
    while end_on and end and not _is_type(items[end - 1], end_on):
        end -= 1
    return items[:end]


def _longest_fitting(most: int, fits: Callable[[int], bool]) -> int:
    """The largest n in 0..most with `fits(n)`, by bisection (counts grow with n)."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _partial(
    kept: list[BaseMessage],
    message: BaseMessage,
    max_tokens: int,
    count: _Count,
    split: Callable[[str], list[str]],
    from_end: bool,
) -> BaseMessage | None:
    """The largest part of `message` that fits after `kept`: whole content blocks, or else
    the pieces of the text of the block that would be kept; None if nothing fits."""
    content = message.content
    if not isinstance(content, str):
        blocks = content[::-1] if from_end else list(content)
        for size in range(len(blocks) - 1, 0, -1):
            kept_blocks = blocks[:size][::-1] if from_end else blocks[:size]
            candidate = attrs.evolve(message, content=kept_blocks)
            if count([*kept, candidate]) <= max_tokens:
                return candidate
        first_block = blocks[:1]
        text = next(
            (
                block if isinstance(block, str) else block.get("text")
                for block in first_block
                if isinstance(block, str) or block.get("type") == "text"
            ),
            None,
        )
    else:
        text = content
    if not isinstance(text, str) or not text:
        return None
    pieces = split(text)
    if from_end:
        pieces = pieces[::-1]
    used = count(kept)

    def text_of(n: int) -> str:
        return "".join(pieces[:n][::-1] if from_end else pieces[:n])

    def fits(n: int) -> bool:
        return used + count([attrs.evolve(message, content=text_of(n))]) <= max_tokens

    size = _longest_fitting(len(pieces), fits)
    return attrs.evolve(message, content=text_of(size)) if size else None


# --------------------------------------------------------------------------- OpenAI format

_OPENAI_ROLES: dict[type[BaseMessage], str] = {
    SystemMessage: "system",
    HumanMessage: "user",
    AIMessage: "assistant",
    ToolMessage: "tool",
}


@overload
def convert_to_openai_messages(  # type: ignore[overload-overlap]  # a str is one message
    messages: BaseMessage | str | Mapping[str, Any],
    *,
    text_format: Literal["string", "block"] = "string",
) -> dict[str, Any]: ...
@overload
def convert_to_openai_messages(
    messages: Sequence[MessageLike] | HasMessages,
    *,
    text_format: Literal["string", "block"] = "string",
) -> list[dict[str, Any]]: ...
def convert_to_openai_messages(
    messages: BaseMessage | str | Mapping[str, Any] | Sequence[MessageLike] | HasMessages,
    *,
    text_format: Literal["string", "block"] = "string",
) -> dict[str, Any] | list[dict[str, Any]]:
    """Messages as OpenAI chat-completions dicts (``{"role": "user", "content": ...}``); one
    message gives one dict, a sequence a list.

    With ``text_format="string"`` a content made of text only is one string (its parts joined
    by newlines); with ``"block"`` every content is a list of ``{"type": "text"}`` and other
    blocks. Blocks other than text (``image_url``...) are passed on as they are.
    """
    if text_format not in ("string", "block"):
        msg = f"text_format must be 'string' or 'block', got {text_format!r}"
        raise RunnablesValueError(msg)
    if isinstance(messages, (BaseMessage, str, Mapping)):
        return _openai(convert_to_messages(messages)[0], text_format)
    return [_openai(message, text_format) for message in _messages(messages)]


def _openai(message: BaseMessage, text_format: Literal["string", "block"]) -> dict[str, Any]:
    role = (
        message.role
        if isinstance(message, ChatMessage)
        else next((r for cls, r in _OPENAI_ROLES.items() if isinstance(message, cls)), None)
    )
    if role is None:
        msg = f"no OpenAI role for {type(message).__name__}"
        raise RunnablesTypeError(msg)
    entry: dict[str, Any] = {"role": role}
    if message.name is not None:
        entry["name"] = message.name
    if isinstance(message, ToolMessage):
        entry["tool_call_id"] = message.tool_call_id
    if isinstance(message, AIMessage) and message.tool_calls:
        entry["tool_calls"] = [
            {
                "type": "function",
                "id": call.id,
                "function": {"name": call.name, "arguments": json.dumps(call.args)},
            }
            for call in message.tool_calls
        ]
    entry["content"] = _openai_content(message.content, text_format)
    return entry


def _openai_content(
    content: MessageContent, text_format: Literal["string", "block"]
) -> str | list[dict[str, Any]]:
    parts: list[str | dict[str, Any]] = (
        ([content] if content else []) if isinstance(content, str) else content
    )
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": part} if isinstance(part, str) else part for part in parts
    ]
    if text_format == "block":
        return blocks
    if all(block.get("type") == "text" for block in blocks):
        return "\n".join(str(block.get("text", "")) for block in blocks)
    return blocks
