"""The Datastore: intent-named methods over the SQLAlchemy tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from forge.diversity import example_fingerprint
from forge.domain import Example, ExampleIn, GenerationParams, Scenario
from forge.errors import InvalidInputError, NotFoundError
from forge.store.engine import ensure_schema, make_engine
from forge.store.exports import ExportQueries
from forge.store.outbox import OutboxQueries
from forge.store.ratings import RatingQueries
from forge.store.tables import ExampleRow, GenerationRunRow, ScenarioRow, TargetRow


@dataclass
class ImportReport:
    """What `import_examples_from_yaml` did, per target."""

    added: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    @property
    def total_added(self) -> int:
        return sum(self.added.values())

    @property
    def total_unchanged(self) -> int:
        return sum(self.unchanged.values())


def _to_example(row: ExampleRow) -> Example:
    return Example(
        id=row.id,
        target=row.target,
        prompt=row.prompt,
        success_criteria=row.success_criteria,
        source="database",
        created_at=row.created_at,
        effectiveness_score=row.effectiveness_score,
        usage_count=row.usage_count,
    )


def _to_scenario(row: ScenarioRow) -> Scenario:
    return Scenario(
        id=row.id,
        target=row.target,
        prompt=row.prompt,
        success_criteria=row.success_criteria,
        backend=row.backend,
        model=row.model,
        example_ids=list(row.example_ids or []),
        params=GenerationParams.model_validate(row.params or {}),
        strategy=row.strategy,
        fingerprint=row.fingerprint,
        run_id=row.run_id,
        created_at=row.created_at,
    )


class Datastore(RatingQueries, ExportQueries, OutboxQueries):
    """All persistence goes through here; each method is one transaction."""

    def __init__(self, url: str, *, engine: Engine | None = None, migrate: bool = True) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        if migrate:
            ensure_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # -- targets ---------------------------------------------------------

    def save_target(self, name: str, description: str, origin: str = "user") -> None:
        with self.session() as s:
            row = s.get(TargetRow, name)
            if row is None:
                s.add(TargetRow(name=name, description=description, origin=origin))
            elif description:
                row.description = description

    def user_targets(self) -> dict[str, str]:
        """Targets saved in the database: name -> description."""
        with self.session() as s:
            return {r.name: r.description for r in s.scalars(select(TargetRow))}

    def scenario_counts(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(ScenarioRow.target, func.count()).group_by(ScenarioRow.target))
            return {t: int(c) for t, c in rows}

    def example_counts(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(ExampleRow.target, func.count()).group_by(ExampleRow.target))
            return {t: int(c) for t, c in rows}

    # -- examples --------------------------------------------------------

    def import_examples_from_yaml(self, directory: str | Path) -> ImportReport:
        """Copy every `<target>.yaml` into the database; running it twice adds nothing."""
        from forge.examples import load_target_file, target_files

        specs = [load_target_file(p) for p in target_files(Path(directory)).values()]
        report = ImportReport()
        for spec in specs:  # parse everything first: a bad file must not leave a half import
            added, unchanged = self.upsert_examples(spec.name, spec.examples, source_file=str(spec.path))
            report.added[spec.name] = added
            report.unchanged[spec.name] = unchanged
            if spec.description:
                self.save_target(spec.name, spec.description, origin="yaml")
        return report

    def upsert_examples(self, target: str, examples: list[ExampleIn], source_file: str | None = None) -> tuple[int, int]:
        """Insert examples not yet stored for `target`; returns (added, unchanged)."""
        with self.session() as s:
            existing = set(s.scalars(select(ExampleRow.fingerprint).where(ExampleRow.target == target)))
            added = 0
            for e in examples:
                fp = example_fingerprint(e.prompt, e.success_criteria)
                if fp in existing:
                    continue
                existing.add(fp)
                s.add(ExampleRow(target=target, prompt=e.prompt, success_criteria=e.success_criteria,
                                 fingerprint=fp, source_file=source_file, usage_count=0))
                added += 1
            return added, len(examples) - added

    def has_examples(self, target: str) -> bool:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(ExampleRow).where(ExampleRow.target == target)) > 0

    def get_top_examples(self, target: str, limit: int | None = None) -> list[Example]:
        """Most effective first (unknown effectiveness counts as neutral), then least used."""
        score = func.coalesce(ExampleRow.effectiveness_score, 0.5)
        query = (select(ExampleRow).where(ExampleRow.target == target)
                 .order_by(score.desc(), ExampleRow.usage_count, ExampleRow.id))
        if limit:
            query = query.limit(limit)
        with self.session() as s:
            return [_to_example(r) for r in s.scalars(query)]

    def record_example_usage(self, example_ids: list[int]) -> None:
        if not example_ids:
            return
        with self.session() as s:
            s.execute(update(ExampleRow).where(ExampleRow.id.in_(example_ids))
                      .values(usage_count=ExampleRow.usage_count + 1))

    def rate_example_effectiveness(self, example_id: int, success_rate: float) -> Example:
        """Record how often scenarios made from this example proved effective (0..1)."""
        if not 0.0 <= success_rate <= 1.0:
            raise InvalidInputError(f"Effectiveness must be between 0 and 1, got {success_rate}.",
                                    "Pass a success rate such as 0.75.")
        with self.session() as s:
            row = s.get(ExampleRow, example_id)
            if row is None:
                raise NotFoundError(f"No example with id {example_id}.", "Run `scenario-forge examples import` first.")
            row.effectiveness_score = success_rate
            s.flush()
            return _to_example(row)

    # -- generation runs and scenarios ----------------------------------

    def start_run(self, target: str, backend: str, model: str, requested: int, params: dict[str, Any]) -> int:
        with self.session() as s:
            row = GenerationRunRow(target=target, backend=backend, model=model, requested=requested, params=params,
                                   generated=0, rejected=0, rejection_reasons={}, status="running")
            s.add(row)
            s.flush()
            return row.id

    def finish_run(self, run_id: int, *, generated: int, rejected: int, reasons: dict[str, int],
                   status: str, error: str | None = None) -> None:
        with self.session() as s:
            row = s.get(GenerationRunRow, run_id)
            if row is None:
                return
            row.generated, row.rejected, row.rejection_reasons = generated, rejected, dict(reasons)
            row.status, row.error, row.finished_at = status, error, datetime.now(UTC)

    def get_run(self, run_id: int) -> dict[str, Any]:
        with self.session() as s:
            row = s.get(GenerationRunRow, run_id)
            if row is None:
                raise NotFoundError(f"No generation run with id {run_id}.")
            return {c.name: getattr(row, c.name) for c in GenerationRunRow.__table__.columns}

    def add_scenario(self, scenario: Scenario) -> Scenario | None:
        """Store and commit one scenario at once; None if an identical one is already stored."""
        row = ScenarioRow(
            target=scenario.target, prompt=scenario.prompt, success_criteria=scenario.success_criteria,
            backend=scenario.backend, model=scenario.model, example_ids=scenario.example_ids,
            params=scenario.params.model_dump(), temperature=scenario.params.temperature,
            seed=scenario.params.seed, strategy=scenario.strategy, fingerprint=scenario.fingerprint,
            run_id=scenario.run_id,
        )
        try:
            with self.session() as s:
                s.add(row)
                s.flush()
                return _to_scenario(row)
        except IntegrityError:
            return None

    def scenario_prompts(self, target: str, limit: int = 5000) -> list[str]:
        """Recent stored prompts for a target, for near-duplicate checks."""
        query = (select(ScenarioRow.prompt).where(ScenarioRow.target == target)
                 .order_by(ScenarioRow.id.desc()).limit(limit))
        with self.session() as s:
            return list(s.scalars(query))

    def list_scenarios(self, target: str | None = None, limit: int = 50, offset: int = 0) -> list[Scenario]:
        query = select(ScenarioRow).order_by(ScenarioRow.id.desc()).limit(limit).offset(offset)
        if target:
            query = query.where(ScenarioRow.target == target)
        with self.session() as s:
            return [_to_scenario(r) for r in s.scalars(query)]

    def count_scenarios(self, target: str | None = None) -> int:
        query = select(func.count()).select_from(ScenarioRow)
        if target:
            query = query.where(ScenarioRow.target == target)
        with self.session() as s:
            return int(s.scalar(query) or 0)

    def get_scenario(self, scenario_id: int) -> Scenario:
        with self.session() as s:
            row = s.get(ScenarioRow, scenario_id)
            if row is None:
                raise NotFoundError(f"No scenario with id {scenario_id}.",
                                    "Run `scenario-forge scenarios list` to see stored ids.")
            return _to_scenario(row)
