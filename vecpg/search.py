"""Search: vector, keyword (BM25) and hybrid; typed results; per-call tuning that never leaks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg import sql
from psycopg.types.json import Jsonb

from .documents import check_k
from .errors import InvalidArgument
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
    document was not in that list); the vector list's score is the similarity, -distance for l2.
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


_SETTINGS = {  # option: (setting, lowest, highest); the same bounds as vecpg.apply_search_options
    "ef_search": ("hnsw.ef_search", 1, 1000),
    "probes": ("ivfflat.probes", 1, 32768),
    "max_scan_tuples": ("hnsw.max_scan_tuples", 1, 2**31 - 1),
}
_SCANS = ("off", "relaxed_order", "strict_order")
# pgvector's default hnsw.ef_search. An HNSW scan returns at most ef_search rows, so a larger k
# raises it for the call (never lowering a higher server setting).
DEFAULT_EF_SEARCH = 40


def search_options(
    ef_search: int | None = None,
    probes: int | None = None,
    iterative_scan: str | None = None,
    max_scan_tuples: int | None = None,
) -> dict[str, Any]:
    """Checked per-call tuning options, leaving out those not given."""
    given = {"ef_search": ef_search, "probes": probes, "max_scan_tuples": max_scan_tuples}
    options: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        _, lo, hi = _SETTINGS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise InvalidArgument(f"{name} must be an integer between {lo} and {hi}, got {value!r}")
        options[name] = value
    if iterative_scan is not None:
        if iterative_scan not in _SCANS:
            raise InvalidArgument(f"iterative_scan must be one of {', '.join(_SCANS)}, got {iterative_scan!r}")
        options["iterative_scan"] = iterative_scan
    return options


def _settings(options: dict[str, Any]) -> tuple[sql.Composable, dict[str, str]]:
    """``concat(set_config(..., true), ...)`` for the options, and its parameters."""
    calls: list[sql.Composable] = []
    params: dict[str, str] = {}
    for name in sorted(options):
        value = options[name]
        if name == "ef_search_floor":
            calls.append(sql.SQL(
                "set_config('hnsw.ef_search', greatest(coalesce(nullif(current_setting('hnsw.ef_search', true), '')::int, 0),"
                " {}::int)::text, true)").format(sql.Placeholder("ef_search_floor")))
            params["ef_search_floor"] = str(value)
            continue
        if name == "iterative_scan":
            # IVFFlat has no strict order; relaxed is its closest match.
            pairs = [("hnsw.iterative_scan", value), ("ivfflat.iterative_scan", "off" if value == "off" else "relaxed_order")]
        else:
            pairs = [(_SETTINGS[name][0], str(value))]
        for setting, text in pairs:
            key = "set_" + setting.replace(".", "_")
            calls.append(sql.SQL("set_config({}, {}, true)").format(sql.Literal(setting), sql.Placeholder(key)))
            params[key] = text
    return sql.SQL("concat({})").format(sql.SQL(", ").join(calls)), params


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
    options = options or {}
    resort = options.get("iterative_scan", "off") != "off"
    key = (where.as_bytes(None) if params else b"", tuple(sorted(options)), k)
    statement = collection.statements.get(key)
    if statement is None:
        # Composed once per collection and shape: composing costs as much as a small query's
        # round trip, and the same bytes let psycopg reuse its prepared statement.
        operator = sql.SQL("OPERATOR({}.{})").format(
            sql.Identifier(collection.store.vector_schema), sql.SQL(OPERATORS[collection.distance])
        )
        if options:
            # Tuning rides in the same statement: the settings row is computed first (the search
            # refers to it) and set_config(..., true) ends with the statement's transaction, so a
            # pooled connection never carries it on. One round trip, no BEGIN/COMMIT.
            settings, _ = _settings(options)
            gated = sql.SQL("{} AND vecpg_settings.applied IS NOT NULL").format(where)
            inner = sql.SQL(query("search")).format(  # type: ignore[arg-type]
                table=collection.table, op=operator, where=gated, k=sql.Literal(k))
            composed = sql.SQL(query("search_tuned")).format(  # type: ignore[arg-type]
                settings=settings, search=inner,
                # Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
                order=sql.SQL("ORDER BY hits.distance" if resort else ""),
            )
        else:
            composed = sql.SQL(query("search")).format(  # type: ignore[arg-type]
                table=collection.table, op=operator, where=where, k=sql.Literal(k))
        if len(collection.statements) >= 1024:  # many shapes: start over rather than grow forever
            collection.statements.clear()
        statement = collection.statements[key] = composed.as_bytes(None)
    if options:
        params.update(_settings(options)[1])
    params["query"] = vector
    return statement, params


def vector_search(
    collection: Collection,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: dict[str, Any] | None = None,
) -> list[SearchResult]:
    """Run the k-NN query on ``collection``; ``options`` apply to this statement only."""
    options = dict(options or {})
    filtered = bool(filter) or collection.store.current_tenant is not None  # row-level security filters too
    if filtered and "iterative_scan" not in options and collection.store.pgvector_version >= (0, 8):
        # As vecpg.search does: a filter applied after the index scan must not leave fewer than k rows.
        options["iterative_scan"] = "relaxed_order"
    if "ef_search" not in options and k > DEFAULT_EF_SEARCH:
        options["ef_search_floor"] = k
    statement, params = search_statement(collection, vector, k, filter, options)
    with collection.store.connection() as conn:
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
