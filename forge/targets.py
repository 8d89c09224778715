"""The target catalogue: YAML-defined targets plus targets users defined on purpose."""

from __future__ import annotations

from dataclasses import dataclass

from forge.domain import Example, Target
from forge.examples import ExampleLoader, load_target_file, suggest_target, validate_target_name
from forge.errors import UnknownTargetError
from forge.store.datastore import Datastore


@dataclass(frozen=True)
class ResolvedTarget:
    """A target ready for generation."""

    name: str
    description: str
    examples: list[Example]
    warning: str | None = None


class TargetCatalog:
    def __init__(self, loader: ExampleLoader, datastore: Datastore) -> None:
        self.loader = loader
        self.datastore = datastore

    def names(self) -> list[str]:
        return sorted(set(self.loader.yaml_targets()) | set(self.datastore.user_targets()))

    def require(self, name: str) -> None:
        """Check that a target exists without loading its examples (cheap enough for a 3-second ack)."""
        known = self.names()
        if name not in known:
            raise UnknownTargetError(name, suggest_target(name, known))

    def list_targets(self) -> list[Target]:
        """Every known target with its description, example count and stored scenario count."""
        files = self.loader.yaml_targets()
        saved = self.datastore.user_targets()
        db_examples = self.datastore.example_counts()
        scenarios = self.datastore.scenario_counts()
        targets = []
        for name in self.names():
            if name in files:
                spec = load_target_file(files[name])
                count = max(len(spec.examples), db_examples.get(name, 0))
                targets.append(Target(name=name, description=spec.description or saved.get(name, ""),
                                      examples=count, scenarios=scenarios.get(name, 0), origin="yaml"))
            else:
                targets.append(Target(name=name, description=saved[name], examples=db_examples.get(name, 0),
                                      scenarios=scenarios.get(name, 0), origin="user"))
        return targets

    def resolve(self, name: str, description: str | None = None, *, save: bool = True) -> ResolvedTarget:
        """Find a target; an unknown one is only created when a description is given on purpose."""
        files = self.loader.yaml_targets()
        saved = self.datastore.user_targets()
        if name in files:
            spec = load_target_file(files[name])
            return ResolvedTarget(name, spec.description or saved.get(name, ""), self.loader.get_examples(name))
        if name not in saved and not description:
            raise UnknownTargetError(name, suggest_target(name, self.names()))
        validate_target_name(name)
        if description and save:
            self.datastore.save_target(name, description, origin="user")
        examples = self.loader.get_examples(name)
        warning = None
        if examples and examples[0].source == "fallback":
            warning = (f"Target `{name}` has no examples yet, so generic fallback examples are used; "
                       f"add examples/{name}.yaml for better scenarios.")
        return ResolvedTarget(name, description or saved.get(name, ""), examples, warning)
