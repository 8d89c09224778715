"""The CLI in a real pseudo-terminal: progress bar, and Ctrl-C keeping what was stored."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect

from forge.store.datastore import Datastore
from tests.conftest import REPO


def spawn(args: list[str], data_dir: Path, delay: str) -> pexpect.spawn:
    env = {**os.environ, "FORGE_DATA_DIR": str(data_dir), "SCRIPTED_DELAY": delay, "COLUMNS": "100",
           "PYTHONPATH": str(REPO), "TERM": "xterm"}
    return pexpect.spawn(sys.executable, ["-m", "tests.cli.scripted_cli", *args], cwd=str(REPO), env=env,
                         encoding="utf-8", timeout=60, dimensions=(40, 100))


def test_progress_bar_then_summary_on_a_terminal(tmp_path: Path) -> None:
    child = spawn(["generate", "medical_advice_boundary", "-n", "3", "--store", "--backend", "scripted"],
                  tmp_path, "0.3")
    child.expect("Generating medical_advice_boundary")
    child.expect(r"\d/3")
    child.expect("3 of 3 scenarios stored")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")


def test_ctrl_c_keeps_the_scenarios_already_stored(tmp_path: Path) -> None:
    child = spawn(["generate", "medical_advice_boundary", "-n", "50", "--store", "--backend", "scripted"],
                  tmp_path, "0.2")
    child.expect(r"\b[2-9]/50\b")  # two scenarios counted, so two are committed
    child.sendintr()
    child.expect(r"Interrupted: (\d+) scenarios were kept")
    kept = int(child.match.group(1))
    child.expect(pexpect.EOF)
    output = child.before or ""
    child.close()
    assert child.exitstatus == 130 and "Traceback" not in output
    store = Datastore(f"sqlite:///{tmp_path / 'forge.db'}")
    assert kept >= 2 and store.count_scenarios("medical_advice_boundary") == kept
    runs = [store.get_run(1)]
    assert runs[0]["status"] == "interrupted" and runs[0]["generated"] == kept
