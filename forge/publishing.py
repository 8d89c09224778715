"""Publishing to a chat channel through the outbox: generated scenarios, run summaries, digests, notices.

A scenario is committed when generated; posting it is a separate, recorded step. Interfaces supply a
`send` function that performs one post (the Slack bot renders Block Kit there); this module decides
what to post, when to retry, and records where each post landed so ratings can update it later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from forge.bootstrap import Forge
from forge.coverage import coverage_overview, underserved_targets
from forge.domain import Scenario
from forge.errors import ForgeError, NotFoundError
from forge.generation import GenerationEvent, GenerationReport, generate_scenarios
from forge.review import RatingAggregate, RatingResult, get_aggregate, rate_scenario
from forge.store.datastore import Datastore

log = logging.getLogger(__name__)

DELIVER_BATCH = 20
BACKOFF_BASE_S = 5.0
BACKOFF_MAX_S = 3600.0  # never give up on a post; retry at least hourly once the cause is fixed
NIGHTLY_UNDERSERVED = 3  # targets a nightly batch feeds when none are configured


@dataclass(frozen=True)
class Post:
    """Where a message landed: enough to update it."""

    channel: str
    ts: str


@dataclass(frozen=True)
class OutboxItem:
    """One post to make, with the scenario and its current aggregate loaded for rendering."""

    id: int
    kind: str
    channel: str
    payload: dict[str, Any]
    attempts: int
    scenario: Scenario | None = None
    aggregate: RatingAggregate | None = None


class DeliveryDeferred(Exception):
    """A post failed for now; the outbox tries it again later.

    `pause_all` is for failures that will hit the next post too (rate limits, server errors, timeouts),
    so the pass stops there instead of hammering the API.
    """

    def __init__(self, reason: str, retry_after_s: float | None = None, *, pause_all: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.pause_all = pause_all


Send = Callable[[OutboxItem], Post]


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    delivered: list[tuple[int, Post]] = field(default_factory=list)
    deferred: list[tuple[int, str]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    """Deferrals that only the post's own channel causes (the bot is not in it, say): a person must act."""
    paused_until: datetime | None = None
    """Set when a failure will hit every post (rate limit, outage): post nothing before then, so order holds."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int, retry_after_s: float | None = None) -> timedelta:
    """Exponential backoff from 5 s to an hour, never sooner than the server's Retry-After."""
    # The exponent is capped: 2 ** 1024 no longer fits a float, and a post retried for weeks must not crash.
    exponential = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** min(max(0, attempts), 32))
    return timedelta(seconds=max(exponential, retry_after_s or 0.0))


# -- enqueueing ----------------------------------------------------------------


def enqueue_scenario(store: Datastore, scenario_id: int, channel: str) -> int:
    return store.enqueue_post("scenario", channel, {}, scenario_id, now=utcnow())


def enqueue_message(store: Datastore, channel: str, kind: str, payload: dict[str, Any]) -> int:
    """A non-scenario post (`summary`, `digest`, `notice`); `payload` is what the renderer needs."""
    return store.enqueue_post(kind, channel, payload, now=utcnow())


def notify(store: Datastore, channel: str, text: str) -> int:
    """A short notice in the channel, e.g. that a scheduled job failed and why."""
    return enqueue_message(store, channel, "notice", {"text": text})


# -- delivering ----------------------------------------------------------------


def _load(store: Datastore, kind: str, scenario_id: int | None) -> tuple[Scenario | None, RatingAggregate | None]:
    if kind != "scenario" or scenario_id is None:
        return None, None
    return store.get_scenario(scenario_id), get_aggregate(store, scenario_id)


def deliver_due(store: Datastore, send: Send, *, now: datetime | None = None, limit: int = 200) -> DeliveryReport:
    """Post every due outbox row, oldest first, recording each landing or deferring it with backoff."""
    now = now or utcnow()
    report = DeliveryReport()
    while len(report.delivered) + len(report.deferred) < limit:
        entries = store.claim_due_posts(now, DELIVER_BATCH)
        if not entries:
            break
        for index, entry in enumerate(entries):
            try:
                scenario, aggregate = _load(store, entry.kind, entry.scenario_id)
                post = send(OutboxItem(entry.id, entry.kind, entry.channel, entry.payload, entry.attempts,
                                       scenario, aggregate))
            except DeliveryDeferred as exc:
                retry_at = now + backoff(entry.attempts, exc.retry_after_s)
                store.defer_post(entry.id, exc.reason, retry_at)
                report.deferred.append((entry.id, exc.reason))
                log.warning("Post %s deferred (attempt %d): %s", entry.id, entry.attempts + 1, exc.reason)
                if exc.pause_all:
                    store.release_posts([e.id for e in entries[index + 1:]])
                    report.paused_until = retry_at
                    return report
                report.refused.append((entry.id, exc.reason))
            except NotFoundError as exc:  # the scenario was deleted; its row goes with it (CASCADE)
                log.info("Post %s skipped: %s", entry.id, exc.message)
            except Exception as exc:  # a bug must not wedge the queue: defer this row and go on
                log.exception("Post %s failed unexpectedly", entry.id)
                store.defer_post(entry.id, f"{type(exc).__name__}: {exc}", now + backoff(entry.attempts))
                report.deferred.append((entry.id, str(exc)))
            else:
                store.mark_posted(entry.id, post.channel, post.ts, utcnow())
                report.delivered.append((entry.id, post))
    return report


