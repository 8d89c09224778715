"""Datastore methods for the outbox of posts (mixed into Datastore).

Delivery is claim, post, then record: a claim is a conditional UPDATE, so two deliverers (a batch
worker and the retry job, or two processes) never post the same row at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from forge.store.slack_tables import DELIVERED, PENDING, OutboxRow

CLAIM_LEASE = timedelta(minutes=5)  # longer than any single post; a crashed deliverer's claim expires


class OutboxEntry(NamedTuple):
    """One claimed outbox row, as plain values."""

    id: int
    kind: str
    channel: str
    scenario_id: int | None
    payload: dict[str, Any]
    attempts: int


class OutboxCounts(NamedTuple):
    """How the outbox stands, for health checks and the jobs listing."""

    pending: int
    delivered: int
    oldest_pending: datetime | None


class OutboxQueries:
    """Outbox rows: enqueue, claim, record delivery or defer. Methods use `self.session()` from Datastore."""

    if TYPE_CHECKING:

        def session(self) -> AbstractContextManager[Session]: ...

    def enqueue_post(self, kind: str, channel: str, payload: dict[str, Any] | None = None,
                     scenario_id: int | None = None, *, now: datetime) -> int:
        """Record a post to make; committed before anyone tries to post it."""
        with self.session() as s:
            row = OutboxRow(kind=kind, channel=channel, payload=payload or {}, scenario_id=scenario_id,
                            status=PENDING, attempts=0, next_attempt_at=now, created_at=now)
            s.add(row)
            s.flush()
            return row.id

    def claim_due_posts(self, now: datetime, limit: int = 20) -> list[OutboxEntry]:
        """Claim up to `limit` due posts, oldest first; rows another deliverer holds are skipped."""
        free = or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now)
        claimable = (OutboxRow.status == PENDING, OutboxRow.next_attempt_at <= now, free)
        due = select(OutboxRow.id).where(*claimable).order_by(OutboxRow.id).limit(limit)
        claimed: list[OutboxEntry] = []
        with self.session() as s:
            ids = list(s.scalars(due))
        for post_id in ids:
            with self.session() as s:
                # Re-checked in the UPDATE: since the SELECT another deliverer may have posted the row, or
                # tried and deferred it (then it is free again, but not due until its backoff ends).
                won = s.execute(update(OutboxRow).where(OutboxRow.id == post_id, *claimable)
                                .values(claimed_until=now + CLAIM_LEASE)).rowcount  # type: ignore[attr-defined]
                if won:
                    row = s.get_one(OutboxRow, post_id)
                    claimed.append(OutboxEntry(row.id, row.kind, row.channel, row.scenario_id, dict(row.payload),
                                               row.attempts))
        return claimed

    def mark_posted(self, post_id: int, channel: str, ts: str, now: datetime) -> None:
        """Record where the post landed, so later updates (new ratings) can edit that message."""
        with self.session() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == post_id).values(
                status=DELIVERED, posted_channel=channel, posted_ts=ts, delivered_at=now, claimed_until=None,
                attempts=OutboxRow.attempts + 1, last_error=None))

    def defer_post(self, post_id: int, error: str, retry_at: datetime) -> None:
        """A failed attempt: keep the row pending, note why, and try again at `retry_at`."""
        with self.session() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == post_id).values(
                attempts=OutboxRow.attempts + 1, last_error=error[:2000], next_attempt_at=retry_at,
                claimed_until=None))

    def release_posts(self, post_ids: Sequence[int]) -> None:
        """Give back claims without counting an attempt (a pass stopped before reaching them)."""
        if not post_ids:
            return
        with self.session() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id.in_(list(post_ids)), OutboxRow.status == PENDING)
                      .values(claimed_until=None))

    def posted_messages(self, scenario_id: int) -> list[tuple[str, str]]:
        """(channel, ts) of every delivered post of a scenario, oldest first."""
        query = (select(OutboxRow.posted_channel, OutboxRow.posted_ts)
                 .where(OutboxRow.scenario_id == scenario_id, OutboxRow.status == DELIVERED)
                 .order_by(OutboxRow.id))
        with self.session() as s:
            return [(str(c), str(t)) for c, t in s.execute(query) if c and t]

    def outbox_counts(self) -> OutboxCounts:
        with self.session() as s:
            counts = dict(s.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all())
            oldest = s.scalar(select(func.min(OutboxRow.created_at)).where(OutboxRow.status == PENDING))
        return OutboxCounts(int(counts.get(PENDING, 0)), int(counts.get(DELIVERED, 0)), oldest)

    def outbox_rows(self, ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """Raw rows as dicts, for tests and diagnostics."""
        query = select(OutboxRow).order_by(OutboxRow.id)
        if ids is not None:
            query = query.where(OutboxRow.id.in_(list(ids)))
        with self.session() as s:
            return [{c.name: getattr(r, c.name) for c in OutboxRow.__table__.columns} for r in s.scalars(query)]
