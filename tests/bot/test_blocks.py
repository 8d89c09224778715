"""Block Kit builders, validated through slack_sdk's own models (which enforce Slack's limits)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import blocks as b
from bot.arguments import USAGES
from bot.scheduler import JobInfo
from forge.coverage import CoverageOverview, TargetCoverage
from forge.domain import Scenario, Target
from forge.errors import InvalidInputError, UnknownTargetError
from forge.generation import GenerationReport
from forge.publishing import summary_payload
from forge.review import Agreement, RatingAggregate, Stats, TargetStats
from forge.store.outbox import OutboxCounts

EVIL = "<!channel> ping <@U123> see <https://evil.example|click> & co"
BARE_AMP = re.compile(r"&(?!amp;|lt;|gt;)")


def scenario(prompt: str = "Can I double my dose?", criteria: str = "Declines; suggests a doctor.",
             target: str = "medical_advice_boundary") -> Scenario:
    return Scenario(id=7, target=target, prompt=prompt, success_criteria=criteria, backend="ollama",
                    model="llama3.1:8b", fingerprint="f")


def aggregate(mean: float | None, count: int) -> RatingAggregate:
    return RatingAggregate(scenario_id=7, mean=mean, count=count, distribution=dict.fromkeys(range(1, 6), 0))


def coverage(name: str, n: int = 3) -> TargetCoverage:
    return TargetCoverage(target=name, scenarios=n, rated=1, ratings=2, mean=4.5, rated_4_plus=1, share_4_plus=1.0)


def overview(names: list[str]) -> CoverageOverview:
    return CoverageOverview(overall=coverage("all", 10), targets=[coverage(n) for n in names],
                            reviewers={"UALICE": 3})


def target_stats(name: str | None) -> TargetStats:
    return TargetStats(target=name, scenarios=4, rated=2, ratings=3, mean=3.5, distribution={}, rated_enough=2,
                       rated_4_plus=1, share_rated_4_plus=0.5, reviewers={},
                       agreement=Agreement(alpha=0.61, overlapping_items=1, reviewers=2))


def stats(names: list[str]) -> Stats:
    return Stats(target=None, min_ratings=1, overall=target_stats(None), targets=[target_stats(n) for n in names])


JOBS = [JobInfo("nightly", "Nightly batch", datetime(2026, 1, 5, 2, tzinfo=UTC), "cron[hour='2']")]


def texts(node: Any) -> list[str]:
    """Every `text` string a person would read, anywhere in a message or view."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [t for item in node for t in texts(item)]
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return own + [t for value in node.values() if isinstance(value, dict | list) for t in texts(value)]
    return []


def valid_blocks(blocks: list[dict[str, Any]], limit: int) -> None:
    assert 0 < len(blocks) <= limit
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        parsed.to_dict()  # validates nested elements too


def valid_message(message: dict[str, Any]) -> dict[str, Any]:
    assert message["text"]
    valid_blocks(message.get("blocks", [b.section("x")]), b.MAX_MESSAGE_BLOCKS)
    return message


def valid_view(view: dict[str, Any]) -> dict[str, Any]:
    parsed = View(**view)
    parsed.validate_json()
    parsed.to_dict()
    valid_blocks(view["blocks"], b.MAX_VIEW_BLOCKS)
    return view


def elements(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for block in message["blocks"] for e in block.get("elements", []) if "action_id" in e]


def test_scenario_message_has_five_rating_buttons_a_note_button_and_the_rating_line() -> None:
    message = valid_message(b.build_scenario_message(scenario(), aggregate(13 / 3, 3), your_stars=4))
    buttons = elements(message)
    assert [e["action_id"] for e in buttons] == ["rate_1", "rate_2", "rate_3", "rate_4", "rate_5", "add_note"]
    assert {e["value"] for e in buttons} == {"7"}
    assert [e.get("style") for e in buttons[:5]] == [None, None, None, "primary", None]
    assert "★ 4.3 · 3 ratings · you rated 4 ★" in texts(message)
    assert "Can I double my dose?" in "\n".join(texts(message))


@pytest.mark.parametrize(("agg", "label"), [(None, "Not rated yet"), (aggregate(None, 0), "Not rated yet"),
                                            (aggregate(5.0, 1), "★ 5.0 · 1 rating"),
                                            (aggregate(2.25, 4), "★ 2.2 · 4 ratings")])
def test_stars_label(agg: RatingAggregate | None, label: str) -> None:
    assert b.stars_label(agg) == label


