"""`scenario-forge targets` and `scenario-forge examples import`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from forge.cli._common import console, emit_json, err_console, get_forge


@click.command("targets", epilog="\b\nExample:\n  scenario-forge targets --json")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of targets.")
@click.pass_context
def targets_cmd(ctx: click.Context, as_json: bool) -> None:
    """List evaluation targets with their example and stored scenario counts."""
    targets = get_forge(ctx).catalog.list_targets()
    if as_json:
        emit_json([t.model_dump() for t in targets])
        return
    if not targets:
        err_console.print("No targets found. Add examples/<target>.yaml, or define one with "
                          '`scenario-forge generate NAME --description "..."`.')
        return
    table = Table(title=f"{len(targets)} evaluation targets", title_justify="left")
    table.add_column("target", style="bold")
    table.add_column("examples", justify="right")
    table.add_column("scenarios", justify="right")
    table.add_column("description", overflow="fold")
    for t in targets:
        table.add_row(t.name, str(t.examples), str(t.scenarios), Text(t.description))
    console.print(table)


@click.group("examples")
def examples_group() -> None:
    """Manage few-shot examples."""


@examples_group.command("import", epilog="\b\nExample:\n  scenario-forge examples import examples/")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
@click.pass_context
def import_cmd(ctx: click.Context, directory: Path | None, as_json: bool) -> None:
    """Import examples/<target>.yaml files into the database; running it twice adds nothing."""
    forge = get_forge(ctx)
    source = directory or forge.settings.resolved_examples_dir()
    if not source.is_dir():
        raise click.BadParameter(f"{source} is not a folder.", param_hint="DIRECTORY")
    report = forge.datastore.import_examples_from_yaml(source)
    if as_json:
        emit_json({"directory": str(source), "added": report.added, "unchanged": report.unchanged})
        return
    if not report.added and not report.unchanged:
        err_console.print(f"No <target>.yaml files in {source}.")
        return
    err_console.print(f"Imported {report.total_added} new examples ({report.total_unchanged} already stored) "
                      f"for {len(report.added)} targets from {source}.", highlight=False)


def register(cli: click.Group) -> None:
    cli.add_command(targets_cmd)
    cli.add_command(examples_group)
