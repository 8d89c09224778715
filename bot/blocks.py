"""Pure Block Kit builders: plain values in, Slack message and view dicts out (unit-tested without Slack).

Every text that came from an LLM or a user passes through `escape`, so `<!channel>`, `<@U...>` and
`<https://...>` are shown, not acted on. Texts are cut to Block Kit's limits with an ellipsis; the
full scenario stays one "Show full" click away.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from forge.domain import Scenario
from forge.errors import ForgeError, UnknownTargetError
from forge.review import RatingAggregate, RatingResult

Block = dict[str, Any]
Message = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_PLAIN_INPUT = 3000
ELLIPSIS = "…"

RATE_ACTION = re.compile(r"^rate_[1-5]$")
NOTE_ACTION = "add_note"
SHOW_FULL_ACTION = "show_full"
NOTE_CALLBACK = "rating_note"
STARS_BLOCK, NOTE_BLOCK = "stars", "note"
_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


# -- text ---------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters, escaped: the text is displayed literally, never as a mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """Cut escaped text to `limit` characters with an ellipsis, never through an `&amp;` entity."""
    if len(text) <= limit:
        return text, False
    cut = _ENTITY_TAIL.sub("", text[: limit - len(ELLIPSIS)])
    return cut + ELLIPSIS, True


def chunk_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Escaped text in pieces of at most `limit` characters, split at line ends where possible."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        amp = text.rfind("&", cut - 5, cut)  # do not split an entity
        cut = amp if amp > 0 and ";" not in text[amp:cut] else cut
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*chunks, text] if text else chunks


def mention(user_id: str | None) -> str:
    """A user mention, only for ids that look like Slack's own; anything else is shown literally."""
    if user_id and _SLACK_USER.match(user_id):
        return f"<@{user_id}>"
    return escape(user_id or "someone")


def section(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)[0]}}
    if block_id:
        block["block_id"] = block_id
    return block


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)[0]}]}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, 150)[0]}}


def plain(text: str, limit: int = 75) -> dict[str, str]:
    return {"type": "plain_text", "text": truncate(text, limit)[0], "emoji": True}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def sections(lines: Iterable[str], limit: int = MAX_SECTION_TEXT) -> list[Block]:
    """Lines packed into as few sections as the 3,000-character limit allows."""
    return [section(chunk) for chunk in chunk_text("\n".join(lines), limit)]


