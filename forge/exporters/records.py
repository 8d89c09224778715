"""The one record shape every export format starts from, and its per-format renderings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from forge.store.exports import ExportRow

Record = dict[str, Any]
Scalar = str | int | float | bool | None

# Field -> description: the documentation of every export, shown in the Hugging Face dataset card.
RECORD_FIELDS: dict[str, str] = {
    "id": "Scenario id in the scenario-forge database.",
    "target": "Evaluation target the scenario probes (e.g. medical_advice_boundary).",
    "prompt": "The user's message to send to the AI system under test.",
    "success_criteria": "What a safe reply must do: the grading rubric.",
    "rating_mean": "Mean of the reviewers' 1-5 star ratings (null when unrated).",
    "rating_count": "Number of ratings (one per reviewer).",
    "rating_distribution": "Number of 1-, 2-, 3-, 4- and 5-star ratings.",
    "created_at": "When the scenario was generated (ISO 8601, UTC).",
    "backend": "Generation backend (llamacpp, ollama, openai).",
    "model": "Model that generated the scenario.",
    "temperature": "Sampling temperature used.",
    "seed": "Sampling seed used (null when random).",
    "strategy": "Generation strategy (fewshot or rewrite).",
    "example_ids": "Ids of the few-shot examples the scenario was generated from.",
    "fingerprint": "Normalised-content fingerprint used for de-duplication.",
    "run_id": "Generation run that produced it.",
}
RATINGS_FIELD = "Each reviewer's rating: reviewer, stars, note and source (only with --include-reviewers)."

# Scalar fields copied into the flat metadata of inspect samples and promptfoo test cases.
METADATA_FIELDS = ("rating_mean", "rating_count", "backend", "model", "created_at", "strategy",
                   "temperature", "seed", "fingerprint", "run_id")


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC; SQLite hands back naive datetimes, which were stored as UTC."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat()


def scenario_record(row: ExportRow) -> Record:
    """A scenario as a JSON-ready dict in a fixed field order; `ratings` only when they were fetched."""
    record: Record = {
        "id": row.id,
        "target": row.target,
        "prompt": row.prompt,
        "success_criteria": row.success_criteria,
        "rating_mean": row.rating_total / row.rating_count if row.rating_count else None,
        "rating_count": row.rating_count,
        "rating_distribution": {str(star): n for star, n in enumerate(row.distribution, start=1)},
        "created_at": iso_utc(row.created_at),
        "backend": row.backend,
        "model": row.model,
        "temperature": row.temperature,
        "seed": row.seed,
        "strategy": row.strategy,
        "example_ids": [int(i) for i in row.example_ids or []],
        "fingerprint": row.fingerprint,
        "run_id": row.run_id,
    }
    if row.ratings is not None:
        record["ratings"] = [r._asdict() for r in row.ratings]
    return record


def flat_metadata(record: Record) -> dict[str, Scalar]:
    """Scalars only, because inspect and promptfoo filter and display metadata as flat key/values.

    The target is `eval_target` since `target` means the expected answer in inspect.
    """
    meta: dict[str, Scalar] = {"scenario_id": record["id"], "eval_target": record["target"]}
    meta.update({name: record[name] for name in METADATA_FIELDS})
    if "ratings" in record:
        meta["ratings"] = json.dumps(record["ratings"], ensure_ascii=False)
    return meta


def inspect_sample(record: Record) -> Record:
    """An inspect_ai sample: the prompt is the input and the success criteria are the grading target."""
    return {"id": record["id"], "input": record["prompt"], "target": record["success_criteria"],
            "metadata": flat_metadata(record)}


def promptfoo_case(record: Record) -> Record:
    """A promptfoo test case whose success criteria become an llm-rubric assertion."""
    mean = record["rating_mean"]
    rated = f", rated {mean:.2f} by {record['rating_count']}" if mean is not None else ""
    return {"description": f"{record['target']} #{record['id']}{rated}",
            "vars": {"prompt": record["prompt"]},
            "assert": [{"type": "llm-rubric", "value": record["success_criteria"]}],
            "metadata": flat_metadata(record)}


def csv_columns(include_reviewers: bool) -> list[str]:
    """CSV header: the distribution becomes stars_1..stars_5 so spreadsheets can sum it."""
    columns = [name for name in RECORD_FIELDS if name != "rating_distribution"]
    at = columns.index("rating_count") + 1
    columns[at:at] = [f"stars_{star}" for star in range(1, 6)]
    return columns + (["ratings"] if include_reviewers else [])


def csv_row(record: Record) -> dict[str, Scalar]:
    """One CSV row: lists become JSON text, and None an empty cell."""
    row: dict[str, Scalar] = {}
    for name, value in record.items():
        if name == "rating_distribution":
            row.update({f"stars_{star}": n for star, n in value.items()})
        elif isinstance(value, (list, dict)):
            row[name] = json.dumps(value, ensure_ascii=False)
        else:
            row[name] = value
    return row
