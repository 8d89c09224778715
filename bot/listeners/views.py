"""Modal submissions: the "Add note" modal stores the note together with the user's stars."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import blocks
from bot.listeners import replying_errors
from bot.listeners.actions import confirm
from forge.publishing import rate_post

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.view(blocks.NOTE_CALLBACK)(handle_note_submission)


def handle_note_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                           context: dict[str, Any]) -> None:
    """Close the modal, upsert stars and note, refresh the scenario's messages, confirm to the user."""
    ack()
    rt = context["runtime"]
    user = body["user"]["id"]
    values = view["state"]["values"]
    meta = json.loads(view.get("private_metadata") or "{}")
    channel = meta.get("channel")

    def tell(**message: Any) -> None:
        confirm(client, None, channel, user, message)

    with replying_errors(tell):
        stars = int(values[blocks.STARS_BLOCK][blocks.STARS_BLOCK]["selected_option"]["value"])
        note = values[blocks.NOTE_BLOCK][blocks.NOTE_BLOCK].get("value") or ""
        rated = rate_post(rt.forge.datastore, int(meta["scenario_id"]), user, stars, note)
        rt.refresh(rated.scenario.id or 0, rated.posts)
        tell(**blocks.build_rating_confirmation(rated.result))