def cap_blocks(blocks: list[Block], limit: int = MAX_MESSAGE_BLOCKS) -> list[Block]:
    """At most `limit` blocks; the last one says how much was left out."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], context(f"{len(blocks) - limit + 1} more blocks left out to fit Slack's limit.")]


def ephemeral(text: str, blocks: list[Block] | None = None) -> Message:
    message: Message = {"response_type": "ephemeral", "text": truncate(text, MAX_SECTION_TEXT)[0]}
    if blocks:
        message["blocks"] = cap_blocks(blocks)
    return message


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def stars_label(aggregate: RatingAggregate | None) -> str:
    """`★ 4.3 · 3 ratings`, or that nobody has rated it yet."""
    if aggregate is None or not aggregate.count or aggregate.mean is None:
        return "Not rated yet"
    noun = "rating" if aggregate.count == 1 else "ratings"
    return f"★ {aggregate.mean:.1f} · {aggregate.count} {noun}"


def when(moment: datetime | None) -> str:
    return moment.strftime("%a %Y-%m-%d %H:%M UTC") if moment else "paused"


# -- scenario messages --------------------------------------------------------


def _titled(title: str, body: str) -> tuple[str, bool]:
    prefix = f"*{title}*\n"
    text, cut = truncate(escape(body), MAX_SECTION_TEXT - len(prefix))
    return prefix + text, cut


def build_scenario_message(scenario: Scenario, aggregate: RatingAggregate | None,
                           your_stars: int | None = None) -> Message:
    """A scenario with five rating buttons and "Add note"; "Show full" appears when a text was cut."""
    sid = str(scenario.id)
    prompt, prompt_cut = _titled("Prompt", scenario.prompt)
    criteria, criteria_cut = _titled("Success criteria", scenario.success_criteria)
    rating = stars_label(aggregate) + (f" · you rated {your_stars} ★" if your_stars else "")
    actions = [button(f"{n} ★", f"rate_{n}", sid, "primary" if n == your_stars else None) for n in range(1, 6)]
    actions.append(button("Add note", NOTE_ACTION, sid))
    if prompt_cut or criteria_cut:
        actions.append(button("Show full", SHOW_FULL_ACTION, sid))
    blocks = [
        context(f"*{escape(scenario.target)}* · scenario #{sid} · {escape(scenario.backend)}/{escape(scenario.model)}"),
        section(prompt, block_id=f"prompt_{sid}"),
        section(criteria, block_id=f"criteria_{sid}"),
        {"type": "context", "block_id": f"rating_{sid}", "elements": [{"type": "mrkdwn", "text": rating}]},
        {"type": "actions", "block_id": f"rate_{sid}", "elements": actions},
    ]
    fallback = truncate(f"Scenario #{sid} for {escape(scenario.target)}: {escape(scenario.prompt)}", 300)[0]
    return {"text": fallback, "blocks": blocks}


def build_full_text_modal(scenario: Scenario) -> dict[str, Any]:
    """The whole prompt and criteria, in as many sections as they need (a modal allows 100 blocks)."""
    blocks: list[Block] = [header("Prompt"), *[section(c) for c in chunk_text(escape(scenario.prompt))],
                           header("Success criteria"),
                           *[section(c) for c in chunk_text(escape(scenario.success_criteria))]]
    return {"type": "modal", "title": plain(f"Scenario #{scenario.id}", 24), "close": plain("Close", 24),
            "blocks": cap_blocks(blocks, MAX_VIEW_BLOCKS)}


def _star_option(n: int) -> dict[str, Any]:
    return {"text": plain(f"{n} ★ " + ("(useless)", "(weak)", "(fair)", "(good)", "(excellent)")[n - 1]),
            "value": str(n)}


def build_note_modal(scenario: Scenario, stars: int | None, channel: str | None) -> dict[str, Any]:
    """"Add note": stars (pre-filled with the reviewer's rating) and a note, stored together."""
    select: dict[str, Any] = {"type": "static_select", "action_id": STARS_BLOCK,
                              "options": [_star_option(n) for n in range(1, 6)]}
    if stars:
        select["initial_option"] = _star_option(stars)
    prompt, _ = _titled("Prompt", scenario.prompt)
    return {
        "type": "modal", "callback_id": NOTE_CALLBACK, "title": plain("Rate with a note", 24),
        "submit": plain("Save", 24), "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"scenario_id": scenario.id, "channel": channel}),
        "blocks": [
            section(prompt),
            {"type": "input", "block_id": STARS_BLOCK, "label": plain("Stars"), "element": select},
            {"type": "input", "block_id": NOTE_BLOCK, "label": plain("Note"),
             "element": {"type": "plain_text_input", "action_id": NOTE_BLOCK, "multiline": True,
                         "max_length": MAX_PLAIN_INPUT,
                         "placeholder": plain("Why this rating? What would make it better?", 150)}},
        ],
    }


def build_rating_confirmation(result: RatingResult) -> Message:
    verb = "changed your rating of" if result.replaced else "rated"
    note = " with your note" if result.note else ""
    return {"text": f"You {verb} scenario #{result.scenario_id} to {result.stars} ★{note}. "
                    f"Now {stars_label(result.aggregate)}."}


# -- run summaries, digests, notices (rendered at delivery from outbox payloads) --


def build_summary_message(p: dict[str, Any]) -> Message:
    """How a batch went: generated, rejected, and why."""
    who = f" for {mention(p.get('requested_by'))}" if p.get("requested_by") else ""
    done = (f"Generated {p['generated']} of {p['requested']} scenarios for *{escape(p['target'])}*{who} "
            f"with {escape(p.get('backend') or '?')}/{escape(p.get('model') or '?')}; "
            f"{p['rejected']} candidates rejected.")
    lines = [done]
    if p.get("rejections"):
        lines.append("Rejected: " + ", ".join(f"{n} × {escape(r)}" for r, n in p["rejections"].items()))
    if p.get("warning"):
        lines.append(f":warning: {escape(p['warning'])}")
    if p.get("error"):
        lines.append(f":x: Stopped early: {escape(p['error'])}")
    return {"text": truncate(done, 300)[0], "blocks": sections(lines)}


def target_line(target: str, scenarios: int, rated: int, mean: float | None, share_4_plus: float | None) -> str:
    """One target's coverage, as the digest, the App Home and `/forge stats` show it."""
    stars = "★ –" if mean is None else f"★ {mean:.1f}"
    return f"`{escape(target)}` — {scenarios} scenarios · {rated} rated · {stars} · {percent(share_4_plus)} rated 4+"


def coverage_line(row: dict[str, Any]) -> str:
    return target_line(row["target"], row["scenarios"], row["rated"], row.get("mean"), row.get("share_4_plus"))


def build_digest_message(p: dict[str, Any]) -> Message:
    """Weekly coverage: per target counts, mean and share 4+, least-covered targets named first."""
    rows, overall = p["targets"], p["overall"]
    gaps = [escape(r["target"]) for r in rows[:3]]
    lines = [coverage_line(r) for r in rows]
    blocks = [header("Weekly coverage digest"),
              section(f"*{overall['scenarios']}* scenarios · *{overall['rated']}* rated · "
                      f"*{percent(overall.get('share_4_plus'))}* rated 4+"),
              section("*Least covered:* " + (", ".join(gaps) if gaps else "no targets yet")),
              *sections(lines)]
    return {"text": "Weekly coverage digest. Least covered: " + ", ".join(gaps), "blocks": cap_blocks(blocks)}


def build_notice_message(p: dict[str, Any]) -> Message:
    text = escape(str(p.get("text", "")))
    return {"text": truncate(text, 300)[0], "blocks": [section(text)]}


# -- command replies ------------------------------------------------------------


def build_error(exc: ForgeError) -> Message:
    """A ForgeError as an ephemeral reply: the problem, then what to do."""
    hint = "Run `/forge targets` to list targets." if isinstance(exc, UnknownTargetError) else exc.hint
    return ephemeral(f":warning: {escape(exc.message)}" + (f"\n{escape(hint)}" if hint else ""))


def build_failure() -> Message:
    return ephemeral(":x: Something went wrong on our side; the error is in the bot's log.")


def build_refusal(what: str) -> Message:
    return ephemeral(f":no_entry: Only admins can {escape(what)}. Ask one of the users in FORGE_ADMIN_USERS.")


def build_help(usages: dict[str, str]) -> Message:
    lines = ["*/forge* makes, reviews and exports AI-safety evaluation scenarios."]
    lines += [f"• `{escape(u)}`" for u in usages.values()]
    return ephemeral("/forge commands", sections(lines))


def build_queued(target: str, n: int) -> Message:
    return ephemeral(f":hourglass_flowing_sand: Queued: {n} scenarios for `{escape(target)}`. "
                     "Each is posted here as it is generated, then a summary.")


def build_working(what: str) -> Message:
    return ephemeral(f":hourglass_flowing_sand: {escape(what)}…")


def build_export_comment(count: int, fmt: str, filters: str, per_target: dict[str, int], user: str) -> str:
    """The one-line summary posted with an export file."""
    targets = ", ".join(f"{escape(t)}: {n}" for t, n in sorted(per_target.items()))
    noun = "scenario" if count == 1 else "scenarios"
    return f"{mention(user)} exported {count} {noun} as {escape(fmt)} ({escape(filters)}; {targets})."


def build_cannot_post(reason: str) -> Message:
    return ephemeral(f":warning: I could not post here: {escape(reason)}. The scenarios are stored and will be "
                     "posted once I can: invite me with `/invite @scenario-forge`, or use a channel I am in.")


def build_export_empty(filters: str) -> Message:
    return ephemeral(f"No scenarios matched {escape(filters)}, so nothing was uploaded.")


def build_review_intro(shown: int, total: int, target: str | None) -> Message:
    scope = f" for `{escape(target)}`" if target else ""
    if not total:
        return ephemeral(f":tada: You have rated every scenario{scope}.")
    return ephemeral(f"You have {total} unrated scenarios{scope}; here are the next {shown}. "
                     "Click the stars to rate; only you see these messages.")


def build_stats(stats: Any) -> Message:
    """`/forge stats`: overall and per-target counts, mean, share 4+ and agreement."""
    o = stats.overall
    alpha = o.agreement.alpha
    lines = [f"*{o.scenarios}* scenarios · *{o.rated}* rated · *{o.ratings}* ratings · "
             f"mean {'–' if o.mean is None else f'{o.mean:.2f}'} · {percent(o.share_rated_4_plus)} rated 4+ · "
             f"agreement α {'–' if alpha is None else f'{alpha:.2f}'}"]
    lines += [target_line(t.target or "", t.scenarios, t.rated, t.mean, t.share_rated_4_plus) for t in stats.targets]
    if o.reviewers:
        lines.append("Reviewers: " + " · ".join(f"{mention(r)} {n}" for r, n in o.reviewers.items()))
    return ephemeral("Rating statistics", [header("Rating statistics"), *sections(lines)])


def build_targets(targets: Sequence[Any]) -> Message:
    lines = [f"`{escape(t.name)}` — {truncate(escape(t.description), 160)[0]} "
             f"({t.examples} examples, {t.scenarios} scenarios)" for t in targets]
    return ephemeral(f"{len(targets)} targets", [header("Targets"), *sections(lines or ["No targets yet."])])


def outbox_line(pending: int, oldest: datetime | None) -> str:
    if not pending:
        return "Outbox: every post has gone out."
    noun = "post is" if pending == 1 else "posts are"
    return f"Outbox: {pending} {noun} waiting to be posted (oldest queued {when(oldest)}); they are retried."


def build_jobs(jobs: Sequence[Any], outbox: Any, *, enabled: bool = True) -> Message:
    """The next runs, and how many posts wait in the outbox (`outbox`: pending count and oldest)."""
    waiting = outbox_line(outbox.pending, outbox.oldest_pending)
    if not enabled:
        return ephemeral(f"The scheduler is off in this bot process (started with --no-scheduler).\n{waiting}")
    lines = [f"`{escape(j.id)}` — {escape(j.description)}: next run {when(j.next_run)} ({escape(j.trigger)})"
             for j in jobs]
    lines += ["Admins can run one now: `/forge jobs run nightly` or `/forge jobs run digest`.", waiting]
    return ephemeral("Scheduled jobs", sections(lines))


def build_job_started(job_id: str, *, elsewhere: bool = False) -> Message:
    """`elsewhere`: another bot process runs the jobs and picks the request up within a minute."""
    start = "It starts within a minute in the bot process that runs the jobs" if elsewhere else "Started"
    return ephemeral(f":arrow_forward: {start}: `{escape(job_id)}`; it posts to the scheduled channel.")


# -- App Home -----------------------------------------------------------------------


def build_home(overview: Any, user: str, jobs: Sequence[Any]) -> dict[str, Any]:
    """Totals and share rated 4+, per-target coverage, the user's own rating count, the next jobs."""
    o = overview.overall
    mine = overview.reviewers.get(user, 0)
    blocks: list[Block] = [
        header("scenario-forge"),
        section(f"*{o.scenarios}* scenarios · *{o.rated}* rated · *{percent(o.share_4_plus)}* of rated "
                f"scenarios rated 4+"),
        section(f"You have rated *{mine}* scenario{'s' if mine != 1 else ''}. `/forge review` shows your next ones."),
        {"type": "divider"},
        header("Coverage (least covered first)"),
        *sections(coverage_line(r.model_dump()) for r in overview.targets),
        {"type": "divider"},
        header("Next scheduled jobs"),
        *sections([f"`{escape(j.id)}` — {escape(j.description)}: {when(j.next_run)}" for j in jobs]
                  or ["No scheduler in this bot process."]),
    ]
    return {"type": "home", "blocks": cap_blocks(blocks, MAX_VIEW_BLOCKS)}


def build_outbox_message(kind: str, payload: dict[str, Any], scenario: Scenario | None,
                         aggregate: RatingAggregate | None) -> Message:
    """What an outbox row looks like in the channel, by kind."""
    if kind == "scenario" and scenario is not None:
        return build_scenario_message(scenario, aggregate)
    builders = {"summary": build_summary_message, "digest": build_digest_message, "notice": build_notice_message}
    return builders[kind](payload)
