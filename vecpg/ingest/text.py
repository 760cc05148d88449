"""CSV and JSON Lines files, gzipped or not, read as a stream: memory stays bounded however large."""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from ..errors import InputFileError
from .records import Reader, record


def _decoded(path: Path, raw: BinaryIO) -> IO[str]:
    stream = gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix.lower() == ".gz" else raw
    # Strict decoding: a non-UTF-8 byte is an error, never a silently mangled document.
    return io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline="")


def open_text(path: Path, kind: str, skip: int = 0, metadata_columns: tuple[str, ...] = ()) -> Reader:
    """A reader of a ``csv`` or ``jsonl`` file from its record ``skip`` on (0: the first).

    Skipped records are counted, not checked: they are the ones an earlier run committed.
    """
    size = path.stat().st_size
    raw = path.open("rb")  # closed by the records' generator, or by close()
    try:
        text = _decoded(path, raw)
    except BaseException:
        raw.close()
        raise

    def position() -> int:
        # Bytes of the file itself, compressed or not, read so far (a little ahead of parsing).
        return size if raw.closed else raw.tell()

    def close() -> None:
        text.close()
        raw.close()

    return Reader(_records(path, kind, raw, text, skip, metadata_columns), position, size, "B", close)


def _records(path: Path, kind: str, raw: BinaryIO, text: IO[str], skip: int,
             metadata_columns: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    with raw, text:
        try:
            yield from (_csv(path, text, skip, metadata_columns) if kind == "csv"
                        else _jsonl(path, text, skip, metadata_columns))
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start]
            raise InputFileError(f"{path}: not UTF-8 text (invalid byte 0x{bad:02x})") from None
        except csv.Error as exc:
            raise InputFileError(f"{path}: malformed CSV ({exc})") from None
        except EOFError:
            raise InputFileError(f"{path}: the gzip stream ends early (a truncated file?)") from None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise InputFileError(f"{path}: not a valid gzip file ({exc})") from None


def _csv(path: Path, fh: IO[str], skip: int, metadata_columns: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(fh)
    header = reader.fieldnames or []
    if "content" not in header:
        raise InputFileError(f"{path}: CSV has no 'content' column (columns: {', '.join(header) or 'none'})")
    for number, row in enumerate(reader, start=1):
        if number > skip:
            yield record(row, f"{path}:{reader.line_num}", metadata_columns)


def _jsonl(path: Path, fh: IO[str], skip: int, metadata_columns: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    number = 0
    for line_number, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        number += 1
        if number <= skip:
            continue
        where = f"{path}:{line_number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise InputFileError(f"{where}: each line must be a JSON object")
        yield record(raw, where, metadata_columns)


def count_lines(path: Path, kind: str) -> int | None:
    """Lines of the file less a CSV header: an upper bound on its records. None if unreadable."""
    try:
        with path.open("rb") as raw, _decoded(path, raw) as fh:
            return sum(1 for _ in fh) - (1 if kind == "csv" else 0)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError):
        return None
