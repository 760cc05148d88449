"""Read documents from CSV or JSON Lines files (optionally gzipped) with clear errors."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import InputFileError

COLUMNS = ("id", "title", "content", "metadata")


def file_format(path: Path) -> str:
    """``csv`` or ``jsonl`` from the file name (``.gz`` is looked through)."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    kind = suffixes[-1] if suffixes else ""
    if kind in (".csv",):
        return "csv"
    if kind in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise InputFileError(f"{path}: unknown file type {kind or '(none)'}; use .csv or .jsonl (optionally .gz)")


def _open(path: Path) -> IO[str]:
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    # The caller closes the returned wrapper, which closes this stream.
    raw = gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")  # noqa: SIM115
    # Strict decoding: a non-UTF-8 byte is an error, never a silently mangled document.
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")


def count_records(path: Path) -> int | None:
    """Number of lines (an upper bound on records, for a progress bar); None if unreadable."""
    try:
        with _open(path) as fh:
            return sum(1 for _ in fh) - (1 if file_format(path) == "csv" else 0)
    except (InputFileError, OSError, UnicodeDecodeError):
        return None


def _metadata(value: Any, where: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{where}: metadata is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise InputFileError(f"{where}: metadata must be a JSON object")
    return value


def _record(raw: dict[str, Any], where: str) -> dict[str, Any]:
    content = raw.get("content")
    if content is None or (isinstance(content, str) and not content.strip()):
        raise InputFileError(f"{where}: empty content")
    record = {"content": content, "metadata": _metadata(raw.get("metadata"), where)}
    for key in ("id", "title"):
        if raw.get(key) not in (None, ""):
            record[key] = raw[key] if isinstance(raw[key], str) else str(raw[key])
    return record


def _read_csv(path: Path, fh: IO[str]) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(fh)
    header = reader.fieldnames or []
    if "content" not in header:
        raise InputFileError(f"{path}: CSV has no 'content' column (columns: {', '.join(header) or 'none'})")
    for row in reader:
        yield _record(row, f"{path}:{reader.line_num}")


def _read_jsonl(path: Path, fh: IO[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise InputFileError(f"{where}: each line must be a JSON object")
        yield _record(raw, where)


def read_documents(path: str | Path) -> Iterator[dict[str, Any]]:
    """Documents (``id``, ``title``, ``content``, ``metadata``) from a CSV or JSONL file, lazily."""
    path = Path(path)
    kind = file_format(path)
    with _open(path) as fh:
        try:
            if kind == "csv":
                yield from _read_csv(path, fh)
            else:
                yield from _read_jsonl(path, fh)
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start]
            raise InputFileError(f"{path}: not UTF-8 text (invalid byte 0x{bad:02x})") from None
        except csv.Error as exc:
            raise InputFileError(f"{path}: malformed CSV ({exc})") from None
