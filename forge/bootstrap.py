"""The composition root: builds settings, the datastore and the services once, so tests can swap in fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from forge.config import Settings
from forge.examples import ExampleLoader
from forge.store.datastore import Datastore
from forge.targets import TargetCatalog


@dataclass
class Forge:
    """Everything an interface (CLI, Slack, scheduler) needs, built lazily."""

    settings: Settings = field(default_factory=Settings)
    datastore_override: Datastore | None = None

    @cached_property
    def datastore(self) -> Datastore:
        return self.datastore_override or Datastore(self.settings.resolved_database_url())

    @property
    def loader(self) -> ExampleLoader:
        return ExampleLoader(self.settings.resolved_examples_dir(), self.datastore)

    @property
    def catalog(self) -> TargetCatalog:
        return TargetCatalog(self.loader, self.datastore)


def bootstrap(settings: Settings | None = None, datastore: Datastore | None = None) -> Forge:
    return Forge(settings=settings or Settings(), datastore_override=datastore)
