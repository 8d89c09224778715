"""A fake Slack Socket Mode endpoint: a loopback WebSocket server (RFC 6455, stdlib only).

On connect it sends Slack's `hello`; the test pushes envelopes (`slash_commands`, `interactive`,
`events_api`) and reads back the acks the client sends (`{"envelope_id": ..., "payload": ...}`).
Client frames must be masked, as RFC 6455 requires; server frames are not. Pings are answered
with pongs carrying the same payload (slack_sdk drops a connection that goes 4 intervals without one).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x8, 0x9, 0xA, 0x0


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def frame(opcode: int, payload: bytes) -> bytes:
    """An unmasked, unfragmented server frame."""
    n = len(payload)
    if n <= 125:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n <= 0xFFFF:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return header + payload


class _Connection:
    """One client: the handshake, then frames until either side closes."""

    def __init__(self, server: FakeSocketMode, sock: socket.socket) -> None:
        self.server, self.sock = server, sock
        self.send_lock = threading.Lock()
        self.open = False

    def send(self, opcode: int, payload: bytes) -> None:
        with self.send_lock:
            self.sock.sendall(frame(opcode, payload))

    def _recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def _handshake(self) -> bool:
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = self.sock.recv(1024)
            if not chunk or len(raw) > 16384:
                return False
            raw += chunk
        request_line, *lines = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        self.server.handshakes.append({"request_line": request_line, "headers": headers})
        key = headers.get("sec-websocket-key")
        if not request_line.startswith("GET ") or headers.get("upgrade", "").lower() != "websocket" or not key:
            self.sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        self.sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n").encode())
        return True

    def _read_frame(self) -> tuple[bool, int, bytes]:
        b1, b2 = self._recv_exact(2)
        length = b2 & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._recv_exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._recv_exact(8))[0]
        if not b2 & 0x80:
            raise ValueError("client frame not masked")
        mask = self._recv_exact(4)
        data = bytes(b ^ m for b, m in zip(self._recv_exact(length), itertools.cycle(mask)))
        return bool(b1 & 0x80), b1 & 0x0F, data

    def run(self) -> None:
        try:
            if not self._handshake():
                return
            self.open = True
            self.send(TEXT, json.dumps(self.server.hello).encode())
            self.server._notify()
            message = b""
            while True:
                fin, opcode, data = self._read_frame()
                if opcode == PING:
                    self.send(PONG, data)
                    self.server.pings += 1
                elif opcode == CLOSE:
                    self.send(CLOSE, data[:2])
                    return
                elif opcode in (TEXT, CONTINUATION):
                    message += data
                    if fin:
                        self.server._received(json.loads(message.decode()))
                        message = b""
        except ValueError:  # RFC 6455: an unmasked client frame is a protocol error (1002)
            with contextlib.suppress(OSError):
                self.send(CLOSE, struct.pack("!H", 1002))
        except OSError:
            pass  # a vanished client ends this connection only
        finally:
            self.open = False
            self.sock.close()
            self.server._notify()


class FakeSocketMode:
    """Start with `with FakeSocketMode() as ws:`; hand `ws.url` to `FakeSlack.socket_url`."""

    def __init__(self, app_id: str = "A0FORGE") -> None:
        self.app_id = app_id
        self.hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": app_id},
                      "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 3600}}
        self.handshakes: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.pings = 0
        self.connections: list[_Connection] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)  # so the accept loop notices `__exit__`
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.listener.getsockname()[1]}/link/?ticket=fake-ticket&app_id={self.app_id}"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            connection = _Connection(self, sock)
            with self._cond:
                self.connections.append(connection)
            threading.Thread(target=connection.run, daemon=True).start()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _received(self, message: dict[str, Any]) -> None:
        with self._cond:
            self.messages.append(message)
            if "envelope_id" in message:
                self.acks[message["envelope_id"]] = message
            self._cond.notify_all()

    def _wait(self, predicate: Any, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (found := predicate()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{what} within {timeout}s; messages from the client: {self.messages}")
                self._cond.wait(left)
            return found

    # -- test API -------------------------------------------------------------

    def wait_connected(self, timeout: float = 30.0) -> _Connection:
        """The newest open connection, once a client has completed the handshake (bounded wait)."""
        return self._wait(lambda: next((c for c in reversed(self.connections) if c.open), None), timeout,
                          "no client connected")

    def push(self, type: str, payload: dict[str, Any], *, envelope_id: str | None = None,  # noqa: A002 (Slack's name)
             accepts_response_payload: bool = True, timeout: float = 30.0) -> str:
        """Send one envelope to the connected client; returns its envelope_id."""
        envelope_id = envelope_id or f"env-{next(self._ids)}"
        envelope = {"envelope_id": envelope_id, "type": type, "payload": payload,
                    "accepts_response_payload": accepts_response_payload}
        self.wait_connected(timeout).send(TEXT, json.dumps(envelope).encode())
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The client's ack of an envelope: `{"envelope_id": ..., "payload": ...}` (payload may be absent)."""
        return self._wait(lambda: self.acks.get(envelope_id), timeout, f"no ack for {envelope_id}")

    def __enter__(self) -> FakeSocketMode:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self.thread.join(timeout=5)
        self.listener.close()
        with self._cond:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.send(CLOSE, struct.pack("!H", 1001) + b"going away")
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
