"""Documents as records, for the framework adapters' stores: list by filter, insert without
replacing, merge metadata, and what the metadata holds. One statement each, so each is atomic
even on an autocommit connection (a store outside any tenant)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ..documents import Document, Row
from ..filters import FilterCompiler
from ..resources import composed as q
from .documents import embedding_array, row_arrays
from .statement import Result, Statement, Steps, affected


def _conflict(conflict: str, key: sql.Composable) -> sql.Composable:
    """What insert does with an id that exists: fail the whole statement, or skip the row."""
    return sql.SQL("") if conflict == "fail" else sql.SQL("ON CONFLICT ({}) DO NOTHING").format(key)


def _documents(result: Result) -> list[Document]:
    return [Document(id=r[0], title=r[1], content=r[2], metadata=r[3], embedding=embedding_array(r[4]),
                     tenant_id=r[5], created_at=r[6], updated_at=r[7], expires_at=r[8]) for r in result.rows]


def select(filters: FilterCompiler, table: sql.Identifier, filter: Any) -> Steps[list[Document]]:
    """Every document matching the filter (all of them for none), in id order."""
    where, params = yield from filters.compile(filter)
    return (yield Statement(q("select_documents", table=table, where=where), params, _documents))


def insert(table: sql.Identifier, vector_schema: str, rows: Sequence[Row], conflict: str,
           key: sql.Composable) -> Statement[int]:
    """Insert checked rows; ``conflict``: ``fail`` (an existing or repeated id fails the statement
    with psycopg's UniqueViolation, nothing written) or ``skip`` (such rows are left out).
    ``key``: the collection's unique key (``CollectionInfo.key``). Its value: the rows written."""
    vector_type = sql.SQL("{}.vector").format(sql.Identifier(vector_schema))
    return Statement(q("insert_documents", table=table, vector=vector_type, conflict=_conflict(conflict, key)),
                     row_arrays(rows), affected)


def update_metadata(filters: FilterCompiler, table: sql.Identifier, filter: Any, patch: dict[str, Any]) -> Steps[int]:
    """Merge ``patch``'s keys into the metadata of the documents matching the filter; their count."""
    where, params = yield from filters.compile(filter)
    params["patch"] = Jsonb(patch)
    return (yield Statement(q("update_metadata", table=table, where=where), params, affected))


def metadata_keys(filters: FilterCompiler, table: sql.Identifier, filter: Any) -> Steps[dict[str, list[str]]]:
    """The top-level metadata keys of the matching documents, each with the JSON types of its values."""
    where, params = yield from filters.compile(filter)
    return (yield Statement(q("metadata_keys", table=table, where=where), params,
                            lambda result: {r[0]: list(r[1]) for r in result.rows}))


def metadata_values(filters: FilterCompiler, table: sql.Identifier, path: Sequence[str], filter: Any = None, *,
                    term: str | None = None, offset: int = 0, limit: int | None = None) -> Steps[tuple[list[Any], int]]:
    """The distinct values at a metadata ``path`` (a value of another JSON type is another value:
    1, 1.0, "1" and true are four), in value order, ``offset`` and ``limit`` applied, and how
    many there are in all. ``term``: only the values whose text contains it, in any case."""
    where, params = yield from filters.compile(filter)
    params.update(path=list(path), term=term, offset=offset, limit=limit)

    def values(result: Result) -> tuple[list[Any], int]:
        return [json.loads(r[0]) for r in result.rows], (int(result.rows[0][1]) if result.rows else 0)

    listed = yield Statement(q("metadata_values", table=table, where=where), params, values)
    if listed[0] or not offset:
        return listed
    # A page beyond the last value has no row to carry the total: count them on their own.
    params.update(offset=0, limit=None)
    everything = yield Statement(q("metadata_values", table=table, where=where), params, values)
    return [], everything[1]


def metadata_range(filters: FilterCompiler, table: sql.Identifier, path: Sequence[str],
                   filter: Any = None) -> Steps[tuple[Any, Any]]:
    """The smallest and largest value at a metadata ``path``: numbers when there are any, else
    strings; (None, None) when no document has one."""
    where, params = yield from filters.compile(filter)
    params["path"] = list(path)
    return (yield Statement(q("metadata_range", table=table, where=where), params,
                            lambda result: (result.rows[0][0], result.rows[0][1])))
