"""Backend registry: tiny factories that import their client lazily.

`--backend`/`FORGE_BACKEND` and `--model`/`FORGE_MODEL` are resolved here and
nowhere else.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from forge.backends.base import Generator
from forge.config import Settings
from forge.errors import ConfigError

Factory = Callable[[Settings, str | None], Generator]
_FACTORIES: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    """Register a backend factory under `name` (built-ins use this same door)."""

    def decorator(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory

    return decorator


def backend_names() -> list[str]:
    return sorted(_FACTORIES)


def resolve_backend(settings: Settings, backend: str | None = None, model: str | None = None) -> Generator:
    """Build the backend named by the argument, else FORGE_BACKEND, with the model likewise."""
    name = (backend or settings.backend).strip().lower()
    factory = _FACTORIES.get(name)
    if factory is None:
        close = difflib.get_close_matches(name, backend_names(), n=1)
        hint = f"Did you mean `{close[0]}`? " if close else ""
        raise ConfigError(
            f"Unknown backend `{name}`.",
            f"{hint}Choose one of: {', '.join(backend_names())} (--backend or FORGE_BACKEND).",
        )
    return factory(settings, model or settings.model)


@register("llamacpp")
def _llamacpp(settings: Settings, model: str | None) -> Generator:
    from forge.backends.llamacpp import LlamaCppBackend

    return LlamaCppBackend(model_path=model, n_threads=settings.llamacpp_threads)


@register("ollama")
def _ollama(settings: Settings, model: str | None) -> Generator:
    from forge.backends.ollama import OllamaBackend

    return OllamaBackend(host=settings.ollama_host, model=model, timeout_s=settings.timeout_s)


@register("openai")
def _openai(settings: Settings, model: str | None) -> Generator:
    from forge.backends.openai_compat import OpenAICompatBackend

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return OpenAICompatBackend(
        base_url=settings.openai_base_url, api_key=key, model=model, timeout_s=settings.timeout_s
    )
