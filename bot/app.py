"""create_app: the Bolt App, its middleware and its listeners. Wiring only."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import actions, commands, events, views
from bot.middleware import SeenEvents, admin_allowlist, inject_runtime, skip_redeliveries
from bot.runtime import BotRuntime


def create_app(runtime: BotRuntime) -> App:
    """Signature verification stays on (Bolt's default); the token is checked with auth.test at start."""
    secret = runtime.settings.slack_signing_secret
    app = App(client=runtime.client, signing_secret=secret.get_secret_value() if secret else "",
              name="scenario-forge", listener_executor=runtime.listeners)
    app.use(skip_redeliveries(SeenEvents()))
    app.use(inject_runtime(runtime))
    app.use(admin_allowlist(frozenset(runtime.settings.admin_users)))
    for surface in (commands, actions, views, events):
        surface.register(app)
    return app
