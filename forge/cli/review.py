"""`scenario-forge rate` and `scenario-forge review` (and, through forge.cli.stats, `stats`)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

import click
from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from forge.cli._common import console, emit_json, get_forge
from forge.cli.keys import KeyReader
from forge.domain import Scenario
from forge.review import (RatingAggregate, RatingResult, clean_reviewer, count_unrated, next_unrated, rate_scenario,
                          undo_rating)
from forge.store.datastore import Datastore

KEYS_LINE = "[bold]1-5[/] rate  [bold]n[/] note  [bold]s[/] skip  [bold]u[/] undo  [bold]q[/] quit  [bold]?[/] help"
HELP = """\
  1-5  rate this scenario (1 useless ... 5 excellent) and move on
  n    write a note, then give the stars
  s    skip it for now (it comes back next session)
  u    undo your last rating in this session and show that scenario again
  q    quit; every rating is already saved
  ?    this help"""


def default_reviewer() -> str:
    """The OS user, so ratings carry a name without typing one; "anonymous" where there is none."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in env and no passwd entry (containers)
        name = ""
    return name.strip() or "anonymous"


def stars_text(stars: int) -> str:
    return "★" * stars + "☆" * (5 - stars)


def aggregate_line(agg: RatingAggregate) -> str:
    if agg.mean is None:
        return f"#{agg.scenario_id}: no ratings"
    spread = "  ".join(f"{star}★ {n}" for star, n in agg.distribution.items())
    plural = "" if agg.count == 1 else "s"
    return f"#{agg.scenario_id}: mean {agg.mean:.2f} over {agg.count} rating{plural}  ({spread})"


def _generate_hint(target: str | None) -> str:
    return f"scenario-forge generate {target or 'medical_advice_boundary'} -n 5 --store"


# -- rate -------------------------------------------------------------------------------------------


@click.command("rate", epilog="\b\nExamples:\n  scenario-forge rate 12 4\n"
               '  scenario-forge rate 12 2 --reviewer alice --note "criteria too vague" --json')
@click.argument("scenario_id", type=int)
@click.argument("stars", type=int)
@click.option("--reviewer", default=None, help="Who is rating [default: your OS user name].")
@click.option("--note", default=None, help="Why, in a sentence.")
@click.option("--json", "as_json", is_flag=True, help="Print the result and the new aggregate as JSON.")
@click.pass_context
def rate_cmd(ctx: click.Context, scenario_id: int, stars: int, reviewer: str | None, note: str | None,
             as_json: bool) -> None:
    """Rate scenario SCENARIO_ID with STARS (1 to 5); rating it again replaces your earlier rating."""
    result = rate_scenario(get_forge(ctx).datastore, scenario_id, reviewer or default_reviewer(), stars, note)
    if as_json:
        emit_json(result.model_dump(mode="json"))
        return
    verb = "Replaced your rating of" if result.replaced else "Rated"
    console.print(f"{verb} #{scenario_id}: [yellow]{stars_text(stars)}[/] ({stars}) as ", Text(result.reviewer),
                  sep="", highlight=False)
    console.print(aggregate_line(result.aggregate), highlight=False, markup=False)


# -- review -----------------------------------------------------------------------------------------


