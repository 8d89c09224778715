"""Content fingerprints and near-duplicate detection."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from rapidfuzz import fuzz

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)

NEAR_DUPLICATE_THRESHOLD = 88.0
"""Character-level similarity (0-100) at or above which two prompts count as one."""


def normalize(text: str) -> str:
    """Lower-case, drop punctuation and collapse whitespace, so trivial edits don't look new."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def fingerprint(text: str) -> str:
    """A stable content fingerprint of a prompt."""
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


def example_fingerprint(prompt: str, success_criteria: str) -> str:
    """Fingerprint of a whole example, so re-importing the same YAML adds nothing."""
    return fingerprint(prompt + "\n" + success_criteria)


def _copies(a: str, b: str, threshold: float) -> bool:
    """Whether normalised texts a and b are near copies, including one padded out with extra text."""
    if fuzz.ratio(a, b) >= threshold:
        return True
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 40 and shorter in longer:
        return True
    return len(shorter) >= 0.5 * len(longer) and fuzz.partial_ratio(shorter, longer) >= max(threshold, 92.0)


def is_near_duplicate(text: str, corpus: Iterable[str], threshold: float = NEAR_DUPLICATE_THRESHOLD) -> bool:
    """Whether `text` is a near copy of anything in `corpus` (a whole copy padded with extra text counts)."""
    needle = normalize(text)
    return any(_copies(needle, normalize(other), threshold) for other in corpus)
