"""What the Slack listeners and jobs share: the Forge, two Web API clients, the worker pool, the scheduler.

Built once by `build_runtime` (tests build it with a fake Slack URL); listeners find it in Bolt's
context, jobs through `bot.scheduler`.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.blocks import build_outbox_message, build_scenario_message
from forge.bootstrap import Forge, bootstrap
from forge.config import Settings
from forge.errors import ForgeError
from forge.publishing import DeliveryDeferred, DeliveryReport, OutboxItem, Post, deliver_due
from forge.review import get_aggregate

if TYPE_CHECKING:
    from bot.scheduler import JobScheduler

log = logging.getLogger(__name__)
SLACK_TIMEOUT_S = 15
CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
CHANNEL_HINT = "Invite the bot with `/invite @scenario-forge` (or use a channel it is in), then try again."


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


def as_deferral(exc: Exception) -> DeliveryDeferred:
    """A failed Web API call as an outbox deferral: 429 with its Retry-After, 5xx and timeouts pause the pass."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        if status == 429:
            retry_after = float(exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after") or 1)
            return DeliveryDeferred(f"rate limited (retry after {retry_after:g} s)", retry_after)
        if status >= 500:
            return DeliveryDeferred(f"Slack answered HTTP {status}")
        # e.g. channel_not_found, not_in_channel: only this post is affected; retried until the cause is fixed
        return DeliveryDeferred(f"Slack refused the post: {exc.response.get('error')}", pause_all=False)
    return DeliveryDeferred(f"no answer from Slack: {type(exc).__name__}: {exc}")


def _log_failure(future: Future[object]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("Worker failed", exc_info=future.exception())


@dataclass
class BotRuntime:
    """Long-lived services of one bot process."""

    settings: Settings
    forge: Forge
    client: WebClient
    """For listeners: updates, ephemerals, modals, uploads (with slack_sdk's connection retries)."""
    poster: WebClient
    """For outbox posts: no automatic retries, since the outbox retries (and records) them itself."""
    pool: ThreadPoolExecutor
    """Work that outlives the ack: generation, exports, delivery."""
    listeners: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        max_workers=10, thread_name_prefix="forge-listener"))
    """Bolt runs listeners here; kept apart from `pool` so busy generation never delays an ack."""
    scheduler: JobScheduler | None = None
    _deliver_lock: threading.Lock = field(default_factory=threading.Lock)
    _paused_until: datetime | None = None
    _scenario_locks: defaultdict[int, threading.Lock] = field(default_factory=lambda: defaultdict(threading.Lock))
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)

    @property
    def channel(self) -> str | None:
        return self.settings.slack_channel

    def submit(self, fn: Callable[..., object], *args: Any) -> Future[object]:
        """Run work that outlives the 3-second ack in the worker pool; failures are logged."""
        future = self.pool.submit(fn, *args)
        future.add_done_callback(_log_failure)
        return future

    def deliver(self, now: datetime | None = None) -> DeliveryReport:
        """Post every due outbox row; one deliverer at a time keeps posts in order.

        After a rate limit or an outage nothing is posted until the failed post's retry time, so Slack
        is not hammered and the failed post still goes out before the ones queued behind it.
        """
        with self._deliver_lock:
            moment = now or datetime.now(UTC)
            if self._paused_until is not None and moment < self._paused_until:
                return DeliveryReport()
            report = deliver_due(self.forge.datastore, self.send, now=moment)
            self._paused_until = report.paused_until
            return report

    def send(self, item: OutboxItem) -> Post:
        """Render and post one outbox row; failures become deferrals."""
        message = build_outbox_message(item.kind, item.payload, item.scenario, item.aggregate)
        try:
            reply = self.poster.chat_postMessage(channel=item.channel, unfurl_links=False, unfurl_media=False,
                                                 **message)
        except (SlackApiError, SlackRequestError, URLError, OSError) as exc:
            raise as_deferral(exc) from exc
        return Post(str(reply["channel"]), str(reply["ts"]))

    def refresh(self, scenario_id: int, posts: list[Post]) -> None:
        """Show the current mean and count on every message of a scenario.

        The aggregate is read inside a per-scenario lock, so of concurrent clicks the last update
        always carries the latest count.
        """
        with self._locks_guard:
            lock = self._scenario_locks[scenario_id]
        with lock:
            store = self.forge.datastore
            message = build_scenario_message(store.get_scenario(scenario_id), get_aggregate(store, scenario_id))
            for post in dict.fromkeys(posts):
                try:
                    self.client.chat_update(channel=post.channel, ts=post.ts, **message)
                except SlackApiError as exc:  # a deleted message must not stop the others
                    log.warning("Could not update %s/%s: %s", post.channel, post.ts, exc.response.get("error"))

    def upload(self, channel: str, path: Path, comment: str) -> None:
        """Upload a file to `channel`; a channel the bot cannot share into is the user's to fix, so say how."""
        try:
            self.client.files_upload_v2(channel=channel, file=str(path), filename=path.name, title=path.name,
                                        initial_comment=comment)
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error in CHANNEL_ERRORS:
                raise ForgeError(f"Slack would not let me share the file in this channel ({error}).",
                                 CHANNEL_HINT) from exc
            raise

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.listeners.shutdown(wait=True, cancel_futures=True)
        self.pool.shutdown(wait=True, cancel_futures=True)


def build_runtime(settings: Settings, forge: Forge | None = None, *, timeout_s: int = SLACK_TIMEOUT_S) -> BotRuntime:
    """Clients point at SLACK_API_URL; the pool has FORGE_SLACK_WORKERS threads."""
    token = _secret(settings.slack_bot_token)
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=timeout_s)
    poster = WebClient(token=token, base_url=settings.slack_api_url, timeout=timeout_s, retry_handlers=[])
    pool = ThreadPoolExecutor(max_workers=settings.slack_workers, thread_name_prefix="forge-slack")
    return BotRuntime(settings, forge or bootstrap(settings), client, poster, pool)
