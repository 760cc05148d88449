"""Exports in Parquet: float32 vectors as a list column (what ``vecpg ingest`` reads too),
metadata as JSON text, timestamps in microseconds (PostgreSQL's own precision), and the header
in the file's metadata under ``vecpg_export``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import numpy as np

from ..errors import InputFileError, MissingDependency
from .header import KEY, Header


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependency("Parquet exports need pyarrow: pip install 'vecpg[parquet]'") from exc
    return pa, pq


def _schema(pa: Any, header: Header) -> Any:
    stamp = pa.timestamp("us", tz="UTC")
    return pa.schema([("id", pa.string()), ("title", pa.string()), ("content", pa.string()),
                      ("metadata", pa.string()), ("embedding", pa.list_(pa.float32())), ("tenant_id", pa.string()),
                      ("created_at", stamp), ("updated_at", stamp), ("expires_at", stamp)],
                     metadata={KEY: header.to_json()})


@contextmanager
def parquet_sink(out: IO[bytes], header: Header, dimension: int) -> Iterator[ParquetSink]:
    """A sink for the export's batches, whose footer is written when the block ends."""
    pa, pq = _pyarrow()
    schema = _schema(pa, header)
    writer = pq.ParquetWriter(out, schema, compression="zstd")
    try:
        yield ParquetSink(pa, schema, dimension, writer)
    finally:
        writer.close()


class ParquetSink:
    """Writes batches of exported rows as row groups."""

    def __init__(self, pa: Any, schema: Any, dimension: int, writer: Any) -> None:
        self._pa, self._schema, self._dimension, self._writer = pa, schema, dimension, writer

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        pa = self._pa
        ids, titles, contents, metadata, vectors, tenants, created, updated, expires = zip(*rows)
        present = [v is not None for v in vectors]
        flat = (np.concatenate([v.to_numpy() for v in vectors if v is not None])  # pgvector's Vector
                if any(present) else np.empty(0, dtype=np.float32))
        offsets = np.zeros(len(rows) + 1, dtype=np.int32)
        offsets[1:] = np.cumsum([self._dimension if p else 0 for p in present])
        embedding = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, type=pa.float32()),
                                             mask=pa.array([not p for p in present]))
        columns = [pa.array(ids, pa.string()), pa.array(titles, pa.string()), pa.array(contents, pa.string()),
                   pa.array(metadata, pa.string()), embedding, pa.array(tenants, pa.string()),
                   pa.array(created, self._schema.field("created_at").type),
                   pa.array(updated, self._schema.field("updated_at").type),
                   pa.array(expires, self._schema.field("expires_at").type)]
        self._writer.write_batch(pa.record_batch(columns, schema=self._schema))


def read_parquet(path: Any, batch_rows: int) -> tuple[Header, Iterator[list[dict[str, Any]]]]:
    """The header of an exported Parquet file, and its rows as records, a batch at a time."""
    pa, pq = _pyarrow()
    try:
        file = pq.ParquetFile(path)
    except (OSError, ValueError, pa.ArrowException) as exc:  # not Parquet, truncated...
        raise InputFileError(f"{path} is not a readable Parquet file: {exc}") from None
    stored = (file.schema_arrow.metadata or {}).get(KEY.encode())
    header = Header.from_json(stored or b"", str(path))

    def batches() -> Iterator[list[dict[str, Any]]]:
        for batch in file.iter_batches(batch_size=batch_rows):
            columns = {name: batch.column(name) for name in batch.schema.names}
            embeddings = columns.pop("embedding")
            metadata = columns.pop("metadata")
            records = batch.select(list(columns)).to_pylist()
            flat = embeddings.values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
            offsets = embeddings.offsets.to_numpy()
            valid = embeddings.is_valid().to_numpy(zero_copy_only=False)
            for i, (record, meta) in enumerate(zip(records, metadata.to_pylist())):
                record["metadata"] = json.loads(meta) if meta is not None else {}
                record["embedding"] = flat[offsets[i]:offsets[i + 1]] if valid[i] else None
            yield records

    return header, batches()
