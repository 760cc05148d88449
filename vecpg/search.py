"""Search: vector, keyword (BM25) and hybrid; typed results; per-call tuning that never leaks."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
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


def json_options(options: dict[str, Any] | None) -> Jsonb:
    """Search options as jsonb for vecpg's SQL functions, which check them and explain.

    JSON has no NaN or infinity, so those are refused here, naming the option.
    """
    for name, value in (options or {}).items():
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidArgument(f"{name} must be a finite number, got {value}")
    return Jsonb(options or {})


def keyword_search(
    collection: Collection, text: str, k: int, filter: Any = None, options: dict[str, Any] | None = None
) -> list[SearchResult]:
    """BM25 keyword search through ``vecpg.keyword_search``."""
    check_k(k)
    with collection.store.connection() as conn:
        rows = conn.execute(
            "SELECT id, title, content, metadata, score FROM vecpg.keyword_search(%s, %s, %s, %s, %s)",
            (collection.name, text, k, Jsonb(filter or {}), json_options(options)),
        ).fetchall()
    return [SearchResult(r[0], r[1], r[2], r[3], None, r[4], keyword_rank=i, keyword_score=r[4])
            for i, r in enumerate(rows, start=1)]


# Hybrid searches that the keyword index can serve, with options that need no checking beyond
# their type and range (anything else goes to vecpg.hybrid_search, which checks and explains).
_FAST_OPTIONS = frozenset({"method", "candidates", "rrf_k", "vector_weight", "keyword_weight", "k1", "b",
                           "ef_search", "iterative_scan", "max_postings", "keyword_index"})
# Quotes, OR and -word ask for web-search semantics (the same test as vecpg.uses_keyword_index).
_WEBSEARCH = re.compile(r'"|\bOR\b|(^|\s)-\w')


def _number(value: Any, lo: float, hi: float = math.inf) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and lo <= value <= hi


def _integer(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and _number(value, lo, hi)


def _fast_parameters(
    collection: Collection, text: str, vector: np.ndarray, k: int, filter: Any, options: dict[str, Any]
) -> tuple[Any, ...] | None:
    """The arguments of the collection's keyword-index search function for this search, or None
    when it must take the general path (a filter, web-search syntax, other options)."""
    if filter or not set(options) <= _FAST_OPTIONS or options.get("keyword_index", True) is not True:
        return None
    if _WEBSEARCH.search(text):
        return None
    method = options.get("method", "adaptive")
    candidates = options.get("candidates", min(4 * k, 1000))
    rrf_k = options.get("rrf_k", 60)
    weights = (options.get("vector_weight", 0.7 if method == "convex" else 1),
               options.get("keyword_weight", 0.3 if method == "convex" else 1))
    k1, b = options.get("k1", 0.9), options.get("b", 0.4)
    max_postings = options.get("max_postings", 800)
    ef_search = options.get("ef_search", candidates)
    scan = options.get("iterative_scan")
    if scan is None and collection.store.current_tenant is not None and collection.store.pgvector_version >= (0, 8):
        scan = "relaxed_order"  # row-level security filters the vector list, as a filter would
    plain = (method in ("adaptive", "rrf", "convex") and _integer(candidates, k, 1000) and _number(rrf_k, 1e-300)
             and all(_number(w, 0) for w in weights) and _number(k1, 0) and _number(b, 0, 1)
             and _integer(max_postings, 1, 1000000) and _integer(ef_search, 1, 1000) and scan in (None, *_SCANS))
    if not plain:
        return None
    return (text, vector, candidates, method, float(weights[0]), float(weights[1]), float(rrf_k), k,
            max_postings, float(k1), float(b), ef_search, scan)


def hybrid_search(
    collection: Collection,
    text: str,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: dict[str, Any] | None = None,
) -> list[SearchResult]:
    """Vector and keyword lists fused in one statement.

    With a keyword index, a search it can serve calls the collection's own search function
    (``vecpg_postings.<collection>``, planned once per session) directly; otherwise
    ``vecpg.hybrid_search``, which checks every option and writes its statement for each query.
    """
    check_k(k)
    options = options or {}
    arguments = _fast_parameters(collection, text, vector, k, filter, options)
    rows = None
    if arguments is not None and collection.keyword_index_cached():
        try:
            with collection.store.connection() as conn:
                rows = conn.execute(collection.hybrid_call, arguments).fetchall()
        except psycopg.errors.UndefinedFunction:
            collection.forget_keyword_index()  # another client dropped it
    if rows is None:
        with collection.store.connection() as conn:
            rows = conn.execute(
                "SELECT * FROM vecpg.hybrid_search(%s, %s, %s, %s, %s, %s)",
                (collection.name, text, vector, k, Jsonb(filter or {}), json_options(options)),
            ).fetchall()
    return [SearchResult(r[0], r[1], r[2], r[3], None, r[4], *r[5:]) for r in rows]