# -- batches, nightly runs and digests ----------------------------------------------


def summary_payload(report: GenerationReport, requested_by: str | None, error: str | None = None) -> dict[str, Any]:
    return {"target": report.target, "requested": report.requested, "generated": report.generated,
            "rejected": report.rejected, "rejections": dict(report.rejections.most_common()),
            "backend": report.backend, "model": report.model, "requested_by": requested_by,
            "warning": report.warning, "error": error}


def publish_batch(forge: Forge, target: str, n: int, channel: str, *, backend: str | None = None,
                  model: str | None = None, requested_by: str | None = None,
                  deliver: Callable[[], object] | None = None) -> GenerationReport:
    """Generate and store `n` scenarios, queueing each for `channel` as it is accepted, then a summary.

    `deliver` runs after each enqueue so posts stream while the batch goes on. A failure before any
    candidate (unknown target, backend down) raises without posting; a failure midway posts a summary
    of what was kept, then raises.
    """
    store = forge.datastore
    seen: list[GenerationEvent] = []

    def on_event(event: GenerationEvent) -> None:
        seen.append(event)
        if event.kind == "accepted" and event.scenario is not None and event.scenario.id is not None:
            enqueue_scenario(store, event.scenario.id, channel)
            if deliver:
                deliver()

    try:
        report = generate_scenarios(forge, target, n, backend=backend, model=model, store=True, on_event=on_event)
    except ForgeError as exc:
        if any(e.kind != "warning" for e in seen):
            partial = GenerationReport(target=target, backend=backend or forge.settings.backend,
                                       model=model or forge.settings.model or "", requested=n,
                                       scenarios=[e.scenario for e in seen if e.scenario is not None])
            partial.rejections.update(e.reason or "unknown" for e in seen if e.kind == "rejected")
            enqueue_message(store, channel, "summary", summary_payload(partial, requested_by, exc.message))
            if deliver:
                deliver()
        raise
    enqueue_message(store, channel, "summary", summary_payload(report, requested_by))
    if deliver:
        deliver()
    return report


def publish_nightly(forge: Forge, channel: str, targets: list[str], n: int,
                    deliver: Callable[[], object] | None = None) -> list[GenerationReport]:
    """A batch for each configured target, or for the least-covered ones; one failing target skips only itself."""
    names = targets or underserved_targets(forge.datastore, NIGHTLY_UNDERSERVED, forge.catalog.names())
    reports = []
    for name in names:
        try:
            reports.append(publish_batch(forge, name, n, channel, deliver=deliver))
        except ForgeError as exc:
            log.warning("Nightly batch for %s failed: %s", name, exc.message)
            notify(forge.datastore, channel, f"Nightly batch for {name} failed: {exc.message}")
    return reports


def publish_digest(forge: Forge, channel: str) -> int:
    """Queue the coverage digest (least-covered targets first) for `channel`; returns the outbox id."""
    overview = coverage_overview(forge.datastore, forge.catalog.names())
    return enqueue_message(forge.datastore, channel, "digest", overview.model_dump(mode="json"))


# -- ratings on posted messages ------------------------------------------------


@dataclass(frozen=True)
class RatedPost:
    """A rating and what is needed to refresh every message showing the scenario."""

    result: RatingResult
    scenario: Scenario
    posts: list[Post]


def scenario_posts(store: Datastore, scenario_id: int) -> list[Post]:
    """Every delivered message showing this scenario."""
    return [Post(channel, ts) for channel, ts in store.posted_messages(scenario_id)]


def reviewer_stars(store: Datastore, scenario_id: int, reviewer: str) -> int | None:
    rating = store.get_rating(scenario_id, reviewer)
    return rating.stars if rating else None


def rate_post(store: Datastore, scenario_id: int, reviewer: str, stars: int, note: str | None = None) -> RatedPost:
    """Rate from a chat message; a click without a note keeps the note the reviewer wrote earlier."""
    if note is None:
        earlier = store.get_rating(scenario_id, reviewer)
        note = earlier.note if earlier else None
    result = rate_scenario(store, scenario_id, reviewer, stars, note=note, source="slack")
    return RatedPost(result, store.get_scenario(scenario_id), scenario_posts(store, scenario_id))
