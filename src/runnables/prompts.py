"""Prompt templates: runnables turning a dict of variables into a prompt value.

`PromptTemplate` formats one template into a `StringPromptValue`; `ChatPromptTemplate`
formats a list of message templates, fixed messages and `MessagesPlaceholder`s into a
`ChatPromptValue`; `FewShotPromptTemplate` and `FewShotChatMessagePromptTemplate` add fixed
examples. All are runnables of kind ``"prompt"`` taking a ``dict[str, Any]`` (or a plain
string when the prompt has exactly one variable). A missing variable raises
`PromptInputError` (a `KeyError`, as in LangChain, and a `ValueError`) naming the prompt,
the missing variables and the ones that were given; extra keys are ignored.

F-string templates (the default) hold plain ``{name}`` fields and ``{{``/``}}`` escapes
only, checked when the prompt is built: attribute access, indexing, conversions, format
specs and nested fields raise `PromptTemplateError`. Mustache templates
(``template_format="mustache"``) look names up in dict keys and list indexes only, with no
partials and no function calls. Either way a template, wherever it came from, can read
nothing but the data it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias, TypeVar, cast

import attrs

from runnables._core.base import RunnableBase
from runnables._core.streaming import add_note
from runnables._mustache import parse_mustache
from runnables._template import (
    ContentTemplate,
    Parsed,
    PromptTemplateError,
    parse_content,
    parse_template,
)
from runnables.errors import PromptInputError, RunnablesTypeError, RunnablesValueError
from runnables.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    MessageLike,
    SystemMessage,
    ToolMessage,
    convert_to_messages,
    get_buffer_string,
)
from runnables.schema import Schema

if TYPE_CHECKING:
    from typing_extensions import Self

    from runnables._core.context import RunContext

__all__ = [
    "AIMessagePromptTemplate",
    "BaseMessagePromptTemplate",
    "ChatPromptTemplate",
    "ChatMessagePromptTemplate",
    "ChatPromptValue",
    "ContentMessagePromptTemplate",
    "FewShotChatMessagePromptTemplate",
    "FewShotPromptTemplate",
    "HumanMessagePromptTemplate",
    "MessagesPlaceholder",
    "PromptTemplate",
    "PromptTemplateError",
    "PromptValue",
    "StringPromptValue",
    "SystemMessagePromptTemplate",
    "TemplateFormat",
]

PromptTemplateError.__module__ = __name__

TemplateFormat: TypeAlias = Literal["f-string", "mustache"]
"""How a template is written: ``{name}`` fields, or mustache ``{{name}}`` and sections."""

AnyMessage: TypeAlias = AIMessage | HumanMessage | ChatMessage | SystemMessage | ToolMessage
"""The concrete message classes, as described in prompt input schemas."""


# --------------------------------------------------------------------------- prompt values


class PromptValue:
    """What a prompt produces: readable as one string (for LLMs) or as messages (chat models)."""

    __slots__ = ()

    def to_string(self) -> str:
        """The prompt as a single string."""
        raise NotImplementedError

    def to_messages(self) -> list[BaseMessage]:
        """The prompt as a list of chat messages."""
        raise NotImplementedError


def _message_list(messages: Iterable[BaseMessage]) -> list[BaseMessage]:
    return list(messages)


@attrs.frozen
class StringPromptValue(PromptValue):
    """A formatted text prompt; as messages it is one human message."""

    text: str

    def to_string(self) -> str:
        return self.text

    def to_messages(self) -> list[BaseMessage]:
        return [HumanMessage(self.text)]


@attrs.frozen(unsafe_hash=False)
class ChatPromptValue(PromptValue):
    """A formatted chat prompt; as a string it is the ``Role: text`` buffer string."""

    messages: list[BaseMessage] = attrs.field(converter=_message_list)

    # Holds messages, which are unhashable by design.
    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]

    def to_string(self) -> str:
        return get_buffer_string(self.messages)

    def to_messages(self) -> list[BaseMessage]:
        return list(self.messages)


# --------------------------------------------------------------------------- templates


def _resolve_partials(partials: Mapping[str, Any]) -> dict[str, Any]:
    """Partial values; callables (taking no arguments) are called at format time."""
    return {key: value() if callable(value) else value for key, value in partials.items()}


def _check_variables(
    who: str, needed: Sequence[str], given: Mapping[str, Any], optional: Iterable[str] = ()
) -> None:
    skip = set(optional)
    missing = [name for name in needed if name not in given and name not in skip]
    if missing:
        raise PromptInputError(f"prompt {who!r} needs variables {missing}; got {sorted(given)}")


def _input_dict(who: str, variables: Sequence[str], value: object) -> dict[str, Any]:
    """The input as a dict: a dict as is, a lone string for a one-variable prompt."""
    if isinstance(value, Mapping):
        mapping = cast("Mapping[object, Any]", value)
        return {str(key): item for key, item in mapping.items()}
    if isinstance(value, str) and len(variables) == 1:
        return {variables[0]: value}
    if isinstance(value, str):
        raise RunnablesTypeError(
            f"prompt {who!r} has {len(variables)} variables {list(variables)}; "
            "a plain string input works only for exactly one, pass a dict"
        )
    raise RunnablesTypeError(
        f"prompt {who!r} needs a dict input, got {type(value).__name__}: {value!r}"
    )


def _parser(template_format: TemplateFormat) -> Callable[[str], Parsed]:
    if template_format == "f-string":
        return parse_template
    if template_format == "mustache":
        return parse_mustache
    raise RunnablesValueError(  # pyright: ignore[reportUnreachable]
        f"template_format must be 'f-string' or 'mustache', got {template_format!r} "
        "(jinja2 is not supported: it can run code)"
    )


def _frozen_dict(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})


def _names(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if isinstance(value, str):
        raise RunnablesTypeError(
            f"input_variables must be a list of names, got the string {value!r}"
        )
    return None if value is None else tuple(value)


def _check_declared(
    declared: Sequence[str], used: Sequence[str], partials: Mapping[str, Any]
) -> None:
    """Refuse ``input_variables`` (LangChain's spelling) that do not match the template."""
    unused = [name for name in declared if name not in used]
    missing = [name for name in used if name not in declared and name not in partials]
    if unused or missing:
        problems = [f"not in the template: {unused}"] if unused else []
        problems += [f"used by the template but not listed: {missing}"] if missing else []
        raise RunnablesValueError(
            f"input_variables {list(declared)} do not match the template's variables "
            f"{list(used)} ({'; '.join(problems)}); they may be left out, as they are "
            "read from the template"
        )


V = TypeVar("V", bound=PromptValue)


class _Prompt(RunnableBase[dict[str, Any], V]):
    """What every prompt template shares: a dict of variables in (a plain string for a prompt
    of one variable), the prompt value `value_type` out, runs of kind ``"prompt"``; formatting
    does no I/O, so an async call formats as a sync one does."""

    #: The prompt value this kind of prompt makes.
    value_type: ClassVar[type[PromptValue]]

    if TYPE_CHECKING:

        @property
        def input_variables(self) -> list[str]: ...

        def format_prompt(self, **variables: Any) -> V: ...

    @property
    def run_type(self) -> str:
        return "prompt"

    @property
    def input_type(self) -> Any:
        return dict[str, Any]

    @property
    def output_type(self) -> Any:
        return self.value_type

    def _invoke(self, input: dict[str, Any], ctx: RunContext) -> V:
        return self.format_prompt(**_input_dict(self.name, self.input_variables, input))

    async def _ainvoke(self, input: dict[str, Any], ctx: RunContext) -> V:
        return self._invoke(input, ctx)


@attrs.frozen
class PromptTemplate(_Prompt[StringPromptValue]):
    """A template (``"tell me a joke about {topic}"``, or mustache ``"{{topic}}"`` with
    ``template_format="mustache"``) formatted into a `StringPromptValue`.

    ``partial_variables`` fill some variables ahead of time (values, or callables with no
    arguments called at each format); a value given at format time wins over a partial one.
    A missing variable raises `PromptInputError`; a template with anything but plain ``{name}``
    fields raises `PromptTemplateError` here, when built. ``input_variables`` (LangChain's
    spelling, optional) is checked against the template's variables.
    """

    value_type: ClassVar[type[PromptValue]] = StringPromptValue

    template: str
    partial_variables: dict[str, Any] = attrs.field(
        factory=dict, converter=_frozen_dict, hash=False, kw_only=True
    )
    _declared: tuple[str, ...] | None = attrs.field(
        default=None,
        converter=_names,
        kw_only=True,
        alias="input_variables",
        eq=False,
        hash=False,
        repr=False,
    )
    template_format: TemplateFormat = attrs.field(default="f-string", kw_only=True)
    _parsed: Parsed = attrs.field(init=False, eq=False, repr=False)

    @_parsed.default  # pyright: ignore[reportUntypedFunctionDecorator, reportAttributeAccessIssue, reportUnknownMemberType]
    def _parse(self) -> Parsed:
        parsed = _parser(self.template_format)(self.template)
        if self._declared is not None:
            _check_declared(self._declared, parsed.variables, self.partial_variables)
        return parsed

    @classmethod
    def from_template(
        cls,
        template: str,
        *,
        template_format: TemplateFormat = "f-string",
        partial_variables: Mapping[str, Any] | None = None,
    ) -> PromptTemplate:
        """A prompt from an f-string (or mustache) template."""
        return cls(
            template,
            template_format=template_format,
            partial_variables=dict(partial_variables or {}),
        )

    @property
    def input_variables(self) -> list[str]:
        """The variables still to be given, in order of first appearance."""
        return [name for name in self._parsed.variables if name not in self.partial_variables]

    @property
    def input_schema(self) -> Schema[dict[str, Any]]:
        # A mustache variable may be a section's list or dict as well as text.
        kind: Any = str if self.template_format == "f-string" else Any
        return Schema.object("PromptInput", dict.fromkeys(self.input_variables, kind))

    def partial(self, **variables: Any) -> PromptTemplate:
        """A copy with some variables filled in ahead of time."""
        return attrs.evolve(self, partial_variables={**self.partial_variables, **variables})

    def format(self, **variables: Any) -> str:
        """The formatted text; raises `PromptInputError` if a variable is missing."""
        values = {**_resolve_partials(self.partial_variables), **variables}
        _check_variables(self.name, self._parsed.variables, values)
        return self._parsed.render(values)

    def format_prompt(self, **variables: Any) -> StringPromptValue:
        """The formatted prompt value."""
        return StringPromptValue(self.format(**variables))

    def __add__(self, other: PromptTemplate | str) -> PromptTemplate:
        """Concatenate two templates of the same format (a string is a template in this one's)."""
        if isinstance(other, str):
            other = PromptTemplate(other, template_format=self.template_format)
        if not isinstance(other, PromptTemplate):  # pyright: ignore[reportUnnecessaryIsInstance]
            return NotImplemented
        if other.template_format != self.template_format:
            raise RunnablesValueError(
                f"cannot add a {self.template_format} prompt and a {other.template_format} "
                "prompt; write both in one format"
            )
        clash = [
            key
            for key in self.partial_variables.keys() & other.partial_variables.keys()
            if self.partial_variables[key] != other.partial_variables[key]
        ]
        if clash:
            raise RunnablesValueError(
                f"cannot add prompts: different partial values for {sorted(clash)}"
            )
        return PromptTemplate(
            self.template + other.template,
            template_format=self.template_format,
            partial_variables={**self.partial_variables, **other.partial_variables},
        )


# --------------------------------------------------------------------------- chat parts


def _is_prompt_template(
    instance: object, attribute: attrs.Attribute[PromptTemplate], value: PromptTemplate
) -> None:
    if not isinstance(value, PromptTemplate):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RunnablesTypeError(
            f"{type(instance).__name__} needs a PromptTemplate, got {type(value).__name__}: "
            f"{value!r}; build one from a string with {type(instance).__name__}.from_template"
        )


@attrs.frozen
class BaseMessagePromptTemplate:
    """A message whose text is a `PromptTemplate`; subclasses fix the message class."""

    message_class: ClassVar[type[BaseMessage]] = HumanMessage

    prompt: PromptTemplate = attrs.field(validator=_is_prompt_template)

    @classmethod
    def from_template(cls, template: str, *, template_format: TemplateFormat = "f-string") -> Self:
        """A message template from an f-string (or mustache) template."""
        return cls(PromptTemplate(template, template_format=template_format))

    @property
    def input_variables(self) -> list[str]:
        return self.prompt.input_variables

    def format_messages(self, **variables: Any) -> list[BaseMessage]:
        return [self._message(self.prompt.format(**variables))]

    def _message(self, text: str) -> BaseMessage:
        return self.message_class(text)

    def __add__(
        self, other: ChatPromptTemplate | MessageTemplateLike | Sequence[MessageTemplateLike]
    ) -> ChatPromptTemplate:
        """A chat prompt of this message followed by `other` (as `ChatPromptTemplate` adds)."""
        return ChatPromptTemplate((self,)) + other


@attrs.frozen
class HumanMessagePromptTemplate(BaseMessagePromptTemplate):
    """A human message template."""

    message_class: ClassVar[type[BaseMessage]] = HumanMessage


@attrs.frozen
class AIMessagePromptTemplate(BaseMessagePromptTemplate):
    """An AI message template."""

    message_class: ClassVar[type[BaseMessage]] = AIMessage


@attrs.frozen
class SystemMessagePromptTemplate(BaseMessagePromptTemplate):
    """A system message template."""

    message_class: ClassVar[type[BaseMessage]] = SystemMessage


@attrs.frozen
class ChatMessagePromptTemplate(BaseMessagePromptTemplate):
    """A message template with a caller-chosen ``role``, formatted into a `ChatMessage`."""

    message_class: ClassVar[type[BaseMessage]] = ChatMessage

    role: str = attrs.field(kw_only=True)

    @classmethod
    def from_template(
        cls,
        template: str,
        role: str | None = None,
        *,
        template_format: TemplateFormat = "f-string",
    ) -> Self:
        """A message template for `role` from an f-string (or mustache) template."""
        if role is None:
            raise RunnablesTypeError("ChatMessagePromptTemplate.from_template needs a role")
        return cls(PromptTemplate(template, template_format=template_format), role=role)

    def _message(self, text: str) -> BaseMessage:
        return ChatMessage(text, role=self.role)


@attrs.frozen
class ContentMessagePromptTemplate:
    """A message whose content is a list of parts (text, images, other dicts), every string
    of which is a template, as ``("human", [{"type": "text", "text": "{question}"}])``
    builds."""

    message_class: type[BaseMessage]
    content: ContentTemplate

    @property
    def input_variables(self) -> list[str]:
        return list(self.content.variables)

    def format_messages(self, **variables: Any) -> list[BaseMessage]:
        return [self.message_class(self.content.render(variables))]


@attrs.frozen
class MessagesPlaceholder:
    """A slot filled with a list of messages from the variable ``variable_name``.

    The value must be a list (as in LangChain) of anything `convert_to_messages` accepts:
    a lone string or message is refused rather than guessed at. Unless ``optional``, a
    missing variable is an error; an optional one inserts no messages. ``n_messages`` keeps
    only the last that many.
    """

    variable_name: str
    optional: bool = False
    n_messages: int | None = attrs.field(default=None, kw_only=True)

    @property
    def input_variables(self) -> list[str]:
        return [self.variable_name]

    def format_messages(self, **variables: Any) -> list[BaseMessage]:
        if self.variable_name not in variables:
            if self.optional:
                return []
            raise PromptInputError(
                f"messages placeholder {self.variable_name!r} needs a value; "
                f"got {sorted(variables)}"
            )
        value: MessageLike | Sequence[MessageLike] | None = variables[self.variable_name]
        if value is None:
            if self.optional:
                return []
            raise RunnablesValueError(f"messages placeholder {self.variable_name!r} got None")
        if not isinstance(value, list):
            raise RunnablesValueError(
                f"messages placeholder {self.variable_name!r} needs a list of messages, got "
                f"{type(value).__name__}: {_short(value)}; wrap a single message in a list"
            )
        messages = convert_to_messages(value)
        if self.n_messages is not None:
            messages = messages[-self.n_messages :] if self.n_messages > 0 else []
        return messages


_TEMPLATE_ROLES: dict[str, type[BaseMessagePromptTemplate]] = {
    "human": HumanMessagePromptTemplate,
    "user": HumanMessagePromptTemplate,
    "ai": AIMessagePromptTemplate,
    "assistant": AIMessagePromptTemplate,
    "system": SystemMessagePromptTemplate,
}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."


def _is_role(value: object) -> bool:
    return isinstance(value, str) and (value in _TEMPLATE_ROLES or value == "placeholder")


def _placeholder(content: object, template_format: TemplateFormat) -> MessagesPlaceholder:
    """``("placeholder", "{history}")``, or ``("placeholder", ("{history}", optional))``."""
    optional: object = True
    if isinstance(content, (tuple, list)):
        pair = cast("Sequence[object]", content)
        if len(pair) != 2:
            raise RunnablesValueError(
                f"a placeholder is '{{name}}' or ('{{name}}', optional), got {_short(pair)}"
            )
        content, optional = pair
    if not isinstance(content, str) or not isinstance(optional, bool):
        raise RunnablesTypeError(
            f"a placeholder is '{{name}}' or ('{{name}}', optional), got {_short(content)}"
        )
    names = _parser(template_format)(content).variables
    shape = "{{%s}}" if template_format == "mustache" else "{%s}"
    if len(names) != 1 or content.strip() != shape % names[0]:
        raise RunnablesValueError(
            f"a ('placeholder', ...) entry must be a single variable like {shape % 'history'!r}, "
            f"got {content!r}"
        )
    return MessagesPlaceholder(names[0], optional=optional)


def _role_of(value: object) -> str:
    """The role of a chat prompt entry, for error messages."""
    if isinstance(value, tuple) and value:
        return repr(cast("tuple[object, ...]", value)[0])
    if isinstance(value, Mapping):
        return repr(cast("Mapping[str, object]", value).get("role"))
    if isinstance(value, (str, PromptTemplate)):
        return "'human'"
    if isinstance(value, MessagesPlaceholder):
        return "placeholder"
    if isinstance(value, BaseMessagePromptTemplate):
        return value.message_class.__name__
    return type(cast("object", value)).__name__


def _to_parts(
    values: Iterable[object], template_format: TemplateFormat = "f-string"
) -> tuple[ChatPart, ...]:
    """Each entry as a chat part; an error names the entry (index and role) it is about."""
    if isinstance(values, str) or (
        isinstance(values, tuple) and len(values) == 2 and _is_role(values[0])
    ):
        raise RunnablesTypeError(
            f"a chat prompt needs a list of messages, got the {type(values).__name__} "
            f"{_short(values)}; write [{_short(values)}]"
        )
    parts: list[ChatPart] = []
    for index, value in enumerate(values):
        try:
            parts.append(_to_part(value, template_format))
        except PromptTemplateError as exc:
            raise PromptTemplateError(
                f"chat prompt message {index} ({_role_of(value)}): {exc}", exc.position
            ) from exc
        except (RunnablesValueError, RunnablesTypeError) as exc:
            add_note(exc, f"in chat prompt message {index} ({_role_of(value)})")
            raise
    return tuple(parts)


def _role_template(role: str, content: object, template_format: TemplateFormat) -> ChatPart | None:
    """The template for a known role's string or list content (None for other content)."""
    if isinstance(content, str):
        return _TEMPLATE_ROLES[role](PromptTemplate(content, template_format=template_format))
    if isinstance(content, list):
        message_class = _TEMPLATE_ROLES[role].message_class
        parsed = parse_content(cast("list[object]", content), _parser(template_format))
        return ContentMessagePromptTemplate(message_class, parsed)
    return None


def _to_part(value: object, template_format: TemplateFormat) -> ChatPart:
    if isinstance(
        value,
        (
            BaseMessage,
            BaseMessagePromptTemplate,
            ContentMessagePromptTemplate,
            MessagesPlaceholder,
            ChatPromptTemplate,
            FewShotChatMessagePromptTemplate,
        ),
    ):
        return value
    if isinstance(value, PromptTemplate):
        return HumanMessagePromptTemplate(value)
    if isinstance(value, str):
        return HumanMessagePromptTemplate(PromptTemplate(value, template_format=template_format))
    if isinstance(value, tuple):
        pair = cast("tuple[object, ...]", value)
        if len(pair) != 2:
            raise RunnablesValueError(
                f"a message tuple must be (role, content), got {len(pair)} items"
            )
        role, content = pair
        if role == "placeholder":
            return _placeholder(content, template_format)
        if not isinstance(role, str) or role not in _TEMPLATE_ROLES:
            allowed = ", ".join(map(repr, [*_TEMPLATE_ROLES, "placeholder"]))
            raise RunnablesValueError(f"unknown message role {role!r}; allowed roles: {allowed}")
        template = _role_template(role, content, template_format)
        if template is not None:
            return template
        return convert_to_messages([cast("MessageLike", pair)])[0]
    if isinstance(value, Mapping):
        entry = cast("Mapping[object, object]", value)
        role = entry.get("role")
        if set(entry) == {"role", "content"} and isinstance(role, str) and role in _TEMPLATE_ROLES:
            template = _role_template(role, entry["content"], template_format)
            if template is not None:
                return template
        return convert_to_messages(cast("MessageLike", value))[0]
    raise RunnablesTypeError(
        f"cannot use {type(value).__name__} in a chat prompt; expected a message, a "
        "(role, template) tuple, a template string, a message template or a MessagesPlaceholder"
    )


def _part_variables(part: ChatPart) -> list[str]:
    if isinstance(part, BaseMessage):
        return []
    return part.input_variables


def _part_tuple(parts: Iterable[MessageTemplateLike]) -> tuple[ChatPart, ...]:
    return tuple(cast("Iterable[ChatPart]", parts))


@attrs.frozen
class ChatPromptTemplate(_Prompt[ChatPromptValue]):
    """A list of message templates, fixed messages and placeholders formatted into a
    `ChatPromptValue`.

    Build it with `from_messages` (``("system", "You are {role}")`` tuples with roles
    human/user, ai/assistant, system and placeholder, ``{"role": ..., "content": ...}``
    dicts, messages, strings, message templates, `MessagesPlaceholder`, other chat prompts
    such as a `FewShotChatMessagePromptTemplate`) or `from_template` (one human message);
    an entry LangChain would refuse is refused here, when built. Content given as a list of
    parts is a template in each of its strings (``[{"type": "text", "text": "{q}"}]``).
    ``template_format="mustache"`` reads every template, ``("placeholder", "{{history}}")``
    included, as mustache.

    A variable is either a placeholder's (a list of messages) or a template's (text), never
    both. ``partial_variables`` fill variables ahead of time; a value given at format time
    wins over a partial one, as in LangChain. A partial value for a placeholder must be
    messages (callables are checked when called).
    """

    value_type: ClassVar[type[PromptValue]] = ChatPromptValue

    messages: tuple[ChatPart, ...] = attrs.field(converter=_part_tuple)
    partial_variables: dict[str, Any] = attrs.field(
        factory=dict, converter=_frozen_dict, hash=False, kw_only=True
    )
    template_format: TemplateFormat = attrs.field(default="f-string", kw_only=True)

    def __attrs_post_init__(self) -> None:
        # Entries become parts here, once the format they are written in is known.
        object.__setattr__(self, "messages", _to_parts(self.messages, self.template_format))
        placeholders = {
            part.variable_name: index
            for index, part in enumerate(self.messages)
            if isinstance(part, MessagesPlaceholder)
        }
        for index, part in enumerate(self.messages):
            if isinstance(part, (BaseMessage, MessagesPlaceholder)):
                continue
            for name in part.input_variables:
                if name in placeholders:
                    raise RunnablesValueError(
                        f"chat prompt variable {name!r} is both the placeholder of message "
                        f"{placeholders[name]} (a list of messages) and a text variable of "
                        f"message {index}; give them different names"
                    )
        for name, value in self.partial_variables.items():
            if name in placeholders and not callable(value):
                try:
                    convert_to_messages(value)
                except (RunnablesValueError, RunnablesTypeError) as exc:
                    raise RunnablesTypeError(
                        f"partial variable {name!r} fills the placeholder of message "
                        f"{placeholders[name]}, so it must be messages: {exc}"
                    ) from exc

    @classmethod
    def from_messages(
        cls,
        messages: Iterable[MessageTemplateLike],
        *,
        template_format: TemplateFormat = "f-string",
        partial_variables: Mapping[str, Any] | None = None,
    ) -> ChatPromptTemplate:
        """A chat prompt from message-like entries (see the class docstring)."""
        return cls(
            _to_parts(messages, template_format),
            template_format=template_format,
            partial_variables=dict(partial_variables or {}),
        )

    @classmethod
    def from_template(
        cls,
        template: str,
        *,
        template_format: TemplateFormat = "f-string",
        partial_variables: Mapping[str, Any] | None = None,
    ) -> ChatPromptTemplate:
        """A chat prompt of one human message formatted from `template`."""
        return cls.from_messages(
            [("human", template)],
            template_format=template_format,
            partial_variables=partial_variables,
        )

    @property
    def _all_variables(self) -> list[str]:
        names: list[str] = []
        for part in self.messages:
            for name in _part_variables(part):
                if name not in names:
                    names.append(name)
        return names

    @property
    def _optional_variables(self) -> set[str]:
        return {
            part.variable_name
            for part in self.messages
            if isinstance(part, MessagesPlaceholder) and part.optional
        }

    @property
    def input_variables(self) -> list[str]:
        """The required variables still to be given, in order of first appearance."""
        optional = self._optional_variables
        return [
            name
            for name in self._all_variables
            if name not in self.partial_variables and name not in optional
        ]

    @property
    def input_schema(self) -> Schema[dict[str, Any]]:
        placeholders = {
            part.variable_name for part in self.messages if isinstance(part, MessagesPlaceholder)
        }
        optional = self._optional_variables
        fields: dict[str, Any] = {}
        required: list[str] = []
        for name in self._all_variables:
            if name in self.partial_variables:
                continue
            fields[name] = list[AnyMessage] if name in placeholders else str
            if name not in optional:
                required.append(name)
        return Schema.object("PromptInput", fields, required)

    def partial(self, **variables: Any) -> ChatPromptTemplate:
        """A copy with some variables filled in ahead of time."""
        return attrs.evolve(self, partial_variables={**self.partial_variables, **variables})

    def format_messages(self, **variables: Any) -> list[BaseMessage]:
        """The formatted messages; raises `PromptInputError` if a required variable is missing."""
        values = {**_resolve_partials(self.partial_variables), **variables}
        _check_variables(self.name, self._all_variables, values, self._optional_variables)
        result: list[BaseMessage] = []
        for part in self.messages:
            if isinstance(part, BaseMessage):
                result.append(part)
            else:
                result.extend(part.format_messages(**values))
        return result

    def format_prompt(self, **variables: Any) -> ChatPromptValue:
        """The formatted prompt value."""
        return ChatPromptValue(self.format_messages(**variables))

    def format(self, **variables: Any) -> str:
        """The formatted prompt as one ``Role: text`` string."""
        return self.format_prompt(**variables).to_string()

    def __add__(
        self, other: ChatPromptTemplate | MessageTemplateLike | Sequence[MessageTemplateLike]
    ) -> ChatPromptTemplate:
        """Concatenate with another chat prompt, one message-like entry, or a list of them."""
        if isinstance(other, ChatPromptTemplate):
            clash = [
                key
                for key in self.partial_variables.keys() & other.partial_variables.keys()
                if self.partial_variables[key] is not other.partial_variables[key]
                and self.partial_variables[key] != other.partial_variables[key]
            ]
            if clash:
                raise RunnablesValueError(
                    f"cannot add chat prompts: different partial values for {sorted(clash)}"
                )
            return ChatPromptTemplate(
                (*self.messages, *other.messages),
                partial_variables={**self.partial_variables, **other.partial_variables},
            )
        if isinstance(other, list):
            parts = _to_parts(cast("list[object]", other), self.template_format)
        else:
            parts = _to_parts([other], self.template_format)
        return ChatPromptTemplate(
            (*self.messages, *parts), partial_variables=self.partial_variables
        )


# Defined on top of the classes above, in a module of their own.
from runnables._few_shot import (  # noqa: E402
    FewShotChatMessagePromptTemplate,
    FewShotPromptTemplate,
)

FewShotPromptTemplate.__module__ = __name__
FewShotChatMessagePromptTemplate.__module__ = __name__

if TYPE_CHECKING:
    ChatPart: TypeAlias = (
        BaseMessage
        | BaseMessagePromptTemplate
        | ContentMessagePromptTemplate
        | MessagesPlaceholder
        | ChatPromptTemplate
        | FewShotChatMessagePromptTemplate
    )
    """One entry of a chat prompt: a fixed message, a message template, a placeholder, or a
    chat prompt (a few-shot one, say) whose messages go in its place."""

    MessageTemplateLike: TypeAlias = (
        ChatPart | tuple[str, str] | tuple[str, Any] | str | PromptTemplate | Mapping[str, Any]
    )
    """What `ChatPromptTemplate.from_messages` accepts for each entry."""
