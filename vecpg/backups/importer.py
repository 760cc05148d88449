"""Import: an export read back into a collection, created from the export's header when missing
(an existing one must have the same dimension, distance, storage, model and language). Rows go
through the COPY engine (ops/bulk.py) with their own timestamps, in one transaction on the
store's admin connection: all or nothing, every tenant's rows. Rows with a vector keep it and are
not queued; rows without one are queued for the workers as any write is."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pgvector.psycopg import register_vector

from ..documents import prepare
from ..errors import CollectionNotFound, InputFileError, InvalidArgument
from ..metrics import rows_written
from ..ops.bulk import BulkTarget, Written, copy_merge, progress_bar
from ..storage import check_storage
from .header import Header, ImportResult, format_of
from .parquet import read_parquet
from .vectors import decimals_of, exact_float32

if TYPE_CHECKING:
    from ..collection import Collection
    from ..store import Store

BATCH_ROWS = 1000


def import_collection(store: Store, name: str, source: str | Path, format: str | None = None,
                      progress: bool = False, batch_rows: int = BATCH_ROWS) -> ImportResult:
    """Import the export at ``source`` (a path, or "-" for JSONL on stdin) into collection ``name``."""
    path = None if source == "-" else Path(source)
    if path is not None and not path.is_file():
        raise InputFileError(f"{path} does not exist or is not a file")
    with ExitStack() as stack:
        if format_of(path, format) == "parquet":
            if path is None:
                raise InvalidArgument("a Parquet export is read from a file, not stdin")
            header, records = read_parquet(path, batch_rows)
        else:
            lines = stack.enter_context(_open_lines(path))
            header, records = _read_jsonl(lines, str(path or "stdin"), batch_rows)
        coll, created = _target(store, name, header)
        try:
            rows = _load(coll, records, header, progress)
        except BaseException:
            if created:
                store.drop_collection(name, missing_ok=True)
            raise
    if header.keyword_index and not coll.has_keyword_index():
        coll.enable_keyword_index()  # built once over the rows: faster than kept up row by row
    return ImportResult(name, rows, created)


def _target(store: Store, name: str, header: Header) -> tuple[Collection, bool]:
    """The collection to import into, created from the header when there is none."""
    check_storage(header.storage)
    try:
        coll = store.collection(name)
    except CollectionNotFound:
        coll = store.create_collection(name, header.dimension, header.distance, header.model, header.language,
                                       header.schema, embedder=header.embedder, storage=header.storage)
        if header.chunk_tokens is not None:
            coll.enable_chunking(header.chunk_tokens, header.chunk_overlap)
        return coll, True
    info = coll.info
    existing = Header(info.name, info.dimension, info.distance, info.model, info.language, info.storage)
    differences = header.differences(existing)
    if differences:
        raise InvalidArgument(f"cannot import into collection {name!r}: the export was made from a collection with "
                              f"{'; '.join(differences)}: import into a new collection name instead")
    return coll, False


def _load(coll: Collection, records: Iterator[list[dict[str, Any]]], header: Header, progress: bool) -> int:
    imported_at = datetime.now(timezone.utc)  # for rows that bring no timestamps (a file written by hand)
    largest = check_storage(coll.storage).largest

    def batches() -> Iterator[list[Written]]:
        first = 0
        for batch in records:
            rows = prepare(batch, coll.dimension, None, first_row=first, queue=True, largest=largest)
            yield [(*row, _stamp(record.get("created_at"), imported_at), _stamp(record.get("updated_at"), imported_at))
                   for row, record in zip(rows, batch)]
            first += len(batch)

    with coll.store.admin_connection() as conn:
        register_vector(conn)
        bypasses = conn.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
        target = BulkTarget(coll.table, coll.storage, coll.store.vector_schema, direct=bool(bypasses and bypasses[0]),
                            timestamps=True, key=coll.info.key)
        with progress_bar(batches(), progress, header.rows, f"importing {coll.name}") as counted:
            written = copy_merge(conn, target, counted)  # type: ignore[arg-type]
    rows_written(coll.name, "import", written)
    return written


def _integer(text: str) -> int | float:
    # pgvector writes negative zero as -0, which Python would read as the integer 0.
    return -0.0 if text == "-0" else int(text)


def _stamp(value: Any, default: datetime) -> datetime:
    if value is None:
        return default
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputFileError(f"invalid timestamp {value!r}: expected ISO 8601, as an export writes it") from None


def _open_lines(path: Path | None) -> Any:
    if path is None:
        return _nothing_to_close(sys.stdin.buffer)
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if compressed else path.open("rb")


class _nothing_to_close:
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def __enter__(self) -> IO[bytes]:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        pass


def _read_jsonl(lines: IO[bytes], source: str, batch_rows: int) -> tuple[Header, Iterator[list[dict[str, Any]]]]:
    header = Header.from_json(lines.readline(), source)

    def batches() -> Iterator[list[dict[str, Any]]]:
        number = 1
        while chunk := list(islice(lines, batch_rows)):
            records = []
            for line in chunk:
                number += 1
                if line.strip():
                    records.append(_record(line, source, number))
            yield records

    return header, batches()


def _record(line: bytes, source: str, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line, parse_int=_integer)
    except ValueError as exc:
        raise InputFileError(f"{source}, line {number}: not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise InputFileError(f"{source}, line {number}: expected a JSON object")
    vector = record.get("embedding")
    if isinstance(vector, list):
        try:
            record["embedding"] = exact_float32(vector, lambda: decimals_of(line, "embedding"))
        except (TypeError, ValueError):
            pass  # not numbers: the row's check (vecpg.documents.prepare) says what is wrong
    return record
