"""What every reader yields: documents as ``Collection.load`` takes them, checked alike in every format."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InputFileError

# The columns (or keys) a file may have; others are ignored. They are the fields of a document.
COLUMNS = ("id", "title", "content", "metadata", "embedding", "tenant_id")


@dataclass
class Reader:
    """The documents of one file, read lazily, and how far the reading has got.

    ``position()`` is how much of ``total`` has been read, in ``unit``s: bytes of the file for
    CSV and JSON Lines (gzipped or not: counting their records first would read them twice),
    documents for Parquet, whose footer says how many it holds.
    """

    records: Iterator[dict[str, Any]]
    position: Callable[[], int]
    total: int
    unit: str  # "B" or "doc"
    close: Callable[[], None]  # the file, whether or not its records were read to the end


def metadata(value: Any, where: str) -> dict[str, Any]:
    """A metadata cell: a JSON object, as text or already decoded; empty means none."""
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


def embedding(value: Any, where: str) -> list[Any] | None:
    """An embedding cell: a list of numbers, or its JSON text (a CSV cell). The collection checks
    its numbers and length, as for any write."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{where}: embedding is not valid JSON ({exc.msg})") from None
    if not isinstance(value, list):
        raise InputFileError(f"{where}: embedding must be an array of numbers")
    return value


def record(raw: Mapping[str, Any], where: str, metadata_columns: tuple[str, ...] = ()) -> dict[str, Any]:
    """The document of one record of a file; ``where`` names the record in errors. Columns in
    ``metadata_columns`` (a CSV's ``category``, say) become metadata keys, empty cells none."""
    content = raw.get("content")
    if content is None or (isinstance(content, str) and not content.strip()):
        raise InputFileError(f"{where}: empty content")
    doc = {"content": content, "metadata": metadata(raw.get("metadata"), where)}
    for column in metadata_columns:
        if raw.get(column) not in (None, ""):
            doc["metadata"][column] = raw[column]
    for key in ("id", "title", "tenant_id"):
        value = raw.get(key)
        if value not in (None, ""):
            doc[key] = value if isinstance(value, str) else str(value)
    vector = embedding(raw.get("embedding"), where)
    if vector is not None:
        doc["embedding"] = vector
    return doc
