"""`/forge` subcommands: ack first (within Slack's 3 seconds), then one call into forge, then render.

Generation and exports run in the worker pool after the ack; the quick ones answer through `respond`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import blocks
from bot.arguments import (ExportArgs, GenerateArgs, JobsArgs, ParsedCommand, ReviewArgs, StatsArgs, USAGES,
                           parse_command)
from bot.listeners import replying_errors
from bot.runtime import BotRuntime
from forge.errors import ConfigError, ForgeError
from forge.export import ExportFilter, export_scenarios
from forge.publishing import publish_batch
from forge.review import compute_stats, count_unrated, next_unrated

EXTENSIONS = {"json": "json", "jsonl": "jsonl", "csv": "csv", "inspect": "jsonl", "promptfoo": "yaml"}
REVIEW_BATCH = 4  # a response_url takes 5 replies: the intro and four scenarios

Command = dict[str, Any]


def register(app: App) -> None:
    app.command("/forge")(handle_forge)


def handle_forge(ack: Ack, command: Command, respond: Respond, context: dict[str, Any]) -> None:
    """Parse the text (pure and fast) and hand over to the subcommand; bad arguments get usage at once."""
    try:
        parsed = parse_command(str(command.get("text", "")))
    except ForgeError as exc:
        ack(**blocks.build_error(exc))
        return
    SUBCOMMANDS[parsed.name](ack, parsed, command, respond, context["runtime"])


def handle_generate(ack: Ack, parsed: ParsedCommand, command: Command, respond: Respond, rt: BotRuntime) -> None:
    args = parsed.args
    assert isinstance(args, GenerateArgs)
    try:  # an unknown target is answered in the ack itself, with a suggestion
        rt.forge.catalog.require(args.target)
    except ForgeError as exc:
        ack(**blocks.build_error(exc))
        return
    ack(**blocks.build_queued(args.target, args.n))
    rt.submit(run_generate, rt, args, command["channel_id"], command["user_id"], respond)


def run_generate(rt: BotRuntime, args: GenerateArgs, channel: str, user: str, respond: Respond) -> None:
    """In the pool: each scenario is stored, queued and posted as it is accepted; then the summary.

    If Slack refuses posts in this channel (the bot is not in it), the user hears it once, at once,
    instead of waiting for posts that are kept for retry.
    """
    told: list[str] = []

    def deliver() -> None:
        refused = rt.deliver().refused
        if refused and not told:
            told.append(refused[0][1])
            respond(**blocks.build_cannot_post(refused[0][1]))

    with replying_errors(respond):
        publish_batch(rt.forge, args.target, args.n, channel, backend=args.backend, model=args.model,
                      requested_by=user, deliver=deliver)


def handle_export(ack: Ack, parsed: ParsedCommand, command: Command, respond: Respond, rt: BotRuntime) -> None:
    args = parsed.args
    assert isinstance(args, ExportArgs)
    ack(**blocks.build_working(f"Exporting scenarios rated {args.min:g}+ as {args.format}"))
    rt.submit(run_export, rt, args, command["channel_id"], command["user_id"], respond)


def run_export(rt: BotRuntime, args: ExportArgs, channel: str, user: str, respond: Respond) -> None:
    """In the pool: export to a temporary file and upload it to the invoking channel only."""
    with replying_errors(respond), tempfile.TemporaryDirectory(prefix="forge-export-") as tmp:
        if args.target:
            rt.forge.catalog.require(args.target)  # an unknown target gets a suggestion
        filters = ExportFilter.build(min_rating=args.min, targets=[args.target] if args.target else [],
                                     since=args.since, until=args.until)
        path = Path(tmp) / f"scenarios-{args.format}-rated-{args.min:g}plus.{EXTENSIONS[args.format]}"
        result = export_scenarios(rt.forge.datastore, args.format, path, filters)
        if not result.count:
            respond(**blocks.build_export_empty(result.filters))
            return
        rt.upload(channel, path, blocks.build_export_comment(result.count, result.format, result.filters,
                                                             result.per_target, user))


def handle_review(ack: Ack, parsed: ParsedCommand, command: Command, respond: Respond, rt: BotRuntime) -> None:
    args = parsed.args
    assert isinstance(args, ReviewArgs)
    ack()
    user = command["user_id"]
    with replying_errors(respond):
        if args.target:
            rt.forge.catalog.require(args.target)  # an unknown target gets a suggestion
        queue = next_unrated(rt.forge.datastore, user, args.target, limit=REVIEW_BATCH)
        total = count_unrated(rt.forge.datastore, user, args.target)
        respond(**blocks.build_review_intro(len(queue), total, args.target))
        for scenario in queue:
            respond(response_type="ephemeral", **blocks.build_scenario_message(scenario, None))


def handle_stats(ack: Ack, parsed: ParsedCommand, command: Command, respond: Respond, rt: BotRuntime) -> None:
    args = parsed.args
    assert isinstance(args, StatsArgs)
    ack()
    with replying_errors(respond):
        respond(**blocks.build_stats(compute_stats(rt.forge.datastore, args.target)))


def handle_targets(ack: Ack, parsed: ParsedCommand, command: Command, respond: Respond, rt: BotRuntime) -> None:
    ack()
    with replying_errors(respond):
        respond(**blocks.build_targets(rt.forge.catalog.list_targets()))


def handle_help(ack: Ack, parsed: ParsedCommand, command: Command, respond: Respond, rt: BotRuntime) -> None:
    ack(**blocks.build_help(USAGES))


def handle_jobs(ack: Ack, parsed: ParsedCommand, command: Command, respond: Respond, rt: BotRuntime) -> None:
    """List the next runs; `jobs run NAME` (admins only, see middleware) runs one now in the scheduler."""
    args = parsed.args
    assert isinstance(args, JobsArgs)
    ack()
    with replying_errors(respond):
        if rt.scheduler is None:
            if args.action == "run":
                raise ConfigError("The scheduler is off in this bot process.", "Start the bot without --no-scheduler.")
            respond(**blocks.build_jobs([], rt.forge.datastore.outbox_counts(), enabled=False))
        elif args.action == "run" and args.job:
            rt.scheduler.run_now(args.job)
            respond(**blocks.build_job_started(args.job, elsewhere=not rt.scheduler.leading))
        else:
            respond(**blocks.build_jobs(rt.scheduler.next_runs(), rt.forge.datastore.outbox_counts()))


Subcommand = Callable[[Ack, ParsedCommand, Command, Respond, BotRuntime], None]
SUBCOMMANDS: dict[str, Subcommand] = {
    "generate": handle_generate, "export": handle_export, "review": handle_review, "stats": handle_stats,
    "targets": handle_targets, "help": handle_help, "jobs": handle_jobs,
}
