"""The Ollama and OpenAI-compatible backends against local servers that speak each wire format."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from forge.backends.base import ChatMessage
from forge.backends.ollama import OllamaBackend
from forge.backends.openai_compat import OpenAICompatBackend
from forge.backends.registry import resolve_backend
from forge.config import Settings
from forge.domain import GenerationParams, LLMScenario
from forge.errors import BackendError, BackendResponseError, BackendUnavailableError, ModelNotFoundError
from tests.fakes._http import closed_port_url
from tests.fakes.ollama_server import FakeOllama
from tests.fakes.openai_server import FakeOpenAI

MESSAGES = [ChatMessage(role="system", content="be brief"), ChatMessage(role="user", content="write one")]
PARAMS = GenerationParams(temperature=0.7, top_p=0.9, seed=42, max_tokens=200)
SCHEMA = LLMScenario.output_schema()
REPLY = json.dumps({"user_message": "hi", "safe_reply_must": "declines"})


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama(models=["llama3.1:8b", "qwen2.5:7b"]) as fake:
        yield fake


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["served-model"]) as fake:
        yield fake


def test_ollama_sends_schema_and_options(ollama: FakeOllama) -> None:
    ollama.push(REPLY)
    backend = OllamaBackend(host=ollama.url, model="qwen2.5:7b")
    assert backend.complete(MESSAGES, schema=SCHEMA, params=PARAMS) == REPLY
    body = ollama.requests[-1]["body"]
    assert ollama.requests[-1]["path"] == "/api/chat"
    assert body["model"] == "qwen2.5:7b" and body["stream"] is False and body["format"] == SCHEMA
    assert body["options"] == {"temperature": 0.7, "top_p": 0.9, "seed": 42, "num_predict": 200}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_ollama_host_comes_from_settings_and_defaults_the_model(ollama: FakeOllama, monkeypatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    backend = resolve_backend(Settings(), "ollama")
    assert backend.model == "llama3.1:8b"
    assert json.loads(backend.complete(MESSAGES, schema=SCHEMA, params=PARAMS))["user_message"]
    assert len(ollama.requests) == 1


def test_ollama_missing_model_says_ollama_pull(ollama: FakeOllama) -> None:
    backend = OllamaBackend(host=ollama.url, model="mistral:7b")
    with pytest.raises(ModelNotFoundError, match="does not have the model `mistral:7b`") as info:
        backend.complete(MESSAGES, schema=SCHEMA, params=PARAMS)
    assert "ollama pull mistral:7b" in (info.value.hint or "")


def test_ollama_down_names_the_url_and_how_to_start_it() -> None:
    url = closed_port_url()
    with pytest.raises(BackendUnavailableError, match=f"Cannot reach Ollama at {url}") as info:
        OllamaBackend(host=url, model="llama3.1:8b").complete(MESSAGES, schema=SCHEMA, params=PARAMS)
    assert "ollama serve" in (info.value.hint or "") and "OLLAMA_HOST" in (info.value.hint or "")


def test_ollama_server_error_is_a_response_error(ollama: FakeOllama) -> None:
    ollama.fail(500)
    with pytest.raises(BackendResponseError, match="HTTP 500: llama runner process has terminated"):
        OllamaBackend(host=ollama.url).complete(MESSAGES, schema=SCHEMA, params=PARAMS)


def test_openai_sends_json_schema_and_discovers_the_model(openai: FakeOpenAI) -> None:
    openai.push(REPLY)
    backend = resolve_backend(Settings(openai_base_url=openai.url + "/v1"), "openai")
    assert backend.model == "served-model"
    assert backend.complete(MESSAGES, schema=SCHEMA, params=PARAMS) == REPLY
    body = openai.requests[-1]["body"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    assert (body["temperature"], body["top_p"], body["seed"], body["max_tokens"]) == (0.7, 0.9, 42, 200)


@pytest.mark.parametrize(("json_schema", "json_object", "expected"),
                         [(False, True, [{"type": "json_object"}]), (False, False, [None])])
def test_openai_falls_back_when_the_server_lacks_json_schema(json_schema: bool, json_object: bool,
                                                             expected: list[object]) -> None:
    with FakeOpenAI(models=["m"], supports_json_schema=json_schema, supports_json_object=json_object) as fake:
        backend = OpenAICompatBackend(base_url=fake.url + "/v1", model="m")
        backend.complete(MESSAGES, schema=SCHEMA, params=PARAMS)
        backend.complete(MESSAGES, schema=SCHEMA, params=PARAMS)
        formats = [r["body"].get("response_format") for r in fake.requests]
    # the first call walks down the modes; the second starts from the one that worked
    assert formats[-1:] == expected and formats[-2:-1] == expected
    assert formats[0]["type"] == "json_schema"  # type: ignore[index]


def test_openai_api_key_is_sent_and_a_wrong_one_is_explained() -> None:
    with FakeOpenAI(models=["m"], api_key="sk-right") as fake:
        OpenAICompatBackend(base_url=fake.url + "/v1", api_key="sk-right", model="m").complete(
            MESSAGES, schema=SCHEMA, params=PARAMS)
        assert fake.requests[-1]["headers"]["Authorization"] == "Bearer sk-right"
        with pytest.raises(BackendError, match="refused the API key") as info:
            OpenAICompatBackend(base_url=fake.url + "/v1", api_key="sk-wrong", model="m").complete(
                MESSAGES, schema=SCHEMA, params=PARAMS)
        assert "FORGE_OPENAI_API_KEY" in (info.value.hint or "")


def test_openai_missing_model_lists_the_available_ones(openai: FakeOpenAI) -> None:
    with pytest.raises(ModelNotFoundError, match="no model `gpt-9`") as info:
        OpenAICompatBackend(base_url=openai.url + "/v1", model="gpt-9").complete(MESSAGES, schema=SCHEMA, params=PARAMS)
    assert "served-model" in (info.value.hint or "")


def test_openai_down_and_server_errors() -> None:
    url = closed_port_url() + "/v1"
    with pytest.raises(BackendUnavailableError, match=f"Cannot reach the OpenAI-compatible server at {url}") as info:
        OpenAICompatBackend(base_url=url, model="m").complete(MESSAGES, schema=SCHEMA, params=PARAMS)
    assert "FORGE_OPENAI_BASE_URL" in (info.value.hint or "")
    with FakeOpenAI(models=["m"]) as fake:
        fake.fail(503)
        with pytest.raises(BackendResponseError, match="HTTP 503"):
            OpenAICompatBackend(base_url=fake.url + "/v1", model="m").complete(MESSAGES, schema=SCHEMA, params=PARAMS)


def test_openai_with_no_models_served_is_explained() -> None:
    with FakeOpenAI(models=[]) as fake:
        with pytest.raises(ModelNotFoundError, match="serves no models"):
            _ = OpenAICompatBackend(base_url=fake.url + "/v1").model
