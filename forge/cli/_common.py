"""Shared CLI plumbing: consoles, the lazily built Forge, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console

from forge.bootstrap import Forge, bootstrap
from forge.config import Settings
from forge.errors import ConfigError, ForgeError

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)


def print_error(exc: ForgeError) -> None:
    err_console.print(f"[bold red]Error:[/] {exc.message}", highlight=False, markup=True, soft_wrap=True)
    if exc.hint:
        err_console.print(f"[dim]{exc.hint}[/]", highlight=False, soft_wrap=True)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; a bad value is a ConfigError naming the variable."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "setting"
        raise ConfigError(f"Invalid setting {name}: {first['msg']}.",
                          "Fix the environment variable (see the settings table in README.md).") from exc


def get_forge(ctx: click.Context) -> Forge:
    """The Forge for this invocation, built once."""
    root = ctx.find_root()
    if not isinstance(root.obj, Forge):
        root.obj = bootstrap(load_settings())
    return root.obj


def emit_json(obj: Any) -> None:
    """One JSON document per line on stdout, for scripts."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def wants_progress(as_json: bool) -> bool:
    return err_console.is_terminal and not as_json
