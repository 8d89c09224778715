"""Datastore methods that stream scenarios for export (mixed into Datastore).

Ratings are aggregated in SQL (one GROUP BY joined to scenarios) and rows are fetched in batches
(`yield_per`: a server-side cursor on PostgreSQL, a stepping cursor on SQLite), so an export of any
size holds one batch in memory at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Float, Select, case, func, literal, select
from sqlalchemy.orm import Session

from forge.store.tables import RatingRow, ScenarioRow

STARS = range(1, 6)
# Rows per fetch; also the size of each `IN (...)` when reviewers are included, well under SQLite's
# bound-parameter limit.
BATCH_SIZE = 500


@dataclass(frozen=True)
class ExportCriteria:
    """Which scenarios to export, as plain values (the service validates them first)."""

    min_mean: float | None = None
    """Keep scenarios whose mean stars are at least this; None keeps unrated ones too."""
    min_ratings: int = 0
    """Keep scenarios with at least this many ratings."""
    targets: tuple[str, ...] = ()
    """Only these targets; empty means all."""
    created_from: datetime | None = None
    """Created at or after this instant (inclusive)."""
    created_before: datetime | None = None
    """Created before this instant (exclusive)."""


class ExportedRating(NamedTuple):
    """One reviewer's rating, for exports that include reviewers."""

    reviewer: str
    stars: int
    note: str | None
    source: str


class ExportRow(NamedTuple):
    """A scenario with its rating aggregate, as streamed to the exporters."""

    id: int
    target: str
    prompt: str
    success_criteria: str
    backend: str
    model: str
    example_ids: list[int] | None
    temperature: float | None
    seed: int | None
    strategy: str
    fingerprint: str
    run_id: int | None
    created_at: datetime
    rating_count: int
    rating_total: int
    distribution: tuple[int, int, int, int, int]
    """Number of 1- to 5-star ratings."""
    ratings: tuple[ExportedRating, ...] | None = None
    """Each reviewer's rating, when asked for; None otherwise."""


_SCENARIO_COLUMNS = (ScenarioRow.id, ScenarioRow.target, ScenarioRow.prompt, ScenarioRow.success_criteria,
                     ScenarioRow.backend, ScenarioRow.model, ScenarioRow.example_ids, ScenarioRow.temperature,
                     ScenarioRow.seed, ScenarioRow.strategy, ScenarioRow.fingerprint, ScenarioRow.run_id,
                     ScenarioRow.created_at)


def _export_query(criteria: ExportCriteria) -> Select[Any]:
    """Scenarios joined to their rating aggregate, filtered, oldest id first."""
    per_star = [func.sum(case((RatingRow.stars == star, 1), else_=0)).label(f"s{star}") for star in STARS]
    agg = (select(RatingRow.scenario_id.label("sid"), func.count().label("n"),
                  func.sum(RatingRow.stars).label("total"), *per_star)
           .group_by(RatingRow.scenario_id).subquery("rating_agg"))
    count = func.coalesce(agg.c.n, 0)
    query = select(*_SCENARIO_COLUMNS, count.label("n"), func.coalesce(agg.c.total, 0).label("total"),
                   *[func.coalesce(agg.c[f"s{star}"], 0) for star in STARS])
    min_ratings = criteria.min_ratings
    if criteria.min_mean is not None:
        min_ratings = max(1, min_ratings)  # a mean needs at least one rating
    if min_ratings > 0:
        # Inner join: unrated scenarios can never pass, so don't carry them through the join.
        query = query.join(agg, agg.c.sid == ScenarioRow.id).where(agg.c.n >= min_ratings)
    else:
        query = query.outerjoin(agg, agg.c.sid == ScenarioRow.id)
    if criteria.min_mean is not None:
        # sum >= mean * count, not avg() >= mean: exact for 4.0 on both databases (no float division).
        query = query.where(agg.c.total >= literal(criteria.min_mean, Float()) * agg.c.n)  # typed: never cast to int
    if criteria.targets:
        query = query.where(ScenarioRow.target.in_(criteria.targets))
    if criteria.created_from is not None:
        query = query.where(ScenarioRow.created_at >= criteria.created_from)
    if criteria.created_before is not None:
        query = query.where(ScenarioRow.created_at < criteria.created_before)
    return query.order_by(ScenarioRow.id)


def _ratings_for(session: Session, ids: Sequence[int]) -> dict[int, list[ExportedRating]]:
    query = (select(RatingRow.scenario_id, RatingRow.reviewer, RatingRow.stars, RatingRow.note, RatingRow.source)
             .where(RatingRow.scenario_id.in_(ids)).order_by(RatingRow.scenario_id, RatingRow.reviewer))
    found: dict[int, list[ExportedRating]] = {}
    for sid, reviewer, stars, note, source in session.execute(query):
        found.setdefault(int(sid), []).append(ExportedRating(reviewer, int(stars), note, source))
    return found


class ExportQueries:
    """Streaming, filtered scenario queries for exports. Methods use `self.session()` from Datastore."""

    if TYPE_CHECKING:

        def session(self) -> AbstractContextManager[Session]: ...

    def count_export_rows(self, criteria: ExportCriteria) -> int:
        """How many scenarios an export with these criteria would write (for a progress bar's total)."""
        inner = _export_query(criteria).order_by(None).subquery()
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(inner)) or 0)

    def stream_export_rows(self, criteria: ExportCriteria, *, with_ratings: bool = False,
                           batch_size: int = BATCH_SIZE) -> Iterator[ExportRow]:
        """Yield matching scenarios one at a time, fetching `batch_size` rows per round trip.

        With `with_ratings`, each batch's individual ratings come from one `IN (...)` query, so
        reviewers cost one extra query per batch rather than one per scenario.
        """
        query = _export_query(criteria).execution_options(yield_per=batch_size)
        with self.session() as s:
            for batch in s.execute(query).partitions():
                ratings = _ratings_for(s, [int(r[0]) for r in batch]) if with_ratings else {}
                for r in batch:
                    sid = int(r[0])
                    yield ExportRow(
                        sid, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                        int(r[13]), int(r[14]), (int(r[15]), int(r[16]), int(r[17]), int(r[18]), int(r[19])),
                        tuple(ratings.get(sid, ())) if with_ratings else None,
                    )
