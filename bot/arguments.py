"""`/forge` text -> a validated command: the subcommand, positionals and `key=value` pairs.

One pydantic model per subcommand, with `extra="forbid"`, so a misspelt key is named back to the user
together with the right usage instead of being silently ignored.
"""

from __future__ import annotations

import shlex
from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from forge.errors import ForgeError, InvalidInputError
from forge.export import DIRECTORY_FORMATS, EXPORT_FORMATS, parse_date

MAX_SLACK_N = 20  # one message per scenario: keep a channel readable
FILE_FORMATS = tuple(f for f in EXPORT_FORMATS if f not in DIRECTORY_FORMATS)  # an upload is one file
JOB_NAMES = ("nightly", "digest")


class CommandArgs(BaseModel):
    """Base for subcommand arguments: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, str_strip_whitespace=True)

    positionals: ClassVar[tuple[str, ...]] = ()
    usage: ClassVar[str] = ""


class GenerateArgs(CommandArgs):
    positionals = ("target",)
    usage = "/forge generate TARGET [n=5] [backend=ollama] [model=NAME]"

    target: str = Field(min_length=1, max_length=64)
    """The evaluation target to generate for."""
    n: int = Field(default=5, ge=1, le=MAX_SLACK_N)
    """How many scenarios to post."""
    backend: str | None = None
    """Generation backend; defaults to FORGE_BACKEND."""
    model: str | None = None
    """Model name; defaults to FORGE_MODEL or the backend's default."""


class ExportArgs(CommandArgs):
    usage = "/forge export min=4 [format=jsonl] [target=T] [since=YYYY-MM-DD] [until=YYYY-MM-DD]"

    min: float = Field(ge=1, le=5)
    """Minimum mean rating (1 to 5)."""
    format: str = "jsonl"
    """File format; hf writes a folder, so it is CLI-only."""
    target: str | None = None
    """Only this target."""
    since: date | None = None
    """Created on or after this day (UTC)."""
    until: date | None = None
    """Created on or before this day (UTC)."""

    @field_validator("format")
    @classmethod
    def _file_format(cls, value: str) -> str:
        if value.lower() not in FILE_FORMATS:
            raise ValueError(f"use one of {', '.join(FILE_FORMATS)}, not {value!r}")
        return value.lower()

    @field_validator("since", "until", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return parse_date(value)
        except ForgeError as exc:  # reported like any bad value: naming the key, with the usage
            raise ValueError(exc.message.rstrip(".")) from None


class ReviewArgs(CommandArgs):
    positionals = ("target",)
    usage = "/forge review [TARGET]"

    target: str | None = None
    """Only this target's scenarios."""


class StatsArgs(CommandArgs):
    positionals = ("target",)
    usage = "/forge stats [TARGET]"

    target: str | None = None
    """Only this target."""


class TargetsArgs(CommandArgs):
    usage = "/forge targets"


class HelpArgs(CommandArgs):
    usage = "/forge help"


class JobsArgs(CommandArgs):
    positionals = ("action", "job")
    usage = "/forge jobs [run nightly|digest]"

    action: Literal["list", "run"] = "list"
    """List the jobs, or run one now."""
    job: Literal["nightly", "digest"] | None = None
    """Which job to run."""


COMMANDS: dict[str, type[CommandArgs]] = {
    "generate": GenerateArgs, "export": ExportArgs, "review": ReviewArgs, "stats": StatsArgs,
    "targets": TargetsArgs, "jobs": JobsArgs, "help": HelpArgs,
}
USAGES = {name: model.usage for name, model in COMMANDS.items()}
ADMIN_ONLY = {"generate": "generate scenarios", "export": "export scenarios"}


class ParsedCommand(BaseModel):
    """A subcommand and its validated arguments."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    args: CommandArgs


def _tokens(text: str) -> list[str]:
    # Slack turns straight quotes into curly ones on some clients.
    text = text.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise InvalidInputError(f"Cannot read the arguments: {exc}.", "Close every quote you open.") from None


def _explain(exc: ValidationError, model: type[CommandArgs]) -> InvalidInputError:
    first = exc.errors()[0]
    name = ".".join(str(p) for p in first["loc"]) or "arguments"
    if first["type"] == "extra_forbidden":
        message = f"Unknown argument `{name}`."
    elif first["type"] == "missing":
        message = f"Missing argument `{name}`."
    else:
        message = f"Bad value for `{name}`: {str(first['msg']).removeprefix('Value error, ')}."
    return InvalidInputError(message, f"Usage: {model.usage}")


def parse_command(text: str) -> ParsedCommand:
    """Parse `/forge` text; empty text is `help`. Raises InvalidInputError naming the problem and the usage."""
    tokens = _tokens(text or "")
    name = tokens[0].lower() if tokens else "help"
    model = COMMANDS.get(name)
    if model is None:
        raise InvalidInputError(f"Unknown subcommand `{name}`.",
                                "Usage: " + "  |  ".join(u.removeprefix("/forge ") for u in USAGES.values()))
    values: dict[str, str] = {}
    positional = list(model.positionals)
    for token in tokens[1:]:
        key, sep, value = token.partition("=")
        key = key.strip().lower()
        if sep and not key:
            raise InvalidInputError(f"Unexpected argument `{token}`.", f"Usage: {model.usage}")
        if not sep:
            if not positional:
                raise InvalidInputError(f"Unexpected argument `{token}`.", f"Usage: {model.usage}")
            key, value = positional.pop(0), token
        if key in values:  # `n=3 n=4` or `generate a target=b`: say so rather than keep one silently
            raise InvalidInputError(f"Argument `{key}` is given twice.", f"Usage: {model.usage}")
        values[key] = value
    try:
        args = model(**values)
    except ValidationError as exc:
        raise _explain(exc, model) from None
    if isinstance(args, JobsArgs) and args.action == "run" and args.job is None:
        raise InvalidInputError("Which job should run?", f"Usage: {model.usage}")
    return ParsedCommand(name=name, args=args)


def admin_action(text: str) -> str | None:
    """What a `/forge` text would do that only admins may, or None (read without validating: cheap)."""
    try:  # tokenised as parse_command does, so `"generate" x` cannot slip past the allowlist
        tokens = _tokens(text or "")
    except InvalidInputError:
        tokens = (text or "").split()
    name = tokens[0].lower() if tokens else ""
    if name in ADMIN_ONLY:
        return ADMIN_ONLY[name]
    if name == "jobs" and any("run" in token.lower() for token in tokens[1:]):  # `run` or `action=run`
        return "run jobs"
    return None