@dataclass
class ReviewSession:
    """One sitting of `scenario-forge review`: the queue, the keys, and what to undo."""

    store: Datastore
    reviewer: str
    target: str | None
    keys: KeyReader
    skipped: list[int] = field(default_factory=list)
    rated: list[int] = field(default_factory=list)
    redo: Scenario | None = None

    def run(self) -> None:
        if count_unrated(self.store, self.reviewer, self.target) == 0:
            self.print_empty()
            return
        console.print(f"Reviewing as [bold]{escape(self.reviewer)}[/]. {KEYS_LINE}", highlight=False)
        try:
            while (scenario := self.next_scenario()) is not None:
                if not self.handle(scenario):
                    break
            else:
                console.print("[green]You have reached the end of the queue.[/]")
        finally:
            self.print_summary()

    def next_scenario(self) -> Scenario | None:
        if self.redo is not None:
            scenario, self.redo = self.redo, None
            return scenario
        queue = next_unrated(self.store, self.reviewer, self.target, limit=1, exclude=self.skipped)
        return queue[0] if queue else None

    def handle(self, scenario: Scenario) -> bool:
        """Show one scenario and act on keys until it is rated, skipped or undone; False to quit."""
        assert scenario.id is not None
        self.show(scenario)
        while True:
            console.print(f"[dim]#{scenario.id}[/] {KEYS_LINE} ", end="", highlight=False)
            key = self.keys.read_key()
            console.print()
            if key is None or key in ("q", "Q"):
                return False
            if len(key) == 1 and key in "12345":
                self.rate(scenario.id, int(key), None)
                return True
            if key in ("n", "N"):
                if self.rate_with_note(scenario.id):
                    return True
            elif key in ("s", "S"):
                self.skipped.append(scenario.id)
                console.print(f"Skipped #{scenario.id}; it comes back next session.", highlight=False)
                return True
            elif key in ("u", "U"):
                if self.undo():
                    return True
            elif key in ("?", "h", "H"):
                console.print(HELP, highlight=False, markup=False)
            elif key.strip():
                console.print(f"Unknown key {key!r}: press ? for help.", highlight=False, markup=False)

    def show(self, scenario: Scenario) -> None:
        handled = len(self.rated) + len(self.skipped)
        remaining = count_unrated(self.store, self.reviewer, self.target, exclude=self.skipped)
        position = handled + 1
        total = max(handled + remaining, position)
        title = Text.assemble((f"{position} of {total}", "bold"), f"  ·  #{scenario.id}  ·  ", (scenario.target, "cyan"))
        body = Group(Text("Prompt", style="bold cyan"), Text(scenario.prompt), Text(""),
                     Text("Success criteria", style="bold green"), Text(scenario.success_criteria))
        console.print()
        console.print(Panel(body, title=title, title_align="left", border_style="dim"))

    def rate(self, scenario_id: int, stars: int, note: str | None) -> None:
        result: RatingResult = rate_scenario(self.store, scenario_id, self.reviewer, stars, note)
        self.rated.append(scenario_id)
        noted = " with a note" if result.note else ""
        console.print(f"Rated #{scenario_id} [yellow]{stars_text(stars)}[/] ({stars}){noted}.  "
                      f"[dim]{aggregate_line(result.aggregate)}[/]", highlight=False)

    def rate_with_note(self, scenario_id: int) -> bool:
        console.print("Note (Enter to finish): ", end="", highlight=False)
        note = self.keys.read_line()
        if note is None:
            return False
        console.print("Stars for this note, 1-5 (any other key cancels): ", end="", highlight=False)
        key = self.keys.read_key()
        console.print()
        if key is None or not (len(key) == 1 and key in "12345"):
            console.print("Note discarded; nothing was rated.")
            return False
        self.rate(scenario_id, int(key), note)
        return True

    def undo(self) -> bool:
        if not self.rated:
            console.print("Nothing to undo in this session yet.")
            return False
        scenario_id = self.rated.pop()
        undo_rating(self.store, scenario_id, self.reviewer)
        console.print(f"Undid your rating of #{scenario_id}; here it is again.", highlight=False)
        self.redo = self.store.get_scenario(scenario_id)
        return True

    def print_empty(self) -> None:
        scope = f" in {self.target}" if self.target else ""
        total = self.store.count_scenarios(self.target)
        if total == 0:
            console.print(f"No scenarios stored{scope} yet. Generate some with `{_generate_hint(self.target)}`, "
                          "then run `scenario-forge review` again.", highlight=False, markup=False)
            return
        console.print(f"Nothing left to review for {self.reviewer}{scope}: all {total} scenarios are rated. "
                      f"Generate more with `{_generate_hint(self.target)}`, or see `scenario-forge stats`.",
                      highlight=False, markup=False)

    def print_summary(self) -> None:
        left = count_unrated(self.store, self.reviewer, self.target)
        then = " Run `scenario-forge review` to pick up where you left off." if left else ""
        console.print(f"Rated {len(self.rated)}, skipped {len(self.skipped)} this session. "
                      f"{left} left to review for {self.reviewer}.{then}", highlight=False, markup=False)


@click.command("review", epilog="\b\nExample:\n  scenario-forge review --target sycophancy --reviewer alice")
@click.option("--target", default=None, help="Only scenarios for this target.")
@click.option("--reviewer", default=None, help="Who is rating [default: your OS user name].")
@click.pass_context
def review_cmd(ctx: click.Context, target: str | None, reviewer: str | None) -> None:
    """Rate the scenarios you have not rated yet, one at a time, oldest first.

    Keys: 1-5 rate, n note, s skip, u undo, q quit, ? help. Ratings are saved as you go.
    """
    forge = get_forge(ctx)
    if target and forge.datastore.count_scenarios(target) == 0:
        forge.catalog.resolve(target, save=False)  # an unknown name gets "did you mean"
    name = clean_reviewer(reviewer or default_reviewer())
    with KeyReader() as keys:
        ReviewSession(forge.datastore, name, target, keys).run()


def register(cli: click.Group) -> None:
    """Add this module's commands to the CLI."""
    from forge.cli import stats

    cli.add_command(rate_cmd)
    cli.add_command(review_cmd)
    stats.register(cli)
