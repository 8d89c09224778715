"""`/forge` text -> a validated command, and which texts need an admin."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.arguments import MAX_SLACK_N, USAGES, ExportArgs, GenerateArgs, admin_action, parse_command
from forge.errors import ForgeError, InvalidInputError


@pytest.mark.parametrize(("text", "name", "expected"), [
    ("generate medical_advice_boundary n=3 backend=ollama model=x", "generate",
     {"target": "medical_advice_boundary", "n": 3, "backend": "ollama", "model": "x"}),
    ("generate sycophancy", "generate", {"target": "sycophancy", "n": 5, "backend": None, "model": None}),
    ("GENERATE sycophancy N=2", "generate", {"target": "sycophancy", "n": 2}),
    ('generate sycophancy model="llama3.1:8b"', "generate", {"model": "llama3.1:8b"}),
    ("generate sycophancy model=“llama3.1:8b”", "generate", {"model": "llama3.1:8b"}),  # Slack's curly quotes
    (f"generate sycophancy n={MAX_SLACK_N}", "generate", {"n": MAX_SLACK_N}),
    ("export min=4 format=jsonl target=T since=2026-01-01", "export",
     {"min": 4.0, "format": "jsonl", "target": "T", "since": date(2026, 1, 1), "until": None}),
    ("export min=3.5 format=CSV until=2026-02-28", "export", {"min": 3.5, "format": "csv", "until": date(2026, 2, 28)}),
    ("export min=1", "export", {"min": 1.0, "format": "jsonl", "target": None, "since": None}),
    ("review", "review", {"target": None}),
    ("review sycophancy", "review", {"target": "sycophancy"}),
    ("stats", "stats", {"target": None}),
    ("stats sycophancy", "stats", {"target": "sycophancy"}),
    ("targets", "targets", {}),
    ("help", "help", {}),
    ("", "help", {}),
    ("   ", "help", {}),
    ("jobs", "jobs", {"action": "list", "job": None}),
    ("jobs run nightly", "jobs", {"action": "run", "job": "nightly"}),
    ("jobs run digest", "jobs", {"action": "run", "job": "digest"}),
])
def test_every_subcommand_parses(text: str, name: str, expected: dict[str, Any]) -> None:
    parsed = parse_command(text)
    assert parsed.name == name
    assert {key: getattr(parsed.args, key) for key in expected} == expected


EXPORT_USAGE = f"Usage: {ExportArgs.usage}"
GENERATE_USAGE = f"Usage: {GenerateArgs.usage}"


@pytest.mark.parametrize(("text", "problem", "usage"), [
    ("generate", "Missing argument `target`", GENERATE_USAGE),
    ("generate sycophancy n=0", "Bad value for `n`: Input should be greater than or equal to 1", GENERATE_USAGE),
    (f"generate sycophancy n={MAX_SLACK_N + 1}", f"Bad value for `n`: Input should be less than or equal to {MAX_SLACK_N}",
     GENERATE_USAGE),
    ("generate sycophancy n=three", "Bad value for `n`", GENERATE_USAGE),
    ("generate sycophancy colour=red", "Unknown argument `colour`", GENERATE_USAGE),
    ("generate sycophancy extra", "Unexpected argument `extra`", GENERATE_USAGE),
    ("generate sycophancy n=3 n=4", "Argument `n` is given twice", GENERATE_USAGE),
    ("generate sycophancy target=other", "Argument `target` is given twice", GENERATE_USAGE),
    ("generate sycophancy =3", "Unexpected argument `=3`", GENERATE_USAGE),
    ("export", "Missing argument `min`", EXPORT_USAGE),
    ("export min=0", "Bad value for `min`: Input should be greater than or equal to 1", EXPORT_USAGE),
    ("export min=6", "Bad value for `min`: Input should be less than or equal to 5", EXPORT_USAGE),
    ("export min=4 format=hf", "Bad value for `format`: use one of json, jsonl, csv, inspect, promptfoo, not 'hf'",
     EXPORT_USAGE),
    ("export min=4 since=2026-13-01", "Bad value for `since`: Invalid date '2026-13-01': expected YYYY-MM-DD",
     EXPORT_USAGE),
    ("export min=4 until=yesterday", "Bad value for `until`: Invalid date 'yesterday'", EXPORT_USAGE),
    ("export min=4 sinse=2026-01-01", "Unknown argument `sinse`", EXPORT_USAGE),
    ("export 4", "Unexpected argument `4`", EXPORT_USAGE),
    ("review a b", "Unexpected argument `b`", "Usage: /forge review [TARGET]"),
    ("stats a b", "Unexpected argument `b`", "Usage: /forge stats [TARGET]"),
    ("targets all", "Unexpected argument `all`", "Usage: /forge targets"),
    ("help me", "Unexpected argument `me`", "Usage: /forge help"),
    ("jobs run", "Which job should run?", "Usage: /forge jobs [run nightly|digest]"),
    ("jobs run weekly", "Bad value for `job`: Input should be 'nightly' or 'digest'",
     "Usage: /forge jobs [run nightly|digest]"),
    ("jobs stop nightly", "Bad value for `action`", "Usage: /forge jobs [run nightly|digest]"),
    ('generate "sycophancy', "Cannot read the arguments", "Close every quote you open."),
])
def test_bad_input_names_the_problem_and_the_usage(text: str, problem: str, usage: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_command(text)
    assert isinstance(caught.value, ForgeError)
    assert problem in caught.value.message
    assert caught.value.hint == usage


def test_an_unknown_subcommand_lists_every_usage() -> None:
    with pytest.raises(InvalidInputError, match="Unknown subcommand `generat`") as caught:
        parse_command("generat sycophancy")
    for usage in USAGES.values():
        assert usage.removeprefix("/forge ") in str(caught.value)


@pytest.mark.parametrize(("text", "what"), [
    ("generate sycophancy n=1", "generate scenarios"),
    ("Generate sycophancy", "generate scenarios"),
    ("export min=4", "export scenarios"),
    ("jobs run nightly", "run jobs"),
    ("jobs RUN digest", "run jobs"),
    # Quoted as parse_command reads them: none may slip past the allowlist.
    ('"generate" sycophancy', "generate scenarios"),
    ("“export” min=4", "export scenarios"),
    ('jobs "run" nightly', "run jobs"),
    ("jobs action=run job=nightly", "run jobs"),
    ("jobs", None),
    ("jobs list", None),
    ("review", None),
    ("stats sycophancy", None),
    ("targets", None),
    ("help", None),
    ("", None),
    ('"unclosed', None),
])
def test_admin_action_names_what_only_admins_may_do(text: str, what: str | None) -> None:
    assert admin_action(text) == what


@pytest.mark.parametrize("text", ['"generate" sycophancy', "“export” min=4", 'jobs "run" nightly',
                                  "jobs action=run job=digest"])
def test_whatever_parses_as_an_admin_command_is_flagged_for_admins(text: str) -> None:
    parsed = parse_command(text)
    assert parsed.name in ("generate", "export") or getattr(parsed.args, "action", None) == "run"
    assert admin_action(text) is not None
