"""Search: vector, keyword (BM25) and hybrid; typed results; per-call tuning kept in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg import sql
from psycopg.types.json import Jsonb

from .documents import check_k
from .resources import query

if TYPE_CHECKING:
    from .collection import Collection

OPERATORS = {"cosine": "<=>", "l2": "<->", "ip": "<#>"}


MODES = ("vector", "keyword", "hybrid")


@dataclass(slots=True)
class SearchResult:
    """One hit and why it ranked.

    ``score``: vector mode, the similarity (None for l2, see ``distance``); keyword mode, BM25;
    hybrid mode, the fused score, with each list's rank and score beside it (None when the
    document was not in that list).
    """

    id: str
    title: str | None
    content: str
    metadata: dict[str, Any]
    distance: float | None
    score: float | None
    vector_rank: int | None = None
    vector_score: float | None = None
    keyword_rank: int | None = None
    keyword_score: float | None = None


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
    where, params = collection.store.filters.compile(filter)
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
    options = dict(options or {})
    if filter and "iterative_scan" not in options and collection.store.pgvector_version >= (0, 8):
        # As vecpg.search does: a filter applied after the index scan must not leave fewer than k rows.
        options["iterative_scan"] = "relaxed_order"
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


def keyword_search(
    collection: Collection, text: str, k: int, filter: Any = None, options: dict[str, Any] | None = None
) -> list[SearchResult]:
    """BM25 keyword search through ``vecpg.keyword_search``."""
    check_k(k)
    with collection.store.connection() as conn:
        rows = conn.execute(
            "SELECT id, title, content, metadata, score FROM vecpg.keyword_search(%s, %s, %s, %s, %s)",
            (collection.name, text, k, Jsonb(filter or {}), Jsonb(options or {})),
        ).fetchall()
    return [SearchResult(r[0], r[1], r[2], r[3], None, r[4], keyword_rank=i, keyword_score=r[4])
            for i, r in enumerate(rows, start=1)]


def hybrid_search(
    collection: Collection,
    text: str,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: dict[str, Any] | None = None,
) -> list[SearchResult]:
    """Vector and keyword lists fused in one statement through ``vecpg.hybrid_search``."""
    check_k(k)
    with collection.store.connection() as conn:
        rows = conn.execute(
            "SELECT * FROM vecpg.hybrid_search(%s, %s, %s, %s, %s, %s)",
            (collection.name, text, vector, k, Jsonb(filter or {}), Jsonb(options or {})),
        ).fetchall()
    return [SearchResult(r[0], r[1], r[2], r[3], None, r[4], *r[5:]) for r in rows]
