"""What an export says about its collection: the settings a new collection needs to hold the rows
as they were, written before them (JSONL's first record, Parquet's file metadata)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..errors import InputFileError, InvalidArgument

FORMAT_VERSION = 1
# The JSONL header's key (a row never has it) and the Parquet file metadata's.
KEY = "vecpg_export"
FORMATS = ("jsonl", "parquet")


@dataclass(frozen=True)
class Header:
    """The collection's settings, and the rows the export counted when it began."""

    name: str
    dimension: int
    distance: str
    model: str | None
    language: str
    storage: str
    schema: str = "vecpg_data"
    embedder: str | None = None
    chunk_tokens: int | None = None
    chunk_overlap: int | None = None
    keyword_index: bool = False
    rows: int | None = None

    def to_json(self) -> str:
        return json.dumps({KEY: FORMAT_VERSION, "collection": asdict(self)})

    @classmethod
    def from_json(cls, text: str | bytes, source: str) -> Header:
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if not isinstance(record, dict) or KEY not in record:
            raise InputFileError(f"{source} is not a vecpg export: it does not begin with the collection's settings "
                                 f"(a record with {KEY!r}); `vecpg collection export` writes them")
        if record[KEY] != FORMAT_VERSION:
            raise InputFileError(f"{source} is a vecpg export of format {record[KEY]}; this vecpg reads format "
                                 f"{FORMAT_VERSION}")
        known = {f.name for f in fields(cls)}
        settings = record.get("collection") or {}
        try:
            return cls(**{k: v for k, v in settings.items() if k in known})
        except TypeError as exc:
            raise InputFileError(f"{source}: the collection's settings are incomplete: {exc}") from None

    def differences(self, other: Header) -> list[str]:
        """The settings that keep rows of this export out of collection ``other``."""
        return [f"{name} {getattr(self, name)!r} (the collection has {getattr(other, name)!r})"
                for name in ("dimension", "distance", "storage", "model", "language")
                if getattr(self, name) != getattr(other, name)]


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the rows written, and whether it created the collection."""

    collection: str
    rows: int
    created: bool


def format_of(path: Path | None, given: str | None) -> str:
    """jsonl or parquet: ``given``, else by the file's extension (.parquet, .pq; anything else,
    .jsonl and .jsonl.gz among them, is JSONL)."""
    if given is not None:
        if given not in FORMATS:
            raise InvalidArgument(f"invalid format {given!r}: use {' or '.join(FORMATS)}")
        return given
    if path is not None and path.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    return "jsonl"


def is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"
