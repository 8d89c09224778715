"""HTTP mode: one endpoint, POST /slack/events, for commands, interactivity and events.

Bolt's WSGI adapter on the standard library's WSGI server with a thread per request: no web
framework to install, and a slow request never holds up the next one.
"""

from __future__ import annotations

import logging
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    """Access lines go to logging at debug level (wsgiref prints them to stderr otherwise)."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        log.debug("%s " + format, self.address_string(), *args)


def make_http_server(app: App, host: str = "0.0.0.0", port: int = 3000) -> WSGIServer:
    """A server ready for `serve_forever()`; port 0 picks a free one (see `server.server_port`)."""
    return make_server(host, port, SlackRequestHandler(app, path=EVENTS_PATH), server_class=ThreadingWSGIServer,
                       handler_class=QuietHandler)
