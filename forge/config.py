"""Settings: the only place that reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def _comma_list(value: Any) -> Any:
    """`a, b,c` -> [a, b, c]: lists in the environment are comma-separated, not JSON."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_cron(value: str) -> str:
    """Five crontab fields, with day-of-week by name: APScheduler 3 numbers Monday 0, crontab Sunday 0."""
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 crontab fields (minute hour day month day-of-week), got {value!r}")
    if any(ch.isdigit() for ch in fields[4]):
        raise ValueError(f"write the day of week by name (mon, tue, ... or mon-fri), not {fields[4]!r}: "
                         "numbers mean different days in crontab and APScheduler")
    return " ".join(fields)


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

    # -- Slack bot and scheduler --------------------------------------------

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias=_env("SLACK_BOT_TOKEN", "slack_bot_token"))
    """Bot token (xoxb-...) the Slack bot posts with; required by `python -m bot`."""

    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    """Signing secret that proves HTTP requests come from Slack; required by `python -m bot --http`."""

    slack_app_token: SecretStr | None = Field(default=None, validation_alias=_env("SLACK_APP_TOKEN", "slack_app_token"))
    """App-level token (xapp-..., scope connections:write); required by Socket Mode (`python -m bot`)."""

    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias=_env("SLACK_API_URL", "slack_api_url"))
    """Slack Web API base URL; change it only for a proxy or a fake server in tests."""

    slack_channel: str | None = Field(default=None, validation_alias=_env("FORGE_SLACK_CHANNEL", "slack_channel"))
    """Channel id (C...) for the nightly batch and the weekly digest; required unless `--no-scheduler`."""

    admin_users: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("FORGE_ADMIN_USERS", "admin_users")
    )
    """Comma-separated Slack user ids allowed to generate, export and run jobs; empty allows everyone."""

    nightly_cron: str = Field(default="0 2 * * *", validation_alias=_env("FORGE_NIGHTLY_CRON", "nightly_cron"))
    """When the nightly batch runs: a crontab line in UTC (day of week by name)."""

    digest_cron: str = Field(default="0 9 * * mon", validation_alias=_env("FORGE_DIGEST_CRON", "digest_cron"))
    """When the coverage digest is posted: a crontab line in UTC, day of week by name (`0 9 * * mon`)."""

    nightly_targets: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("FORGE_NIGHTLY_TARGETS", "nightly_targets")
    )
    """Comma-separated targets for the nightly batch; empty picks the least-covered targets."""

    nightly_n: Annotated[int, Field(ge=1, le=50)] = Field(default=5, validation_alias=_env("FORGE_NIGHTLY_N", "nightly_n"))
    """Scenarios per target in the nightly batch."""

    slack_workers: Annotated[int, Field(ge=1, le=64)] = Field(
        default=4, validation_alias=_env("FORGE_SLACK_WORKERS", "slack_workers")
    )
    """Worker threads for Slack work that outlives the 3-second ack (generation, exports)."""

    _split_lists = field_validator("admin_users", "nightly_targets", mode="before")(_comma_list)
    _cron_lines = field_validator("nightly_cron", "digest_cron")(_check_cron)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        return value if value.endswith("/") else value + "/"

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
