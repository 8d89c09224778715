"""The Slack ack path in HTTP mode against a bare Bolt app, measured in one run.

Starts the real bot (create_app over build_runtime, signature verification and all middleware on),
pointed at the fake Slack Web API and a fake Ollama that takes `--ollama-delay` seconds per reply,
served by bot.http's threaded WSGI server on a free port. Beside it, on the same server stack, a
bare Bolt App whose `/forge` handler only acks. Signed slash commands go to each in turn (rounds
interleave the three cases, so background generation weighs on all of them alike) and the time to
HTTP 200 is recorded. Prints median and p95 for `/forge help`, `/forge generate ... n=1` (generation
runs after the ack, in the worker pool) and the bare app, the ratios ours / bare, and the slowest
ack as a share of Slack's 3-second budget.

    .venv/bin/python bench/bench_slack.py [--requests N] [--ollama-delay S]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIServer

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.app import create_app
from bot.http import EVENTS_PATH, make_http_server
from bot.runtime import BotRuntime, build_runtime
from forge.config import Settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fakes live in tests/, which is not an installed package
from tests.fakes.ollama_server import FakeOllama  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret-0123456789ab"
TOKEN = "xoxb-bench-token"
MODEL = "llama3.1:8b"
USER, CHANNEL = "UBENCH01", "CBENCH01"
ACK_BUDGET_S = 3.0  # Slack shows the user an error when the 200 takes longer


def sign(body: str) -> dict[str, str]:
    """Slack's v0 signature: HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret."""
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@contextmanager
def serving(app: App) -> Iterator[str]:
    """The app behind bot.http's server on a free loopback port; yields its events URL."""
    server: WSGIServer = make_http_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{EVENTS_PATH}"
    finally:
        server.shutdown()
        server.server_close()


def bare_app(slack: FakeSlack) -> App:
    """The floor: Bolt with signature verification and a `/forge` handler that only acks."""
    app = App(client=WebClient(token=TOKEN, base_url=slack.api_url), signing_secret=SECRET, name="bare")

    @app.command("/forge")
    def noop(ack: Ack) -> None:
        ack()

    return app


class Commander:
    """Sends signed `/forge TEXT` requests to one URL and keeps each latency to HTTP 200."""

    def __init__(self, url: str, slack: FakeSlack, text: str, expect: str) -> None:
        self.url, self.slack, self.text, self.expect = url, slack, text, expect
        self.seconds: list[float] = []
        self.count = 0

    def send(self, *, record: bool = True) -> None:
        self.count += 1
        form = {"token": "unused", "team_id": "T0FAKE", "team_domain": "fake", "channel_id": CHANNEL,
                "channel_name": "bench", "user_id": USER, "user_name": "bench", "command": "/forge",
                "text": self.text, "api_app_id": "A0FORGE", "is_enterprise_install": "false",
                "response_url": self.slack.response_url(f"bench{self.count}"), "trigger_id": f"trig.{self.count}"}
        body = urlencode(form)
        request = urllib.request.Request(self.url, data=body.encode(), method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", **sign(body)})
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:
            reply = response.read().decode()
            status = response.status
        elapsed = time.perf_counter() - start
        if status != 200 or self.expect not in reply:  # a fast wrong answer would flatter us
            raise SystemExit(f"/forge {self.text}: HTTP {status}, expected {self.expect!r} in {reply[:300]!r}")
        if record:
            self.seconds.append(elapsed)

    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    def p95_ms(self) -> float:
        return statistics.quantiles(self.seconds, n=20)[-1] * 1000


def measure(cases: list[Commander], rounds: int, warmup: int) -> None:
    for _ in range(warmup):
        for case in cases:
            case.send(record=False)
    for _ in range(rounds):
        for case in cases:
            case.send()


def line(name: str, case: Commander) -> str:
    return f"{name:<40} median {case.median_ms():7.2f} ms   p95 {case.p95_ms():7.2f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case (default 200)")
    parser.add_argument("--ollama-delay", type=float, default=0.5,
                        help="seconds the fake Ollama takes per reply, so generation is slow (default 0.5)")
    args = parser.parse_args(argv)
    if args.requests < 20:
        parser.error("--requests must be at least 20 for a p95")

    with tempfile.TemporaryDirectory() as tmp, FakeSlack(token=TOKEN) as slack, \
            FakeOllama(models=[MODEL], delay_s=args.ollama_delay) as ollama:
        settings = Settings(data_dir=Path(tmp), examples_dir=ROOT / "examples",
                            database_url=f"sqlite:///{tmp}/bench.db", backend="ollama", model=MODEL,
                            ollama_host=ollama.url, slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                            slack_api_url=slack.api_url, slack_channel=CHANNEL, admin_users=[USER], slack_workers=4)
        runtime: BotRuntime = build_runtime(settings)
        try:
            with serving(create_app(runtime)) as ours, serving(bare_app(slack)) as bare:
                help_ = Commander(ours, slack, "help", "/forge commands")
                generate = Commander(ours, slack, "generate medical_advice_boundary n=1", "Queued: 1 scenarios")
                floor = Commander(bare, slack, "help", "")
                wall = time.perf_counter()
                measure([floor, help_, generate], args.requests, warmup=5)
                wall = time.perf_counter() - wall
                posted = len([c for c in slack.posted() if "rate_1" in str(c.get("blocks", ""))])
        finally:
            runtime.close()  # cancels generations still queued; waits for the running ones
            runtime.forge.datastore.close()

    slowest = max(max(help_.seconds), max(generate.seconds))
    print(f"{args.requests} signed /forge requests per case over loopback HTTP, rounds interleaved, {wall:.1f} s; "
          f"fake Ollama {args.ollama_delay:g} s per reply; {posted} scenarios posted meanwhile by the worker pool")
    print(line("bare Bolt app, no-op /forge", floor))
    print(line("scenario-forge /forge help", help_))
    print(line("scenario-forge /forge generate ... n=1", generate))
    print(f"ratio help / bare (median):     {help_.median_ms() / floor.median_ms():.3f}")
    print(f"ratio generate / bare (median): {generate.median_ms() / floor.median_ms():.3f}")
    print(f"generate ack p95 / Slack's 3 s budget: {generate.p95_ms() / 1000 / ACK_BUDGET_S:.4f} "
          f"(slowest ack of all: {slowest * 1000:.1f} ms = {slowest / ACK_BUDGET_S:.4f} of the budget)")


if __name__ == "__main__":
    main()
