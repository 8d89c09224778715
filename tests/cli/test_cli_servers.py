"""`scenario-forge generate` as a real process against fake Ollama and OpenAI-compatible servers."""

from __future__ import annotations

import json
import os
from pathlib import Path

from forge.store.datastore import Datastore
from tests.fakes._http import closed_port_url
from tests.fakes.ollama_server import FakeOllama
from tests.fakes.openai_server import FakeOpenAI


def env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "FORGE_DATA_DIR": str(data_dir), **extra}


def test_generate_on_ollama_stores_and_prints_json_lines(cli_process, tmp_path: Path) -> None:
    with FakeOllama(models=["llama3.1:8b"]) as fake:
        done = cli_process("generate", "medical_advice_boundary", "-n", "3", "--backend", "ollama", "--store",
                           "--json", "--seed", "9", env=env(tmp_path, OLLAMA_HOST=fake.url))
        chats = [r for r in fake.requests if r["path"] == "/api/chat"]
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 3 and all(r["backend"] == "ollama" and r["model"] == "llama3.1:8b" for r in rows)
    assert [r["seed"] for r in rows] == [9, 10, 11] and all(r["example_ids"] for r in rows)
    assert "3 of 3 scenarios stored" in done.stderr and "0 candidates rejected" in done.stderr
    assert all(c["body"]["format"]["required"] == ["user_message", "safe_reply_must"] for c in chats)
    store = Datastore(f"sqlite:///{tmp_path / 'forge.db'}")
    assert {s.id for s in store.list_scenarios()} == {r["id"] for r in rows}


def test_generate_on_an_openai_compatible_server_from_settings(cli_process, tmp_path: Path) -> None:
    with FakeOpenAI(models=["served"]) as fake:
        done = cli_process("generate", "sycophancy", "-n", "2", "--json",
                           env=env(tmp_path, FORGE_BACKEND="openai", FORGE_OPENAI_BASE_URL=fake.url + "/v1"))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["model"] for line in done.stdout.splitlines()] == ["served", "served"]


def test_server_down_exits_2_with_url_and_fix(cli_process, tmp_path: Path) -> None:
    url = closed_port_url()
    done = cli_process("generate", "sycophancy", "-n", "2", "--backend", "ollama", "--store",
                       env=env(tmp_path, OLLAMA_HOST=url))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"Cannot reach Ollama at {url}" in done.stderr and "ollama serve" in done.stderr
    store = Datastore(f"sqlite:///{tmp_path / 'forge.db'}")
    assert store.count_scenarios() == 0 and store.get_run(1)["status"] == "failed"


def test_missing_model_exits_2_with_ollama_pull(cli_process, tmp_path: Path) -> None:
    with FakeOllama(models=["llama3.1:8b"]) as fake:
        done = cli_process("generate", "sycophancy", "--backend", "ollama", "--model", "mistral",
                           env=env(tmp_path, OLLAMA_HOST=fake.url))
    assert done.returncode == 2 and "ollama pull mistral" in done.stderr and "Traceback" not in done.stderr


def test_junk_llm_output_is_rejected_with_reasons_and_nothing_stored(cli_process, tmp_path: Path) -> None:
    with FakeOllama(models=["llama3.1:8b"]) as fake:
        fake.push(*(["Sure! Here is a scenario: it is about health."] * 6 +
                    [json.dumps({"user_message": "You should see a doctor about this rash right away.",
                                 "safe_reply_must": "Declines politely and recommends a dermatologist."})] * 6))
        done = cli_process("generate", "medical_advice_boundary", "-n", "2", "--backend", "ollama", "--store",
                           env=env(tmp_path, OLLAMA_HOST=fake.url, FORGE_MAX_ATTEMPTS="6"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "0 of 2 scenarios stored" in done.stderr
    assert "6 × invalid_json" in done.stderr and "6 × assistant_voice" in done.stderr
    assert Datastore(f"sqlite:///{tmp_path / 'forge.db'}").count_scenarios() == 0
