"""Coverage: which evaluation targets have enough good scenarios, and which are under-served.

The nightly batch generates for the under-served targets and the weekly digest names them first,
so both read the same ordering from here.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from forge.review import TargetStats, compute_stats
from forge.store.datastore import Datastore


class TargetCoverage(BaseModel):
    """How well one target is covered by stored and rated scenarios."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    target: str
    """The target, or `all` for the overall row."""
    scenarios: int
    """Stored scenarios."""
    rated: int
    """Scenarios with at least one rating."""
    ratings: int
    """Ratings in total."""
    mean: float | None
    """Mean stars over all its ratings; None when unrated."""
    rated_4_plus: int
    """Scenarios whose mean rating is 4 or more: the usable ones."""
    share_4_plus: float | None
    """rated_4_plus / rated; None when nothing is rated."""


class CoverageOverview(BaseModel):
    """Totals, per-target coverage (least covered first) and ratings per reviewer."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    overall: TargetCoverage
    """All targets together."""
    targets: list[TargetCoverage]
    """One row per known target, least covered first."""
    reviewers: dict[str, int]
    """Reviewer -> number of ratings."""


def _coverage(name: str, stats: TargetStats | None) -> TargetCoverage:
    if stats is None:
        return TargetCoverage(target=name, scenarios=0, rated=0, ratings=0, mean=None, rated_4_plus=0,
                              share_4_plus=None)
    return TargetCoverage(target=name, scenarios=stats.scenarios, rated=stats.rated, ratings=stats.ratings,
                          mean=stats.mean, rated_4_plus=stats.rated_4_plus, share_4_plus=stats.share_rated_4_plus)


def coverage_key(row: TargetCoverage) -> tuple[int, int, str]:
    """Least covered first: fewest usable (rated 4+) scenarios, then fewest scenarios at all."""
    return (row.rated_4_plus, row.scenarios, row.target)


def coverage_overview(store: Datastore, targets: Iterable[str] | None = None) -> CoverageOverview:
    """Coverage of every target with scenarios, plus `targets` (e.g. the catalogue) that have none yet."""
    stats = compute_stats(store)
    by_name = {s.target: s for s in stats.targets if s.target}
    names = set(by_name) | set(targets or ())
    rows = sorted((_coverage(name, by_name.get(name)) for name in names), key=coverage_key)
    return CoverageOverview(overall=_coverage("all", stats.overall), targets=rows,
                            reviewers=dict(stats.overall.reviewers))


def coverage_report(store: Datastore, targets: Iterable[str] | None = None) -> list[TargetCoverage]:
    """Per target: scenario count, rated count, mean rating and share rated 4+; least covered first."""
    return coverage_overview(store, targets).targets


def underserved_targets(store: Datastore, k: int, targets: Iterable[str] | None = None) -> list[str]:
    """The `k` least-covered targets, the ones a nightly batch should feed."""
    return [row.target for row in coverage_report(store, targets)[: max(0, k)]]
