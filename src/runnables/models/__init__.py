"""Language models as runnables: the bases to write one, fakes, and an OpenAI-compatible client.

`OpenAIChatModel` needs httpx (`pip install runnables[openai]`), imported only when it is used.
"""

from runnables.models.base import BaseChatModel, BaseLLM, LanguageModelInput, PromptValueLike
from runnables.models.fake import FakeListChatModel, FakeListLLM
from runnables.models.openai import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OpenAIChatModel,
    OpenAIError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BaseChatModel",
    "BaseLLM",
    "FakeListChatModel",
    "FakeListLLM",
    "LanguageModelInput",
    "NotFoundError",
    "OpenAIChatModel",
    "OpenAIError",
    "PromptValueLike",
    "RateLimitError",
    "ServerError",
]
