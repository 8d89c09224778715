"""A fake OpenAI-compatible server (the /v1 wire format of vLLM, llama.cpp's server, LM Studio)."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes._http import FakeServer


class FakeOpenAI(FakeServer):
    """`GET /v1/models`, `POST /v1/chat/completions`, with vLLM/OpenAI-shaped errors."""

    def __init__(self, models: list[str] | None = None, api_key: str | None = None,
                 supports_json_schema: bool = True, supports_json_object: bool = True) -> None:
        super().__init__()
        self.models = list(models if models is not None else ["qwen2.5-7b-instruct"])
        self.api_key = api_key
        self.supports_json_schema = supports_json_schema
        self.supports_json_object = supports_json_object

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any, str]:
        if self.api_key and headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                   "code": "invalid_api_key"}}, "application/json"
        if method == "GET" and path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": m, "object": "model", "created": 1_700_000_000,
                                                     "owned_by": "vllm"} for m in self.models]}, "application/json"
        if method == "POST" and path == "/v1/chat/completions":
            return self._chat(body)
        return 404, {"detail": "Not Found"}, "application/json"

    def _chat(self, body: Any) -> tuple[int, Any, str]:
        model = body.get("model") if isinstance(body, dict) else None
        if model not in self.models:
            return 404, {"object": "error", "message": f"The model `{model}` does not exist.",
                         "type": "NotFoundError", "param": None, "code": 404}, "application/json"
        fmt = (body.get("response_format") or {}).get("type")
        if (fmt == "json_schema" and not self.supports_json_schema) or (
                fmt == "json_object" and not self.supports_json_object):
            return 400, {"error": {"message": f"response_format type {fmt} is not supported",
                                   "type": "invalid_request_error", "param": "response_format"}}, "application/json"
        status = self.take_failure()
        if status:
            return status, {"error": {"message": "Internal server error", "type": "server_error"}}, "application/json"
        content = self.next_content()
        return 200, {
            "id": f"chatcmpl-{int(time.time() * 1000)}", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 80, "total_tokens": 200},
        }, "application/json"
