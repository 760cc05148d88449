"""Vector search: the k-NN statement of ``queries/search.sql``; its pgvector settings go to the
connection's session (vecpg/ops/session.py), or into the statement when it must stand alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from psycopg import sql

from ..documents import check_k
from ..ops.statement import Operation, Result, Statement, Steps
from ..resources import composed
from .options import Options, VectorOptions, options_for, spec_of
from .results import SearchResult
from .target import SearchTarget

OPERATORS = {"cosine": "<=>", "l2": "<->", "ip": "<#>"}
QUERY = sql.SQL("%(query)s")  # the query vector of one search, a parameter
# The document fields a search may return besides id and distance, and their SQL types.
_FIELD_TYPES = {"title": "text", "content": "text", "metadata": "jsonb"}
FIELDS: tuple[str, ...] = tuple(_FIELD_TYPES)
# pgvector's default hnsw.ef_search. An HNSW scan returns at most ef_search rows, so a larger k
# raises it for the call (never lowering a higher server setting).
DEFAULT_EF_SEARCH: int = spec_of(VectorOptions, "ef_search").default
DEFAULT_RERANK: int = spec_of(VectorOptions, "rerank").default
MAX_EF_SEARCH: int = spec_of(VectorOptions, "ef_search").hi  # type: ignore[assignment]


def scan_rows(collection: SearchTarget, rows: int, settings: Mapping[str, Any]) -> int:
    """Rows the index scan of a search for ``rows`` results reads: binary codes are over-fetched
    by the re-rank factor (vecpg.scan_rows)."""
    return rows * int(settings.get("rerank", DEFAULT_RERANK)) if collection.quantization == "binary" else rows


def search_settings(collection: SearchTarget, given: Mapping[str, Any], rows: int) -> dict[str, Any]:
    """The options of a search for ``rows`` results (vecpg.search_options): the collection's
    search defaults (what tuning chose) under the call's own. A default ef_search is raised to the
    rows the scan must return, since an HNSW scan returns at most ef_search rows and tuning
    measured at one k while a call may ask for more; a call's own ef_search is taken as given."""
    settings = {**collection.search_defaults, **given}
    if "ef_search" in settings and "ef_search" not in given:
        settings["ef_search"] = max(int(settings["ef_search"]), min(scan_rows(collection, rows, settings), MAX_EF_SEARCH))
    return settings


def pgvector_settings(settings: Mapping[str, Any]) -> dict[str, str]:
    """pgvector's settings (name: text) for search options; ``rerank`` shapes the statement instead."""
    out: dict[str, str] = {}
    for name, value in settings.items():
        if name == "iterative_scan":
            out["hnsw.iterative_scan"] = value
            # IVFFlat has no strict order; relaxed is its closest match.
            out["ivfflat.iterative_scan"] = "off" if value == "off" else "relaxed_order"
        elif name in VectorOptions.SETTINGS:
            out[VectorOptions.SETTINGS[name]] = str(value)
        elif name == "plan_cache_mode":
            out[name] = value
    return out


def _set_config(wanted: Mapping[str, str]) -> tuple[sql.Composable, dict[str, str]]:
    """``concat(set_config(..., true), ...)`` for the settings, and its parameters."""
    calls: list[sql.Composable] = []
    params: dict[str, str] = {}
    for setting in sorted(wanted):
        key = "set_" + setting.replace(".", "_")
        calls.append(sql.SQL("set_config({}, {}, true)").format(sql.Literal(setting), sql.Placeholder(key)))
        params[key] = wanted[setting]
    return sql.SQL("concat({})").format(sql.SQL(", ").join(calls)), params


def _columns(include: tuple[str, ...], vectors: bool) -> sql.Composable:
    """The document columns a search returns: those asked for, NULL in place of the others (the
    row keeps its shape; a NULL costs nothing to send or decode); then the stored embedding when
    ``vectors``."""
    columns = [sql.Identifier(name) if name in include else sql.SQL(f"NULL::{kind}") for name, kind in _FIELD_TYPES.items()]
    return sql.SQL(", ").join(columns + [sql.SQL("embedding")] if vectors else columns)


