"""Text formats, each written record by record so memory stays flat however many scenarios there are."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from typing import Any, TextIO

import yaml

from forge.exporters.records import Record, csv_columns, csv_row, inspect_sample, promptfoo_case

TextWriter = Callable[[Iterable[Record], TextIO, bool], None]
"""(records, stream, include_reviewers) -> None."""


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _json_array(items: Iterable[Any], out: TextIO) -> None:
    """`[`, items separated by commas, `]`: a valid array at the end without holding it all."""
    out.write("[")
    first = True
    for item in items:
        out.write("\n  " if first else ",\n  ")
        out.write(_dumps(item))
        first = False
    out.write("]\n" if first else "\n]\n")


def write_json(records: Iterable[Record], out: TextIO, include_reviewers: bool) -> None:
    _json_array(records, out)


def write_jsonl(records: Iterable[Record], out: TextIO, include_reviewers: bool) -> None:
    for record in records:
        out.write(_dumps(record) + "\n")


def write_csv(records: Iterable[Record], out: TextIO, include_reviewers: bool) -> None:
    """RFC 4180 quoting by the csv module, so prompts with newlines, commas and quotes survive."""
    writer = csv.DictWriter(out, fieldnames=csv_columns(include_reviewers), extrasaction="raise")
    writer.writeheader()
    for record in records:
        writer.writerow(csv_row(record))


def write_inspect(records: Iterable[Record], out: TextIO, include_reviewers: bool) -> None:
    """JSONL samples for `inspect_ai.dataset.json_dataset("x.jsonl")`."""
    for record in records:
        out.write(_dumps(inspect_sample(record)) + "\n")


def write_inspect_json(records: Iterable[Record], out: TextIO, include_reviewers: bool) -> None:
    """An array of samples: json_dataset reads a `.json` file as one array, not as lines."""
    _json_array((inspect_sample(r) for r in records), out)


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, so a prompt reads as written in the test file."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None  # PyYAML falls back to quoting where a block can't be exact
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def write_promptfoo_yaml(records: Iterable[Record], out: TextIO, include_reviewers: bool) -> None:
    """A YAML list of test cases, one `- ...` item at a time; `[]` when there are none."""
    empty = True
    for record in records:
        out.write(yaml.dump([promptfoo_case(record)], Dumper=_BlockDumper, allow_unicode=True,
                            sort_keys=False, width=100))
        empty = False
    if empty:
        out.write("[]\n")


def write_promptfoo_json(records: Iterable[Record], out: TextIO, include_reviewers: bool) -> None:
    _json_array((promptfoo_case(r) for r in records), out)


# Formats whose readers expect one JSON array when the file is named *.json.
JSON_FILE_WRITERS: dict[str, TextWriter] = {"inspect": write_inspect_json, "promptfoo": write_promptfoo_json}

TEXT_WRITERS: dict[str, TextWriter] = {
    "json": write_json,
    "jsonl": write_jsonl,
    "csv": write_csv,
    "inspect": write_inspect,
    "promptfoo": write_promptfoo_yaml,
}
