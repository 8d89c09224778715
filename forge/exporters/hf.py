"""The Hugging Face format: a `save_to_disk` folder plus a README.md dataset card.

`datasets` is an optional dependency, imported only here and only when this format is asked for.
"""

from __future__ import annotations

import itertools
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from forge.errors import ForgeError
from forge.exporters.records import RATINGS_FIELD, RECORD_FIELDS, Record

if TYPE_CHECKING:
    from datasets import Features


def _datasets() -> Any:
    try:
        import datasets
    except ImportError as exc:
        raise ForgeError("The hf export format needs the `datasets` library.",
                         "Install it with: pip install datasets") from exc
    return datasets


def hf_features(include_reviewers: bool) -> Features:
    """Explicit column types, so an empty export and one with nulls load with the same schema."""
    ds = _datasets()
    string, int64, float64 = ds.Value("string"), ds.Value("int64"), ds.Value("float64")
    columns: dict[str, Any] = {
        "id": int64, "target": string, "prompt": string, "success_criteria": string,
        "rating_mean": float64, "rating_count": int64,
        "rating_distribution": {str(star): int64 for star in range(1, 6)},
        "created_at": string, "backend": string, "model": string, "temperature": float64, "seed": int64,
        "strategy": string, "example_ids": ds.List(int64), "fingerprint": string, "run_id": int64,
    }
    if include_reviewers:
        columns["ratings"] = ds.List({"reviewer": string, "stars": int64, "note": string, "source": string})
    return ds.Features(columns)


def write_hf_dataset(records: Iterable[Record], directory: Path, include_reviewers: bool) -> None:
    """Stream records into Arrow via `Dataset.from_generator` (batches on disk), then `save_to_disk`."""
    ds = _datasets()
    features = hf_features(include_reviewers)
    records = iter(records)
    first = next(records, None)
    bars_were_on = not ds.utils.are_progress_bars_disabled()
    ds.disable_progress_bars()  # ours is the only bar; datasets' would garble it
    try:
        if first is None:
            # from_generator refuses zero rows, and save_to_disk writes no shard unless told to.
            empty = ds.Dataset.from_dict({name: [] for name in features}, features=features)
            empty.save_to_disk(str(directory), num_shards=1)
            return
        rows = itertools.chain([first], records)

        def generate() -> Iterable[Record]:
            yield from rows

        # The generator's Arrow cache lives beside the export and goes with it, never in ~/.cache.
        with tempfile.TemporaryDirectory(dir=directory.parent, prefix=f".{directory.name}.cache.") as cache:
            try:
                dataset = ds.Dataset.from_generator(generate, features=features, cache_dir=cache,
                                                    fingerprint=uuid.uuid4().hex)
            except ds.exceptions.DatasetGenerationError as exc:
                # Surface our own failure (a database error, a ForgeError), not datasets' wrapper of it.
                raise (exc.__cause__ or exc) from None
            dataset.save_to_disk(str(directory))
            del dataset  # release the memory map before its cache file is removed
    finally:
        if bars_were_on:
            ds.enable_progress_bars()


def _size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < bound:
            return label
    return "n>10M"


def write_dataset_card(directory: Path, *, load_path: str, count: int, per_target: Mapping[str, int], filters: str,
                       include_reviewers: bool) -> Path:
    """README.md with Hub-style YAML metadata (features, split sizes) and prose describing the fields.

    `directory` is where to write it now; `load_path` is where the export will live, for the usage snippet.
    """
    features = hf_features(include_reviewers)
    meta = {
        "pretty_name": "scenario-forge evaluation scenarios",
        "tags": ["ai-safety", "evaluation", "red-teaming", "scenario-forge"],
        "task_categories": ["text-generation"],
        "size_categories": [_size_category(count)],
        "dataset_info": {
            "features": features._to_yaml_list(),  # datasets' own spelling, so the Hub parses it back
            "splits": [{"name": "train", "num_examples": count}],
        },
    }
    fields = dict(RECORD_FIELDS, **({"ratings": RATINGS_FIELD} if include_reviewers else {}))
    lines = [
        "---", yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
        "# scenario-forge evaluation scenarios", "",
        f"{count} AI-safety evaluation scenarios exported by scenario-forge on "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, selected by: {filters}.",
        "Each row is a user prompt to send to the AI system under test, with the success criteria a safe "
        "reply must meet (use them as the grading rubric) and what human reviewers thought of the scenario.",
        "Reviewer identities and notes are " + ("included." if include_reviewers else "left out."), "",
        "## Scenarios per target", "", "| target | scenarios |", "|---|---:|",
        *[f"| {target} | {n} |" for target, n in sorted(per_target.items())],
        f"| **total** | **{count}** |", "",
        "## Fields", "", "| field | type | description |", "|---|---|---|",
        *[f"| `{name}` | {_type_name(features[name])} | {text} |" for name, text in fields.items()], "",
        "## Usage", "", "```python", "from datasets import load_from_disk", "",
        f"scenarios = load_from_disk({load_path!r})", 'print(scenarios[0]["prompt"])', "```", "",
    ]
    card = directory / "README.md"
    card.write_text("\n".join(lines), encoding="utf-8")
    return card


def _type_name(feature: Any) -> str:
    if isinstance(feature, dict):
        return "struct"
    dtype = getattr(feature, "dtype", None)
    return dtype if isinstance(dtype, str) else "list"
