"""The bulk-write engine: one binary COPY for a whole load, merged by id.

Loads stream rows from a generator of any length through ``cursor.copy``, a protocol of its
own, so this engine works on a connection rather than through the runner's statements.

Into an empty table (locked against other writers for the load) rows are copied straight in,
at raw COPY speed; an id repeated within the load is set aside and merged at the end. Into a
table with rows, everything is copied into a temporary staging table and merged with one
INSERT ... ON CONFLICT DO UPDATE. Either way the last occurrence of an id wins.

A load may bring each row's created_at and updated_at (an import, ``BulkTarget.timestamps``): its
rows are then ``Row`` tuples with the two timestamps after them, written as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from ..documents import Row, prepare
from ..resources import composed as q
from ..storage import register_halfvec_copy

# Up to this many rows an upsert is one INSERT ... SELECT FROM unnest(arrays) ON CONFLICT; above
# it, it goes through this engine.
COPY_THRESHOLD = 500
_ROW_TYPES = ["text", "text", "text", "vector", "jsonb", "text", "timestamptz"]  # a Row's (vectors cast on merge)
_TIMESTAMP_TYPES = ["timestamptz", "timestamptz"]
# A row as the engine writes it: a Row, or a Row followed by created_at and updated_at.
Written = tuple[Any, ...]
W = TypeVar("W", bound=Written)


@dataclass(frozen=True)
class BulkTarget:
    """Where a load writes and what decides its path.

    ``direct``: whether it may COPY straight into the table when the table is empty. A tenant
    sees only its rows, so "empty" would only mean empty for it, and the lock would stall every
    other tenant's writers: tenants always take the merge path. So does every role that
    row-level security binds (vecpg_app on the embedded server): PostgreSQL refuses COPY FROM
    into a table whose policies apply to the copier.
    """

    table: sql.Identifier
    storage: str
    vector_schema: str
    direct: bool
    # Rows bring created_at and updated_at, written as they are (an import): the load's
    # transaction must set vecpg.keep_updated_at (keep_timestamps) for rows it updates.
    timestamps: bool = False
    key: sql.Composable = field(default_factory=lambda: sql.SQL("id"))  # the collection's unique key (CollectionInfo.key)

    @property
    def row_types(self) -> list[str]:
        return _ROW_TYPES + _TIMESTAMP_TYPES if self.timestamps else _ROW_TYPES

    @property
    def direct_types(self) -> list[str]:
        # A COPY straight into the table casts nothing: rows go in the column's own type.
        return [self.storage if t == "vector" else t for t in self.row_types]

    def placeholders(self) -> dict[str, sql.Composable]:
        """What the timestamps add to copy_direct, copy_staging and merge_staging."""
        if not self.timestamps:
            return {"timestamps": sql.SQL(""), "kept": sql.SQL("")}
        return {"timestamps": sql.SQL(", created_at, updated_at"),
                "kept": sql.SQL(", created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at")}


def keep_timestamps(conn: psycopg.Connection) -> None:
    """Tell vecpg.touch_updated_at to keep the updated_at a row is written with, until the
    transaction ends (an import restores it as exported)."""
    conn.execute("SELECT set_config('vecpg.keep_updated_at', 'on', true)")


def prepared(documents: Iterable[Any], batch_size: int, dimension: int, embed: Any, *, first_row: int,
             queue: bool, tenant: str | None, largest: float | None) -> Iterator[list[Row]]:
    """The documents checked and embedded ``batch_size`` at a time (vecpg.documents.prepare),
    numbered from ``first_row`` for error messages. Small batches keep the server busy inserting
    one while Python checks the next (measured: 256 loads about 1.3x faster than 5,000)."""
    it = iter(documents)
    first = first_row
    while chunk := list(islice(it, batch_size)):
        yield prepare(chunk, dimension, embed, first_row=first, tenant=tenant, queue=queue, largest=largest)
        first += len(chunk)


@contextmanager
def progress_bar(batches: Iterator[Sequence[W]], enabled: bool, total: int | None,
                 label: str) -> Iterator[Iterator[Sequence[W]]]:
    """The batches, counted on a bar (on stderr) as they are written when ``enabled``."""
    if not enabled:
        yield batches
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="doc", desc=label) as bar:
        def counted() -> Iterator[Sequence[W]]:
            for rows in batches:
                yield rows
                bar.update(len(rows))

        yield counted()


def copy_merge(conn: psycopg.Connection, target: BulkTarget, batches: Iterable[Sequence[Written]]) -> int:
    """Write every batch in one transaction; returns the number of distinct ids."""
    seen: set[str] = set()
    repeated: list[Written] = []
    with conn.transaction(), conn.cursor() as cur:
        if target.timestamps:
            keep_timestamps(conn)
        if target.direct and _lock_if_empty(conn, target.table):
            if target.storage == "halfvec":
                register_halfvec_copy(cur)
            with cur.copy(q("copy_direct", table=target.table, timestamps=target.placeholders()["timestamps"])) as copy:
                copy.set_types(target.direct_types)
                for rows in batches:
                    for row in rows:
                        if row[0] in seen:
                            repeated.append(row)
                        else:
                            seen.add(row[0])
                            copy.write_row(row)
            if repeated:
                _stage_and_merge(cur, target, [repeated])
        else:
            def remember(rows: Sequence[Written]) -> Sequence[Written]:
                seen.update(row[0] for row in rows)
                return rows

            _stage_and_merge(cur, target, (remember(rows) for rows in batches))
    return len(seen)


def _stage_and_merge(cur: Any, target: BulkTarget, batches: Iterable[Sequence[Written]]) -> None:
    vector_type = sql.SQL("{}.vector").format(sql.Identifier(target.vector_schema))
    cur.execute(q("create_staging", vector=vector_type))
    placeholders = target.placeholders()
    ids: set[str] = set()
    repeats = False
    ordinal = 0
    with cur.copy(q("copy_staging", timestamps=placeholders["timestamps"])) as copy:
        copy.set_types(["int8", *target.row_types])
        for rows in batches:
            for row in rows:
                copy.write_row((ordinal, *row))
                ordinal += 1
                repeats = repeats or row[0] in ids
                ids.add(row[0])
    # DISTINCT ON needs a sort: only pay for it when the load repeated an id.
    distinct = sql.SQL("DISTINCT ON (id)" if repeats else "")  # ids are unique across tenants
    order = sql.SQL("ORDER BY id, ord DESC" if repeats else "")
    cur.execute(q("merge_staging", table=target.table, distinct=distinct, order=order, key=target.key, **placeholders))


def _lock_if_empty(conn: psycopg.Connection, table: sql.Identifier) -> bool:
    """True, holding a lock that keeps other writers out, when the table has no rows."""
    probe = q("is_empty", table=table)
    if not conn.execute(probe).fetchone()[0]:  # type: ignore[index]
        return False
    conn.execute(q("lock_for_load", table=table))
    return bool(conn.execute(probe).fetchone()[0])  # type: ignore[index]  # another writer may have come first
