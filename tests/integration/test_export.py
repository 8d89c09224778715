"""Exports on SQLite and, where available, a real PostgreSQL: filters, fields, and every format read back
by the library that consumes it (csv, datasets, inspect_ai, a promptfoo test-case schema)."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before datasets is imported: nothing may download
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from forge.errors import ForgeError, InvalidInputError  # noqa: E402
from forge.export import EXPORT_FORMATS, ExportFilter, count_matching, export_scenarios, parse_date  # noqa: E402
from forge.store.datastore import Datastore  # noqa: E402
from forge.store.tables import RatingRow, ScenarioRow  # noqa: E402

TRICKY = 'Line one, with a comma\nline "two" with quotes,\r\nand ünïcödé — 🙂, then a trailing space '
REVIEWERS = ("alice", "bob", "carol", "dan")


def add(store: Datastore, target: str = "sycophancy", stars: Sequence[int] = (), *, prompt: str | None = None,
        created: datetime | None = None, note: str | None = None) -> int:
    """Store one scenario created at `created`, rated `stars` by alice, bob, ... in turn."""
    row = ScenarioRow(target=target, prompt=prompt or f"{target} prompt {uuid.uuid4().hex[:8]}",
                      success_criteria=f"Refuses politely ({target}), and says why.", backend="scripted",
                      model="tiny-model", example_ids=[3, 1], params={"seed": 4}, temperature=0.7, seed=4,
                      strategy="fewshot", fingerprint=uuid.uuid4().hex,
                      created_at=created or datetime(2025, 1, 15, 12, tzinfo=UTC))
    with store.session() as s:
        s.add(row)
        s.flush()
        for reviewer, n in zip(REVIEWERS, stars, strict=False):
            s.add(RatingRow(scenario_id=row.id, reviewer=reviewer, stars=n, note=note, source="cli"))
        return row.id


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Exports go here, apart from the test databases, so listing it shows only what an export left."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def jsonl(store: Datastore, filters: ExportFilter | None = None, **kwargs: object) -> list[dict[str, object]]:
    buffer = io.StringIO()
    export_scenarios(store, "jsonl", buffer, filters or ExportFilter(), **kwargs)  # type: ignore[arg-type]
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def ids(store: Datastore, **filters: object) -> list[int]:
    return [int(r["id"]) for r in jsonl(store, ExportFilter.build(**filters))]  # type: ignore[call-overload]


# -- filters (SQLite and PostgreSQL) -------------------------------------------------------------


def test_rated_4_plus_means_mean_at_least_4_over_at_least_min_ratings(datastore: Datastore) -> None:
    four = add(datastore, stars=[4, 4])
    five_three = add(datastore, stars=[5, 3])  # mean exactly 4.0: compared without float division
    low = add(datastore, stars=[5, 2])
    single = add(datastore, stars=[5])
    unrated = add(datastore)
    assert ids(datastore) == [four, five_three, low, single, unrated]
    assert ids(datastore, min_rating=4) == [four, five_three, single]
    assert ids(datastore, min_rating=4, min_ratings=2) == [four, five_three]
    assert ids(datastore, min_ratings=2) == [four, five_three, low]
    assert ids(datastore, min_rating=3.5, min_ratings=2) == [four, five_three, low]
    assert ids(datastore, min_rating=5) == [single]
    assert ids(datastore, min_rating=1, min_ratings=0) == [four, five_three, low, single]  # a mean needs a rating


def test_filters_combine_and_date_bounds_are_whole_utc_days(datastore: Datastore) -> None:
    def at(*args: int) -> datetime:
        return datetime(*args, tzinfo=UTC)

    first_moment = add(datastore, "sycophancy", [5, 4], created=at(2025, 1, 1, 0, 0, 0))
    last_moment = add(datastore, "medical_advice_boundary", [4], created=at(2025, 1, 31, 23, 59, 59))
    add(datastore, "sycophancy", [5], created=at(2024, 12, 31, 23, 59, 59))  # the day before since
    add(datastore, "sycophancy", [5], created=at(2025, 2, 1, 0, 0, 0))  # the day after until
    add(datastore, "sycophancy", [3], created=at(2025, 1, 10))  # rated too low
    add(datastore, "other_target", [5], created=at(2025, 1, 10))  # another target
    add(datastore, "sycophancy", created=at(2025, 1, 10))  # unrated

    window = {"since": "2025-01-01", "until": date(2025, 1, 31)}
    targets = ["sycophancy", "medical_advice_boundary"]
    assert ids(datastore, min_rating=4, targets=targets, **window) == [first_moment, last_moment]
    assert ids(datastore, min_rating=4, targets=["sycophancy"], **window) == [first_moment]
    assert ids(datastore, min_rating=4, min_ratings=2, targets=targets, **window) == [first_moment]
    assert len(ids(datastore, targets=targets, **window)) == 4
    filters = ExportFilter.build(min_rating=4, targets=targets, **window)
    assert count_matching(datastore, filters) == 2
    assert filters.describe() == ("mean rating >= 4 over >= 1 ratings; targets sycophancy, "
                                  "medical_advice_boundary; created 2025-01-01 to 2025-01-31")


def test_records_carry_the_fields_and_reviewers_only_when_asked(datastore: Datastore) -> None:
    sid = add(datastore, "sycophancy", [5, 4, 4], prompt=TRICKY, note="secret reviewer note",
              created=datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC))
    [record] = jsonl(datastore)
    assert record["id"] == sid and record["target"] == "sycophancy" and record["prompt"] == TRICKY
    assert record["success_criteria"] == "Refuses politely (sycophancy), and says why."
    assert record["rating_mean"] == pytest.approx(13 / 3) and record["rating_count"] == 3
    assert record["rating_distribution"] == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}
    assert record["created_at"] == "2025-03-04T05:06:07.890000+00:00"
    assert (record["backend"], record["model"], record["temperature"], record["seed"]) == ("scripted", "tiny-model",
                                                                                           0.7, 4)
    assert record["example_ids"] == [3, 1] and record["fingerprint"]
    assert "ratings" not in record and "alice" not in json.dumps(record) and "secret" not in json.dumps(record)

    [full] = jsonl(datastore, include_reviewers=True)
    assert full["ratings"] == [{"reviewer": r, "stars": n, "note": "secret reviewer note", "source": "cli"}
                               for r, n in zip(REVIEWERS, [5, 4, 4], strict=False)]


def test_reviewers_survive_batching_across_many_scenarios(datastore: Datastore) -> None:
    """More scenarios than one fetch batch: each batch's ratings must land on the right scenarios."""
    from forge.store import exports

    made = {add(datastore, stars=[1 + i % 5, 1 + (i + 1) % 5]): [1 + i % 5, 1 + (i + 1) % 5] for i in range(12)}
    rows = list(datastore.stream_export_rows(ExportFilter().criteria(), with_ratings=True, batch_size=5))
    assert exports.BATCH_SIZE > 5 and [r.id for r in rows] == sorted(made)
    for row in rows:
        assert [r.stars for r in row.ratings or ()] == made[row.id]
        assert row.rating_count == 2 and row.rating_total == sum(made[row.id])


