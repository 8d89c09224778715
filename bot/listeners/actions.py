"""Buttons on scenario messages: rate 1-5 stars, "Add note" (opens a modal), "Show full" (opens a modal)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks
from bot.listeners import replying_errors
from forge.publishing import Post, rate_post, reviewer_stars

log = logging.getLogger(__name__)

Body = dict[str, Any]


def register(app: App) -> None:
    app.action(blocks.RATE_ACTION)(handle_rate)
    app.action(blocks.NOTE_ACTION)(handle_add_note)
    app.action(blocks.SHOW_FULL_ACTION)(handle_show_full)


def _channel(body: Body) -> str | None:
    return (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")


def confirm(client: WebClient, respond: Respond | None, channel: str | None, user: str,
            message: dict[str, Any]) -> None:
    """Tell only the clicker; through response_url when the bot may not post ephemerals in that channel."""
    try:
        if channel is None:
            raise LookupError("no channel")
        client.chat_postEphemeral(channel=channel, user=user, **message)
    except (SlackApiError, LookupError) as exc:
        log.info("postEphemeral unavailable (%s); answering through response_url", exc)
        if respond is not None:
            respond(response_type="ephemeral", replace_original=False, **message)


def handle_rate(ack: Ack, body: Body, action: dict[str, Any], respond: Respond, client: WebClient,
                context: dict[str, Any]) -> None:
    """Upsert this user's rating, update every message of the scenario in place, confirm ephemerally."""
    ack()
    rt = context["runtime"]
    user, scenario_id = body["user"]["id"], int(action["value"])
    stars = int(action["action_id"].removeprefix("rate_"))
    container = body.get("container") or {}
    with replying_errors(lambda **m: respond(replace_original=False, **m)):
        rated = rate_post(rt.forge.datastore, scenario_id, user, stars)
        posts = list(rated.posts)
        if container.get("is_ephemeral"):  # a review message: only its response_url can change it
            respond(replace_original=True, **blocks.build_scenario_message(rated.scenario, rated.result.aggregate,
                                                                           your_stars=stars))
        else:  # the clicked message itself, even if the outbox has no record of it
            channel = _channel(body)
            ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
            if channel and ts:
                posts.append(Post(channel, ts))
        rt.refresh(scenario_id, posts)
        confirm(client, respond, _channel(body), user, blocks.build_rating_confirmation(rated.result))


def handle_add_note(ack: Ack, body: Body, action: dict[str, Any], respond: Respond, client: WebClient,
                    context: dict[str, Any]) -> None:
    """Open the note modal at once (a trigger_id lives 3 seconds), stars pre-filled with the user's rating."""
    ack()
    rt = context["runtime"]
    scenario_id, user = int(action["value"]), body["user"]["id"]
    with replying_errors(lambda **m: respond(replace_original=False, **m)):
        scenario = rt.forge.datastore.get_scenario(scenario_id)
        stars = reviewer_stars(rt.forge.datastore, scenario_id, user)
        client.views_open(trigger_id=body["trigger_id"], view=blocks.build_note_modal(scenario, stars, _channel(body)))


def handle_show_full(ack: Ack, body: Body, action: dict[str, Any], respond: Respond, client: WebClient,
                     context: dict[str, Any]) -> None:
    """The full prompt and criteria, which a message may have cut to fit Block Kit's limits."""
    ack()
    rt = context["runtime"]
    with replying_errors(lambda **m: respond(replace_original=False, **m)):
        scenario = rt.forge.datastore.get_scenario(int(action["value"]))
        client.views_open(trigger_id=body["trigger_id"], view=blocks.build_full_text_modal(scenario))
