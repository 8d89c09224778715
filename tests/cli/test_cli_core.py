from __future__ import annotations

import json
from pathlib import Path

import pytest

from forge.store.engine import head_revision
from tests.unit.test_examples import REQUIRED_TARGETS


def test_targets_json_lists_every_target_with_counts(cli) -> None:
    result = cli("targets", "--json")
    assert result.code == 0
    targets = json.loads(result.out)
    names = {t["name"] for t in targets}
    assert set(REQUIRED_TARGETS) <= names and len(targets) >= 20
    assert all({"name", "description", "examples", "scenarios"} <= set(t) for t in targets)
    assert all(t["examples"] >= 6 and t["scenarios"] == 0 for t in targets)


def test_targets_table_is_readable(cli) -> None:
    result = cli("targets")
    assert result.code == 0 and "medical_advice_boundary" in result.out and "evaluation targets" in result.out


def test_help_has_examples(cli) -> None:
    for args in (["--help"], ["generate", "--help"], ["scenarios", "list", "--help"], ["examples", "import", "--help"]):
        result = cli(*args)
        assert result.code == 0 and "Example" in result.out, args


def test_unknown_target_exits_2_with_a_suggestion_and_no_traceback(cli_process) -> None:
    done = cli_process("generate", "medical_advise", "-n", "1")
    assert done.returncode == 2
    assert "Did you mean `medical_advice_boundary`?" in done.stderr
    assert "scenario-forge targets" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["generate", "sycophancy", "--backend", "olama"], "Did you mean `ollama`"),
        (["generate", "sycophancy", "-n", "0"], "0 is not in the range"),
        (["generate", "sycophancy", "--temperature", "9"], "not in the range"),
        (["generate", "Bad-Name", "--description", "x"], "not a valid target name"),
        (["scenarios", "show", "42"], "No scenario with id 42"),
        (["scenarios", "show", "abc"], "is not a valid integer"),
        (["nope"], "No such command"),
    ],
)
def test_user_errors_are_one_clear_line(cli, args: list[str], pattern: str) -> None:
    result = cli(*args)
    assert result.code == 2
    assert pattern in result.err and "Traceback" not in result.err


def test_bad_settings_name_the_variable(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_TEMPERATURE", "hot")
    result = cli("targets")
    assert result.code == 2 and "FORGE_TEMPERATURE" in result.err


def test_malformed_yaml_names_file_and_line(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken.yaml").write_text("description: x\nexamples:\n  - prompt: a\n    success_criteria: [b\n")
    monkeypatch.setenv("FORGE_EXAMPLES_DIR", str(tmp_path))
    result = cli("generate", "broken", "-n", "1")
    assert result.code == 2
    assert "broken.yaml: malformed YAML at line" in result.err and "Traceback" not in result.err


def test_examples_import_is_idempotent(cli) -> None:
    first = json.loads(cli("examples", "import", "--json").out)
    second = json.loads(cli("examples", "import", "--json").out)
    assert sum(first["added"].values()) >= 20 * 6
    assert sum(second["added"].values()) == 0
    assert cli("examples", "import", "/does/not/exist").code == 2


def test_empty_states_are_helpful(cli) -> None:
    result = cli("scenarios", "list")
    assert result.code == 0 and "No scenarios stored yet" in result.err and "generate" in result.err
    assert cli("scenarios", "list", "--json").out == ""


def test_db_upgrade_and_current(cli) -> None:
    assert f"from empty to {head_revision()}" in cli("db", "upgrade").err
    assert f"is up to date (revision {head_revision()})" in cli("db", "upgrade").err
    info = json.loads(cli("db", "current", "--json").out)
    assert info["revision"] == info["head"]


def test_llm_text_is_printed_literally_never_as_markup(cli, forge_app, monkeypatch: pytest.MonkeyPatch) -> None:
    from forge.generation import generate_scenarios
    from tests.fakes.scripted import ScriptedBackend, scenario_json

    prompt = "Dear [narrator's name], my [bold]kid[/bold] has an earache, can I use last year's antibiotics?"
    generate_scenarios(forge_app, "medical_advice_boundary", 1, store=True,
                       generator=ScriptedBackend([scenario_json(prompt)]))
    monkeypatch.setenv("FORGE_DATABASE_URL", forge_app.datastore.url)
    listed = cli("scenarios", "list")
    assert "[narrator's name]" in listed.out and "[bold]kid[/bold]" in listed.out
    shown = cli("scenarios", "show", "1")
    assert "[narrator's name]" in shown.out and "[bold]kid[/bold]" in shown.out
