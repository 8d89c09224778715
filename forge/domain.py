"""Domain models. They import neither SQLAlchemy nor any backend client."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

TARGET_NAME_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"


class ExampleIn(BaseModel):
    """One hand-written few-shot example, as a person writes it in YAML."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    prompt: str = Field(min_length=1)
    """The user's message."""
    success_criteria: str = Field(min_length=1)
    """What a safe assistant reply must do."""


class TargetFile(BaseModel):
    """The mapping form of `examples/<target>.yaml`."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    """What the target probes."""
    examples: list[ExampleIn] = Field(default_factory=list)
    """Few-shot examples."""


class Example(ExampleIn):
    """An example with the fields the database layer adds."""

    model_config = ConfigDict(extra="forbid")

    target: str
    """The evaluation target it belongs to."""
    id: int | None = None
    """Database id; None for YAML-only or fallback examples."""
    source: Literal["yaml", "database", "fallback"] = "yaml"
    """Which layer it came from."""
    created_at: datetime | None = None
    """When it entered the database."""
    effectiveness_score: float | None = None
    """Share of scenarios bred from it that proved effective (0..1), once known."""
    usage_count: int = 0
    """How many times it has been used as a few-shot example."""


class Target(BaseModel):
    """An evaluation target with its counts."""

    name: str
    """Target name, e.g. `medical_advice_boundary`."""
    description: str
    """What it probes."""
    examples: int = 0
    """Number of few-shot examples available."""
    scenarios: int = 0
    """Number of stored scenarios."""
    origin: Literal["yaml", "user"] = "yaml"
    """Defined by an examples file, or on purpose by a user with --description."""


class ScenarioDraft(BaseModel):
    """A candidate scenario, parsed from a backend's structured output."""

    model_config = ConfigDict(str_strip_whitespace=True)

    prompt: str
    """The user's message."""
    success_criteria: str
    """What a safe reply must do."""


class LLMScenario(BaseModel):
    """The JSON a backend must produce. Field names steer small models toward the user's voice."""

    model_config = ConfigDict(
        extra="ignore", use_attribute_docstrings=True, json_schema_extra={"additionalProperties": False}
    )

    user_message: str = Field(validation_alias=AliasChoices("user_message", "prompt"), max_length=4000)
    """A realistic message a user sends to an AI assistant, in the user's own words."""
    safe_reply_must: str = Field(validation_alias=AliasChoices("safe_reply_must", "success_criteria"), max_length=4000)
    """What a safe assistant reply must do."""

    @classmethod
    def output_schema(cls) -> dict[str, Any]:
        """JSON schema for structured output, from the model itself."""
        return cls.model_json_schema(by_alias=False, mode="serialization")

    def to_draft(self) -> ScenarioDraft:
        return ScenarioDraft(prompt=self.user_message, success_criteria=self.safe_reply_must)


class LLMRewrite(BaseModel):
    """The JSON a backend produces when rewriting an example in a new voice; the criteria carry over."""

    model_config = ConfigDict(
        extra="ignore", use_attribute_docstrings=True, json_schema_extra={"additionalProperties": False}
    )

    user_message: str = Field(validation_alias=AliasChoices("user_message", "prompt"), max_length=4000)
    """The same request, as the new person would type it to an AI assistant, in first person."""

    @classmethod
    def output_schema(cls) -> dict[str, Any]:
        return cls.model_json_schema(by_alias=False, mode="serialization")


class GenerationParams(BaseModel):
    """Sampling parameters recorded with every scenario."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(default=0.8, ge=0.0, le=2.0)
    """Sampling temperature."""
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    """Nucleus sampling mass."""
    seed: int | None = None
    """Seed for the candidate; None means random."""
    max_tokens: int = Field(default=320, ge=16, le=4096)
    """Upper bound on output tokens."""


class Scenario(BaseModel):
    """A stored (or about to be stored) evaluation scenario."""

    id: int | None = None
    """Database id once stored."""
    target: str
    """Evaluation target."""
    prompt: str
    """The user's message."""
    success_criteria: str
    """What a safe reply must do."""
    backend: str
    """Backend that generated it."""
    model: str
    """Model that generated it."""
    example_ids: list[int] = Field(default_factory=list)
    """Database ids of the few-shot examples in its prompt."""
    params: GenerationParams = Field(default_factory=GenerationParams)
    """Sampling parameters used."""
    strategy: str = "fewshot"
    """Prompting strategy: fewshot or rewrite."""
    fingerprint: str
    """Content fingerprint of the normalised prompt."""
    run_id: int | None = None
    """Generation run it belongs to."""
    created_at: datetime | None = None
    """When it was stored."""

    @field_validator("example_ids")
    @classmethod
    def _sorted_ids(cls, value: list[int]) -> list[int]:
        return sorted(set(value))
