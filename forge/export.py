"""Export services: stream filtered, rated scenarios into formats other tools read.

Interfaces (the CLI, the Slack bot) call `export_scenarios` with the Datastore and plain values; SQL
stays in `forge/store/exports.py` and per-format rendering in `forge/exporters/`.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from forge.errors import InvalidInputError
from forge.exporters.files import atomic_directory, atomic_file, check_directory_target, check_file_target
from forge.exporters.records import Record, scenario_record
from forge.exporters.text import JSON_FILE_WRITERS, TEXT_WRITERS, TextWriter
from forge.store.datastore import Datastore
from forge.store.exports import ExportCriteria

EXPORT_FORMATS: tuple[str, ...] = ("json", "jsonl", "csv", "hf", "inspect", "promptfoo")
DIRECTORY_FORMATS = frozenset({"hf"})
PROGRESS_EVERY = 250
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str) -> date:
    """A calendar day written YYYY-MM-DD; anything else is an InvalidInputError naming the value."""
    value = (text or "").strip()
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"Invalid date {text!r}: expected YYYY-MM-DD.",
                                "Write a day such as 2025-01-31 (dates are whole days in UTC).") from None


def check_format(fmt: str) -> str:
    """The format name, normalised; an unknown one is an error listing the valid ones."""
    name = (fmt or "").strip().lower()
    if name not in EXPORT_FORMATS:
        raise InvalidInputError(f"Unknown export format {fmt!r}.", f"Use one of: {', '.join(EXPORT_FORMATS)}.")
    return name


class ExportFilter(BaseModel):
    """Which scenarios to export; every condition given must hold."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    min_rating: float | None = None
    """Keep scenarios whose mean rating is at least this (1 to 5); None keeps unrated ones too."""
    min_ratings: int = Field(default=0, ge=0)
    """Keep scenarios with at least this many ratings; defaults to 1 when min_rating is set, else 0."""
    targets: list[str] = Field(default_factory=list)
    """Only these evaluation targets; empty means all."""
    since: date | None = None
    """Created on or after this day (UTC)."""
    until: date | None = None
    """Created on or before this day (UTC)."""

    @model_validator(mode="before")
    @classmethod
    def _default_min_ratings(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("min_ratings") is None:
            data = {**data, "min_ratings": 1 if data.get("min_rating") is not None else 0}
        return data

    @field_validator("min_rating")
    @classmethod
    def _rating_in_range(cls, value: float | None) -> float | None:
        # InvalidInputError is not a ValueError, so pydantic lets it through with our wording.
        if value is not None and not 1 <= value <= 5:
            raise InvalidInputError(f"Minimum rating must be from 1 to 5, got {value:g}.",
                                    "Ratings are 1 to 5 stars; e.g. --min-rating 4 keeps scenarios rated 4+.")
        return value

    @field_validator("since", "until", mode="before")
    @classmethod
    def _parse_day(cls, value: Any) -> Any:
        return parse_date(value) if isinstance(value, str) else value

    @field_validator("targets")
    @classmethod
    def _clean_targets(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(t.strip() for t in value if t.strip()))

    @model_validator(mode="after")
    def _since_before_until(self) -> ExportFilter:
        if self.since and self.until and self.since > self.until:
            raise InvalidInputError(f"The start day {self.since} is after the end day {self.until}.",
                                    "Swap them: since is the first day, until the last (both included).")
        return self

    @classmethod
    def build(cls, **values: Any) -> ExportFilter:
        """Validate user-supplied values; a type error becomes an InvalidInputError naming the field."""
        try:
            return cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "filter"
            raise InvalidInputError(f"Invalid export filter {field}: {first['msg']}.",
                                    "See `scenario-forge export --help`.") from exc

    def criteria(self) -> ExportCriteria:
        """Plain values for the store; days become half-open UTC instants so `until` includes its day."""
        start = datetime.combine(self.since, time.min, UTC) if self.since else None
        end = datetime.combine(self.until + timedelta(days=1), time.min, UTC) if self.until else None
        return ExportCriteria(min_mean=self.min_rating, min_ratings=self.min_ratings, targets=tuple(self.targets),
                              created_from=start, created_before=end)

    def describe(self) -> str:
        """The filters in words, for messages: e.g. `mean rating >= 4 over >= 1 ratings, target sycophancy`."""
        parts = []
        if self.min_rating is not None:
            parts.append(f"mean rating >= {self.min_rating:g} over >= {max(1, self.min_ratings)} ratings")
        elif self.min_ratings:
            parts.append(f">= {self.min_ratings} ratings")
        if self.targets:
            parts.append(("targets " if len(self.targets) > 1 else "target ") + ", ".join(self.targets))
        if self.since or self.until:
            parts.append(f"created {self.since or '…'} to {self.until or '…'}")
        return "; ".join(parts) or "all scenarios"


class ExportResult(BaseModel):
    """What an export wrote."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    format: str
    """The format written."""
    count: int
    """Scenarios written."""
    path: str | None
    """The file or folder written; None when written to a stream such as stdout."""
    per_target: dict[str, int] = Field(default_factory=dict)
    """Scenarios written per target."""
    filters: str = "all scenarios"
    """The filters, in words."""

    def summary(self) -> str:
        """One line for people: what was written where, or that nothing matched."""
        where = self.path or "stdout"
        if not self.count:
            return f"No scenarios matched {self.filters}; wrote an empty file ({where})."
        targets = ", ".join(f"{t}: {n}" for t, n in sorted(self.per_target.items()))
        noun = "scenario" if self.count == 1 else "scenarios"
        return f"Exported {self.count} {noun} as {self.format} to {where} ({targets})."


def count_matching(store: Datastore, filters: ExportFilter) -> int:
    """How many scenarios an export with these filters would write (e.g. a progress bar's total)."""
    return store.count_export_rows(filters.criteria())


def _records(store: Datastore, filters: ExportFilter, include_reviewers: bool, per_target: Counter[str],
             on_progress: Callable[[int], None] | None) -> Iterator[Record]:
    done = 0
    for row in store.stream_export_rows(filters.criteria(), with_ratings=include_reviewers):
        per_target[row.target] += 1
        done += 1
        if on_progress and done % PROGRESS_EVERY == 0:
            on_progress(done)
        yield scenario_record(row)
    if on_progress:
        on_progress(done)


def export_scenarios(store: Datastore, fmt: str, out: Path | TextIO | None, filters: ExportFilter, *,
                     include_reviewers: bool = False,
                     on_progress: Callable[[int], None] | None = None) -> ExportResult:
    """Write every scenario matching `filters` in `fmt` to `out` (a path, a stream, or None for stdout).

    Rows stream from the database to the output, so memory stays flat at any size. A path is written
    to a temp file or folder beside it and renamed into place only when complete.
    """
    fmt = check_format(fmt)
    if fmt in DIRECTORY_FORMATS and not isinstance(out, Path):
        raise InvalidInputError(f"The {fmt} format writes a folder, so it needs --out.",
                                f"Pass a folder path, e.g. --format {fmt} --out exports/rated-dataset.")
    if isinstance(out, Path):  # refuse a bad target before any work
        (check_directory_target if fmt in DIRECTORY_FORMATS else check_file_target)(out)
    per_target: Counter[str] = Counter()
    records = closing(_records(store, filters, include_reviewers, per_target, on_progress))
    with records as stream:
        if fmt == "hf":
            assert isinstance(out, Path)
            _write_hf(stream, out, filters, per_target, include_reviewers)
        else:
            writer: TextWriter = TEXT_WRITERS[fmt]
            if isinstance(out, Path) and out.suffix.lower() == ".json":
                writer = JSON_FILE_WRITERS.get(fmt, writer)
            if isinstance(out, Path):
                with atomic_file(out) as handle:
                    writer(stream, handle, include_reviewers)
            else:
                target = out if out is not None else sys.stdout
                writer(stream, target, include_reviewers)
                target.flush()
    return ExportResult(format=fmt, count=sum(per_target.values()), path=str(out) if isinstance(out, Path) else None,
                        per_target=dict(sorted(per_target.items())), filters=filters.describe())


def _write_hf(records: Iterator[Record], out: Path, filters: ExportFilter, per_target: Counter[str],
              include_reviewers: bool) -> None:
    from forge.exporters.hf import write_dataset_card, write_hf_dataset

    with atomic_directory(out) as tmp:
        write_hf_dataset(records, tmp, include_reviewers)
        write_dataset_card(tmp, load_path=str(out), count=sum(per_target.values()), per_target=per_target,
                           filters=filters.describe(), include_reviewers=include_reviewers)
