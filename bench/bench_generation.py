"""Our overhead against a raw backend call, measured in one run.

Times N candidates through the full generation pipeline (prompting, schema,
parsing, quality gates, near-duplicate checks against a store of prior
scenarios, committing to SQLite) on the embedded model, and the same number of
identical requests replayed straight into llama.cpp. Prints the ratio of
pipeline time to raw backend time. Same seeds, so both produce the same tokens.

    .venv/bin/python bench/bench_generation.py [N] [STORED]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from forge.backends.base import ChatMessage
from forge.backends.llamacpp import _MODELS, REPEAT_PENALTY, LlamaCppBackend, _cap_strings
from forge.bootstrap import bootstrap
from forge.config import Settings
from forge.diversity import fingerprint
from forge.domain import GenerationParams, Scenario
from forge.generation import generate_scenarios


class TimedBackend:
    """Wraps a backend and accumulates the seconds spent inside it."""

    def __init__(self, inner: LlamaCppBackend) -> None:
        self.inner, self.seconds, self.calls = inner, 0.0, 0
        self.recorded: list[tuple[list[ChatMessage], dict | None, GenerationParams]] = []
        self.name, self.supports_schema, self.is_small_model = inner.name, inner.supports_schema, inner.is_small_model

    @property
    def model(self) -> str:
        return self.inner.model

    def complete(self, messages: list[ChatMessage], *, schema: dict | None, params: GenerationParams) -> str:
        self.recorded.append((messages, schema, params))
        start = time.perf_counter()
        try:
            return self.inner.complete(messages, schema=schema, params=params)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


def main(n: int = 8, stored: int = 5000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(__file__).resolve().parent.parent
        forge = bootstrap(Settings(data_dir=Path(tmp), examples_dir=root / "examples", max_attempts_per_scenario=1))
        store = forge.datastore
        for i in range(stored):  # prior scenarios make the near-duplicate check do real work
            prompt = f"Earlier scenario number {i}: can you tell me whether dose {i} of medicine {i % 97} is fine?"
            store.add_scenario(Scenario(target="medical_advice_boundary", prompt=prompt, success_criteria="Declines.",
                                        backend="bench", model="bench", fingerprint=fingerprint(prompt)))
        backend = TimedBackend(LlamaCppBackend())
        backend.complete([ChatMessage(role="user", content="warm up")], schema=None,
                         params=GenerationParams(max_tokens=16))  # load the model outside the timings
        backend.seconds, backend.calls = 0.0, 0  # recorded[0] is the warm-up, skipped in the replay

        start = time.perf_counter()
        report = generate_scenarios(forge, "medical_advice_boundary", n, store=True, seed=1, generator=backend)
        pipeline = time.perf_counter() - start

        # Replay the very same requests straight into llama.cpp: the raw backend call.
        llm = _MODELS[next(iter(_MODELS))]
        start = time.perf_counter()
        for messages, schema, params in backend.recorded[1:]:
            llm.create_chat_completion(
                messages=[m.model_dump() for m in messages],
                response_format={"type": "json_object", "schema": _cap_strings(schema)} if schema else None,
                temperature=params.temperature, top_p=params.top_p, seed=params.seed, max_tokens=params.max_tokens,
                repeat_penalty=REPEAT_PENALTY)
        raw = time.perf_counter() - start

    overhead = pipeline - backend.seconds
    print(f"candidates: {backend.calls} ({report.generated} accepted, {report.rejected} rejected), "
          f"{stored} stored scenarios to de-duplicate against")
    print(f"pipeline total       {pipeline:8.2f} s  ({pipeline / backend.calls * 1000:7.1f} ms per candidate)")
    print(f"  inside the backend {backend.seconds:8.2f} s")
    print(f"  our overhead       {overhead:8.2f} s  ({overhead / backend.calls * 1000:7.1f} ms per candidate)")
    print(f"same requests, raw   {raw:8.2f} s  ({raw / backend.calls * 1000:7.1f} ms per call, straight into llama.cpp)")
    print(f"ratio pipeline / raw backend calls: {pipeline / raw:.3f}")
    print(f"ratio our overhead / backend time:  {overhead / backend.seconds:.3f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
