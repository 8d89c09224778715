"""Generating scenarios: prompt, structured output, validation, quality gates, de-duplication, storage."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from forge.backends.base import Generator
from forge.backends.registry import resolve_backend
from forge.bootstrap import Forge
from forge.diversity import fingerprint
from forge.backends.base import ChatMessage
from forge.domain import Example, GenerationParams, LLMRewrite, LLMScenario, Scenario, ScenarioDraft
from forge.errors import BackendResponseError, InvalidInputError
from forge.examples import load_target_file
from forge.prompts import FEW_SHOT_K, PERSONAS, build_fewshot_messages, build_rewrite_messages, sample_examples
from forge.quality import (
    check_fields,
    check_novelty,
    check_on_topic,
    check_same_request,
    content_words,
    parse_candidate,
    parse_rewrite,
)
from forge.store.datastore import Datastore
from forge.targets import ResolvedTarget

Strategy = Literal["auto", "fewshot", "rewrite"]
MAX_N = 1000


@dataclass(frozen=True)
class GenerationEvent:
    """Progress of a batch: one event per candidate."""

    kind: Literal["warning", "accepted", "rejected"]
    accepted: int
    rejected: int
    scenario: Scenario | None = None
    reason: str | None = None


@dataclass
class GenerationReport:
    """What a batch produced, and what it rejected and why."""

    target: str
    backend: str
    model: str
    requested: int
    scenarios: list[Scenario] = field(default_factory=list)
    rejections: Counter[str] = field(default_factory=Counter)
    run_id: int | None = None
    interrupted: bool = False
    warning: str | None = None
    stored: bool = False

    @property
    def generated(self) -> int:
        return len(self.scenarios)

    @property
    def rejected(self) -> int:
        return sum(self.rejections.values())


def _choose_strategy(strategy: Strategy, backend: Generator) -> Literal["fewshot", "rewrite"]:
    if strategy == "auto":
        return "rewrite" if backend.is_small_model else "fewshot"
    return strategy


class ScenarioGenerator:
    """Runs the candidate loop for one target and one backend."""

    def __init__(self, backend: Generator, target: ResolvedTarget, *, datastore: Datastore | None,
                 store: bool, temperature: float, seed: int | None, strategy: Strategy = "auto",
                 max_attempts_per_scenario: int = 4) -> None:
        self.backend = backend
        self.target = target
        self.datastore = datastore
        self.store = store and datastore is not None
        self.temperature = temperature
        self.seed = seed
        self.strategy = _choose_strategy(strategy, backend)
        self.max_attempts_per_scenario = max_attempts_per_scenario
        self.rng = random.Random(seed)
        on_fallback = all(e.source == "fallback" for e in target.examples)
        self.vocabulary: set[str] = set() if on_fallback else content_words(
            " ".join([target.description, *(e.prompt + " " + e.success_criteria for e in target.examples)]))

    def _attempt_params(self, attempt: int) -> GenerationParams:
        seed = self.seed + attempt if self.seed is not None else random.SystemRandom().randrange(2**31)
        return GenerationParams(temperature=self.temperature, seed=seed)

    def _prompt(self) -> tuple[list[ChatMessage], list[Example], dict[str, Any], Callable[[str], ScenarioDraft | None]]:
        """Messages, the examples they show, the output schema, and the parser for the reply."""
        persona = self.rng.choice(PERSONAS)
        t = self.target
        if self.strategy == "rewrite":
            base = sample_examples(t.examples, 1, self.rng)
            return (build_rewrite_messages(base[0], persona), base, LLMRewrite.output_schema(),
                    lambda raw: parse_rewrite(raw, base[0].success_criteria))
        shots = sample_examples(t.examples, FEW_SHOT_K, self.rng)
        return (build_fewshot_messages(t.name, t.description, shots, persona), shots, LLMScenario.output_schema(),
                parse_candidate)

    def _candidate(self, attempt: int, batch: list[str], stored: list[str]) -> tuple[Scenario | None, str | None]:
        messages, shots, schema, parse = self._prompt()
        params = self._attempt_params(attempt)
        if self.store and self.datastore is not None:
            self.datastore.record_example_usage([e.id for e in shots if e.id is not None])
        try:
            raw = self.backend.complete(messages, schema=schema if self.backend.supports_schema else None,
                                        params=params)
        except BackendResponseError:
            return None, "backend_error"
        draft = parse(raw)
        if draft is None:
            return None, "invalid_json"
        same_request = check_same_request(draft, shots[0].prompt) if self.strategy == "rewrite" else None
        reason = check_fields(draft) or same_request or check_on_topic(draft, self.vocabulary) or check_novelty(
            draft, examples=[e.prompt for e in self.target.examples], stored=stored, batch=batch)
        if reason:
            return None, reason
        scenario = Scenario(
            target=self.target.name, prompt=draft.prompt, success_criteria=draft.success_criteria,
            backend=self.backend.name, model=self.backend.model,
            example_ids=[e.id for e in shots if e.id is not None], params=params,
            strategy=self.strategy, fingerprint=fingerprint(draft.prompt),
        )
        return scenario, None

    def run(self, n: int, on_event: Callable[[GenerationEvent], None] | None = None) -> GenerationReport:
        report = GenerationReport(target=self.target.name, backend=self.backend.name, model=self.backend.model,
                                  requested=n, warning=self.target.warning, stored=self.store)
        stored = self.datastore.scenario_prompts(self.target.name) if self.datastore is not None else []
        if self.store and self.datastore is not None:
            report.run_id = self.datastore.start_run(
                self.target.name, self.backend.name, self.backend.model, n,
                {"temperature": self.temperature, "seed": self.seed, "strategy": self.strategy})
        if self.target.warning and on_event:
            on_event(GenerationEvent("warning", 0, 0, reason=self.target.warning))
        status, error = "completed", None
        try:
            attempt = 0
            while report.generated < n and attempt < n * self.max_attempts_per_scenario:
                scenario, reason = self._candidate(attempt, [s.prompt for s in report.scenarios], stored)
                attempt += 1
                if scenario is not None and self.store and self.datastore is not None:
                    scenario = self.datastore.add_scenario(scenario.model_copy(update={"run_id": report.run_id}))
                    reason = None if scenario is not None else "duplicate_stored"
                if scenario is None:
                    report.rejections[reason or "unknown"] += 1
                    event = GenerationEvent("rejected", report.generated, report.rejected, reason=reason)
                else:
                    report.scenarios.append(scenario)
                    event = GenerationEvent("accepted", report.generated, report.rejected, scenario=scenario)
                if on_event:
                    on_event(event)
        except KeyboardInterrupt:
            report.interrupted, status = True, "interrupted"
        except Exception as exc:
            status, error = "failed", str(exc)
            raise
        finally:
            if report.run_id is not None and self.datastore is not None:
                self.datastore.finish_run(report.run_id, generated=report.generated, rejected=report.rejected,
                                          reasons=dict(report.rejections), status=status, error=error)
        return report


def generate_scenarios(forge: Forge, target: str, n: int = 5, *, backend: str | None = None,
                       model: str | None = None, temperature: float | None = None, seed: int | None = None,
                       store: bool = False, description: str | None = None, strategy: Strategy = "auto",
                       on_event: Callable[[GenerationEvent], None] | None = None,
                       generator: Generator | None = None) -> GenerationReport:
    """Generate up to `n` validated, de-duplicated scenarios for `target`; store each at once if asked."""
    if not 1 <= n <= MAX_N:
        raise InvalidInputError(f"-n must be between 1 and {MAX_N}, got {n}.", "Ask for fewer scenarios per batch.")
    if store:
        # Bring the YAML layer into the database first, so stored scenarios can cite example ids.
        path = forge.loader.yaml_targets().get(target)
        if path is not None:
            forge.datastore.upsert_examples(target, load_target_file(path).examples, source_file=str(path))
    resolved = forge.catalog.resolve(target, description)
    gen = generator or resolve_backend(forge.settings, backend, model)
    runner = ScenarioGenerator(
        gen, resolved, datastore=forge.datastore, store=store,
        temperature=forge.settings.temperature if temperature is None else temperature, seed=seed,
        strategy=strategy, max_attempts_per_scenario=forge.settings.max_attempts_per_scenario)
    return runner.run(n, on_event)
