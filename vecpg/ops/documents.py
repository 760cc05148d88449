"""Reading and writing documents by id and filter: one operation per call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from psycopg import sql

from ..documents import Document, Row
from ..filters import FilterCompiler
from ..resources import composed as q
from .statement import Result, Statement, Steps, affected, number, scalar


def embedding_array(value: Any) -> np.ndarray | None:
    # pgvector-python (>= 0.5) returns its own Vector and HalfVector types: users want numpy.
    return None if value is None else np.asarray(value.to_numpy(), dtype=np.float32)


def get(filters: FilterCompiler, table: sql.Identifier, ids: list[str]) -> Steps[list[Document]]:
    """Documents with these ids, in the order asked (missing and expired ids are left out)."""
    live, _ = yield from filters.compile(None)

    def documents(result: Result) -> list[Document]:
        by_id = {r[0]: Document(id=r[0], title=r[1], content=r[2], metadata=r[3], embedding=embedding_array(r[4]),
                                tenant_id=r[5], created_at=r[6], updated_at=r[7], expires_at=r[8])
                 for r in result.rows}
        return [by_id[i] for i in ids if i in by_id]

    return (yield Statement(q("get", table=table, where=live), {"ids": ids}, documents))


def count(filters: FilterCompiler, table: sql.Identifier, filter: Any) -> Steps[int]:
    where, params = yield from filters.compile(filter)
    return (yield Statement(q("count", table=table, where=where), params, number))


def delete(filters: FilterCompiler, table: sql.Identifier, ids: Sequence[str] | None, filter: Any) -> Steps[int]:
    """Delete the documents with these ids, matching the filter, or both (expired ones too)."""
    where, params = yield from filters.compile(filter, live=False)
    parts = [where]
    if ids is not None:
        parts.append(sql.SQL("AND id = ANY(%(ids)s)"))
        params["ids"] = list(ids)
    return (yield Statement(q("delete", table=table, where=sql.SQL(" ").join(parts)), params, affected))


def upsert(table: sql.Identifier, vector_schema: str, rows: Sequence[Row],
           key: sql.Composable) -> Statement[Any]:
    """Insert or replace a batch of checked rows in one statement (the last row of an id wins:
    ids are unique across tenants, partitioned collections too). ``key``: what ON CONFLICT names."""
    unique = list({r.id: r for r in rows}.values())
    vector_type = sql.SQL("{}.vector").format(sql.Identifier(vector_schema))
    return Statement(q("upsert", table=table, vector=vector_type, key=key), row_arrays(unique))


def row_arrays(rows: Sequence[Row]) -> dict[str, list[Any]]:
    """Checked rows as the column arrays upsert.sql and insert_documents.sql unnest."""
    return {"ids": [r.id for r in rows], "titles": [r.title for r in rows], "contents": [r.content for r in rows],
            "embeddings": [r.embedding for r in rows], "metadata": [r.metadata for r in rows],
            "tenants": [r.tenant_id for r in rows], "expires": [r.expires_at for r in rows]}


def text_sample(table: sql.Identifier, sample: int) -> Steps[list[str]]:
    """The texts of about ``sample`` documents, read from a block sample of the table."""
    estimate = yield Statement("SELECT greatest(reltuples, 1) FROM pg_class WHERE oid = %s::regclass",
                               (table.as_string(None),), lambda result: float(scalar(result) or 1.0))
    percent = min(100.0, 100.0 * 3 * sample / estimate)
    return (yield Statement(q("text_sample", table=table), {"percent": percent, "n": sample},
                            lambda result: [row[0] for row in result.rows]))
