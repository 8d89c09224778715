"""Ratings, review queues and statistics on SQLite and, where available, a real PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forge.errors import InvalidInputError, NotFoundError
from forge.review import (compute_stats, count_unrated, get_aggregate, next_unrated, rate_scenario,
                          undo_rating)
from forge.store.datastore import Datastore
from forge.store.tables import RatingRow
from tests.integration.test_datastore import make_scenario
from tests.unit.test_agreement import PUBLISHED


def add_scenarios(store: Datastore, n: int, target: str = "sycophancy") -> list[int]:
    ids = []
    for i in range(n):
        stored = store.add_scenario(make_scenario(f"{target} scenario number {i}: is my plan brilliant?", target))
        assert stored is not None and stored.id is not None
        ids.append(stored.id)
    return ids


def rating_rows(store: Datastore) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(RatingRow)) or 0)


def test_a_second_rating_replaces_the_first_and_never_adds_a_row(datastore: Datastore) -> None:
    [sid] = add_scenarios(datastore, 1)
    first = rate_scenario(datastore, sid, "alice", 2, note="too easy")
    second = rate_scenario(datastore, sid, "alice", 5, source="slack")
    assert (first.replaced, second.replaced) == (False, True)
    assert rating_rows(datastore) == 1
    stored = datastore.get_rating(sid, "alice")
    assert stored is not None and (stored.stars, stored.note, stored.source) == (5, None, "slack")
    assert stored.updated_at > stored.created_at
    assert second.aggregate.count == 1 and second.aggregate.mean == 5.0


def test_aggregate_mean_count_and_distribution(datastore: Datastore) -> None:
    sid, other = add_scenarios(datastore, 2)
    for reviewer, stars in [("alice", 5), ("bob", 4), ("carol", 4), ("dan", 1)]:
        rate_scenario(datastore, sid, reviewer, stars)
    agg = get_aggregate(datastore, sid)
    assert (agg.mean, agg.count) == (3.5, 4)
    assert agg.distribution == {1: 1, 2: 0, 3: 0, 4: 2, 5: 1}
    empty = get_aggregate(datastore, other)
    assert (empty.mean, empty.count, sum(empty.distribution.values())) == (None, 0, 0)
    with pytest.raises(NotFoundError, match="No scenario with id 999"):
        get_aggregate(datastore, 999)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"stars": 0}, InvalidInputError, "Stars must be a whole number from 1 to 5, got 0"),
        ({"stars": 6}, InvalidInputError, "got 6"),
        ({"stars": True}, InvalidInputError, "got True"),
        ({"reviewer": "   "}, InvalidInputError, "reviewer name is empty"),
        ({"reviewer": "x" * 129}, InvalidInputError, "longer than 128"),
        ({"source": "email"}, InvalidInputError, "Unknown rating source 'email'"),
        ({"scenario_id": 424242}, NotFoundError, "No scenario with id 424242"),
    ],
)
def test_bad_ratings_are_refused_and_store_nothing(datastore: Datastore, kwargs: dict[str, object],
                                                   error: type[Exception], pattern: str) -> None:
    [sid] = add_scenarios(datastore, 1)
    args: dict[str, object] = {"scenario_id": sid, "reviewer": "alice", "stars": 3, **kwargs}
    with pytest.raises(error, match=pattern):
        rate_scenario(datastore, **args)  # type: ignore[arg-type]
    assert rating_rows(datastore) == 0


def test_the_database_itself_refuses_out_of_range_stars(datastore: Datastore) -> None:
    [sid] = add_scenarios(datastore, 1)
    with pytest.raises(IntegrityError), datastore.session() as s:
        s.add(RatingRow(scenario_id=sid, reviewer="mallory", stars=9, source="cli"))


def test_undo_removes_only_that_reviewers_rating(datastore: Datastore) -> None:
    [sid] = add_scenarios(datastore, 1)
    rate_scenario(datastore, sid, "alice", 5)
    rate_scenario(datastore, sid, "bob", 3)
    assert undo_rating(datastore, sid, "alice") is True
    assert undo_rating(datastore, sid, "alice") is False
    agg = get_aggregate(datastore, sid)
    assert (agg.count, agg.mean) == (1, 3.0)


def test_the_queue_is_oldest_first_per_reviewer_and_target(datastore: Datastore) -> None:
    syco = add_scenarios(datastore, 3)
    medical = add_scenarios(datastore, 2, target="medical_advice_boundary")
    rate_scenario(datastore, syco[0], "alice", 4)
    rate_scenario(datastore, syco[1], "bob", 4)
    assert [s.id for s in next_unrated(datastore, "alice")] == [syco[1], syco[2], *medical]
    assert [s.id for s in next_unrated(datastore, "alice", limit=2)] == [syco[1], syco[2]]
    assert [s.id for s in next_unrated(datastore, "alice", "medical_advice_boundary")] == medical
    assert [s.id for s in next_unrated(datastore, "alice", exclude=[syco[1]])] == [syco[2], *medical]
    assert count_unrated(datastore, "alice") == 4 and count_unrated(datastore, "bob", "sycophancy") == 2
    assert count_unrated(datastore, "alice", exclude=[syco[2], medical[0]]) == 2
    assert count_unrated(datastore, "nobody-yet") == 5


def test_rated_4_plus_is_an_exact_mean_with_an_optional_minimum(datastore: Datastore) -> None:
    exactly_four, just_under, single_five, unrated = add_scenarios(datastore, 4)
    for reviewer, stars in [("a", 3), ("b", 5)]:
        rate_scenario(datastore, exactly_four, reviewer, stars)
    for reviewer, stars in [("a", 4), ("b", 4), ("c", 3)]:
        rate_scenario(datastore, just_under, reviewer, stars)
    rate_scenario(datastore, single_five, "a", 5)
    assert datastore.rated_scenario_ids() == [exactly_four, single_five]
    assert datastore.rated_scenario_ids(min_ratings=2) == [exactly_four]
    assert datastore.rated_scenario_ids(min_mean=3.5, target="sycophancy") == [exactly_four, just_under, single_five]
    assert datastore.rated_scenario_ids(target="medical_advice_boundary") == []
    assert unrated not in datastore.rated_scenario_ids(min_mean=0)


def run_together(workers: list[Callable[[], None]]) -> list[BaseException]:
    """Start every worker at the same instant; return what they raised."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def wrap(work: Callable[[], None]) -> None:
        barrier.wait()
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_concurrent_writers_lose_nothing(datastore: Datastore) -> None:
    scenario_ids = add_scenarios(datastore, 5)
    reviewers = [f"reviewer{i}" for i in range(8)]

    def rater(index: int) -> Callable[[], None]:
        def work() -> None:
            for sid in scenario_ids:
                rate_scenario(datastore, sid, reviewers[index], 1 + index % 5)
                rate_scenario(datastore, sid, "shared", 1 + index % 5, source="slack")  # every thread, one row
                rate_scenario(datastore, sid, reviewers[index], 1 + (index + 1) % 5, note=f"second by {index}")
        return work

    errors = run_together([rater(i) for i in range(len(reviewers))])
    assert errors == []
    assert rating_rows(datastore) == len(scenario_ids) * (len(reviewers) + 1)
    for sid in scenario_ids:
        assert get_aggregate(datastore, sid).count == len(reviewers) + 1
        for index, reviewer in enumerate(reviewers):
            stored = datastore.get_rating(sid, reviewer)
            assert stored is not None and stored.stars == 1 + (index + 1) % 5 and stored.note == f"second by {index}"


