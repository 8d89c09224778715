"""A fake Ollama server speaking Ollama's wire format, error replies included."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from tests.fakes._http import FakeServer


class FakeOllama(FakeServer):
    """`/api/chat` (streaming and not), `/api/tags`, `/api/version`, with Ollama's real error bodies."""

    def __init__(self, models: list[str] | None = None, delay_s: float = 0.0) -> None:
        super().__init__()
        self.models = list(models if models is not None else ["llama3.1:8b"])
        self.delay_s = delay_s

    def _known(self, name: str) -> bool:
        return name in self.models or f"{name}:latest" in self.models

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any, str]:
        now = datetime.now(UTC).isoformat()
        if method == "GET" and path == "/api/version":
            return 200, {"version": "0.6.3"}, "application/json"
        if method == "GET" and path == "/api/tags":
            return 200, {"models": [{"name": m, "model": m, "modified_at": now, "size": 4_920_000_000,
                                     "digest": "sha256:" + "0" * 64, "details": {"format": "gguf"}}
                                    for m in self.models]}, "application/json"
        if method == "POST" and path == "/api/chat":
            if not isinstance(body, dict):
                return 400, {"error": "invalid character 'x' looking for beginning of value"}, "application/json"
            model = body.get("model", "")
            if not self._known(model):
                return 404, {"error": f'model "{model}" not found, try pulling it first'}, "application/json"
            status = self.take_failure()
            if status:
                return status, {"error": "llama runner process has terminated"}, "application/json"
            time.sleep(self.delay_s)
            content = self.next_content()
            done = {"model": model, "created_at": now, "message": {"role": "assistant", "content": content},
                    "done": True, "done_reason": "stop", "total_duration": 1_200_000, "load_duration": 1000,
                    "prompt_eval_count": 120, "eval_count": 80, "eval_duration": 1_000_000}
            if body.get("stream") is False:
                return 200, done, "application/json"
            chunks = [{"model": model, "created_at": now, "message": {"role": "assistant", "content": part},
                       "done": False} for part in (content[: len(content) // 2], content[len(content) // 2 :])]
            done["message"]["content"] = ""
            lines = "".join(json.dumps(c) + "\n" for c in [*chunks, done]).encode()
            return 200, lines, "application/x-ndjson"
        return 404, b"404 page not found", "text/plain"
