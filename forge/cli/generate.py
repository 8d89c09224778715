"""`scenario-forge generate`."""

from __future__ import annotations

import sys

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from forge.backends.registry import backend_names
from forge.cli._common import console, emit_json, err_console, get_forge, wants_progress
from forge.domain import Scenario
from forge.generation import MAX_N, GenerationEvent, GenerationReport, generate_scenarios


def scenario_json(s: Scenario) -> dict[str, object]:
    data: dict[str, object] = {"target": s.target, "prompt": s.prompt, "success_criteria": s.success_criteria,
                               "backend": s.backend, "model": s.model, "example_ids": s.example_ids,
                               "temperature": s.params.temperature, "seed": s.params.seed,
                               "strategy": s.strategy, "fingerprint": s.fingerprint}
    if s.id is not None:
        data = {"id": s.id, **data, "created_at": s.created_at, "run_id": s.run_id}
    return data


def print_scenario(s: Scenario) -> None:
    label = f"#{s.id} " if s.id is not None else ""
    console.rule(f"[bold]{label}{s.target}[/]", align="left", style="dim")
    console.print("[bold cyan]Prompt[/]", highlight=False)
    console.print(s.prompt, highlight=False, markup=False)
    console.print("[bold green]Success criteria[/]", highlight=False)
    console.print(s.success_criteria, highlight=False, markup=False)


def print_summary(report: GenerationReport) -> None:
    where = "stored" if report.stored else "generated (not stored; add --store to keep them)"
    err_console.print(f"[bold]{report.generated} of {report.requested} scenarios {where}[/] for "
                      f"{report.target} with {report.backend}/{report.model}; {report.rejected} candidates rejected.",
                      highlight=False)
    for reason, count in report.rejections.most_common():
        err_console.print(f"  rejected {count:>3} × {reason}", highlight=False)
    if report.generated < report.requested and not report.interrupted:
        advice = ("a 7B+ model on --backend ollama or openai writes far better scenarios"
                  if report.backend == "llamacpp" else "the reasons above say what the model got wrong")
        err_console.print(f"[yellow]Fewer scenarios than asked: the attempt budget ran out ({advice}; "
                          "FORGE_MAX_ATTEMPTS raises the budget).[/]")


@click.command("generate", epilog="\b\nExample:\n  scenario-forge generate medical_advice_boundary -n 3 --store")
@click.argument("target")
@click.option("-n", "n", type=click.IntRange(1, MAX_N), default=5, show_default=True, help="Scenarios to generate.")
@click.option("--backend", type=str, default=None, help=f"Backend: {', '.join(backend_names())} [env FORGE_BACKEND].")
@click.option("--model", type=str, default=None, help="Model name (a GGUF path for llamacpp) [env FORGE_MODEL].")
@click.option("--temperature", type=click.FloatRange(0.0, 2.0), default=None, help="Sampling temperature.")
@click.option("--seed", type=int, default=None, help="Seed, for reproducible batches.")
@click.option("--store/--no-store", default=False, help="Store scenarios in the database as they are generated.")
@click.option("--description", type=str, default=None, help="Define a NEW target on purpose with this description.")
@click.option("--strategy", type=click.Choice(["auto", "fewshot", "rewrite"]), default="auto", show_default=True,
              help="Few-shot generation, or rewrites of examples in new voices (auto: rewrite for small models).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per scenario per line.")
@click.pass_context
def generate_cmd(ctx: click.Context, target: str, n: int, backend: str | None, model: str | None,
                 temperature: float | None, seed: int | None, store: bool, description: str | None,
                 strategy: str, as_json: bool) -> None:
    """Generate N scenarios for TARGET with a local LLM, validated and de-duplicated."""
    forge = get_forge(ctx)
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rejected]} rejected"), TimeElapsedColumn(),
                        console=err_console, transient=True, disable=not wants_progress(as_json))

    def on_event(event: GenerationEvent) -> None:
        if event.kind == "warning" and event.reason:
            progress.console.print(f"[yellow]Warning:[/] {event.reason}", highlight=False, soft_wrap=True)
            return
        progress.update(task, completed=event.accepted, rejected=event.rejected)
        if event.scenario is not None:  # print as they arrive, so a long batch shows its work
            if as_json:
                emit_json(scenario_json(event.scenario))
            else:
                print_scenario(event.scenario)

    with progress:
        task = progress.add_task(f"Generating {target}", total=n, rejected=0)
        report = generate_scenarios(forge, target, n, backend=backend, model=model, temperature=temperature,
                                    seed=seed, store=store, description=description, strategy=strategy,  # type: ignore[arg-type]
                                    on_event=on_event)
    print_summary(report)
    if report.interrupted:
        err_console.print(f"[yellow]Interrupted: {report.generated} scenarios were kept.[/]")
        sys.exit(130)
    if report.generated == 0:
        sys.exit(1)


def register(cli: click.Group) -> None:
    cli.add_command(generate_cmd)