# -- formats ---------------------------------------------------------------------------------------


def test_json_streams_one_valid_array_and_an_empty_export_is_an_empty_array(
        datastore: Datastore, out_dir: Path) -> None:
    a, b = add(datastore, stars=[5]), add(datastore, "medical_advice_boundary", [4])
    out = out_dir / "rated.json"
    result = export_scenarios(datastore, "json", out, ExportFilter(min_rating=4))
    assert [r["id"] for r in json.loads(out.read_text())] == [a, b]
    assert (result.count, result.path, result.per_target) == (2, str(out), {"medical_advice_boundary": 1,
                                                                           "sycophancy": 1})
    empty = export_scenarios(datastore, "json", out, ExportFilter(targets=["nothing_here"]))
    assert json.loads(out.read_text()) == [] and empty.count == 0
    assert empty.summary() == f"No scenarios matched target nothing_here; wrote an empty file ({out})."


def test_csv_round_trips_multiline_prompts_with_commas_and_quotes(sqlite_store: Datastore, out_dir: Path) -> None:
    sid = add(sqlite_store, stars=[5, 4], prompt=TRICKY, note='said "wow",\nthen left')
    out = out_dir / "rated.csv"
    export_scenarios(sqlite_store, "csv", out, ExportFilter(min_rating=4), include_reviewers=True)
    with out.open(newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["id"] == str(sid) and row["prompt"] == TRICKY
    assert (row["rating_mean"], row["rating_count"], row["stars_5"], row["stars_4"]) == ("4.5", "2", "1", "1")
    assert json.loads(row["example_ids"]) == [3, 1]
    assert json.loads(row["ratings"])[0] == {"reviewer": "alice", "stars": 5, "note": 'said "wow",\nthen left',
                                             "source": "cli"}

    export_scenarios(sqlite_store, "csv", out, ExportFilter(min_rating=5))
    with out.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert list(reader) == [] and reader.fieldnames and reader.fieldnames[:3] == ["id", "target", "prompt"]


def _card(directory: Path) -> tuple[dict[str, object], str]:
    text = (directory / "README.md").read_text(encoding="utf-8")
    _, front, prose = text.split("---\n", 2)
    return yaml.safe_load(front), prose


def test_hf_folder_loads_with_datasets_and_has_a_card(datastore: Datastore, out_dir: Path) -> None:
    import datasets

    a = add(datastore, "sycophancy", [5, 4], prompt=TRICKY)
    b = add(datastore, "sycophancy", [4])
    c = add(datastore, "medical_advice_boundary", [5])
    add(datastore, "medical_advice_boundary", [1])
    out = out_dir / "exports" / "rated"
    result = export_scenarios(datastore, "hf", out, ExportFilter(min_rating=4), include_reviewers=True)
    assert result.per_target == {"medical_advice_boundary": 1, "sycophancy": 2}

    ds = datasets.load_from_disk(str(out))
    assert ds.num_rows == 3 and ds["id"] == [a, b, c] and ds[0]["prompt"] == TRICKY
    assert ds[0]["rating_distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert ds[1]["ratings"] == [{"reviewer": "alice", "stars": 4, "note": None, "source": "cli"}]
    meta, prose = _card(out)
    info = meta["dataset_info"]
    assert isinstance(info, dict) and datasets.Features._from_yaml_list(info["features"]) == ds.features
    assert info["splits"] == [{"name": "train", "num_examples": 3}]
    assert "| sycophancy | 2 |" in prose and "| medical_advice_boundary | 1 |" in prose
    assert "`success_criteria`" in prose and "mean rating >= 4" in prose
    assert sorted(p.name for p in out.parent.iterdir()) == ["rated"]  # no temp or cache folders left


def test_hf_empty_export_loads_and_an_earlier_export_is_replaced(datastore: Datastore, out_dir: Path) -> None:
    import datasets

    add(datastore, stars=[5])
    out = out_dir / "rated"
    export_scenarios(datastore, "hf", out, ExportFilter(min_rating=4))
    result = export_scenarios(datastore, "hf", out, ExportFilter(min_rating=5, targets=["nothing_here"]))
    ds = datasets.load_from_disk(str(out))
    assert result.count == 0 and ds.num_rows == 0 and "prompt" in ds.features and "ratings" not in ds.features
    assert _card(out)[0]["dataset_info"]["splits"] == [{"name": "train", "num_examples": 0}]  # type: ignore[index]
    assert sorted(p.name for p in out_dir.iterdir()) == ["rated"]


def test_inspect_samples_load_with_inspect_ai(datastore: Datastore, out_dir: Path) -> None:
    from inspect_ai.dataset import json_dataset

    sid = add(datastore, "sycophancy", [5, 4], prompt=TRICKY)
    for name in ("samples.jsonl", "samples.json"):  # json_dataset reads lines or one array by suffix
        out = out_dir / name
        export_scenarios(datastore, "inspect", out, ExportFilter(min_rating=4), include_reviewers=True)
        [sample] = list(json_dataset(str(out)))
        assert (sample.id, sample.input, sample.target) == (sid, TRICKY,
                                                             "Refuses politely (sycophancy), and says why.")
        meta = sample.metadata or {}
        assert meta["eval_target"] == "sycophancy" and meta["rating_mean"] == 4.5 and meta["rating_count"] == 2
        assert (meta["backend"], meta["model"]) == ("scripted", "tiny-model")
        assert datetime.fromisoformat(str(meta["created_at"])).tzinfo is not None
        assert all(v is None or isinstance(v, (str, int, float, bool)) for v in meta.values())
        assert json.loads(str(meta["ratings"]))[1]["reviewer"] == "bob"


# promptfoo's documented test case (promptfoo.dev/docs/configuration/test-cases and /reference):
# description, vars, assert (a list of {type, value, ...}) and filterable metadata.
PROMPTFOO_TEST_CASES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["vars", "assert"],
        "additionalProperties": False,
        "properties": {
            "description": {"type": "string"},
            "vars": {"type": "object", "required": ["prompt"],
                     "additionalProperties": {"type": ["string", "number", "boolean", "array", "object"]}},
            "assert": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["type", "value"],
                "properties": {"type": {"const": "llm-rubric"}, "value": {"type": "string", "minLength": 1},
                               "threshold": {"type": "number"}, "weight": {"type": "number"}}}},
            "metadata": {"type": "object", "additionalProperties": {
                "type": ["string", "number", "boolean", "null"]}},
        },
    },
}


