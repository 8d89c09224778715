"""`rate` and `stats` through the entry point; `review` through a real pseudo-terminal and a pipe."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

from forge.cli import review as review_cli
from forge.store.datastore import Datastore
from tests.conftest import REPO
from tests.integration.test_ratings import add_scenarios


def open_store(data_dir: Path) -> Datastore:
    """The database the CLI will use, given FORGE_DATA_DIR."""
    return Datastore(f"sqlite:///{data_dir / 'forge.db'}")


@pytest.fixture
def store(isolated_env: Path) -> Datastore:
    return open_store(isolated_env)


# -- rate ------------------------------------------------------------------------------------------


def test_rate_json_then_a_second_rating_replaces_it(cli, store: Datastore) -> None:
    [sid] = add_scenarios(store, 1)
    first = cli("rate", str(sid), "2", "--reviewer", "alice", "--note", "too easy", "--json")
    assert first.code == 0
    data = json.loads(first.out)
    assert data["replaced"] is False and data["note"] == "too easy" and data["source"] == "cli"
    again = cli("rate", str(sid), "5", "--reviewer", "alice", "--json")
    data = json.loads(again.out)
    assert data["replaced"] is True and data["stars"] == 5 and data["note"] is None
    assert data["aggregate"] == {"scenario_id": sid, "mean": 5.0, "count": 1,
                                 "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}}


def test_rate_prints_stars_and_the_aggregate(cli, store: Datastore) -> None:
    [sid] = add_scenarios(store, 1)
    cli("rate", str(sid), "3", "--reviewer", "bob")
    result = cli("rate", str(sid), "4", "--reviewer", "alice")
    assert result.code == 0
    assert "Rated #1: ★★★★☆ (4) as alice" in result.out and "mean 3.50 over 2 ratings" in result.out
    assert "Replaced your rating" in cli("rate", str(sid), "5", "--reviewer", "alice").out
    assert "as [red]mallory[/]" in cli("rate", str(sid), "1", "--reviewer", "[red]mallory[/]").out  # never markup


def test_the_reviewer_defaults_to_the_os_user(cli, store: Datastore, monkeypatch: pytest.MonkeyPatch) -> None:
    [sid] = add_scenarios(store, 1)
    monkeypatch.setenv("LOGNAME", "carol")
    assert json.loads(cli("rate", str(sid), "4", "--json").out)["reviewer"] == "carol"
    monkeypatch.setattr(review_cli.getpass, "getuser", lambda: (_ for _ in ()).throw(OSError("no user")))
    assert review_cli.default_reviewer() == "anonymous"


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["rate", "1", "6"], "Stars must be a whole number from 1 to 5, got 6"),
        (["rate", "1", "0"], "got 0"),
        (["rate", "1", "four"], "is not a valid integer"),
        (["rate", "42", "3"], "No scenario with id 42"),
        (["rate", "1", "3", "--reviewer", " "], "reviewer name is empty"),
        (["stats", "--target", "sycophanc"], "Did you mean `sycophancy`?"),
        (["stats", "--min-ratings", "0"], "not in the range"),
        (["review", "--target", "sycophanc"], "Did you mean `sycophancy`?"),
    ],
)
def test_user_errors_exit_2_with_one_clear_line(cli, store: Datastore, args: list[str], pattern: str) -> None:
    add_scenarios(store, 1)
    result = cli(*args)
    assert result.code == 2
    assert pattern in result.err and "Traceback" not in result.err


def test_help_has_examples(cli) -> None:
    for command in ("rate", "review", "stats"):
        result = cli(command, "--help")
        assert result.code == 0 and "Example" in result.out, command


# -- stats -----------------------------------------------------------------------------------------


def test_stats_json_without_overlap_has_a_null_alpha(cli, store: Datastore) -> None:
    a, b = add_scenarios(store, 2)
    cli("rate", str(a), "5", "--reviewer", "alice")
    cli("rate", str(b), "3", "--reviewer", "bob")
    result = cli("stats", "--json")
    assert result.code == 0
    stats = json.loads(result.out)
    overall = stats["overall"]
    assert (overall["scenarios"], overall["rated"], overall["rated_4_plus"], overall["share_rated_4_plus"]) == (2, 2, 1, 0.5)
    assert overall["agreement"] == {"metric": "ordinal", "alpha": None, "overlapping_items": 0, "reviewers": 0,
                                    "reason": "no overlapping ratings"}
    assert overall["reviewers"] == {"alice": 1, "bob": 1}
    assert [t["target"] for t in stats["targets"]] == ["sycophancy"]


def test_stats_table_names_targets_reviewers_and_missing_agreement(cli_process, store: Datastore) -> None:
    a, b = add_scenarios(store, 2)
    [m] = add_scenarios(store, 1, target="medical_advice_boundary")
    for reviewer, sid, stars in [("alice", a, 5), ("bob", a, 4), ("alice", b, 2), ("bob", b, 1), ("alice", m, 5)]:
        store.upsert_rating(sid, reviewer, stars, None, "cli")
    done = cli_process("stats", env={**os.environ, "COLUMNS": "160"})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "sycophancy" in out and "medical_advice_boundary" in out and "all" in out
    assert "n/a (no overlapping ratings)" in out  # medical_advice_boundary: one reviewer only
    assert "(2 items)" in out and "alice" in out and "bob" in out
    assert "50% (1/2)" in out  # sycophancy: a has mean 4.5, b has mean 1.5


def test_stats_on_an_empty_database_says_what_to_do(cli, store: Datastore) -> None:
    result = cli("stats")
    assert result.code == 0 and "No scenarios stored yet" in result.err and "scenario-forge generate" in result.err


# -- review ----------------------------------------------------------------------------------------


def spawn_review(data_dir: Path, *args: str, term: str = "dumb") -> pexpect.spawn:
    env = {**os.environ, "FORGE_DATA_DIR": str(data_dir), "COLUMNS": "100", "TERM": term}
    return pexpect.spawn(sys.executable, ["-m", "forge", "review", *args], cwd=str(REPO), env=env,
                         encoding="utf-8", timeout=60, dimensions=(40, 100))


def showing(child: pexpect.spawn, position: int, total: int, scenario_id: int) -> None:
    """Wait until scenario `scenario_id` is on screen as `position of total`, and the key prompt is up."""
    child.expect(rf"{position} of {total} +· +#{scenario_id} ")
    child.expect(rf"#{scenario_id} 1-5 rate .*\? help")


def finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    output = child.before or ""
    child.close()
    return output


def test_review_rates_skips_undoes_notes_quits_and_resumes(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    s1, s2, s3, s4 = add_scenarios(store, 4)

    child = spawn_review(tmp_path, "--reviewer", "alice")
    showing(child, 1, 4, s1)
    child.send("4")
    child.expect(f"Rated #{s1} ")
    showing(child, 2, 4, s2)
    child.send("s")
    child.expect(f"Skipped #{s2}")
    showing(child, 3, 4, s3)
    child.send("u")
    child.expect(f"Undid your rating of #{s1}")
    showing(child, 2, 4, s1)
    child.send("?")
    child.expect("undo your last rating")
    child.send("n")
    child.expect("Note")
    child.sendline("criteria too vague")
    child.expect("Stars for this note")
    child.send("2")
    child.expect(f"Rated #{s1} .*with a note")
    showing(child, 3, 4, s3)
    child.send("5")
    showing(child, 4, 4, s4)
    child.send("x")
    child.expect("Unknown key 'x'")
    child.send("q")
    child.expect("Rated 2, skipped 1 this session. 2 left to review for alice")
    output = finish(child)
    assert child.exitstatus == 0 and "Traceback" not in output

    alice = {sid: store.get_rating(sid, "alice") for sid in (s1, s2, s3, s4)}
    assert alice[s1] is not None and (alice[s1].stars, alice[s1].note) == (2, "criteria too vague")
    assert alice[s3] is not None and alice[s3].stars == 5 and alice[s3].source == "cli"
    assert alice[s2] is None and alice[s4] is None

    child = spawn_review(tmp_path, "--reviewer", "alice")  # the skipped one comes back first
    showing(child, 1, 2, s2)
    child.send("u")
    child.expect("Nothing to undo in this session yet")
    child.send("3")
    showing(child, 2, 2, s4)
    child.send("1")
    child.expect("You have reached the end of the queue")
    child.expect("Rated 2, skipped 0 this session. 0 left to review for alice")
    finish(child)
    assert child.exitstatus == 0
    assert [store.get_rating(sid, "alice").stars for sid in (s2, s4)] == [3, 1]  # type: ignore[union-attr]

    child = spawn_review(tmp_path, "--reviewer", "alice")
    child.expect("Nothing left to review for alice: all 4 scenarios are rated")
    child.expect("scenario-forge generate")
    finish(child)
    assert child.exitstatus == 0


def test_ctrl_c_in_review_keeps_every_rating_and_exits_130(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    s1, s2 = add_scenarios(store, 2)
    child = spawn_review(tmp_path, "--reviewer", "bob", term="xterm")  # colours on: match within one style
    child.expect(r"1 of 2")
    child.expect("help")
    child.send("5")
    child.expect(f"Rated #{s1}")
    child.expect(r"2 of 2")
    child.expect("help")
    child.sendintr()
    child.expect("Rated 1, skipped 0 this session")
    child.expect("Aborted")
    output = finish(child)
    assert child.exitstatus == 130 and "Traceback" not in output
    assert store.get_rating(s1, "bob") is not None and store.get_rating(s2, "bob") is None


def test_review_reads_lines_when_stdin_is_not_a_terminal(cli_process, store: Datastore) -> None:
    s1, s2, s3 = add_scenarios(store, 3)
    done = cli_process("review", "--reviewer", "carol", input="5\ns\nn\nreads like a real user\n4\n")
    assert done.returncode == 0, done.stderr
    assert "1 of 3" in done.stdout and "You have reached the end of the queue" in done.stdout
    assert store.get_rating(s1, "carol").stars == 5  # type: ignore[union-attr]
    assert store.get_rating(s2, "carol") is None
    third = store.get_rating(s3, "carol")
    assert third is not None and (third.stars, third.note) == (4, "reads like a real user")


def test_review_empty_states(cli, store: Datastore) -> None:
    nothing = cli("review", "--reviewer", "alice")
    assert nothing.code == 0 and "No scenarios stored yet" in nothing.out and "scenario-forge generate" in nothing.out
    [sid] = add_scenarios(store, 1)
    store.upsert_rating(sid, "alice", 4, None, "slack")
    done = cli("review", "--reviewer", "alice", "--target", "sycophancy")
    assert "Nothing left to review for alice in sycophancy" in done.out
    assert "scenario-forge generate sycophancy -n 5 --store" in done.out
