"""Events: the App Home tab is rebuilt each time a user opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import blocks
from bot.listeners import replying_errors
from forge.coverage import coverage_overview


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened)


def handle_app_home_opened(event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """Publish totals, share rated 4+, per-target coverage, the user's own count and the next jobs."""
    if event.get("tab", "home") != "home":
        return
    rt = context["runtime"]
    with replying_errors(lambda **_: None):
        overview = coverage_overview(rt.forge.datastore, rt.forge.catalog.names())
        jobs = rt.scheduler.next_runs() if rt.scheduler is not None else []
        client.views_publish(user_id=event["user"], view=blocks.build_home(overview, event["user"], jobs))
