"""Review services: rate scenarios, walk a reviewer's queue, and summarise ratings and agreement.

Interfaces (the CLI, the Slack bot) call these with the Datastore and plain values; SQL stays in
`forge/store/ratings.py`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from forge.agreement import krippendorff_alpha
from forge.domain import Scenario
from forge.errors import InvalidInputError
from forge.store.datastore import Datastore
from forge.store.ratings import STARS, RatingCell

Source = Literal["cli", "slack"]
SOURCES: tuple[str, ...] = ("cli", "slack")
REVIEWER_MAX_LENGTH = 128
GOOD_MEAN = 4.0


class RatingAggregate(BaseModel):
    """What all reviewers together think of one scenario."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    scenario_id: int
    """The scenario rated."""
    mean: float | None
    """Mean stars; None until someone rates it."""
    count: int
    """Number of ratings (one per reviewer)."""
    distribution: dict[int, int]
    """Stars (1 to 5, all present) -> number of ratings."""


class RatingResult(BaseModel):
    """The outcome of one rating, with the scenario's aggregate after it."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    scenario_id: int
    """The scenario rated."""
    reviewer: str
    """Who rated it."""
    stars: int
    """1 to 5."""
    note: str | None
    """Why, in the reviewer's words."""
    source: Source
    """Where the rating came from: cli or slack."""
    replaced: bool
    """True when it replaced this reviewer's earlier rating of the same scenario."""
    aggregate: RatingAggregate
    """The scenario's aggregate including this rating."""


class Agreement(BaseModel):
    """Inter-rater agreement: Krippendorff's alpha over scenarios rated by two or more reviewers."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    metric: Literal["ordinal"] = "ordinal"
    """Level of measurement: stars are ordered, but their gaps need not be equal."""
    alpha: float | None
    """Krippendorff's alpha (1 = perfect agreement, 0 = chance); None when undefined."""
    overlapping_items: int
    """Scenarios rated by at least two reviewers; only these enter alpha."""
    reviewers: int
    """Distinct reviewers with at least one overlapping rating."""
    reason: str | None = None
    """Why alpha is None, when it is."""


class TargetStats(BaseModel):
    """Rating statistics for one target, or for all of them."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    target: str | None
    """The target; None for the overall row."""
    scenarios: int
    """Stored scenarios."""
    rated: int
    """Scenarios with at least one rating."""
    ratings: int
    """Ratings in total."""
    mean: float | None
    """Mean stars over all ratings."""
    distribution: dict[int, int]
    """Stars (1 to 5) -> number of ratings."""
    rated_enough: int
    """Scenarios with at least `min_ratings` ratings: the denominator of share_rated_4_plus."""
    rated_4_plus: int
    """Scenarios whose mean is 4 or more over at least `min_ratings` ratings."""
    share_rated_4_plus: float | None
    """rated_4_plus / rated_enough; None when no scenario has enough ratings."""
    reviewers: dict[str, int]
    """Reviewer -> number of ratings, most active first."""
    agreement: Agreement
    """Inter-rater agreement."""


class Stats(BaseModel):
    """Everything `scenario-forge stats` reports; JSON-serialisable with `model_dump(mode="json")`."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    target: str | None
    """The target asked for, or None for all."""
    min_ratings: int
    """Ratings a scenario needs before it can count as rated 4+."""
    overall: TargetStats
    """All targets together (or just the one asked for)."""
    targets: list[TargetStats] = Field(default_factory=list)
    """One entry per target with stored scenarios, by name."""


# -- validation -------------------------------------------------------------


def clean_reviewer(reviewer: str) -> str:
    """Reviewer names are identities in a unique key, so trim them and refuse empty or oversized ones."""
    name = (reviewer or "").strip()
    if not name:
        raise InvalidInputError("The reviewer name is empty.", "Pass --reviewer NAME.")
    if len(name) > REVIEWER_MAX_LENGTH:
        raise InvalidInputError(f"The reviewer name is longer than {REVIEWER_MAX_LENGTH} characters.",
                                "Use a shorter --reviewer NAME.")
    return name


def _check_stars(stars: int) -> int:
    if isinstance(stars, bool) or not isinstance(stars, int) or stars not in STARS:
        raise InvalidInputError(f"Stars must be a whole number from 1 to 5, got {stars!r}.",
                                "Rate with 1 (useless) to 5 (excellent).")
    return stars


# -- ratings ------------------------------------------------------------------


def aggregate_of(scenario_id: int, distribution: dict[int, int]) -> RatingAggregate:
    counts = {star: int(distribution.get(star, 0)) for star in STARS}
    count = sum(counts.values())
    mean = sum(star * n for star, n in counts.items()) / count if count else None
    return RatingAggregate(scenario_id=scenario_id, mean=mean, count=count, distribution=counts)


def get_aggregate(store: Datastore, scenario_id: int) -> RatingAggregate:
    """Mean, count and distribution of one scenario's ratings; NotFoundError for an unknown id."""
    store.get_scenario(scenario_id)
    return aggregate_of(scenario_id, store.rating_distribution(scenario_id))


