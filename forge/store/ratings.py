"""Datastore methods for ratings and their aggregates (mixed into Datastore)."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from forge.errors import InvalidInputError, NotFoundError
from forge.store.tables import RatingRow, ScenarioRow

if TYPE_CHECKING:
    from forge.domain import Scenario

STARS = range(1, 6)


class RatingCell(NamedTuple):
    """One stored rating, flattened for statistics."""

    scenario_id: int
    target: str
    reviewer: str
    stars: int


class StoredRating(NamedTuple):
    """One reviewer's rating of one scenario as stored."""

    scenario_id: int
    reviewer: str
    stars: int
    note: str | None
    source: str
    created_at: datetime
    updated_at: datetime


def _insert_for(dialect: str) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT; both SQLite and PostgreSQL spell it the same way."""
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise InvalidInputError(f"Ratings need SQLite or PostgreSQL, not {dialect}.",
                            "Set FORGE_DATABASE_URL to a sqlite:// or postgresql+psycopg:// URL.")


class RatingQueries:
    """Rating upserts, aggregates and review queues. Methods use `self.session()` from Datastore."""

    if TYPE_CHECKING:
        from sqlalchemy import Engine

        engine: Engine

        def session(self) -> AbstractContextManager[Session]: ...

    def upsert_rating(self, scenario_id: int, reviewer: str, stars: int, note: str | None,
                      source: str) -> StoredRating:
        """Insert or replace one reviewer's rating in a single atomic statement.

        ON CONFLICT DO UPDATE is atomic on both databases, so the bot and the CLI rating at once never
        lose a write or hit the unique constraint. The statement is a write from its first step, so SQLite
        takes its write lock (waiting on busy_timeout) instead of failing to upgrade a stale read snapshot.
        """
        if stars not in STARS:
            raise InvalidInputError(f"Stars must be 1 to 5, got {stars}.", "Rate with a whole number from 1 to 5.")
        with self.session() as s:
            if s.get(ScenarioRow, scenario_id) is None:
                raise NotFoundError(f"No scenario with id {scenario_id}.",
                                    "Run `scenario-forge scenarios list` to see stored ids.")
        now = datetime.now(UTC)
        insert = _insert_for(self.engine.dialect.name)
        stmt = insert(RatingRow).values(scenario_id=scenario_id, reviewer=reviewer, stars=stars, note=note,
                                        source=source, created_at=now, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[RatingRow.scenario_id, RatingRow.reviewer],
            set_={"stars": stmt.excluded.stars, "note": stmt.excluded.note, "source": stmt.excluded.source,
                  "updated_at": stmt.excluded.updated_at},
        ).returning(RatingRow.scenario_id, RatingRow.reviewer, RatingRow.stars, RatingRow.note, RatingRow.source,
                    RatingRow.created_at, RatingRow.updated_at)
        with self.session() as s:
            row = s.execute(stmt).one()
        return StoredRating(*row)

    def get_rating(self, scenario_id: int, reviewer: str) -> StoredRating | None:
        query = select(RatingRow).where(RatingRow.scenario_id == scenario_id, RatingRow.reviewer == reviewer)
        with self.session() as s:
            row = s.scalar(query)
            if row is None:
                return None
            return StoredRating(row.scenario_id, row.reviewer, row.stars, row.note, row.source,
                                row.created_at, row.updated_at)

    def delete_rating(self, scenario_id: int, reviewer: str) -> bool:
        """Remove one reviewer's rating; False when there was none."""
        stmt = delete(RatingRow).where(RatingRow.scenario_id == scenario_id, RatingRow.reviewer == reviewer)
        with self.session() as s:
            return bool(s.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def rating_distribution(self, scenario_id: int) -> dict[int, int]:
        """Stars -> number of ratings for one scenario, with every star from 1 to 5 present."""
        query = (select(RatingRow.stars, func.count()).where(RatingRow.scenario_id == scenario_id)
                 .group_by(RatingRow.stars))
        with self.session() as s:
            counts = {int(stars): int(n) for stars, n in s.execute(query)}
        return {star: counts.get(star, 0) for star in STARS}

    def rating_cells(self, target: str | None = None) -> list[RatingCell]:
        """Every rating with its scenario's target, for statistics and agreement."""
        query = (select(RatingRow.scenario_id, ScenarioRow.target, RatingRow.reviewer, RatingRow.stars)
                 .join(ScenarioRow, ScenarioRow.id == RatingRow.scenario_id)
                 .order_by(RatingRow.scenario_id, RatingRow.reviewer))
        if target:
            query = query.where(ScenarioRow.target == target)
        with self.session() as s:
            return [RatingCell(int(i), t, r, int(st)) for i, t, r, st in s.execute(query)]

    def rated_scenario_ids(self, min_mean: float = 4.0, min_ratings: int = 1,
                           target: str | None = None) -> list[int]:
        """Scenarios whose mean rating is at least `min_mean` over at least `min_ratings` ratings.

        Compares sum(stars) >= min_mean * count instead of avg(), so 4.0 is exact on both databases.
        """
        query = (select(RatingRow.scenario_id).group_by(RatingRow.scenario_id)
                 .having(func.sum(RatingRow.stars) >= min_mean * func.count(),
                         func.count() >= max(1, min_ratings))
                 .order_by(RatingRow.scenario_id))
        if target:
            query = query.join(ScenarioRow, ScenarioRow.id == RatingRow.scenario_id).where(ScenarioRow.target == target)
        with self.session() as s:
            return [int(i) for i in s.scalars(query)]

    # -- review queue ------------------------------------------------------

    def _unrated_query(self, reviewer: str, target: str | None, exclude: Collection[int]) -> Select[Any]:
        rated = exists().where(RatingRow.scenario_id == ScenarioRow.id, RatingRow.reviewer == reviewer)
        query = select(ScenarioRow).where(~rated)
        if target:
            query = query.where(ScenarioRow.target == target)
        if exclude:
            query = query.where(ScenarioRow.id.not_in(list(exclude)))
        return query

    def unrated_scenarios(self, reviewer: str, target: str | None = None, limit: int = 10,
                          exclude: Collection[int] = ()) -> list[Scenario]:
        """Scenarios this reviewer has not rated, oldest first, so review resumes where it stopped."""
        from forge.store.datastore import _to_scenario

        query = (self._unrated_query(reviewer, target, exclude)
                 .order_by(ScenarioRow.created_at, ScenarioRow.id).limit(limit))
        with self.session() as s:
            return [_to_scenario(r) for r in s.scalars(query)]

    def count_unrated(self, reviewer: str, target: str | None = None, exclude: Collection[int] = ()) -> int:
        query = self._unrated_query(reviewer, target, exclude).with_only_columns(func.count(ScenarioRow.id))
        with self.session() as s:
            return int(s.scalar(query) or 0)
