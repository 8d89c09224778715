"""Global Bolt middleware: hand listeners the runtime, enforce the admin allowlist, skip Slack's retries.

The allowlist lives here and only here, so no listener can forget it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

from bot.arguments import admin_action
from bot.blocks import build_refusal
from bot.runtime import BotRuntime

Middleware = Callable[..., BoltResponse | None]
SEEN_EVENTS_TTL_S = 3600  # Slack retries within minutes; an hour is ample
SEEN_EVENTS_MAX = 10_000


def inject_runtime(runtime: BotRuntime) -> Middleware:
    """Put the runtime into every listener's `context`."""

    def middleware(context: dict[str, Any], next: Callable[[], None]) -> None:  # noqa: A002 (Bolt's name)
        context["runtime"] = runtime
        next()

    return middleware


def admin_allowlist(admins: frozenset[str]) -> Middleware:
    """Refuse, ephemerally, `/forge generate`, `export` and `jobs run` from anyone not in FORGE_ADMIN_USERS."""

    def middleware(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:  # noqa: A002
        if admins and "command" in body and body.get("user_id") not in admins:
            what = admin_action(str(body.get("text", "")))
            if what:
                return BoltResponse(status=200, body=build_refusal(what))
        next()
        return None

    return middleware


class SeenEvents:
    """Event ids already handled, remembered for an hour (bounded), so a retry is acked but not redone."""

    def __init__(self, ttl_s: float = SEEN_EVENTS_TTL_S, max_size: int = SEEN_EVENTS_MAX) -> None:
        self.ttl_s, self.max_size = ttl_s, max_size
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._seen and (len(self._seen) >= self.max_size or next(iter(self._seen.values())) < now - self.ttl_s):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True


def skip_redeliveries(seen: SeenEvents) -> Middleware:
    """Slack re-sends an event (with `x-slack-retry-num`) when our 200 was slow or lost; handle each once.

    A retry whose first delivery never reached us is still handled: deduplication is by event id, not by
    the retry header alone.
    """

    def middleware(body: dict[str, Any], request: BoltRequest, next: Callable[[], None]) -> BoltResponse | None:  # noqa: A002
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not seen.first_time(event_id):
            retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": ["1"], "x-forge-skipped-retry": [retry]})
        next()
        return None

    return middleware
