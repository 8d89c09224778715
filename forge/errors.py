"""Errors a user can act on. Each message names the problem and the fix."""

from __future__ import annotations


class ForgeError(Exception):
    """Base for every error shown to a user; `hint` says what to do next."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ConfigError(ForgeError):
    """A setting is missing or invalid."""


class UnknownTargetError(ForgeError):
    """The evaluation target is not defined anywhere."""

    def __init__(self, target: str, suggestion: str | None) -> None:
        did_you_mean = f" Did you mean `{suggestion}`?" if suggestion else ""
        super().__init__(
            f"Unknown target `{target}`.{did_you_mean}",
            "Run `scenario-forge targets` to list targets, or define a new one on purpose "
            f'with `--description "what {target} probes"`.',
        )
        self.target = target
        self.suggestion = suggestion


class ExamplesFileError(ForgeError):
    """An examples YAML file is malformed or has an invalid entry."""


class BackendError(ForgeError):
    """A generation backend failed."""


class BackendUnavailableError(BackendError):
    """The backend's server cannot be reached or its runtime is missing."""


class ModelNotFoundError(BackendError):
    """The backend is up but lacks the requested model."""


class BackendResponseError(BackendError):
    """The backend answered with an error or with output we cannot use."""


class NotFoundError(ForgeError):
    """A stored record does not exist."""


class InvalidInputError(ForgeError):
    """A user-supplied value is out of range or malformed."""
