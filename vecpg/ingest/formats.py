"""Which reader a file needs, from its name: CSV, JSON Lines (either gzipped) or Parquet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputFileError
from .parquet import open_parquet
from .records import Reader
from .text import count_lines, open_text

_KINDS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


def file_format(path: Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the file name (``.gz`` is looked through for the first two)."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = suffixes[-1:] == [".gz"]
    rest = suffixes[:-1] if gzipped else suffixes
    kind = rest[-1] if rest else ""
    found = _KINDS.get(kind)
    if found is None:
        raise InputFileError(
            f"{path}: unknown file type {kind or '(none)'}; use .csv or .jsonl (optionally .gz), or .parquet"
        )
    if found == "parquet" and gzipped:
        # Parquet compresses its pages itself, and pyarrow needs to seek in the file.
        raise InputFileError(f"{path}: a gzipped Parquet file cannot be read as it is; gunzip it first")
    return found


def open_reader(path: Path, skip: int = 0, metadata_columns: tuple[str, ...] = ()) -> Reader:
    """A reader of a file's documents, from record ``skip`` on (``metadata_columns`` become
    metadata keys); close it when done."""
    kind = file_format(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    if kind == "parquet":
        return open_parquet(path, skip, metadata_columns)
    return open_text(path, kind, skip, metadata_columns)


def read_documents(path: str | Path) -> Iterator[dict[str, Any]]:
    """Documents (``id``, ``title``, ``content``, ``metadata``...) from a CSV, JSONL or Parquet file, lazily."""
    reader = open_reader(Path(path))
    try:
        yield from reader.records
    finally:
        reader.close()


def count_records(path: str | Path) -> int | None:
    """The records of a file (an upper bound for CSV and JSONL: their lines), for a progress
    bar; None if unreadable. It reads a CSV or JSONL file through: the ingest shows bytes instead."""
    path = Path(path)
    try:
        kind = file_format(path)
        if kind != "parquet":
            return count_lines(path, kind)
        reader = open_parquet(path)
        reader.close()
        return reader.total
    except InputFileError:
        return None
