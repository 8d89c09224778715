"""The README stays true: every setting is in its table, and its two commands exist and do what it says."""

from __future__ import annotations

import re

from forge.config import Settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table() -> None:
    table_rows = [line for line in README.splitlines() if line.startswith("| `")]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "\n".join(table_rows)))
    for name, field in Settings.model_fields.items():
        env = field.validation_alias.choices[0]  # type: ignore[union-attr]
        assert env in documented, f"{env} ({name}) is missing from the README configuration table"


def test_quick_start_commands_exist_and_ci_runs_the_test_command() -> None:
    assert "./scripts/quickstart" in README and "./scripts/test" in README
    quickstart = (REPO / "scripts" / "quickstart").read_text()
    assert "generate medical_advice_boundary -n 3 --store" in quickstart and "scenarios list" in quickstart
    assert "exec ./scripts/test" in (REPO / ".ci" / "run").read_text()
