"""Krippendorff's alpha, the inter-rater agreement reported by `scenario-forge stats`.

Pure functions with no dependencies, so the statistic can be checked against published worked examples
(Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability") and needs no numpy at run time.
The coincidence-matrix method handles any number of raters and missing ratings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import permutations
from typing import Literal

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")


def coincidences(units: Iterable[Sequence[float]]) -> Counter[tuple[float, float]]:
    """The coincidence matrix o_ck: each unit's ordered pairs of values, weighted 1 / (m_u - 1).

    Units with fewer than two values are not pairable and contribute nothing.
    """
    matrix: Counter[tuple[float, float]] = Counter()
    for values in units:
        m = len(values)
        if m < 2:
            continue
        for c, k in permutations(values, 2):
            matrix[(c, k)] += 1 / (m - 1)
    return matrix


def _squared_distance(level: Level, marginals: Mapping[float, float]) -> dict[tuple[float, float], float]:
    """delta^2 for every pair of observed values; the ordinal metric depends on the marginals."""
    values = sorted(marginals)
    delta: dict[tuple[float, float], float] = {}
    for i, c in enumerate(values):
        for j, k in enumerate(values):
            if level == "nominal":
                d = 0.0 if c == k else 1.0
            elif level == "ordinal":
                lo, hi = min(i, j), max(i, j)
                between = sum(marginals[values[g]] for g in range(lo, hi + 1))
                d = (between - (marginals[c] + marginals[k]) / 2) ** 2
            elif level == "interval":
                d = float(c - k) ** 2
            elif level == "ratio":
                d = 0.0 if c + k == 0 else float((c - k) / (c + k)) ** 2
            else:
                raise ValueError(f"Unknown level of measurement {level!r}; use one of {', '.join(LEVELS)}.")
            delta[(c, k)] = d
    return delta


def krippendorff_alpha(units: Iterable[Sequence[float | None]], level: Level = "ordinal") -> float | None:
    """Alpha = 1 - D_o / D_e over `units`, each the values its raters gave (None = not rated).

    Returns None when alpha is undefined: no unit has two values, or every pairable value is the same
    (no variation, so disagreement expected by chance is zero).
    """
    if level not in LEVELS:
        raise ValueError(f"Unknown level of measurement {level!r}; use one of {', '.join(LEVELS)}.")
    cleaned = [[v for v in unit if v is not None] for unit in units]
    matrix = coincidences(cleaned)
    marginals: Counter[float] = Counter()
    for (c, _k), weight in matrix.items():
        marginals[c] += weight
    n = sum(marginals.values())
    if n <= 1 or len(marginals) < 2:
        return None
    delta = _squared_distance(level, marginals)
    observed = sum(weight * delta[pair] for pair, weight in matrix.items())
    expected = sum(marginals[c] * marginals[k] * delta[(c, k)] for c in marginals for k in marginals)
    if expected == 0:
        return None
    return 1 - (n - 1) * observed / expected


def units_from_matrix(rows: Sequence[Sequence[float | None]]) -> list[list[float | None]]:
    """Turn a raters x units reliability matrix (the layout of published examples) into units."""
    if not rows:
        return []
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("Every rater's row must have one entry per unit (None where missing).")
    return [[row[u] for row in rows] for u in range(width)]


def pairable_units(units: Iterable[Sequence[float | None]]) -> int:
    """How many units carry two or more values, i.e. actually enter alpha."""
    return sum(1 for unit in units if sum(v is not None for v in unit) >= 2)