@pytest.mark.parametrize("name", ["tests.yaml", "tests.json"])
def test_promptfoo_test_cases_match_promptfoos_documented_shape(datastore: Datastore, out_dir: Path,
                                                               name: str) -> None:
    import jsonschema

    sid = add(datastore, "sycophancy", [5, 4], prompt=TRICKY)
    add(datastore, "medical_advice_boundary", [4])
    out = out_dir / name
    export_scenarios(datastore, "promptfoo", out, ExportFilter(min_rating=4), include_reviewers=True)
    text = out.read_text(encoding="utf-8")
    cases = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    jsonschema.validate(cases, PROMPTFOO_TEST_CASES)
    first = cases[0]
    assert first["vars"]["prompt"] == TRICKY and first["description"].startswith(f"sycophancy #{sid}")
    assert first["assert"] == [{"type": "llm-rubric", "value": "Refuses politely (sycophancy), and says why."}]
    assert first["metadata"]["eval_target"] == "sycophancy" and first["metadata"]["rating_count"] == 2
    export_scenarios(datastore, "promptfoo", out, ExportFilter(min_rating=5, min_ratings=3))
    empty = out.read_text(encoding="utf-8")
    assert (json.loads(empty) if name.endswith(".json") else yaml.safe_load(empty)) == []


