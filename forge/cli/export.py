"""`scenario-forge export`."""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from forge.cli._common import err_console, get_forge
from forge.export import EXPORT_FORMATS, ExportFilter, check_format, count_matching, export_scenarios, parse_date

EPILOG = """\b
Examples:
  scenario-forge export --min-rating 4 --format jsonl --out rated.jsonl
  scenario-forge export --min-rating 4 --min-ratings 2 --format hf --out exports/rated
  scenario-forge export --format inspect --target sycophancy --since 2025-01-01 --out sycophancy.jsonl
  scenario-forge export --min-rating 4 --format promptfoo --out tests.yaml   # tests: file://tests.yaml
"""


@click.command("export", epilog=EPILOG)
@click.option("--format", "fmt", default="jsonl", show_default=True, metavar="|".join(EXPORT_FORMATS),
              help="Output format: hf writes a datasets folder; inspect and promptfoo write eval inputs "
                   "(a JSON array when --out ends in .json).")
@click.option("--min-rating", type=float, default=None, help="Keep scenarios whose mean rating is at least this (1-5).")
@click.option("--min-ratings", type=int, default=None,
              help="...over at least this many ratings [default: 1 with --min-rating, else 0].")
@click.option("--target", "targets", multiple=True, help="Only this target (repeatable).")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="Created on or after this day (UTC).")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Created on or before this day (UTC).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=True), default=None,
              help="File (folder for hf) to write; text formats go to stdout without it.")
@click.option("--include-reviewers", is_flag=True, help="Add each rating's reviewer, stars, note and source.")
@click.pass_context
def export_cmd(ctx: click.Context, fmt: str, min_rating: float | None, min_ratings: int | None,
               targets: tuple[str, ...], since: str | None, until: str | None, out: Path | None,
               include_reviewers: bool) -> None:
    """Export stored scenarios, filtered by rating, target and date, for eval tools and datasets."""
    fmt = check_format(fmt)  # validate every argument before opening the database
    filters = ExportFilter.build(min_rating=min_rating, min_ratings=min_ratings, targets=list(targets),
                                 since=parse_date(since) if since else None,
                                 until=parse_date(until) if until else None)
    store = get_forge(ctx).datastore
    # Records on a terminal stdout are their own progress; a bar there would tangle with them.
    show_bar = err_console.is_terminal and not (out is None and sys.stdout.isatty())
    progress = Progress(TextColumn("[bold]Exporting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err_console, transient=True, disable=not show_bar)
    try:
        with progress:
            task = progress.add_task("export", total=count_matching(store, filters) if show_bar else None)
            result = export_scenarios(store, fmt, out, filters, include_reviewers=include_reviewers,
                                      on_progress=lambda done: progress.update(task, completed=done))
    except BrokenPipeError:
        # `export | head`: the reader has gone; stop quietly, as Unix tools do, without a traceback.
        with suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    style = "yellow" if result.count == 0 else "green"
    err_console.print(f"[{style}]{escape(result.summary())}[/]", highlight=False, markup=True)


def register(cli: click.Group) -> None:
    """Add this module's commands to the CLI."""
    cli.add_command(export_cmd)
