"""`scenario-forge export` through the entry point: every format to stdout and to --out, and bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pexpect
import pytest
import yaml

from forge.export import EXPORT_FORMATS
from forge.store.datastore import Datastore
from tests.conftest import REPO
from tests.integration.test_export import TRICKY, add
from tests.integration.test_export_scale import fill


@pytest.fixture
def good(isolated_env: Path) -> list[int]:
    """Seed the database the CLI will open (FORGE_DATA_DIR) with two scenarios rated 4+ and one not;
    returns the ids of the two."""
    store = Datastore(f"sqlite:///{isolated_env / 'forge.db'}")
    ids = [add(store, "sycophancy", [5, 4], prompt=TRICKY, note="private note"),
           add(store, "medical_advice_boundary", [4], created=datetime(2025, 2, 1, tzinfo=UTC))]
    add(store, "sycophancy", [2, 1])
    store.close()
    return ids


def parse(fmt: str, text: str) -> list[int]:
    """The scenario ids in an export, read the way its consumer reads it."""
    if fmt == "json":
        return [r["id"] for r in json.loads(text)]
    if fmt in ("jsonl", "inspect"):
        return [json.loads(line)["id"] for line in text.splitlines()]
    if fmt == "csv":
        return [int(r["id"]) for r in csv.DictReader(io.StringIO(text, newline=""))]
    assert fmt == "promptfoo"
    return [case["metadata"]["scenario_id"] for case in yaml.safe_load(text)]


TEXT_FORMATS = [f for f in EXPORT_FORMATS if f != "hf"]


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_each_text_format_goes_to_stdout_without_out(cli, good: list[int], fmt: str) -> None:
    result = cli("export", "--min-rating", "4", "--format", fmt)
    assert result.code == 0, result.err
    assert parse(fmt, result.out) == good
    assert "Exported 2 scenarios as" in result.err and "to stdout" in result.err
    assert "private note" not in result.out and "alice" not in result.out


@pytest.mark.parametrize(("fmt", "name"), [(f, f"rated.{'txt' if f == 'promptfoo' else f}") for f in TEXT_FORMATS]
                         + [("promptfoo", "tests.yaml"), ("inspect", "samples.jsonl")])
def test_each_text_format_writes_the_out_file_and_nothing_to_stdout(cli, good: list[int], tmp_path: Path,
                                                                   fmt: str, name: str) -> None:
    out = tmp_path / "exports" / name
    result = cli("export", "--min-rating", "4", "--format", fmt, "--out", str(out))
    assert result.code == 0, result.err
    assert result.out == "" and f"to {out}" in result.err
    assert parse(fmt, out.read_text(encoding="utf-8")) == good


def test_hf_writes_a_loadable_folder_with_a_card(cli, good: list[int], tmp_path: Path) -> None:
    import datasets

    out = tmp_path / "rated"
    result = cli("export", "--min-rating", "4", "--format", "hf", "--out", str(out), "--include-reviewers")
    assert result.code == 0, result.err
    ds = datasets.load_from_disk(str(out))
    assert ds["id"] == good and ds[0]["ratings"][0]["note"] == "private note"
    assert "| sycophancy | 1 |" in (out / "README.md").read_text(encoding="utf-8")


def test_filters_and_reviewers_on_the_command_line(cli, good: list[int]) -> None:
    sycophancy, medical = good
    result = cli("export", "--format", "jsonl", "--min-rating", "4", "--target", "medical_advice_boundary",
                 "--target", "sycophancy", "--since", "2025-02-01", "--until", "2025-02-01")
    assert [json.loads(line)["id"] for line in result.out.splitlines()] == [medical]
    result = cli("export", "--format", "jsonl", "--min-ratings", "2", "--include-reviewers")
    records = [json.loads(line) for line in result.out.splitlines()]
    assert [r["rating_count"] for r in records] == [2, 2] and records[0]["id"] == sycophancy
    assert records[0]["ratings"][0] == {"reviewer": "alice", "stars": 5, "note": "private note", "source": "cli"}


@pytest.mark.parametrize(("fmt", "empty"), [("json", []), ("jsonl", None), ("promptfoo", [])])
def test_an_export_matching_nothing_writes_a_valid_empty_file_and_says_so(cli, good: list[int], tmp_path: Path,
                                                                        fmt: str, empty: object) -> None:
    out = tmp_path / f"none.{fmt}"
    result = cli("export", "--min-rating", "5", "--min-ratings", "3", "--format", fmt, "--out", str(out))
    assert result.code == 0
    assert "No scenarios matched mean rating >= 5 over >= 3 ratings; wrote an empty file" in result.err
    text = out.read_text(encoding="utf-8")
    assert (text == "") if empty is None else (yaml.safe_load(text) == empty)


def test_an_empty_csv_export_has_its_header(cli, good: list[int]) -> None:
    result = cli("export", "--target", "no_such_target", "--format", "csv")
    assert result.code == 0 and "No scenarios matched target no_such_target" in result.err
    assert result.out.splitlines() == [result.out.splitlines()[0]] and result.out.startswith("id,target,prompt,")


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "xml"], "Unknown export format 'xml'.\nUse one of: json, jsonl, csv, hf, inspect, promptfoo."),
    (["--min-rating", "6"], "Minimum rating must be from 1 to 5, got 6."),
    (["--min-rating", "0"], "Minimum rating must be from 1 to 5, got 0."),
    (["--since", "2025-02-30"], "Invalid date '2025-02-30': expected YYYY-MM-DD."),
    (["--until", "tomorrow"], "Invalid date 'tomorrow': expected YYYY-MM-DD."),
    (["--since", "2025-03-01", "--until", "2025-01-01"], "The start day 2025-03-01 is after the end day 2025-01-01."),
    (["--format", "hf"], "The hf format writes a folder, so it needs --out."),
    (["--min-ratings", "-2"], "Invalid export filter min_ratings"),
])
def test_bad_input_is_one_clear_error_and_exit_2(cli, good: list[int], tmp_path: Path, args: list[str],
                                                 message: str) -> None:
    result = cli("export", *args)
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err
    assert result.out == ""


def test_a_non_number_rating_is_a_usage_error(cli, good: list[int]) -> None:
    result = cli("export", "--min-rating", "four")
    assert result.code == 2 and "'four' is not a valid float" in result.err


def test_help_lists_the_formats_and_an_example(cli) -> None:
    result = cli("export", "--help")
    assert result.code == 0 and "json|jsonl|csv|hf|inspect|promptfoo" in result.out
    assert "scenario-forge export --min-rating 4 --format jsonl --out rated.jsonl" in result.out


def test_a_real_process_reports_bad_input_without_a_traceback(cli_process, isolated_env: Path) -> None:
    proc = cli_process("export", "--format", "parquet", timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Unknown export format 'parquet'" in proc.stderr and "Traceback" not in proc.stderr


def test_a_terminal_shows_a_progress_bar_on_stderr_while_writing_a_file(isolated_env: Path, tmp_path: Path) -> None:
    seeded = Datastore(f"sqlite:///{isolated_env / 'forge.db'}")
    fill(seeded, 3000)
    seeded.close()
    out = tmp_path / "all.jsonl"
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm", "PYTHONPATH": str(REPO)}
    child = pexpect.spawn(sys.executable, ["-m", "forge", "export", "--out", str(out)], cwd=str(REPO), env=env,
                          encoding="utf-8", timeout=60, dimensions=(40, 100))
    child.expect("Exporting")
    child.expect(r"\d+/3000")
    child.expect("Exported 3000 scenarios as jsonl")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in (child.before or "")
    assert sum(1 for _ in out.open(encoding="utf-8")) == 3000
