"""A fake Slack Web API on loopback, speaking Slack's wire format, recording every call.

Form or JSON request bodies, `{"ok": true, ...}` replies with the fields slack_sdk reads (channel and
ts from chat.postMessage, views, upload URLs served by this same server for files_upload_v2), Slack's
error shapes (`invalid_auth`, `ratelimited` with Retry-After, 5xx), and injected failures or slow
replies for the next K calls of a method. It also accepts `response_url` posts.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

MAX_BLOCKS, MAX_SECTION = 50, 3000


@dataclass
class Call:
    """One request the fake received, and the status it answered."""

    method: str
    """Web API method (`chat.postMessage`), or `upload` / `response_url`."""
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes
    status: int = 200
    reply: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.reply.get("ok", True))


@dataclass
class Injection:
    status: int
    retry_after: int | None = None
    delay_s: float = 0.0


def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    text = raw.decode("utf-8", "replace")
    if "json" in content_type:
        return json.loads(text)
    if "x-www-form-urlencoded" in content_type:
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    return {"_text": text}


def check_blocks(blocks: Any, limit: int = MAX_BLOCKS) -> str | None:
    """Slack's own `invalid_blocks` checks that our builders must pass: block count and section text length."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not blocks:
        return None
    if len(blocks) > limit:
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if len(text) > MAX_SECTION:
            return "invalid_blocks"
    return None