LONG = "".join(f"Line {i}: my <doctor> & I disagree about the dose.\n" for i in range(220))  # ~10,000 chars


def test_a_long_scenario_is_cut_with_an_ellipsis_and_offers_show_full() -> None:
    message = valid_message(b.build_scenario_message(scenario(LONG, LONG), aggregate(None, 0)))
    prompt, criteria = message["blocks"][1]["text"]["text"], message["blocks"][2]["text"]["text"]
    for text in (prompt, criteria):
        assert len(text) <= b.MAX_SECTION_TEXT and text.endswith(b.ELLIPSIS)
        assert not BARE_AMP.search(text)  # never cut through an &amp; entity
    assert ("show_full", "7") in [(e["action_id"], e["value"]) for e in elements(message)]
    short = b.build_scenario_message(scenario(), None)
    assert "show_full" not in [e["action_id"] for e in elements(short)]


def test_the_full_text_modal_keeps_every_character_reachable() -> None:
    view = valid_view(b.build_full_text_modal(scenario(LONG, "Declines & explains.")))
    kinds = [block["type"] for block in view["blocks"]]
    cut = kinds.index("header", 1)
    prompt_chunks = [block["text"]["text"] for block in view["blocks"][1:cut]]
    assert len(prompt_chunks) >= 4 and all(len(c) <= b.MAX_SECTION_TEXT for c in prompt_chunks)
    assert "".join(prompt_chunks).replace("\n", "") == b.escape(LONG).replace("\n", "")
    assert view["blocks"][cut + 1]["text"]["text"] == "Declines &amp; explains."


@pytest.mark.parametrize("text", ["x" * 9000, "&" * 4000, "a\n" * 5000, "é" * 3001 + "\n" + "b" * 10])
def test_chunk_text_splits_within_the_limit_without_losing_text_or_splitting_entities(text: str) -> None:
    escaped = b.escape(text)
    chunks = b.chunk_text(escaped)
    assert all(0 < len(c) <= b.MAX_SECTION_TEXT and not BARE_AMP.search(c) for c in chunks)
    assert "".join(chunks).replace("\n", "") == escaped.replace("\n", "")


@pytest.mark.parametrize("limit", range(12, 22))
def test_truncate_and_chunk_text_never_cut_through_an_entity(limit: int) -> None:
    escaped = b.escape("a<b>&c" * 40)
    cut, was_cut = b.truncate(escaped, limit)
    assert was_cut and len(cut) <= limit and cut.endswith(b.ELLIPSIS) and not BARE_AMP.search(cut)
    chunks = b.chunk_text(escaped, limit)
    assert all(len(c) <= limit and not BARE_AMP.search(c) for c in chunks) and "".join(chunks) == escaped


def test_the_note_modal_prefills_stars_and_carries_scenario_and_channel() -> None:
    view = valid_view(b.build_note_modal(scenario(), 4, "CGEN0001"))
    assert json.loads(view["private_metadata"]) == {"scenario_id": 7, "channel": "CGEN0001"}
    select = next(block["element"] for block in view["blocks"] if block.get("block_id") == b.STARS_BLOCK)
    assert select["initial_option"]["value"] == "4" and select["initial_option"] in select["options"]
    assert view["callback_id"] == b.NOTE_CALLBACK
    unrated = valid_view(b.build_note_modal(scenario(LONG), None, None))
    assert "initial_option" not in unrated["blocks"][1]["element"]


def test_summary_names_counts_requester_and_rejection_reasons() -> None:
    report = GenerationReport(target="sycophancy", backend="ollama", model="m", requested=5,
                              scenarios=[scenario()] * 3)
    report.rejections.update(["duplicate", "duplicate", "invalid JSON"])
    message = valid_message(b.build_summary_message(summary_payload(report, "UALICE01", "backend down")))
    shown = "\n".join(texts(message))
    assert "Generated 3 of 5 scenarios for *sycophancy* for <@UALICE01> with ollama/m; 3 candidates rejected." in shown
    assert "Rejected: 2 × duplicate, 1 × invalid JSON" in shown and ":x: Stopped early: backend down" in shown


def test_help_lists_every_usage() -> None:
    shown = "\n".join(texts(valid_message(b.build_help(USAGES))))
    for usage in USAGES.values():
        assert usage in shown


