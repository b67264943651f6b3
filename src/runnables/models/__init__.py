"""Language models as runnables: the bases to write one, fakes, and an OpenAI-compatible client.

`OpenAIChatModel` needs httpx (`pip install runnables[openai]`), imported only when it is used.
"""

from runnables.models.base import (
    BaseChatModel,
    BaseLLM,
    LanguageModelInput,
    PromptValueLike,
    StructuredMethod,
    StructuredOutput,
)
from runnables.models.fake import FakeListChatModel, FakeListLLM, GenericFakeChatModel
from runnables.models.openai import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OpenAIChatModel,
    OpenAIError,
    RateLimitError,
    SecretStr,
    ServerError,
)

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BaseChatModel",
    "BaseLLM",
    "FakeListChatModel",
    "FakeListLLM",
    "GenericFakeChatModel",
    "LanguageModelInput",
    "NotFoundError",
    "OpenAIChatModel",
    "OpenAIError",
    "PromptValueLike",
    "RateLimitError",
    "SecretStr",
    "ServerError",
    "StructuredMethod",
    "StructuredOutput",
]
