"""The Generator protocol every backend implements."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from forge.domain import GenerationParams


class ChatMessage(BaseModel):
    """One chat turn sent to a backend."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    """Who speaks."""
    content: str
    """What is said."""


@runtime_checkable
class Generator(Protocol):
    """A text generator that can be asked for JSON matching a schema.

    Backends declare their capabilities as class attributes, so the generation
    service can adapt its prompting without knowing which backend it holds.
    """

    name: ClassVar[str]
    """Registry name, e.g. `ollama`."""
    supports_schema: ClassVar[bool]
    """Whether output is constrained to the JSON schema by the server or runtime."""
    is_small_model: ClassVar[bool]
    """Whether the default model is too weak for free generation (rewrite prompts work better)."""

    @property
    def model(self) -> str:
        """The model name this instance generates with."""
        ...

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        schema: dict[str, Any] | None,
        params: GenerationParams,
    ) -> str:
        """Return the raw text of one completion (JSON when a schema is given).

        Raises BackendUnavailableError, ModelNotFoundError or BackendResponseError.
        """
        ...
