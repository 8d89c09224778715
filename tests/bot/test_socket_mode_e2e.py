"""`python -m bot` in its default mode, Socket Mode, end to end with no real Slack.

The real process asks the fake Web API for a WebSocket URL (`apps.connections.open`, app token),
connects to the fake Socket Mode server, and gets envelopes as Slack sends them; its acks come back
over the socket, its posts go to the fake Web API, and generation runs against a fake Ollama.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.bot.conftest import MODEL, TEAM_CHANNEL, TOKEN, blocks_of, message_text, scenario_id_of
from tests.conftest import REPO
from tests.fakes._http import closed_port_url
from tests.fakes.ollama_server import FakeOllama
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode

APP_TOKEN = FakeSlack.app_token
CHANNEL = "CGEN0001"
START_TIMEOUT_S = 60  # importing, migrating the database, auth.test, apps.connections.open, the handshake


def bot_env(slack: FakeSlack, ollama: FakeOllama, tmp_path: Path, app_token: str = APP_TOKEN) -> dict[str, str]:
    # No proxy: slack_sdk would send the loopback WebSocket through one taken from the environment.
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("https_proxy", "http_proxy")}
    return {**env, "SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": app_token, "SLACK_API_URL": slack.api_url,
            "FORGE_SLACK_CHANNEL": TEAM_CHANNEL, "FORGE_DATABASE_URL": f"sqlite:///{tmp_path / 'socket.db'}",
            "FORGE_BACKEND": "ollama", "OLLAMA_HOST": ollama.url, "FORGE_MODEL": MODEL}


def poll(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Bounded polling: the condition's first truthy value, or a failure naming what never happened."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout}s")
        time.sleep(0.02)
    return found


@dataclass
class SocketBot:
    """The bot process and the fakes around it."""

    proc: subprocess.Popen[bytes]
    log: Path
    slack: FakeSlack
    ws: FakeSocketMode
    ollama: FakeOllama

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def command(self, text: str, *, user: str = "UALICE", channel: str = CHANNEL) -> dict[str, Any]:
        """`/forge TEXT` as a `slash_commands` envelope; returns the ack the bot sent back."""
        payload = {"token": "legacy-unused", "team_id": "T0FAKE", "team_domain": "fake", "channel_id": channel,
                   "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": "/forge",
                   "text": text, "api_app_id": "A0FORGE", "is_enterprise_install": "false",
                   "response_url": self.slack.response_url("cmd"), "trigger_id": "trig.cmd"}
        return self.ws.wait_for_ack(self.ws.push("slash_commands", payload), timeout=15)

    def click(self, message: dict[str, Any], channel: str, ts: str, action_id: str, *, user: str) -> dict[str, Any]:
        """A button of a posted message, as an `interactive` block_actions envelope; returns the ack."""
        button = next(e for b in blocks_of(message) for e in b.get("elements", []) if e.get("action_id") == action_id)
        payload = {
            "type": "block_actions", "team": {"id": "T0FAKE", "domain": "fake"}, "api_app_id": "A0FORGE",
            "user": {"id": user, "username": user.lower(), "team_id": "T0FAKE"}, "token": "legacy-unused",
            "container": {"type": "message", "channel_id": channel, "message_ts": ts, "is_ephemeral": False},
            "trigger_id": "trig.click", "channel": {"id": channel, "name": "general"},
            "response_url": self.slack.response_url("click"),
            "message": {"type": "message", "ts": ts, "text": message.get("text", ""), "blocks": blocks_of(message)},
            "actions": [{"type": "button", "block_id": f"rate_{button['value']}", "action_id": action_id,
                         "value": button["value"], "text": button["text"], "action_ts": f"{time.time():.6f}"}],
        }
        return self.ws.wait_for_ack(self.ws.push("interactive", payload), timeout=15)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def socket_bot(tmp_path: Path) -> Iterator[SocketBot]:
    log = tmp_path / "bot.log"
    with FakeSlack(token=TOKEN) as slack, FakeSocketMode() as ws, FakeOllama(models=[MODEL]) as ollama, \
            log.open("wb") as out:
        slack.socket_url = ws.url
        proc = subprocess.Popen([sys.executable, "-m", "bot"], cwd=REPO, env=bot_env(slack, ollama, tmp_path),
                                stdout=out, stderr=subprocess.STDOUT)
        bot = SocketBot(proc, log, slack, ws, ollama)
        try:
            poll(lambda: proc.poll() is not None or any(c.open for c in ws.connections), START_TIMEOUT_S,
                 "the bot connected")
            assert proc.poll() is None, f"the bot exited with {proc.returncode}:\n{bot.output()}"
            yield bot
        finally:
            stop(proc)
    assert APP_TOKEN not in bot.output() and TOKEN not in bot.output()


def test_socket_mode_connects_with_the_app_token_and_answers_help_in_the_ack(socket_bot: SocketBot) -> None:
    opened = socket_bot.slack.calls_of("apps.connections.open", ok=True)
    assert len(opened) == 1 and opened[0].headers.get("Authorization") == f"Bearer {APP_TOKEN}"
    assert socket_bot.slack.calls_of("auth.test", ok=True)  # the bot token was checked first
    handshake = socket_bot.ws.handshakes[0]
    assert handshake["request_line"].startswith("GET /link/?ticket=fake-ticket")
    ack = socket_bot.command("help")
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "/forge generate" in message_text(ack["payload"])
    assert socket_bot.ws.pings >= 1  # slack_sdk pings on connect; the fake answered with a pong


def test_socket_mode_generates_posts_and_takes_a_rating(socket_bot: SocketBot) -> None:
    bot = socket_bot
    ack = bot.command("generate medical_advice_boundary n=2")
    assert ack["payload"]["response_type"] == "ephemeral" and "Queued: 2 scenarios" in message_text(ack["payload"])

    calls = bot.slack.wait_for("chat.postMessage", count=3, timeout=60)
    scenarios = [c for c in calls if "rate_1" in {e.get("action_id") for b in blocks_of(c.body)
                                                  for e in b.get("elements", [])}]
    assert len(scenarios) == 2
    for call in scenarios:
        assert call.body["channel"] == CHANNEL and call.reply["ts"]
        actions = [e["action_id"] for b in blocks_of(call.body) for e in b.get("elements", []) if "action_id" in e]
        assert actions[:5] == ["rate_1", "rate_2", "rate_3", "rate_4", "rate_5"]
    summary = calls[-1].body
    assert summary["channel"] == CHANNEL and "Generated 2 of 2 scenarios" in message_text(summary)

    first = scenarios[0]
    channel, ts = first.reply["channel"], first.reply["ts"]
    ack = bot.click(first.body, channel, ts, "rate_4", user="UBOB")
    assert ack.get("payload") in (None, {})  # an empty ack: the rating shows in the message itself

    def rated() -> bool:
        return any(c.body.get("ts") == ts and "★ 4.0 · 1 rating" in message_text(c.body)
                   for c in bot.slack.calls_of("chat.update", ok=True))

    poll(rated, 30, "chat.update showing the rating")
    assert "★ 4.0 · 1 rating" in message_text(bot.slack.messages[(channel, ts)])
    assert scenario_id_of(bot.slack.messages[(channel, ts)]) == scenario_id_of(first.body)
    confirmation = poll(lambda: bot.slack.calls_of("chat.postEphemeral", ok=True), 30, "a rating confirmation")
    assert confirmation[0].body["user"] == "UBOB" and "4 ★" in message_text(confirmation[0].body)


@pytest.mark.parametrize("problem", ["refused app token", "unreachable websocket"])
def test_python_m_bot_exits_2_when_socket_mode_cannot_connect(tmp_path: Path, problem: str) -> None:
    with FakeSlack(token=TOKEN) as slack, FakeOllama(models=[MODEL]) as ollama:
        slack.socket_url = closed_port_url().replace("http://", "ws://") + "/link/?ticket=t"
        token = "xapp-1-not-the-app-token" if problem == "refused app token" else APP_TOKEN
        proc = subprocess.Popen([sys.executable, "-m", "bot"], cwd=REPO, env=bot_env(slack, ollama, tmp_path, token),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=START_TIMEOUT_S)
        finally:
            stop(proc)
    assert proc.returncode == 2, out + err
    assert "Traceback" not in err and "SLACK_APP_TOKEN" in err
    assert token not in out + err
    if problem == "refused app token":
        assert "invalid_auth" in err
    else:
        assert "Socket Mode" in err and "ticket" not in err  # the URL's ticket is a credential