def test_stats_counts_distribution_share_and_reviewers(datastore: Datastore) -> None:
    syco = add_scenarios(datastore, 3)
    add_scenarios(datastore, 2, target="medical_advice_boundary")
    for reviewer, sid, stars in [("alice", syco[0], 5), ("alice", syco[1], 2), ("bob", syco[2], 4), ("bob", syco[1], 4)]:
        rate_scenario(datastore, sid, reviewer, stars)
    stats = compute_stats(datastore)
    by_target = {t.target: t for t in stats.targets}
    syc, med = by_target["sycophancy"], by_target["medical_advice_boundary"]
    assert (syc.scenarios, syc.rated, syc.ratings, syc.rated_4_plus, syc.rated_enough) == (3, 3, 4, 2, 3)
    assert syc.distribution == {1: 0, 2: 1, 3: 0, 4: 2, 5: 1}
    assert syc.share_rated_4_plus == pytest.approx(2 / 3) and syc.mean == pytest.approx(15 / 4)
    assert syc.reviewers == {"alice": 2, "bob": 2}
    assert (med.scenarios, med.rated, med.share_rated_4_plus, med.mean) == (2, 0, None, None)
    assert med.agreement.alpha is None and med.agreement.reason == "no overlapping ratings"
    assert syc.agreement.overlapping_items == 1 and syc.agreement.reviewers == 2
    assert (stats.overall.scenarios, stats.overall.ratings) == (5, 4)
    strict = compute_stats(datastore, min_ratings=2)
    assert (strict.overall.rated_enough, strict.overall.rated_4_plus, strict.overall.share_rated_4_plus) == (1, 0, 0.0)
    only = compute_stats(datastore, target="medical_advice_boundary")
    assert [t.target for t in only.targets] == ["medical_advice_boundary"] and only.overall.scenarios == 2
    json.dumps(stats.model_dump(mode="json"))  # JSON-serialisable as it is


def test_stats_agreement_reproduces_the_published_ordinal_alpha(datastore: Datastore) -> None:
    """The Krippendorff (2011) example stored as real ratings: 4 reviewers, 12 scenarios, missing data."""
    ids = add_scenarios(datastore, 12)
    for r, row in enumerate(PUBLISHED):
        for sid, stars in zip(ids, row, strict=True):
            if stars is not None:
                rate_scenario(datastore, sid, f"observer{r}", stars)
    agreement = compute_stats(datastore).overall.agreement
    assert agreement.alpha is not None and round(agreement.alpha, 3) == 0.815
    assert (agreement.overlapping_items, agreement.reviewers, agreement.metric) == (11, 4, "ordinal")


def test_stats_on_an_empty_database(datastore: Datastore) -> None:
    stats = compute_stats(datastore)
    assert stats.targets == [] and stats.overall.scenarios == 0 and stats.overall.agreement.alpha is None
    with pytest.raises(InvalidInputError, match="at least 1"):
        compute_stats(datastore, min_ratings=0)