def stored_query(collection: SearchTarget, schema: sql.Composable, query: sql.Composable = QUERY) -> sql.Composable:
    """The query (a vector: by default the parameter) in the type the collection stores, as
    vecpg.stored_query writes it: cast to halfvec(n) for halfvec storage, so that
    "embedding <op> query" is the operator the column's index was built with."""
    if collection.storage == "halfvec":
        return sql.SQL("({}::{}.halfvec({}))").format(query, schema, sql.Literal(collection.dimension))
    return query


def nearest(collection: SearchTarget, where: sql.Composable, k: int, rerank: int, include: tuple[str, ...],
            query: sql.Composable = QUERY, vectors: bool = False) -> sql.Composable:
    """The k-NN query ordered by what the collection's index is built on (vecpg.nearest_sql's
    counterpart: the vectors, their halfvec copies, or binary codes with exact re-ranking), for
    the vector ``query`` (an SQL expression); rows (id, the ``include`` fields, the embedding
    when ``vectors``, distance)."""
    schema = sql.Identifier(collection.store.vector_schema)
    operator = sql.SQL("OPERATOR({}.{})").format(schema, sql.SQL(OPERATORS[collection.distance]))
    table = collection.statements.table
    stored = stored_query(collection, schema, query)
    columns = _columns(include, vectors)
    if collection.quantization is None:
        return composed("search", table=table, op=operator, where=where, k=sql.Literal(k), columns=columns, query=stored)
    dims = sql.Literal(collection.dimension)
    if collection.quantization == "halfvec":
        left = sql.SQL("(embedding::{}.halfvec({}))").format(schema, dims)
        right = sql.SQL("({}::{}.halfvec({}))").format(query, schema, dims)
        order, limit = operator, k
    else:
        left = sql.SQL("({}.binary_quantize(embedding)::bit({}))").format(schema, dims)
        right = sql.SQL("{}.binary_quantize({})").format(schema, stored)
        order, limit = sql.SQL("OPERATOR({}.<~>)").format(schema), k * rerank
    return composed(
        "search_quantized", table=table, op=operator, where=where, indexed=left, order_op=order, query=right, stored=stored,
        candidates=sql.Literal(limit), k=sql.Literal(k), columns=columns)


def _compose(collection: SearchTarget, where: sql.Composable, k: int, rerank: int, include: tuple[str, ...],
             resort: bool, inline: tuple[str, ...]) -> sql.Composable:
    if not inline:
        search = nearest(collection, where, k, rerank, include)
        # Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
        return composed("search_resorted", search=search) if resort else search
    # The settings in the statement itself, for a statement that must stand alone (EXPLAIN, psql):
    # the settings row is computed first (the search refers to it) and set_config(..., true)
    # ends with the statement's transaction.
    gated = sql.SQL("{} AND vecpg_settings.applied IS NOT NULL").format(where)
    return composed(
        "search_tuned", settings=_set_config(dict.fromkeys(inline, ""))[0], search=nearest(collection, gated, k, rerank, include),
        order=sql.SQL("ORDER BY hits.distance" if resort else ""),
    )


def _statement(
    collection: SearchTarget, vector: np.ndarray, k: int, where: sql.Composable, params: dict[str, Any],
    settings: Mapping[str, Any], include: tuple[str, ...] = FIELDS, inline: bool = False,
) -> tuple[bytes, dict[str, Any], dict[str, str]]:
    """The statement for a compiled filter (``where``, ``params``), its parameters, and the
    pgvector settings it needs (in the statement when ``inline``, else for the session:
    vecpg/ops/session.py)."""
    check_k(k)
    rerank = int(settings.get("rerank", DEFAULT_RERANK))
    wanted = pgvector_settings(settings)
    resort = wanted.get("hnsw.iterative_scan", "off") != "off"
    names = tuple(sorted(wanted)) if inline else ()
    key = ("one", where.as_bytes(None), names, k, rerank, include, resort)
    statement = collection.statements.vector(
        key, lambda: _compose(collection, where, k, rerank, include, resort, names))
    if inline:
        params.update(_set_config(wanted)[1])
    params["query"] = vector
    return statement, params, wanted


