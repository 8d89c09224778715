"""`scenario-forge stats`: ratings per target, the share rated 4+, reviewers, and their agreement."""

from __future__ import annotations

import click
from rich import box
from rich.table import Table
from rich.text import Text

from forge.cli._common import console, emit_json, err_console, get_forge
from forge.review import Agreement, Stats, TargetStats, compute_stats


def alpha_text(agreement: Agreement) -> str:
    """The alpha cell; "n/a" always says why, so an empty cell is never mistaken for zero."""
    if agreement.alpha is None:
        return f"n/a ({agreement.reason})"
    plural = "" if agreement.overlapping_items == 1 else "s"
    return f"{agreement.alpha:.3f} ({agreement.overlapping_items} item{plural})"


def share_text(row: TargetStats) -> str:
    if row.share_rated_4_plus is None:
        return "-"
    return f"{row.share_rated_4_plus:.0%} ({row.rated_4_plus}/{row.rated_enough})"


def _cells(row: TargetStats) -> list[Text | str]:
    mean = "-" if row.mean is None else f"{row.mean:.2f}"
    name = Text(row.target) if row.target else Text("all", style="bold")
    spread = " ".join(f"{n:>2}" for n in row.distribution.values())
    return [name, f"{row.rated}/{row.scenarios}", mean, spread, share_text(row),
            alpha_text(row.agreement)]


def stats_table(stats: Stats) -> Table:
    need = f" over ≥{stats.min_ratings} ratings" if stats.min_ratings > 1 else ""
    table = Table(title="Ratings by target", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  caption=f"4+: mean ≥ 4{need}.  α: Krippendorff's alpha (ordinal) over scenarios rated by "
                          "two or more reviewers.", caption_justify="left")
    table.add_column("target", no_wrap=True)
    table.add_column("rated", justify="right", no_wrap=True)
    table.add_column("mean", justify="right", no_wrap=True, min_width=4)
    table.add_column(" 1★ 2★ 3★ 4★ 5★", no_wrap=True)
    table.add_column("4+", justify="right", min_width=4)
    table.add_column("α (items)", min_width=13, overflow="fold")
    for row in stats.targets:
        table.add_row(*_cells(row))
    if not stats.target:
        table.add_section()
        table.add_row(*_cells(stats.overall))
    return table


def reviewers_table(stats: Stats) -> Table:
    table = Table(title="Reviewers", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("reviewer")
    table.add_column("ratings", justify="right")
    table.add_column("by target", overflow="fold")
    for reviewer, total in stats.overall.reviewers.items():
        by_target = ", ".join(f"{t.target} {t.reviewers[reviewer]}" for t in stats.targets if reviewer in t.reviewers)
        table.add_row(Text(reviewer), str(total), Text(by_target))
    return table


@click.command("stats", epilog="\b\nExamples:\n  scenario-forge stats\n  scenario-forge stats --target sycophancy --json")
@click.option("--target", default=None, help="Only this target.")
@click.option("--min-ratings", type=click.IntRange(1), default=1, show_default=True,
              help="Ratings a scenario needs before it can count as rated 4+.")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as one JSON document.")
@click.pass_context
def stats_cmd(ctx: click.Context, target: str | None, min_ratings: int, as_json: bool) -> None:
    """Scenario and rating counts, the share rated 4+, reviewers and inter-rater agreement."""
    forge = get_forge(ctx)
    if target and forge.datastore.count_scenarios(target) == 0:
        forge.catalog.resolve(target, save=False)  # an unknown name gets "did you mean"
    stats = compute_stats(forge.datastore, target, min_ratings)
    if as_json:
        emit_json(stats.model_dump(mode="json"))
        return
    if stats.overall.scenarios == 0:
        scope = f" for {target}" if target else ""
        err_console.print(f"No scenarios stored{scope} yet. Generate some with "
                          f"`scenario-forge generate {target or 'medical_advice_boundary'} -n 5 --store`, "
                          "then rate them with `scenario-forge review`.", highlight=False, markup=False)
        return
    console.print(stats_table(stats))
    if stats.overall.reviewers:
        console.print(reviewers_table(stats))
    else:
        console.print("No ratings yet: start with `scenario-forge review`.", highlight=False, markup=False)


def register(cli: click.Group) -> None:
    """Add this module's commands to the CLI."""
    cli.add_command(stats_cmd)