class FakeSlack:
    """Start with `with FakeSlack() as slack:`; point SLACK_API_URL at `slack.api_url`."""

    app_token = "xapp-1-A0FORGE-1-fake"
    """The app-level token `apps.connections.open` accepts (SLACK_APP_TOKEN)."""
    socket_url: str | None = None
    """The WebSocket URL `apps.connections.open` hands out (a `tests.fakes.socket_mode.FakeSocketMode`)."""

    def __init__(self, token: str = "xoxb-test-token", team: str = "T0FAKE", bot_user: str = "U0BOT") -> None:
        self.token, self.team, self.bot_user = token, team, bot_user
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.closed_channels: set[str] = set()
        """Channels the bot is not in: posts and file shares there get `not_in_channel`."""
        self._injections: defaultdict[str, deque[Injection]] = defaultdict(deque)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, payload = fake._handle(self.path, dict(self.headers), raw)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8" if not isinstance(payload, bytes)
                                 else "text/plain; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -- test API -------------------------------------------------------------

    @property
    def root(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.root}/response/{name}"

    def fail(self, method: str, status: int = 500, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` calls of `method` with HTTP `status` (429 carries Retry-After)."""
        with self._lock:
            self._injections[method].extend(Injection(status, retry_after) for _ in range(times))

    def slow(self, method: str, delay_s: float, times: int = 1) -> None:
        """Answer the next `times` calls of `method` normally, but only after `delay_s` seconds."""
        with self._lock:
            self._injections[method].extend(Injection(200, delay_s=delay_s) for _ in range(times))

    def calls_of(self, method: str | None = None, *, ok: bool | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if (method is None or c.method == method) and (ok is None or c.ok == ok)]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0, ok: bool | None = True) -> list[Call]:
        """Poll (bounded) until `count` calls of `method` arrived; fail with what did arrive otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_of(method, ok=ok)
            if len(calls) >= count:
                return calls
            time.sleep(0.01)
        seen = [(c.method, c.status) for c in self.calls_of()]
        raise AssertionError(f"expected {count} ok={ok} {method} calls within {timeout}s; got {seen}")

    def posted(self) -> list[dict[str, Any]]:
        """Messages successfully posted with chat.postMessage, in order."""
        return [c.body for c in self.calls_of("chat.postMessage", ok=True)]

    # -- the wire --------------------------------------------------------------

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1700000000 + n}.{n:06d}"

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        lower = {k.lower(): v for k, v in headers.items()}
        body = _parse(raw, lower.get("content-type", ""))
        if path.startswith("/response/"):
            call = Call("response_url", path, headers, body, raw)
            return self._record(call, 200, {}, b"ok")
        if path.startswith("/upload/"):
            file_id = path.rsplit("/", 1)[-1]
            with self._lock:
                self.files.setdefault(file_id, {})["content"] = raw
            return self._record(Call("upload", path, headers, body, raw), 200, {}, f"OK - {len(raw)}".encode())
        method = path.removeprefix("/api/").split("?")[0]
        call = Call(method, path, headers, body, raw)
        with self._lock:
            injection = self._injections[method].popleft() if self._injections[method] else None
        if injection and injection.delay_s:
            time.sleep(injection.delay_s)
        if injection and injection.status == 429:
            extra = {"Retry-After": str(injection.retry_after or 1)}
            return self._record(call, 429, extra, {"ok": False, "error": "ratelimited"})
        if injection and injection.status >= 500:
            return self._record(call, injection.status, {}, b"upstream connect error or disconnect/reset")
        auth = lower.get("authorization", "")
        if method == "apps.connections.open":  # Socket Mode authenticates with the app token, not the bot token
            return self._record(call, 200, {}, self._apps_connections_open(auth))
        if not auth:
            return self._record(call, 200, {}, {"ok": False, "error": "not_authed"})
        if auth != f"Bearer {self.token}":
            return self._record(call, 200, {}, {"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        reply = handler(body) if handler else {"ok": False, "error": "unknown_method"}
        return self._record(call, 200, {}, reply)

    def _record(self, call: Call, status: int, headers: dict[str, str], payload: Any) -> tuple[int, dict[str, str], Any]:
        call.status = status
        call.reply = payload if isinstance(payload, dict) else {}
        with self._lock:
            self.calls.append(call)
        return status, headers, payload

    # -- methods ------------------------------------------------------------------

    def _auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake-forge.slack.com/", "team": "Fake Forge", "user": "forgebot",
                "team_id": self.team, "user_id": self.bot_user, "bot_id": "B0BOT", "is_enterprise_install": False}

    def _apps_connections_open(self, auth: str) -> dict[str, Any]:
        if auth != f"Bearer {self.app_token}":
            return {"ok": False, "error": "invalid_auth" if auth else "not_authed"}
        if self.socket_url is None:
            return {"ok": False, "error": "internal_error", "detail": "set FakeSlack.socket_url first"}
        return {"ok": True, "url": self.socket_url}

    def _chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if body["channel"] in self.closed_channels:
            return {"ok": False, "error": "not_in_channel"}
        if check_blocks(body.get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
        ts = self._next_ts()
        message = {"type": "message", "user": self.bot_user, "bot_id": "B0BOT", "ts": ts, "text": body.get("text", ""),
                   "blocks": body.get("blocks", []), "team": self.team}
        with self._lock:
            self.messages[(body["channel"], ts)] = message
        return {"ok": True, "channel": body["channel"], "ts": ts, "message": message}

    def _chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        key = (body.get("channel", ""), body.get("ts", ""))
        if check_blocks(body.get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
        with self._lock:
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key].update(text=body.get("text", ""), blocks=body.get("blocks", []))
            message = dict(self.messages[key])
        return {"ok": True, "channel": key[0], "ts": key[1], "text": body.get("text", ""), "message": message}

    def _chat_postEphemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("channel") or not body.get("user"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _view(self, body: dict[str, Any], kind: str) -> dict[str, Any]:
        view = body.get("view")
        view = json.loads(view) if isinstance(view, str) else view or {}
        if check_blocks(view.get("blocks"), limit=100):
            return {"ok": False, "error": "invalid_arguments"}
        n = next(self._ts)
        return {"ok": True, "view": {"id": f"V{n:08d}", "team_id": self.team, "type": view.get("type", kind),
                                     "blocks": view.get("blocks", []), "private_metadata": view.get("private_metadata", ""),
                                     "callback_id": view.get("callback_id", ""), "state": {"values": {}},
                                     "hash": f"{n}.abc", "root_view_id": f"V{n:08d}", "app_id": "A0FORGE",
                                     "bot_id": "B0BOT"}}

    def _views_open(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._view(body, "modal")

    def _views_publish(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = self._view(body, "home")
        if reply["ok"]:
            with self._lock:
                self.home_views[body["user_id"]] = reply["view"]
        return reply

    def _files_getUploadURLExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("filename") or not body.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ts):08d}"
        with self._lock:
            self.files[file_id] = {"id": file_id, "name": body["filename"], "length": int(body["length"])}
        return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("channel_id") in self.closed_channels:
            return {"ok": False, "error": "not_in_channel"}
        files = json.loads(body.get("files", "[]"))
        done = []
        with self._lock:
            for f in files:
                if f["id"] not in self.files or "content" not in self.files[f["id"]]:
                    return {"ok": False, "error": "file_not_found"}
                stored = self.files[f["id"]]
                stored.update(title=f.get("title"), channel=body.get("channel_id"),
                              initial_comment=body.get("initial_comment"))
                done.append({"id": f["id"], "title": f.get("title"), "name": stored["name"],
                             "size": len(stored["content"])})
        return {"ok": True, "files": done}

    def _files_info(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            stored = self.files.get(body.get("file", ""))
        if not stored:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": {k: v for k, v in stored.items() if k != "content"}}

    def _conversations_info(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": body.get("channel"), "name": "forge", "is_channel": True,
                                        "is_member": True}}

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