def search_statement(
    collection: SearchTarget,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: VectorOptions | Mapping[str, Any] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """The k-NN query for a collection with the options in it, and its parameters (to EXPLAIN
    or time it on any connection)."""
    where, params = collection.store.run(collection.store.filters.compile(filter))
    statement, params, _ = _statement(collection, vector, k, scoped(collection, where), params,
                                      options_for("vector", options).given(),
                                      inline=True)
    return statement, params


# Rows to results by metric, the score written out (score_of's formulas): ten per search.
def _cosine(result: Result) -> list[SearchResult]:
    return [SearchResult(r[0], r[1], r[2] or "", r[3] or {}, r[4], 1.0 - r[4]) for r in result.rows]


def _ip(result: Result) -> list[SearchResult]:
    return [SearchResult(r[0], r[1], r[2] or "", r[3] or {}, r[4], -r[4]) for r in result.rows]


def _l2(result: Result) -> list[SearchResult]:
    return [SearchResult(r[0], r[1], r[2] or "", r[3] or {}, r[4], None) for r in result.rows]


_HITS = {"cosine": _cosine, "ip": _ip, "l2": _l2}


def vector_query(
    collection: SearchTarget,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: Options | Mapping[str, Any] | None = None,
    include: tuple[str, ...] = FIELDS,
) -> Operation[list[SearchResult]]:
    """The k-NN search on ``collection`` as an operation; ``options`` apply to this search only;
    only the document fields in ``include`` are fetched (the others come back None, "" and {}).
    One statement; steps when the filter's shape is new (compiled by the database; so is, once
    per store, the predicate that leaves expired documents out of searches without a filter)."""
    known = collection.store.filters.known(filter)
    if known is not None:
        return _search(collection, vector, k, known[0], known[1], bool(known[1]), options, include)
    return _compiled(collection, vector, k, filter, options, include)


def _compiled(collection: SearchTarget, vector: np.ndarray, k: int, filter: Any,
              options: Options | Mapping[str, Any] | None, include: tuple[str, ...]) -> Steps[list[SearchResult]]:
    where, params = yield from collection.store.filters.compile(filter)
    return (yield _search(collection, vector, k, where, params, bool(params), options, include))


def vector_settings(collection: SearchTarget, options: Options | Mapping[str, Any] | None, k: int,
                    filtered: bool) -> tuple[dict[str, Any], int]:
    """The options of a vector search for k rows (vecpg.vector_search_options) and the floor of
    its hnsw.ef_search: as vecpg.search does, a filter (row-level security's too) applied after
    the index scan must not leave fewer than k rows, and an HNSW scan returns at most ef_search
    rows, so a larger scan raises it for the call, never lowering a higher setting of the
    connection's own."""
    settings = search_settings(collection, options_for("vector", options).given(), k)
    store = collection.store
    if (filtered or store.current_tenant is not None) and "iterative_scan" not in settings \
            and store.pgvector_version >= (0, 8):
        settings["iterative_scan"] = "relaxed_order"
    if collection.partitioned:
        # The planner reads the tenant (vecpg.current_tenant(), folded for its estimates) into each
        # partition's plan: a tenant's exact scan of its few rows, another's HNSW walk of its own
        # partition. A prepared statement's generic plan would keep the first tenant's for all
        # (measured: 10 ms instead of 1.5 for the big tenant after a small one's searches).
        settings["plan_cache_mode"] = "force_custom_plan"
    scan = scan_rows(collection, k, settings)
    floor = min(scan, MAX_EF_SEARCH) if "ef_search" not in settings and scan > DEFAULT_EF_SEARCH else 0
    return settings, floor


def scoped(collection: SearchTarget, where: sql.Composable) -> sql.Composable:
    """The WHERE clause's tail of a search, with the tenant's partition alone when the store acts
    for a tenant of a partitioned collection (vecpg.tenant_scope_sql, as vecpg.nearest_sql adds it)."""
    if not collection.tenant_scope or collection.store.current_tenant is None:
        return where
    return sql.Composed([where, sql.SQL(" " + collection.tenant_scope)])  # type: ignore[arg-type]


def _search(collection: SearchTarget, vector: np.ndarray, k: int, where: sql.Composable, params: dict[str, Any],
            filtered: bool, options: Options | Mapping[str, Any] | None,
            include: tuple[str, ...]) -> Statement[list[SearchResult]]:
    where = scoped(collection, where)
    settings, floor = vector_settings(collection, options, k, filtered)
    statement, params, wanted = _statement(collection, vector, k, where, params, settings, include)
    return Statement(statement, params, _HITS[collection.distance], wanted, floor, binary=True)
