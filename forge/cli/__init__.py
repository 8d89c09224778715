"""The `scenario-forge` command: parse, call a service, print."""

from __future__ import annotations

import sys

import click

from forge import __version__
from forge.cli._common import err_console, print_error
from forge.errors import ForgeError

EPILOG = """\b
Examples:
  scenario-forge targets
  scenario-forge generate medical_advice_boundary -n 3 --store
  scenario-forge scenarios list --target medical_advice_boundary
  scenario-forge review
  scenario-forge stats
  scenario-forge export --min-rating 4 --format jsonl --out rated.jsonl
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="scenario-forge")
def cli() -> None:
    """Generate, review and export AI-safety evaluation scenarios with local LLMs."""


def _register() -> None:
    from forge.cli import catalog, db, export, generate, review, scenarios

    for module in (catalog, db, generate, scenarios, review, export):
        module.register(cli)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one red line and exit 2, never a traceback."""
    try:
        cli.main(args=argv, prog_name="scenario-forge", standalone_mode=False)
    except ForgeError as exc:
        print_error(exc)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print("[yellow]Aborted.[/]")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console.print("[yellow]Interrupted.[/]")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(0)