def rate_scenario(store: Datastore, scenario_id: int, reviewer: str, stars: int, note: str | None = None,
                  source: str = "cli") -> RatingResult:
    """Record `reviewer`'s rating; a second rating by the same reviewer replaces the first, note included."""
    reviewer = clean_reviewer(reviewer)
    _check_stars(stars)
    if source not in SOURCES:
        raise InvalidInputError(f"Unknown rating source {source!r}.", f"Use one of: {', '.join(SOURCES)}.")
    note = (note or "").strip() or None
    stored = store.upsert_rating(scenario_id, reviewer, stars, note, source)
    # An insert writes one timestamp to both columns; a replacement keeps the first created_at.
    replaced = stored.created_at != stored.updated_at
    return RatingResult(scenario_id=scenario_id, reviewer=reviewer, stars=stored.stars, note=stored.note,
                        source=source, replaced=replaced,  # type: ignore[arg-type]
                        aggregate=aggregate_of(scenario_id, store.rating_distribution(scenario_id)))


def undo_rating(store: Datastore, scenario_id: int, reviewer: str) -> bool:
    """Withdraw `reviewer`'s rating of a scenario; False when there was none."""
    return store.delete_rating(scenario_id, clean_reviewer(reviewer))


def next_unrated(store: Datastore, reviewer: str, target: str | None = None, limit: int = 10,
                 exclude: Collection[int] = ()) -> list[Scenario]:
    """The reviewer's queue, oldest first, so each session resumes where the last one stopped."""
    return store.unrated_scenarios(clean_reviewer(reviewer), target, limit, exclude)


def count_unrated(store: Datastore, reviewer: str, target: str | None = None, exclude: Collection[int] = ()) -> int:
    return store.count_unrated(clean_reviewer(reviewer), target, exclude)


def rated_at_least(mean: float | None, count: int, min_mean: float = GOOD_MEAN, min_ratings: int = 1) -> bool:
    """The one definition of "rated 4+": mean >= 4 over at least `min_ratings` ratings."""
    return mean is not None and count >= max(1, min_ratings) and mean >= min_mean


# -- statistics ---------------------------------------------------------------


def agreement_of(cells: Iterable[RatingCell]) -> Agreement:
    """Ordinal Krippendorff's alpha over the scenarios that two or more reviewers rated."""
    units: dict[int, list[RatingCell]] = defaultdict(list)
    for cell in cells:
        units[cell.scenario_id].append(cell)
    overlapping = [unit for unit in units.values() if len(unit) >= 2]
    reviewers = {cell.reviewer for unit in overlapping for cell in unit}
    if not overlapping:
        return Agreement(alpha=None, overlapping_items=0, reviewers=0, reason="no overlapping ratings")
    alpha = krippendorff_alpha([[float(c.stars) for c in unit] for unit in overlapping], "ordinal")
    reason = None if alpha is not None else "every overlapping rating is the same"
    return Agreement(alpha=alpha, overlapping_items=len(overlapping), reviewers=len(reviewers), reason=reason)


def _target_stats(target: str | None, scenarios: int, cells: list[RatingCell], min_ratings: int) -> TargetStats:
    distribution = {star: 0 for star in STARS}
    per_scenario: dict[int, list[int]] = defaultdict(list)
    for cell in cells:
        distribution[cell.stars] += 1
        per_scenario[cell.scenario_id].append(cell.stars)
    eligible = [stars for stars in per_scenario.values() if len(stars) >= max(1, min_ratings)]
    good = sum(1 for stars in eligible if rated_at_least(sum(stars) / len(stars), len(stars), GOOD_MEAN, min_ratings))
    reviewers = Counter(cell.reviewer for cell in cells)
    return TargetStats(
        target=target, scenarios=scenarios, rated=len(per_scenario), ratings=len(cells),
        mean=sum(c.stars for c in cells) / len(cells) if cells else None, distribution=distribution,
        rated_enough=len(eligible), rated_4_plus=good, share_rated_4_plus=good / len(eligible) if eligible else None,
        reviewers=dict(sorted(reviewers.items(), key=lambda kv: (-kv[1], kv[0]))),
        agreement=agreement_of(cells),
    )


def compute_stats(store: Datastore, target: str | None = None, min_ratings: int = 1) -> Stats:
    """Per-target and overall counts, distributions, share rated 4+, reviewer counts and agreement."""
    if min_ratings < 1:
        raise InvalidInputError(f"--min-ratings must be at least 1, got {min_ratings}.")
    counts = store.scenario_counts()
    if target:
        counts = {target: counts.get(target, 0)}
    cells = store.rating_cells(target)
    by_target: dict[str, list[RatingCell]] = defaultdict(list)
    for cell in cells:
        by_target[cell.target].append(cell)
    targets = [_target_stats(name, counts[name], by_target.get(name, []), min_ratings) for name in sorted(counts)]
    overall = _target_stats(target, sum(counts.values()), cells, min_ratings)
    return Stats(target=target, min_ratings=min_ratings, overall=overall, targets=targets)
