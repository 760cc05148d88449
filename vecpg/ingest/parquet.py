"""Parquet files through pyarrow, one record batch at a time: memory stays bounded however large.

Columns as in the other formats: ``content`` (required), ``id``, ``title``, ``metadata`` (a JSON
string column, or a struct or map column), ``embedding`` (a list of floats) and ``tenant_id``;
other columns are not read at all.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputFileError, MissingDependency
from .records import COLUMNS, Reader, record

# Rows decoded into Python at a time: a few MB even with 384-d embeddings in the file.
BATCH_ROWS = 1024


def _pyarrow() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependency("reading Parquet files needs pyarrow: pip install 'vecpg[parquet]'") from exc
    return pq


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def open_parquet(path: Path, skip: int = 0, metadata_columns: tuple[str, ...] = ()) -> Reader:
    """A reader of a Parquet file from its record ``skip`` on (0: the first).

    Row groups that lie wholly before ``skip`` are not read: resuming costs nothing.
    """
    pq = _pyarrow()
    import pyarrow as pa

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(f"{path}: not a Parquet file ({_first_line(exc)})") from None
    schema = pf.schema_arrow
    if "content" not in schema.names:
        pf.close()
        raise InputFileError(f"{path}: Parquet file has no 'content' column (columns: {', '.join(schema.names) or 'none'})")
    columns = [c for c in COLUMNS + metadata_columns if c in schema.names]
    map_metadata = "metadata" in schema.names and pa.types.is_map(schema.field("metadata").type)

    groups: list[int] = []
    first = 0  # number of records before the first group read
    for i in range(pf.metadata.num_row_groups):
        rows = pf.metadata.row_group(i).num_rows
        if not groups and first + rows <= skip:
            first += rows
        else:
            groups.append(i)
    done = [min(skip, pf.metadata.num_rows)]

    def records() -> Iterator[dict[str, Any]]:
        number = first
        try:
            batches = pf.iter_batches(batch_size=BATCH_ROWS, row_groups=groups, columns=columns) if groups else ()
            for batch in batches:
                for row in batch.to_pylist():
                    number += 1
                    if number <= skip:
                        continue
                    where = f"{path}: record {number}"
                    value = row.get("metadata")
                    if value is not None and not isinstance(value, str):
                        row["metadata"] = _json_value(dict(value) if map_metadata else value, where)
                    done[0] = number
                    yield record(row, where, metadata_columns)
        except pa.ArrowException as exc:
            raise InputFileError(f"{path}: cannot read Parquet data ({_first_line(exc)})") from None
        finally:
            pf.close()

    return Reader(records(), lambda: done[0], pf.metadata.num_rows, "doc", pf.close)


def _json_value(value: Any, where: str) -> Any:
    """A struct or map cell as JSON: timestamps as ISO-8601 text (filters compare those as
    times), decimals as numbers, maps nested inside as objects."""
    if isinstance(value, dict):
        return {str(k): _json_value(v, where) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(item, tuple) and len(item) == 2 for item in value):  # a nested map
            return {str(k): _json_value(v, where) for k, v in value}
        return [_json_value(item, where) for item in value]
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        raise InputFileError(f"{where}: metadata holds binary data, which JSON cannot hold")
    return value
