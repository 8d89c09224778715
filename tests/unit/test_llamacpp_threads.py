"""The bot generates from several threads; one Llama must never run two completions at once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from forge.backends import llamacpp
from forge.backends.base import ChatMessage
from forge.domain import GenerationParams


class OverlapProbe:
    """A stand-in Llama: two completions that run at the same time meet at the barrier."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=0.5)
        self.overlapped = 0
        self.calls = 0

    def create_chat_completion(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        try:
            self.barrier.wait()
            self.overlapped += 1
        except threading.BrokenBarrierError:
            self.barrier.reset()  # it waited alone: the completions were serialised
        return {"choices": [{"message": {"content": '{"user_message": "hi", "safe_reply_must": "ok"}'}}]}


def test_concurrent_completions_on_one_model_run_one_at_a_time(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    backend = llamacpp.LlamaCppBackend(model_path=str(gguf), n_threads=1)
    probe = OverlapProbe()
    monkeypatch.setitem(llamacpp._MODELS, (str(gguf), 1), probe)
    messages = [ChatMessage(role="user", content="Write one scenario.")]

    def run() -> None:
        backend.complete(messages, schema=None, params=GenerationParams())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert probe.calls == 3 and probe.overlapped == 0
