"""`scenario-forge scenarios list|show`."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from forge.cli._common import console, emit_json, err_console, get_forge
from forge.cli.generate import print_scenario, scenario_json


@click.group("scenarios")
def scenarios_group() -> None:
    """Browse stored scenarios."""


@scenarios_group.command("list", epilog="\b\nExample:\n  scenario-forge scenarios list --target sycophancy --json")
@click.option("--target", default=None, help="Only this target.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per scenario per line.")
@click.pass_context
def list_cmd(ctx: click.Context, target: str | None, limit: int, offset: int, as_json: bool) -> None:
    """List stored scenarios, newest first."""
    store = get_forge(ctx).datastore
    rows = store.list_scenarios(target=target, limit=limit, offset=offset)
    if as_json:
        for s in rows:
            emit_json(scenario_json(s))
        return
    if not rows:
        scope = f" for {target}" if target else ""
        err_console.print(f"No scenarios stored{scope} yet. Create some with "
                          f"`scenario-forge generate {target or 'medical_advice_boundary'} -n 3 --store`.")
        return
    total = store.count_scenarios(target)
    table = Table(title=f"{len(rows)} of {total} scenarios (`scenario-forge scenarios show ID` for one in full)",
                  title_justify="left")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("target", no_wrap=True)
    table.add_column("prompt", overflow="fold", ratio=1)
    table.add_column("created", no_wrap=True)
    for s in rows:
        prompt = s.prompt if len(s.prompt) <= 140 else s.prompt[:139] + "…"
        created = s.created_at.strftime("%Y-%m-%d") if s.created_at else ""
        table.add_row(str(s.id), s.target, Text(prompt), created)  # Text: LLM output is never markup
    console.print(table)


@scenarios_group.command("show", epilog="\b\nExample:\n  scenario-forge scenarios show 12")
@click.argument("scenario_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show_cmd(ctx: click.Context, scenario_id: int, as_json: bool) -> None:
    """Show one stored scenario in full."""
    s = get_forge(ctx).datastore.get_scenario(scenario_id)
    if as_json:
        emit_json(scenario_json(s))
        return
    print_scenario(s)
    console.print(f"[dim]backend {s.backend} · model {s.model} · temperature {s.params.temperature} · seed "
                  f"{s.params.seed} · strategy {s.strategy} · examples {s.example_ids or '-'} · run {s.run_id} · "
                  f"created {s.created_at}[/]", highlight=False)


def register(cli: click.Group) -> None:
    cli.add_command(scenarios_group)
