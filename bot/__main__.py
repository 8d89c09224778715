"""`python -m bot`: Socket Mode (needs SLACK_APP_TOKEN), or `python -m bot --http --port N` (POST /slack/events).

Example:
  SLACK_BOT_TOKEN=xoxb-... SLACK_SIGNING_SECRET=... FORGE_SLACK_CHANNEL=C0123 python -m bot --http --port 3000
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from urllib.error import URLError
from urllib.parse import urlparse

from pydantic import ValidationError
from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.app import create_app
from bot.http import EVENTS_PATH, make_http_server
from bot.runtime import BotRuntime, build_runtime
from bot.scheduler import JobScheduler
from forge.config import Settings
from forge.errors import ConfigError, ForgeError

log = logging.getLogger("bot")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--http", action="store_true", help=f"serve HTTP (POST {EVENTS_PATH}) instead of Socket Mode")
    parser.add_argument("--host", default="0.0.0.0", help="HTTP bind address (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    parser.add_argument("--no-scheduler", action="store_true",
                        help="run no scheduled jobs here (when another bot process runs them)")
    return parser.parse_args(argv)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "setting"
        raise ConfigError(f"Invalid setting {name}: {first['msg']}.", "Fix it (see the settings table in README.md).") from None


def check_required(settings: Settings, *, http: bool, scheduler: bool) -> None:
    """Name every missing setting at once, so one restart fixes them all."""
    needed = {"SLACK_BOT_TOKEN": settings.slack_bot_token}
    if http:
        needed["SLACK_SIGNING_SECRET"] = settings.slack_signing_secret
    else:
        needed["SLACK_APP_TOKEN"] = settings.slack_app_token
    if scheduler:
        needed["FORGE_SLACK_CHANNEL"] = settings.slack_channel
    missing = [name for name, value in needed.items() if not value]
    if missing:
        mode = "HTTP mode" if http else "Socket Mode"
        raise ConfigError(f"Missing setting{'s' if len(missing) > 1 else ''} for {mode}: {', '.join(missing)}.",
                          "Set them in the environment (see README.md); FORGE_SLACK_CHANNEL can be skipped "
                          "with --no-scheduler.")


def start(settings: Settings, *, scheduler: bool) -> tuple[BotRuntime, object]:
    """Build the runtime and the app (auth.test checks the token), then start the scheduler."""
    runtime = build_runtime(settings)
    try:
        app = create_app(runtime)
    except (URLError, OSError) as exc:
        runtime.close()
        raise ConfigError(f"Cannot reach Slack's Web API at {settings.slack_api_url}: {exc}.",
                          "Check the network (proxy: HTTPS_PROXY) and SLACK_API_URL.") from None
    except BoltError as exc:
        runtime.close()
        raise ConfigError(f"Slack did not accept the bot token at {settings.slack_api_url}: {exc}",
                          "Check SLACK_BOT_TOKEN (xoxb-...) and SLACK_API_URL.") from None
    if scheduler:
        runtime.scheduler = JobScheduler(settings, runtime.forge.datastore.engine)
        runtime.scheduler.start(runtime)
    runtime.submit(runtime.deliver)  # posts left pending by a previous run go out now
    return runtime, app


def connect_socket_mode(app: App, settings: Settings) -> object:
    """Open the Socket Mode connection once, or fail with the setting to fix.

    slack_sdk raises on a refused app token, and on an unreachable WebSocket it only logs and retries
    forever; either way a bot that never connects must not look like it is running.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value() if settings.slack_app_token else "")
    try:
        handler.connect()
    except (SlackApiError, SlackRequestError, URLError, OSError) as exc:
        handler.close()
        if isinstance(exc, SlackApiError):
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            reason = data.get("error") or f"HTTP {exc.response.status_code}"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        raise ConfigError(f"Slack did not open Socket Mode with SLACK_APP_TOKEN ({reason}).",
                          "Check SLACK_APP_TOKEN: an app-level token (xapp-...) with the connections:write "
                          "scope, from the app's Basic Information page; and SLACK_API_URL.") from None
    if not handler.client.is_connected():
        handler.close()
        host = urlparse(handler.client.wss_uri or "").netloc  # not the whole URL: its ticket is a credential
        raise ConfigError(f"Could not open the Socket Mode WebSocket to {host or 'Slack'}.",
                          "Check that this machine can reach it (proxy: HTTPS_PROXY) and that SLACK_APP_TOKEN "
                          "belongs to this app; or serve HTTP with --http.")
    return handler


def report(exc: ForgeError) -> int:
    print(f"Error: {exc.message}" + (f"\n{exc.hint}" if exc.hint else ""), file=sys.stderr)
    return exc.exit_code


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        check_required(settings, http=args.http, scheduler=not args.no_scheduler)
        runtime, app = start(settings, scheduler=not args.no_scheduler)
    except ForgeError as exc:
        return report(exc)
    signal.signal(signal.SIGTERM, stop_on_sigterm)  # platforms stop processes with SIGTERM: close cleanly
    try:
        if args.http:
            server = make_http_server(app, args.host, args.port)  # type: ignore[arg-type]
            log.info("Listening on http://%s:%d%s", args.host, server.server_port, EVENTS_PATH)
            server.serve_forever()
        else:
            connect_socket_mode(app, settings)  # type: ignore[arg-type]
            log.info("Connected to Slack over Socket Mode")
            threading.Event().wait()
    except ForgeError as exc:
        return report(exc)
    except KeyboardInterrupt:
        log.info("Stopping")
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
