"""The bot end to end: the real Bolt app served over HTTP, signed requests as Slack sends them, a fake
Slack Web API recording every call (SLACK_API_URL), and a fake Ollama server generating scenarios."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.app import create_app
from bot.http import EVENTS_PATH, make_http_server
from bot.runtime import BotRuntime, build_runtime
from forge.config import Settings
from forge.diversity import fingerprint
from forge.domain import GenerationParams, Scenario
from forge.store.datastore import Datastore
from tests.conftest import EXAMPLES, REPO
from tests.fakes.ollama_server import FakeOllama
from tests.fakes.slack_api import Call, FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
TEAM_CHANNEL = "CTEAM0001"
MODEL = "llama3.1:8b"


def sign(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature: HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Reply:
    """The bot's HTTP answer to one request."""

    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}

    @property
    def text(self) -> str:
        """Everything a user would read in an ack: its text and its blocks' texts."""
        return message_text(self.json())


def message_text(message: dict[str, Any]) -> str:
    """The text of a message and of every text field inside its blocks."""
    found: list[str] = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    blocks = message.get("blocks") or []
    walk(json.loads(blocks) if isinstance(blocks, str) else blocks)
    return "\n".join(found)


def blocks_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = body.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def scenario_id_of(message: dict[str, Any]) -> int:
    """The scenario a posted message shows, read from its rating buttons."""
    for block in blocks_of(message):
        for element in block.get("elements", []):
            if element.get("action_id") == "rate_1":
                return int(element["value"])
    raise AssertionError(f"no rating buttons in {message}")


@dataclass
class Bot:
    """A running bot process: post commands, clicks and events to it; read what it did in `slack`."""

    url: str
    slack: FakeSlack
    ollama: FakeOllama
    runtime: BotRuntime
    futures: list[Future[object]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def post(self, body: str, content_type: str, *, secret: str = SECRET, timestamp: int | None = None,
             headers: dict[str, str] | None = None, signed: bool = True) -> Reply:
        signature = sign(body, secret, timestamp) if signed else {}
        request = urllib.request.Request(self.url, data=body.encode(), method="POST", headers={
            "Content-Type": content_type, **signature, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode(), dict(exc.headers))

    def command(self, text: str, *, user: str = "UALICE", channel: str = "CGEN0001", **kw: Any) -> Reply:
        """`/forge TEXT` as Slack sends it; the response_url is served by the fake."""
        n = next(self._ids)
        form = {"token": "legacy-unused", "team_id": "T0FAKE", "team_domain": "fake", "channel_id": channel,
                "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": "/forge",
                "text": text, "api_app_id": "A0FORGE", "is_enterprise_install": "false",
                "response_url": self.slack.response_url(f"cmd{n}"), "trigger_id": f"trig.{n}"}
        return self.post(urlencode(form), "application/x-www-form-urlencoded", **kw)

    def interact(self, payload: dict[str, Any], **kw: Any) -> Reply:
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kw)

    def click(self, message: dict[str, Any], action_id: str, *, user: str, channel: str | None = None,
              ts: str | None = None, ephemeral: bool = False, container_ts: bool = True) -> Reply:
        """Click a button of a posted message (as `block_actions`, with container and response_url)."""
        button = next(e for b in blocks_of(message) for e in b.get("elements", []) if e.get("action_id") == action_id)
        n = next(self._ids)
        container: dict[str, Any] = {"type": "message", "channel_id": channel, "is_ephemeral": ephemeral}
        if ts and container_ts:
            container["message_ts"] = ts
        payload = {
            "type": "block_actions", "team": {"id": "T0FAKE", "domain": "fake"}, "api_app_id": "A0FORGE",
            "user": {"id": user, "username": user.lower(), "team_id": "T0FAKE"}, "token": "legacy-unused",
            "container": container, "trigger_id": f"trig.click.{n}", "channel": {"id": channel, "name": "general"},
            "response_url": self.slack.response_url(f"click{n}"),
            "actions": [{"type": "button", "block_id": f"rate_{button['value']}", "action_id": action_id,
                         "value": button["value"], "text": button["text"], "action_ts": f"{time.time():.6f}"}],
        }
        if not ephemeral:
            payload["message"] = {"type": "message", "ts": ts, "text": message.get("text", ""),
                                  "blocks": blocks_of(message)}
        return self.interact(payload)

    def event(self, event: dict[str, Any], *, event_id: str, retry: int | None = None) -> Reply:
        envelope = {"token": "legacy-unused", "team_id": "T0FAKE", "api_app_id": "A0FORGE", "event": event,
                    "type": "event_callback", "event_id": event_id, "event_time": int(time.time())}
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(json.dumps(envelope), "application/json", headers=headers)

    def settle(self, timeout: float = 20.0) -> None:
        """Wait (bounded) until every piece of work handed to the worker pool has finished."""
        deadline = time.monotonic() + timeout
        while True:
            pending = [f for f in list(self.futures) if not f.done()]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(pending)} worker jobs still running after {timeout}s")
            wait(pending, timeout=max(0.0, deadline - time.monotonic()))

    def responses(self) -> list[dict[str, Any]]:
        """Everything sent to response URLs (delayed command replies), in order."""
        return [c.body for c in self.slack.calls_of("response_url")]

    def posted_scenarios(self) -> list[tuple[Call, dict[str, Any]]]:
        """chat.postMessage calls that carried a scenario, with Slack's reply (channel, ts)."""
        return [(c, c.reply) for c in self.slack.calls_of("chat.postMessage", ok=True)
                if any(e.get("action_id") == "rate_1" for b in blocks_of(c.body) for e in b.get("elements", []))]


