"""Any OpenAI-compatible `/v1` server: vLLM, llama.cpp's server, LM Studio.

Spoken with httpx directly: the wire format is small, and it keeps the openai
package optional.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from forge.backends.base import ChatMessage
from forge.domain import GenerationParams
from forge.errors import BackendError, BackendResponseError, BackendUnavailableError, ModelNotFoundError

# Structured-output modes, best first; servers that reject one get the next.
RESPONSE_FORMATS = ("json_schema", "json_object", "none")


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            return str(err.get("message", err))
        if isinstance(err, str):
            return err
        return str(data.get("message") or data.get("detail") or data)
    return str(data)


class OpenAICompatBackend:
    """Chat completions with `response_format` JSON schema where the server supports it."""

    name: ClassVar[str] = "openai"
    supports_schema: ClassVar[bool] = True
    is_small_model: ClassVar[bool] = False

    def __init__(self, base_url: str, api_key: str | None = None, model: str | None = None,
                 timeout_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s)
        self.timeout_s = timeout_s
        self._model = model
        self._format_index = 0

    @property
    def model(self) -> str:
        if self._model is None:
            models = self.available_models()
            if not models:
                raise ModelNotFoundError(f"The server at {self.base_url} serves no models.",
                                         "Load a model in the server, or name one with --model / FORGE_MODEL.")
            self._model = models[0]  # llama.cpp's server and LM Studio usually serve exactly one
        return self._model

    def available_models(self) -> list[str]:
        response = self._send("GET", "/models")
        data = response.json().get("data", [])
        return [str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id")]

    def _send(self, method: str, path: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = self._http.request(method, path, json=payload)
        except httpx.TimeoutException as exc:
            raise BackendUnavailableError(
                f"The OpenAI-compatible server at {self.base_url} did not answer within {self.timeout_s:g} s.",
                "Check the server is not overloaded, or raise FORGE_TIMEOUT.") from exc
        except httpx.TransportError as exc:
            raise BackendUnavailableError(
                f"Cannot reach the OpenAI-compatible server at {self.base_url}.",
                "Start it (e.g. `vllm serve MODEL`, `llama-server -m model.gguf`, or LM Studio's server), "
                "or point FORGE_OPENAI_BASE_URL at it.") from exc
        if response.status_code in (401, 403):
            raise BackendError(
                f"The server at {self.base_url} refused the API key (HTTP {response.status_code}): "
                f"{_error_text(response)}", "Set FORGE_OPENAI_API_KEY to a key that server accepts.")
        return response

    def _payload(self, messages: list[ChatMessage], schema: dict[str, Any] | None,
                 params: GenerationParams) -> dict[str, Any]:
        payload: dict[str, Any] = {"model": self.model, "messages": [m.model_dump() for m in messages],
                                   "temperature": params.temperature, "top_p": params.top_p,
                                   "max_tokens": params.max_tokens}
        if params.seed is not None:
            payload["seed"] = params.seed
        mode = RESPONSE_FORMATS[self._format_index]
        if schema is not None and mode == "json_schema":
            payload["response_format"] = {"type": "json_schema",
                                          "json_schema": {"name": "scenario", "schema": schema, "strict": True}}
        elif schema is not None and mode == "json_object":
            payload["response_format"] = {"type": "json_object"}
        return payload

    def complete(self, messages: list[ChatMessage], *, schema: dict[str, Any] | None,
                 params: GenerationParams) -> str:
        while True:
            response = self._send("POST", "/chat/completions", self._payload(messages, schema, params))
            text = _error_text(response) if response.status_code >= 400 else ""
            rejects_format = response.status_code in (400, 422) and any(
                k in text.lower() for k in ("response_format", "json_schema", "json_object"))
            if schema is not None and rejects_format and self._format_index < len(RESPONSE_FORMATS) - 1:
                self._format_index += 1  # remembered: later calls start from the mode that works
                continue
            break
        if response.status_code == 404 and ("does not exist" in text or "not found" in text.lower()
                                            or "model_not_found" in response.text):
            try:
                available = ", ".join(self.available_models()) or "none"
            except BackendError:
                available = "unknown"
            raise ModelNotFoundError(f"The server at {self.base_url} has no model `{self.model}`: {text}",
                                     f"Available models: {available}. Choose one with --model / FORGE_MODEL.")
        if response.status_code >= 400:
            raise BackendResponseError(f"The server at {self.base_url} answered HTTP {response.status_code}: {text}",
                                       "Check the server log; retrying may help for a transient error.")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BackendResponseError(f"The server at {self.base_url} sent a reply without choices[0].message.content.",
                                       "Check that it really speaks the OpenAI chat completions API.") from exc
        if not content:
            raise BackendResponseError(f"The server at {self.base_url} returned an empty completion.",
                                       "Retry, or try another model.")
        return str(content)
