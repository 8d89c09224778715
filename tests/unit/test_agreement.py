"""Krippendorff's alpha against published worked examples and, where installed, the `krippendorff` package."""

from __future__ import annotations

import random

import pytest

from forge.agreement import LEVELS, Level, coincidences, krippendorff_alpha, pairable_units, units_from_matrix

N = None
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units,
# values 1-5, with missing data. Unit 12 has a single value and so is not pairable.
PUBLISHED = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
# Section A of the same paper: binary data, two observers, no missing data; alpha = 0.095.
BINARY = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
]


@pytest.mark.parametrize(("level", "expected"),
                         [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_published_example_with_missing_data(level: Level, expected: float) -> None:
    alpha = krippendorff_alpha(units_from_matrix(PUBLISHED), level)
    assert alpha is not None and round(alpha, 3) == expected


def test_published_binary_example_and_its_coincidence_matrix() -> None:
    units = units_from_matrix(BINARY)
    matrix = coincidences([[v for v in u if v is not None] for u in units])
    assert matrix[(0, 0)] == 10 and matrix[(0, 1)] == 4 and matrix[(1, 0)] == 4 and matrix[(1, 1)] == 2
    alpha = krippendorff_alpha(units, "nominal")
    assert alpha is not None and round(alpha, 3) == 0.095


def test_the_published_example_has_eleven_pairable_units() -> None:
    assert pairable_units(units_from_matrix(PUBLISHED)) == 11


@pytest.mark.parametrize("level", LEVELS)
def test_perfect_agreement_is_one(level: Level) -> None:
    assert krippendorff_alpha([[1, 1], [3, 3, 3], [5, 5], [2, None, 2]], level) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("units", "why"),
    [
        ([], "no data"),
        ([[4], [5, None], [None, None]], "no unit has two values"),
        ([[4, 4], [4, 4, 4]], "no variation"),
    ],
)
def test_undefined_alpha_is_none(units: list[list[int | None]], why: str) -> None:
    assert krippendorff_alpha(units, "ordinal") is None, why


def test_units_with_one_value_do_not_change_alpha() -> None:
    base = [[1, 2], [3, 3], [5, 4], [2, 2]]
    assert krippendorff_alpha(base) == krippendorff_alpha([*base, [5], [1, None, None]])


def test_alpha_ignores_the_order_of_units_and_of_raters() -> None:
    units = units_from_matrix(PUBLISHED)
    shuffled = [list(reversed(u)) for u in reversed(units)]
    assert krippendorff_alpha(shuffled) == pytest.approx(krippendorff_alpha(units))


def test_ordinal_differs_from_interval_when_the_spacing_of_values_is_uneven() -> None:
    units = [[1, 2], [2, 5], [5, 5], [1, 1], [2, 2]]
    ordinal, interval = krippendorff_alpha(units, "ordinal"), krippendorff_alpha(units, "interval")
    assert ordinal is not None and interval is not None and abs(ordinal - interval) > 0.01


def test_unknown_level_and_ragged_matrix_are_refused() -> None:
    with pytest.raises(ValueError, match="Unknown level of measurement 'cardinal'"):
        krippendorff_alpha([[1, 2]], "cardinal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one entry per unit"):
        units_from_matrix([[1, 2], [1]])


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("level", LEVELS)
def test_matches_the_krippendorff_package_on_random_data(seed: int, level: Level) -> None:
    krippendorff = pytest.importorskip("krippendorff")
    np = pytest.importorskip("numpy")
    rng = random.Random(seed)
    raters, units = rng.randint(2, 6), rng.randint(5, 40)
    matrix: list[list[int | None]] = []
    while pairable_units(units_from_matrix(matrix)) < 3:  # the package refuses data with nothing to compare
        matrix = [[rng.randint(1, 5) if rng.random() > 0.3 else None for _ in range(units)] for _ in range(raters)]
    ours = krippendorff_alpha(units_from_matrix(matrix), level)
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert ours is not None and ours == pytest.approx(theirs, abs=1e-9)