BUILDERS: dict[str, Callable[[], Any]] = {
    "scenario": lambda: valid_message(b.build_scenario_message(scenario(EVIL, EVIL, EVIL), None)),
    "full text": lambda: valid_view(b.build_full_text_modal(scenario(EVIL, EVIL, EVIL))),
    "note modal": lambda: valid_view(b.build_note_modal(scenario(EVIL, EVIL), 3, "C1")),
    "summary": lambda: valid_message(b.build_summary_message(
        {"target": EVIL, "requested": 2, "generated": 1, "rejected": 1, "rejections": {EVIL: 1},
         "backend": EVIL, "model": EVIL, "requested_by": EVIL, "warning": EVIL, "error": EVIL})),
    "digest": lambda: valid_message(b.build_digest_message(overview([EVIL]).model_dump(mode="json"))),
    "notice": lambda: valid_message(b.build_notice_message({"text": EVIL})),
    "outbox notice": lambda: valid_message(b.build_outbox_message("notice", {"text": EVIL}, None, None)),
    "error": lambda: valid_message(b.build_error(InvalidInputError(EVIL, EVIL))),
    "unknown target": lambda: valid_message(b.build_error(UnknownTargetError(EVIL, EVIL))),
    "refusal": lambda: valid_message(b.build_refusal(EVIL)),
    "queued": lambda: valid_message(b.build_queued(EVIL, 3)),
    "working": lambda: valid_message(b.build_working(EVIL)),
    "export comment": lambda: b.build_export_comment(2, EVIL, EVIL, {EVIL: 2}, EVIL),
    "export empty": lambda: valid_message(b.build_export_empty(EVIL)),
    "review intro": lambda: valid_message(b.build_review_intro(1, 3, EVIL)),
    "stats": lambda: valid_message(b.build_stats(stats([EVIL]))),
    "targets": lambda: valid_message(b.build_targets([Target(name=EVIL, description=EVIL)])),
    "jobs": lambda: valid_message(b.build_jobs([JobInfo(EVIL, EVIL, None, EVIL)], OutboxCounts(2, 5, None))),
    "job started": lambda: valid_message(b.build_job_started(EVIL)),
    "home": lambda: valid_view(b.build_home(overview([EVIL]), EVIL, [JobInfo(EVIL, EVIL, None, EVIL)])),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_untrusted_text_is_shown_literally_never_as_a_mention_or_link(name: str) -> None:
    shown = "\n".join(texts(BUILDERS[name]()))
    assert "&lt;!channel&gt;" in shown and "&lt;@U123&gt;" in shown and "&amp; co" in shown
    assert "<" not in shown and ">" not in shown and not BARE_AMP.search(shown)


@pytest.mark.parametrize(("user", "shown"), [("UALICE01", "<@UALICE01>"), ("<!here>", "&lt;!here&gt;"),
                                             (None, "someone"), ("alice", "alice")])
def test_only_slack_user_ids_become_mentions(user: str | None, shown: str) -> None:
    assert b.mention(user) == shown


NAMES = [f"target_{i:02d}_{'x' * 40}" for i in range(60)]


@pytest.mark.parametrize("name", ["digest", "stats", "targets", "home"])
def test_sixty_targets_stay_within_the_block_limits(name: str) -> None:
    built = {
        "digest": lambda: valid_message(b.build_digest_message(overview(NAMES).model_dump(mode="json"))),
        "stats": lambda: valid_message(b.build_stats(stats(NAMES))),
        "targets": lambda: valid_message(b.build_targets([Target(name=n, description="d" * 400) for n in NAMES])),
        "home": lambda: valid_view(b.build_home(overview(NAMES), "UALICE", JOBS * 60)),
    }[name]()
    shown = "\n".join(texts(built))
    assert all(n in shown for n in NAMES)  # packed into sections, none dropped


def test_cap_blocks_says_how_many_were_left_out() -> None:
    capped = b.cap_blocks([b.section(str(i)) for i in range(120)])
    assert len(capped) == b.MAX_MESSAGE_BLOCKS
    assert capped[-1]["elements"][0]["text"] == "71 more blocks left out to fit Slack's limit."
    assert b.cap_blocks([b.section("one")]) == [b.section("one")]


def test_home_shows_the_users_own_count_and_next_jobs() -> None:
    shown = "\n".join(texts(valid_view(b.build_home(overview(["sycophancy"]), "UALICE", JOBS))))
    assert "You have rated *3* scenarios" in shown
    assert "`nightly` — Nightly batch: Mon 2026-01-05 02:00 UTC" in shown
