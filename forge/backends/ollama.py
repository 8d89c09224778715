"""Ollama, through the official `ollama` client, with structured output via `format=<json schema>`."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from forge.backends.base import ChatMessage
from forge.domain import GenerationParams
from forge.errors import BackendResponseError, BackendUnavailableError, ModelNotFoundError

DEFAULT_MODEL = "llama3.1:8b"


class OllamaBackend:
    """A model served by Ollama (`ollama serve`), addressed by OLLAMA_HOST."""

    name: ClassVar[str] = "ollama"
    supports_schema: ClassVar[bool] = True
    is_small_model: ClassVar[bool] = False

    def __init__(self, host: str, model: str | None = None, timeout_s: float = 120.0) -> None:
        import ollama

        self._ollama = ollama
        self._client = ollama.Client(host=host, timeout=timeout_s)
        self.host = str(self._client._client.base_url).rstrip("/")  # what the client really resolved
        self._model = model or DEFAULT_MODEL
        self.timeout_s = timeout_s

    @property
    def model(self) -> str:
        return self._model

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        schema: dict[str, Any] | None,
        params: GenerationParams,
    ) -> str:
        options: dict[str, Any] = {"temperature": params.temperature, "top_p": params.top_p,
                                   "num_predict": params.max_tokens}
        if params.seed is not None:
            options["seed"] = params.seed
        try:
            response = self._client.chat(model=self._model, messages=[m.model_dump() for m in messages],
                                         format=schema, options=options, stream=False)
        except ConnectionError as exc:  # the client turns httpx.ConnectError into this
            raise self._unreachable() from exc
        except httpx.TimeoutException as exc:
            raise BackendUnavailableError(
                f"Ollama at {self.host} did not answer within {self.timeout_s:g} s.",
                "Check the server is not overloaded, or raise FORGE_TIMEOUT.",
            ) from exc
        except httpx.TransportError as exc:
            raise self._unreachable() from exc
        except self._ollama.ResponseError as exc:
            raise self._response_error(exc) from exc
        content = response.message.content if response.message else None
        if not content:
            raise BackendResponseError(f"Ollama model `{self._model}` returned an empty reply.",
                                       "Retry, or try another model with --model.")
        return content

    def _unreachable(self) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"Cannot reach Ollama at {self.host}.",
            "Start it with `ollama serve` (install from https://ollama.com), or point OLLAMA_HOST at your server.",
        )

    def _response_error(self, exc: Any) -> Exception:
        text = str(getattr(exc, "error", exc))
        if exc.status_code == 404 and "not found" in text.lower():
            return ModelNotFoundError(
                f"Ollama at {self.host} does not have the model `{self._model}`.",
                f"Pull it with `ollama pull {self._model}`, or choose an installed one with --model "
                "(`ollama list` shows them).",
            )
        return BackendResponseError(
            f"Ollama at {self.host} answered HTTP {exc.status_code}: {text}",
            "Check the Ollama server log; retrying may help for a transient error.",
        )
