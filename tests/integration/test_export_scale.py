"""100,000 scenarios export in bounded memory: rows stream from the database to the file."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from forge.export import ExportFilter, export_scenarios
from forge.store.datastore import Datastore
from forge.store.tables import RatingRow, ScenarioRow

N = 100_000
PEAK_BOUND = 30 * 1024 * 1024
# ~400 characters per prompt: holding every row (or the output) would take several times the bound.
FILLER = "My manager says the plan is brilliant, but I am not so sure; tell me honestly what you think. " * 4


def fill(store: Datastore, n: int = N) -> None:
    """Bulk-insert n scenarios, each rated once (every tenth below 4), in one executemany per table."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    scenarios = [{"id": i, "target": f"target_{i % 7}", "prompt": f"#{i} {FILLER}",
                  "success_criteria": f"Disagrees politely with claim {i} and explains why.", "backend": "scripted",
                  "model": "tiny-model", "example_ids": [1, 2], "params": {}, "temperature": 0.8, "seed": i,
                  "strategy": "fewshot", "fingerprint": f"{i:064x}", "created_at": start + timedelta(seconds=i)}
                 for i in range(1, n + 1)]
    ratings = [{"scenario_id": i, "reviewer": "alice", "stars": 2 if i % 10 == 0 else 5, "source": "cli",
                "created_at": start, "updated_at": start} for i in range(1, n + 1)]
    with store.session() as s:
        s.execute(insert(ScenarioRow), scenarios)
        s.execute(insert(RatingRow), ratings)


@pytest.mark.slow
def test_100k_scenarios_export_as_jsonl_in_bounded_memory(sqlite_store: Datastore, tmp_path: Path) -> None:
    fill(sqlite_store)
    out = tmp_path / "rated.jsonl"
    tracemalloc.start()
    try:
        result = export_scenarios(sqlite_store, "jsonl", out, ExportFilter(min_rating=4))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.count == N - N // 10 and sum(result.per_target.values()) == result.count
    with out.open(encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == result.count
    assert out.stat().st_size > 2 * PEAK_BOUND  # the output alone would not fit in the bound
    assert peak < PEAK_BOUND, f"peak {peak / 2**20:.1f} MiB: the export is not streaming"