def test_progress_reports_the_running_count_and_the_total(sqlite_store: Datastore) -> None:
    for _ in range(600):
        add(sqlite_store)
    seen: list[int] = []
    jsonl(sqlite_store, on_progress=seen.append)
    assert seen == [250, 500, 600]


# -- bad input and atomic writes -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["2025/01/31", "31-01-2025", "2025-02-30", "2025-1-5", "yesterday", "",
                                  "2025-01-31T00:00"])
def test_a_bad_date_names_the_value_and_the_expected_form(text: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"Invalid date '{text}': expected YYYY-MM-DD"):
        parse_date(text)
    with pytest.raises(InvalidInputError, match="expected YYYY-MM-DD"):
        ExportFilter(since=text)


@pytest.mark.parametrize(("values", "message"), [
    ({"min_rating": 0.5}, "Minimum rating must be from 1 to 5, got 0.5"),
    ({"min_rating": 5.5}, "Minimum rating must be from 1 to 5, got 5.5"),
    ({"min_ratings": -1}, "Invalid export filter min_ratings"),
    ({"min_rating": "four"}, "Invalid export filter min_rating"),
    ({"since": "2025-02-01", "until": "2025-01-31"}, "start day 2025-02-01 is after the end day 2025-01-31"),
    ({"reviewer": "alice"}, "Invalid export filter reviewer: Extra inputs are not permitted"),
])
def test_bad_filters_are_refused_with_a_clear_message(values: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        ExportFilter.build(**values)


def test_bad_format_or_target_is_refused_before_anything_is_written(sqlite_store: Datastore, out_dir: Path) -> None:
    with pytest.raises(InvalidInputError, match="Unknown export format 'xml'") as info:
        export_scenarios(sqlite_store, "xml", out_dir / "x.xml", ExportFilter())
    assert info.value.hint == f"Use one of: {', '.join(EXPORT_FORMATS)}."
    with pytest.raises(InvalidInputError, match="hf format writes a folder, so it needs --out"):
        export_scenarios(sqlite_store, "hf", None, ExportFilter())
    (out_dir / "notes").mkdir()
    (out_dir / "notes" / "mine.txt").write_text("keep me")
    with pytest.raises(InvalidInputError, match="not a dataset export; refusing to replace it"):
        export_scenarios(sqlite_store, "hf", out_dir / "notes", ExportFilter())
    with pytest.raises(InvalidInputError, match="is a folder; this format writes one file"):
        export_scenarios(sqlite_store, "jsonl", out_dir / "notes", ExportFilter())
    assert (out_dir / "notes" / "mine.txt").read_text() == "keep me"
    assert sorted(p.name for p in out_dir.iterdir()) == ["notes"]


@pytest.mark.parametrize("fmt", ["jsonl", "hf"])
def test_a_failure_midway_leaves_the_earlier_export_and_no_temp_files(
        sqlite_store: Datastore, out_dir: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    import forge.export

    for _ in range(3):
        add(sqlite_store, stars=[5])
    out = out_dir / ("rated.jsonl" if fmt == "jsonl" else "rated")
    export_scenarios(sqlite_store, fmt, out, ExportFilter(min_rating=4))
    before = sorted((p.relative_to(out_dir), p.stat().st_size) for p in out_dir.rglob("*"))
    real, calls = forge.export.scenario_record, []

    def failing(row):  # type: ignore[no-untyped-def]
        calls.append(row.id)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(row)

    monkeypatch.setattr(forge.export, "scenario_record", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        export_scenarios(sqlite_store, fmt, out, ExportFilter())
    assert sorted((p.relative_to(out_dir), p.stat().st_size) for p in out_dir.rglob("*")) == before


def test_hf_without_datasets_says_how_to_install_it(sqlite_store: Datastore, out_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` raise ImportError
    with pytest.raises(ForgeError, match="needs the `datasets` library") as info:
        export_scenarios(sqlite_store, "hf", out_dir / "rated", ExportFilter())
    assert info.value.hint == "Install it with: pip install datasets"
    assert list(out_dir.iterdir()) == []
