"""Settings: the only place that reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Every setting scenario-forge reads, with its environment variable."""

    model_config = SettingsConfigDict(
        extra="forbid", populate_by_name=True, env_ignore_empty=True, use_attribute_docstrings=True
    )

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("scenario-forge")),
        validation_alias=_env("FORGE_DATA_DIR", "data_dir"),
    )
    """Where the default SQLite database and fine-tuned adapters live."""

    database_url: str | None = Field(default=None, validation_alias=_env("FORGE_DATABASE_URL", "database_url"))
    """Any SQLAlchemy URL; defaults to SQLite at `<data_dir>/forge.db`."""

    examples_dir: Path | None = Field(default=None, validation_alias=_env("FORGE_EXAMPLES_DIR", "examples_dir"))
    """Folder of `<target>.yaml` few-shot files; defaults to ./examples, then the bundled set."""

    backend: str = Field(default="llamacpp", validation_alias=_env("FORGE_BACKEND", "backend"))
    """Generation backend: llamacpp (embedded), ollama or openai."""

    model: str | None = Field(default=None, validation_alias=_env("FORGE_MODEL", "model"))
    """Model name for the backend (a GGUF path for llamacpp); each backend has a default."""

    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        default=0.8, validation_alias=_env("FORGE_TEMPERATURE", "temperature")
    )
    """Sampling temperature; 0.7 to 0.9 suits small models."""

    timeout_s: Annotated[float, Field(gt=0)] = Field(default=120.0, validation_alias=_env("FORGE_TIMEOUT", "timeout_s"))
    """Seconds to wait for one server reply."""

    max_attempts_per_scenario: Annotated[int, Field(ge=1, le=20)] = Field(
        default=6, validation_alias=_env("FORGE_MAX_ATTEMPTS", "max_attempts_per_scenario")
    )
    """Candidate generations allowed per requested scenario before giving up."""

    llamacpp_threads: int | None = Field(default=None, validation_alias=_env("FORGE_LLAMACPP_THREADS", "llamacpp_threads"))
    """CPU threads for the embedded model; defaults to all cores."""

    ollama_host: str = Field(default="http://127.0.0.1:11434", validation_alias=_env("OLLAMA_HOST", "ollama_host"))
    """Ollama server URL (Ollama's own variable)."""

    openai_base_url: str = Field(
        default="http://127.0.0.1:8000/v1",
        validation_alias=_env("FORGE_OPENAI_BASE_URL", "OPENAI_BASE_URL", "openai_base_url"),
    )
    """Base URL of an OpenAI-compatible /v1 server (vLLM, llama.cpp server, LM Studio)."""

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("FORGE_OPENAI_API_KEY", "OPENAI_API_KEY", "openai_api_key")
    )
    """API key for the OpenAI-compatible server, if it wants one."""

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'forge.db'}"

    def resolved_examples_dir(self) -> Path:
        if self.examples_dir is not None:
            return self.examples_dir
        local = Path.cwd() / "examples"
        if local.is_dir() and any(local.glob("*.yaml")):
            return local
        return REPO_EXAMPLES
