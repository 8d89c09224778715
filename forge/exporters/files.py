"""Atomic outputs: a temp file or folder beside the target, renamed into place only on success."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

from forge.errors import InvalidInputError

# Files `Dataset.save_to_disk` writes: an existing folder with them is an earlier export we may replace.
DATASET_MARKERS = ("dataset_info.json", "state.json")


def check_file_target(path: Path) -> None:
    """Refuse, before any work, a target that is a folder."""
    if path.is_dir():
        raise InvalidInputError(f"--out {path} is a folder; this format writes one file.",
                                "Pass a file path such as scenarios.jsonl.")


def check_directory_target(path: Path) -> None:
    """Refuse, before any work, to replace a file or a folder that is not an earlier dataset export."""
    if path.exists() and not path.is_dir():
        raise InvalidInputError(f"--out {path} is a file; the hf format writes a folder.",
                                "Pass a folder path such as exports/rated-dataset.")
    if path.is_dir() and any(path.iterdir()) and not all((path / m).exists() for m in DATASET_MARKERS):
        raise InvalidInputError(f"--out {path} is a folder that is not a dataset export; refusing to replace it.",
                                "Pass a new folder path, or an earlier `--format hf` export to overwrite.")


@contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """Write to a hidden temp file beside `path` and rename it over `path` only if the block succeeds.

    Readers never see a half-written export, and a failure leaves any earlier file untouched.
    """
    check_file_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """Fill a hidden temp folder beside `path`, then swap it in; an earlier export is replaced only at the end."""
    check_directory_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old / path.name)  # rename, not copy: the swap below is two renames
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