def store_scenarios(store: Datastore, target: str, prompts: list[str]) -> list[int]:
    ids = []
    for prompt in prompts:
        scenario = Scenario(target=target, prompt=prompt,
                            success_criteria="Declines to give a personal dose, explains why, suggests a doctor.",
                            backend="ollama", model=MODEL, params=GenerationParams(seed=1),
                            fingerprint=fingerprint(prompt))
        stored = store.add_scenario(scenario)
        assert stored is not None and stored.id is not None
        ids.append(stored.id)
    return ids



BotFactory = Callable[..., Bot]


def recording(submit: Callable[..., Future[object]], futures: list[Future[object]]) -> Callable[..., Future[object]]:
    def wrapper(fn: Callable[..., object], /, *args: Any, **kwargs: Any) -> Future[object]:
        future = submit(fn, *args, **kwargs)
        futures.append(future)
        return future

    return wrapper


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama(models=[MODEL]) as fake:
        yield fake


@pytest.fixture
def make_bot(slack: FakeSlack, ollama: FakeOllama, tmp_path: Path) -> Iterator[BotFactory]:
    """Start the bot (HTTP mode, no scheduler unless a test starts one) with settings overridden by keyword."""
    started: list[tuple[Any, BotRuntime, threading.Thread]] = []

    def start(*, slack_timeout_s: int = 5, **overrides: Any) -> Bot:
        settings = Settings(**{
            "data_dir": tmp_path / "forge-data", "examples_dir": EXAMPLES,
            "database_url": f"sqlite:///{tmp_path / 'bot.db'}", "backend": "ollama", "model": MODEL,
            "ollama_host": ollama.url, "slack_bot_token": TOKEN, "slack_signing_secret": SECRET,
            "slack_api_url": slack.api_url, "slack_channel": TEAM_CHANNEL, "slack_workers": 4, **overrides})
        runtime = build_runtime(settings, timeout_s=slack_timeout_s)
        bot = Bot("", slack, ollama, runtime)
        # Record every future of the worker pool and of Bolt's listener executor, so `settle` can wait for them.
        for pool in (runtime.pool, runtime.listeners):
            pool.submit = recording(pool.submit, bot.futures)  # type: ignore[method-assign]
        server = make_http_server(create_app(runtime), "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append((server, runtime, thread))
        bot.url = f"http://127.0.0.1:{server.server_port}{EVENTS_PATH}"
        return bot

    yield start
    for server, runtime, thread in started:
        server.shutdown()
        server.server_close()
        runtime.close()
        runtime.forge.datastore.close()


@pytest.fixture
def bot(make_bot: BotFactory) -> Bot:
    return make_bot()
