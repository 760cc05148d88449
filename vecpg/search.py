"""Vector search: typed results, per-call tuning kept inside one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg import sql
from psycopg.types.json import Jsonb

from .documents import check_k
from .filters import compile_filter
from .resources import query

if TYPE_CHECKING:
    from .collection import Collection

OPERATORS = {"cosine": "<=>", "l2": "<->", "ip": "<#>"}


@dataclass(slots=True)
class SearchResult:
    """One hit: the document and how close it is (``score`` is a similarity, None for l2)."""

    id: str
    title: str | None
    content: str
    metadata: dict[str, Any]
    distance: float
    score: float | None


def score_of(distance: float, metric: str) -> float | None:
    """Similarity for a distance: cosine 1 - d, inner product -d; l2 has none."""
    if metric == "cosine":
        return 1.0 - distance
    if metric == "ip":
        return -distance
    return None


def search_options(
    ef_search: int | None = None,
    probes: int | None = None,
    iterative_scan: str | None = None,
    max_scan_tuples: int | None = None,
) -> dict[str, Any]:
    """The options ``vecpg.apply_search_options`` takes, leaving out those not given."""
    given = {"ef_search": ef_search, "probes": probes, "iterative_scan": iterative_scan,
             "max_scan_tuples": max_scan_tuples}
    return {k: v for k, v in given.items() if v is not None}


def search_statement(
    collection: Collection,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: dict[str, Any] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """The k-NN query of ``queries/search.sql`` for a collection, and its parameters."""
    check_k(k)
    where, params = compile_filter(filter)
    resort = bool(options) and options.get("iterative_scan", "off") != "off"  # type: ignore[union-attr]
    key = (where.as_bytes(None), resort)
    statement = collection.statements.get(key)
    if statement is None:
        # Composed once per collection and shape: composing costs as much as a small query's
        # round trip, and the same bytes let psycopg reuse its prepared statement.
        operator = sql.SQL("OPERATOR({}.{})").format(
            sql.Identifier(collection.store.vector_schema), sql.SQL(OPERATORS[collection.distance])
        )
        composed = sql.SQL(query("search")).format(  # type: ignore[arg-type]
            table=collection.table, op=operator, where=where
        )
        if resort:
            # Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
            composed = sql.SQL("SELECT * FROM ({}) AS hits ORDER BY distance").format(composed)
        statement = collection.statements[key] = composed.as_bytes(None)
    params.update(query=vector, k=k)
    return statement, params


def vector_search(
    collection: Collection,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: dict[str, Any] | None = None,
) -> list[SearchResult]:
    """Run the k-NN query on ``collection``, with ``options`` local to its transaction."""
    statement, params = search_statement(collection, vector, k, filter, options)
    with collection.store.connection() as conn:
        if options:
            # One round trip: BEGIN, settings local to this transaction, the query, COMMIT.
            with conn.pipeline(), conn.transaction():
                conn.execute("SELECT vecpg.apply_search_options(%s)", [Jsonb(options)])
                rows = conn.execute(statement, params).fetchall()
        else:
            rows = conn.execute(statement, params).fetchall()
    metric = collection.distance
    return [SearchResult(r[0], r[1], r[2], r[3], r[4], score_of(r[4], metric)) for r in rows]
