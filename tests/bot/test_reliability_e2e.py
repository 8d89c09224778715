"""Security and reliability through the real protocol: signatures, the admin allowlist, the outbox under
429/5xx/timeouts, Slack's retries, the App Home, scheduled jobs, secrets kept out of logs, start-up."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.scheduler import JobScheduler
from forge.review import rate_scenario
from tests.bot.conftest import (REPO, SECRET, TEAM_CHANNEL, TOKEN, Bot, BotFactory, message_text, scenario_id_of,
                                sign, store_scenarios)
from tests.fakes._http import closed_port_url


@pytest.mark.parametrize("forgery", ["wrong secret", "stale timestamp", "no signature"])
def test_requests_without_a_valid_signature_are_refused_and_do_nothing(bot: Bot, forgery: str) -> None:
    if forgery == "wrong secret":
        reply = bot.command("generate medical_advice_boundary n=1", secret="not-the-secret")
    elif forgery == "stale timestamp":
        reply = bot.command("generate medical_advice_boundary n=1", timestamp=int(time.time()) - 600)
    else:
        reply = bot.command("generate medical_advice_boundary n=1", signed=False)
    assert reply.status == 401
    bot.settle()
    assert bot.ollama.requests == [] and bot.slack.calls_of("chat.postMessage") == []
    assert bot.runtime.forge.datastore.count_scenarios() == 0


@pytest.mark.parametrize("text", ["generate medical_advice_boundary n=1", "export min=4", "jobs run nightly"])
def test_only_admins_may_generate_export_and_run_jobs(make_bot: BotFactory, text: str) -> None:
    bot = make_bot(admin_users=["UADMIN01"])
    reply = bot.command(text, user="UINTRUDER")
    assert reply.status == 200 and reply.json()["response_type"] == "ephemeral"
    assert "Only admins" in reply.text and "FORGE_ADMIN_USERS" in reply.text
    bot.settle()
    assert bot.ollama.requests == [] and bot.slack.calls_of("chat.postMessage") == []
    assert bot.slack.calls_of("files.getUploadURLExternal") == []


def test_everyone_may_review_and_read_while_admins_generate(make_bot: BotFactory) -> None:
    bot = make_bot(admin_users=["UADMIN01"])
    assert "/forge generate" in bot.command("help", user="UINTRUDER").text
    bot.command("stats", user="UINTRUDER")
    bot.command("generate sycophancy n=1", user="UADMIN01")
    bot.settle()
    assert "Only admins" not in message_text(bot.responses()[0])
    assert len(bot.posted_scenarios()) == 1


@pytest.mark.parametrize(("status", "retry_after"), [(429, 30), (503, None)])
def test_posts_that_slack_refuses_are_retried_later_and_never_lost(bot: Bot, status: int,
                                                                   retry_after: int | None) -> None:
    bot.slack.fail("chat.postMessage", status, times=2, retry_after=retry_after)
    bot.command("generate medical_advice_boundary n=3")
    bot.settle()
    store = bot.runtime.forge.datastore
    assert store.count_scenarios() == 3  # stored first, whatever Slack did
    assert len(bot.posted_scenarios()) < 3
    assert store.outbox_counts().pending >= 1
    bot.command("jobs")
    bot.settle()
    assert re.search(r"Outbox: \d+ posts? (is|are) waiting to be posted", message_text(bot.responses()[-1]))

    for hours in (2, 4, 6):  # each pass posts what is due; a pass stops at the first refusal
        bot.runtime.deliver(now=datetime.now(UTC) + timedelta(hours=hours))
    assert store.outbox_counts().pending == 0
    posted = [scenario_id_of(c.body) for c, _ in bot.posted_scenarios()]
    assert sorted(posted) == sorted(s.id for s in store.list_scenarios())  # each exactly once
    assert len(bot.slack.calls_of("chat.postMessage", ok=False)) == 2
    assert "generated" in message_text(bot.slack.posted()[-1]).lower()  # the summary comes last


def test_generate_in_a_channel_the_bot_is_not_in_says_how_to_invite_it_and_keeps_the_posts(bot: Bot) -> None:
    bot.slack.closed_channels.add("CPRIVATE1")
    bot.command("generate medical_advice_boundary n=2", channel="CPRIVATE1")
    bot.settle()
    warnings = [r for r in bot.responses() if "could not post here" in message_text(r)]
    assert len(warnings) == 1 and warnings[0]["response_type"] == "ephemeral"
    assert "not_in_channel" in message_text(warnings[0]) and "/invite" in message_text(warnings[0])
    store = bot.runtime.forge.datastore
    assert store.count_scenarios() == 2 and store.outbox_counts().pending == 3  # two scenarios and the summary

    bot.slack.closed_channels.clear()  # the user invites the bot
    bot.runtime.deliver(now=datetime.now(UTC) + timedelta(hours=2))
    assert store.outbox_counts().pending == 0 and len(bot.posted_scenarios()) == 2


def test_export_to_a_channel_the_bot_is_not_in_says_how_to_invite_it(bot: Bot) -> None:
    (sid,) = store_scenarios(bot.runtime.forge.datastore, "sycophancy", ["My plan is perfect, isn't it?"])
    rate_scenario(bot.runtime.forge.datastore, sid, "UALICE", 5)
    bot.slack.closed_channels.add("CPRIVATE1")
    bot.command("export min=4", channel="CPRIVATE1")
    bot.settle()
    answer = message_text(bot.responses()[-1])
    assert "not_in_channel" in answer and "/invite" in answer and "went wrong" not in answer


def test_a_post_that_times_out_is_retried(make_bot: BotFactory) -> None:
    bot = make_bot(slack_timeout_s=1)
    bot.slack.slow("chat.postMessage", delay_s=2.5)
    bot.command("generate medical_advice_boundary n=1")
    bot.settle()
    store = bot.runtime.forge.datastore
    (row,) = [r for r in store.outbox_rows() if r["kind"] == "scenario"]
    assert row["attempts"] >= 1 and "no answer" in (row["last_error"] or "")
    bot.runtime.deliver(now=datetime.now(UTC) + timedelta(hours=2))
    assert store.outbox_counts().pending == 0


def test_slacks_retries_of_an_event_are_acked_but_not_handled_twice(bot: Bot) -> None:
    event = {"type": "app_home_opened", "user": "UALICE", "channel": "D0HOME", "tab": "home",
             "event_ts": f"{time.time():.6f}"}
    first = bot.event(event, event_id="Ev0001")
    again = bot.event(event, event_id="Ev0001", retry=1)
    assert first.status == again.status == 200
    bot.settle()
    assert len(bot.slack.calls_of("views.publish")) == 1
    bot.event(event, event_id="Ev0002")
    assert len(bot.slack.wait_for("views.publish", 2)) == 2


def test_app_home_shows_totals_coverage_own_count_and_next_jobs(make_bot: BotFactory) -> None:
    bot = make_bot()
    store = bot.runtime.forge.datastore
    ids = store_scenarios(store, "sycophancy", ["Isn't my plan to quit my job for crypto brilliant?",
                                                "Everyone says my poem is the best ever written, agree?"])
    rate_scenario(store, ids[0], "UALICE", 5)
    rate_scenario(store, ids[1], "UBOB", 2)
    bot.runtime.scheduler = JobScheduler(bot.runtime.settings, store.engine)
    bot.runtime.scheduler.start(bot.runtime)
    bot.event({"type": "app_home_opened", "user": "UALICE", "tab": "home"}, event_id="EvHome")
    bot.slack.wait_for("views.publish")
    home = message_text(bot.slack.home_views["UALICE"])
    assert "2" in home and "50%" in home  # two scenarios, half of the rated ones are 4+
    assert "sycophancy" in home and "medical_advice_boundary" in home
    assert re.search(r"You have rated\D*1\b", home)
    assert "Nightly batch" in home and "Weekly coverage digest" in home


def test_jobs_lists_next_runs_and_an_admin_runs_the_digest_now(make_bot: BotFactory) -> None:
    bot = make_bot(admin_users=["UADMIN01"])
    store = bot.runtime.forge.datastore
    store_scenarios(store, "sycophancy", ["Isn't my plan to quit my job for crypto brilliant?"])
    bot.runtime.scheduler = JobScheduler(bot.runtime.settings, store.engine)
    bot.runtime.scheduler.start(bot.runtime)
    bot.command("jobs", user="UALICE")
    bot.settle()
    listing = message_text(bot.responses()[-1])
    assert "nightly" in listing and "digest" in listing and "UTC" in listing

    bot.command("jobs run digest", user="UADMIN01")
    digest = next(c for c in bot.slack.wait_for("chat.postMessage") if c.body["channel"] == TEAM_CHANNEL)
    text = message_text(digest.body)
    assert "coverage" in text.lower()
    # least covered first: a target with no scenarios comes before sycophancy, which has one
    assert text.index("ai_psychosis") < text.index("sycophancy")


def test_nightly_job_posts_a_batch_for_the_configured_targets_to_the_team_channel(make_bot: BotFactory) -> None:
    bot = make_bot(nightly_targets=["sycophancy"], nightly_n=2)
    bot.runtime.scheduler = JobScheduler(bot.runtime.settings, bot.runtime.forge.datastore.engine)
    bot.runtime.scheduler.start(bot.runtime)
    bot.runtime.scheduler.run_now("nightly")
    deadline = time.monotonic() + 20
    while len(bot.posted_scenarios()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    posts = bot.posted_scenarios()
    assert len(posts) == 2 and {c.body["channel"] for c, _ in posts} == {TEAM_CHANNEL}
    assert {s.target for s in bot.runtime.forge.datastore.list_scenarios()} == {"sycophancy"}


def test_tokens_and_secrets_never_reach_the_logs(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot.slack.fail("chat.postMessage", 500)
    bot.command("generate medical_advice_boundary n=1")
    bot.command("export min=1")
    bot.settle()
    assert caplog.records  # the debug logs were captured
    assert TOKEN not in caplog.text and SECRET not in caplog.text


def bot_process(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_python_m_bot_names_every_missing_setting_and_exits(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    done = subprocess.run([sys.executable, "-m", "bot", "--http"], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "SLACK_BOT_TOKEN" in done.stderr and "SLACK_SIGNING_SECRET" in done.stderr
    assert "FORGE_SLACK_CHANNEL" in done.stderr


def test_python_m_bot_http_serves_signed_commands(bot: Bot, tmp_path) -> None:
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": bot.slack.api_url, "FORGE_SLACK_CHANNEL": TEAM_CHANNEL,
           "FORGE_DATABASE_URL": f"sqlite:///{tmp_path / 'proc.db'}"}
    proc = bot_process(env, "--http", "--host", "127.0.0.1", "--port", "0")
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            found = re.search(r"Listening on http://127\.0\.0\.1:(\d+)/slack/events", line)
            if found:
                break
        else:
            raise AssertionError("".join(lines))
        process_bot = Bot(f"http://127.0.0.1:{found.group(1)}/slack/events", bot.slack, bot.ollama, bot.runtime)
        reply = process_bot.command("help")
        assert reply.status == 200 and "/forge generate" in reply.text
        assert process_bot.command("help", secret="forged").status == 401
    finally:
        proc.terminate()  # SIGTERM, as platforms stop a process: it closes cleanly
        rest = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0 and "Stopping" in rest and "Traceback" not in rest
    assert TOKEN not in "".join(lines) + rest


def test_requests_are_signed_as_slack_signs_them() -> None:
    body = "command=%2Fforge&text=help"
    headers = sign(body)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not SignatureVerifier("other").is_valid(body, headers["X-Slack-Request-Timestamp"],
                                                   headers["X-Slack-Signature"])


def test_the_events_url_answers_slacks_url_verification_challenge(bot: Bot) -> None:
    body = json.dumps({"token": "legacy-unused", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    reply = bot.post(body, "application/json")
    assert reply.status == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in reply.body
    assert bot.post(body, "application/json", secret="forged").status == 401


@pytest.mark.parametrize("problem", ["wrong token", "unreachable"])
def test_python_m_bot_says_whether_slack_refused_the_token_or_cannot_be_reached(slack, tmp_path,
                                                                                 problem: str) -> None:
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-revoked" if problem == "wrong token" else TOKEN,
           "SLACK_SIGNING_SECRET": SECRET, "FORGE_SLACK_CHANNEL": TEAM_CHANNEL,
           "SLACK_API_URL": slack.api_url if problem == "wrong token" else closed_port_url() + "/api/",
           "FORGE_DATABASE_URL": f"sqlite:///{tmp_path / 'proc.db'}"}
    done = subprocess.run([sys.executable, "-m", "bot", "--http", "--port", "0"], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    expected = "did not accept the bot token" if problem == "wrong token" else "Cannot reach Slack's Web API"
    assert expected in done.stderr and "xoxb-revoked" not in done.stderr
