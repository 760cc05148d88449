"""Vector search: the k-NN statement of ``queries/search.sql``, with its tuning in the same statement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from psycopg import sql

from ..documents import check_k
from ..resources import query
from .options import Options, VectorOptions, options_for, spec_of
from .results import SearchResult, score_of
from .target import SearchTarget

OPERATORS = {"cosine": "<=>", "l2": "<->", "ip": "<#>"}
# pgvector's default hnsw.ef_search. An HNSW scan returns at most ef_search rows, so a larger k
# raises it for the call (never lowering a higher server setting).
DEFAULT_EF_SEARCH: int = spec_of(VectorOptions, "ef_search").default
_FLOOR = "ef_search_floor"


def _settings(settings: Mapping[str, Any]) -> tuple[sql.Composable, dict[str, str]]:
    """``concat(set_config(..., true), ...)`` for the settings, and its parameters."""
    calls: list[sql.Composable] = []
    params: dict[str, str] = {}
    for name in sorted(settings):
        value = settings[name]
        if name == _FLOOR:
            calls.append(sql.SQL(
                "set_config('hnsw.ef_search', greatest(coalesce(nullif(current_setting('hnsw.ef_search', true), '')::int, 0),"
                " {}::int)::text, true)").format(sql.Placeholder(_FLOOR)))
            params[_FLOOR] = str(value)
            continue
        if name == "iterative_scan":
            # IVFFlat has no strict order; relaxed is its closest match.
            pairs = [("hnsw.iterative_scan", value), ("ivfflat.iterative_scan", "off" if value == "off" else "relaxed_order")]
        else:
            pairs = [(VectorOptions.SETTINGS[name], str(value))]
        for setting, text in pairs:
            key = "set_" + setting.replace(".", "_")
            calls.append(sql.SQL("set_config({}, {}, true)").format(sql.Literal(setting), sql.Placeholder(key)))
            params[key] = text
    return sql.SQL("concat({})").format(sql.SQL(", ").join(calls)), params


def _compose(collection: SearchTarget, where: sql.Composable, settings: Mapping[str, Any], k: int) -> sql.Composable:
    operator = sql.SQL("OPERATOR({}.{})").format(
        sql.Identifier(collection.store.vector_schema), sql.SQL(OPERATORS[collection.distance]))
    table = collection.statements.table
    if not settings:
        return sql.SQL(query("search")).format(  # type: ignore[arg-type]
            table=table, op=operator, where=where, k=sql.Literal(k))
    # Tuning rides in the same statement: the settings row is computed first (the search refers
    # to it) and set_config(..., true) ends with the statement's transaction, so a pooled
    # connection never carries it on. One round trip, no BEGIN/COMMIT.
    gated = sql.SQL("{} AND vecpg_settings.applied IS NOT NULL").format(where)
    inner = sql.SQL(query("search")).format(  # type: ignore[arg-type]
        table=table, op=operator, where=gated, k=sql.Literal(k))
    resort = settings.get("iterative_scan", "off") != "off"
    return sql.SQL(query("search_tuned")).format(  # type: ignore[arg-type]
        settings=_settings(settings)[0], search=inner,
        # Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
        order=sql.SQL("ORDER BY hits.distance" if resort else ""),
    )


def _statement(
    collection: SearchTarget, vector: np.ndarray, k: int, filter: Any, settings: Mapping[str, Any]
) -> tuple[bytes, dict[str, Any]]:
    check_k(k)
    where, params = collection.store.filters.compile(filter)
    key = (where.as_bytes(None) if params else b"", tuple(sorted(settings)), k)
    statement = collection.statements.vector(key, lambda: _compose(collection, where, settings, k))
    if settings:
        params.update(_settings(settings)[1])
    params["query"] = vector
    return statement, params


def search_statement(
    collection: SearchTarget,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: VectorOptions | Mapping[str, Any] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """The k-NN query for a collection, and its parameters (to EXPLAIN or time it)."""
    return _statement(collection, vector, k, filter, options_for("vector", options).given())


def vector_search(
    collection: SearchTarget,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: Options | Mapping[str, Any] | None = None,
) -> list[SearchResult]:
    """Run the k-NN query on ``collection``; ``options`` apply to this statement only."""
    settings: dict[str, Any] = options_for("vector", options).given()
    store = collection.store
    filtered = bool(filter) or store.current_tenant is not None  # row-level security filters too
    if filtered and "iterative_scan" not in settings and store.pgvector_version >= (0, 8):
        # As vecpg.search does: a filter applied after the index scan must not leave fewer than k rows.
        settings["iterative_scan"] = "relaxed_order"
    if "ef_search" not in settings and k > DEFAULT_EF_SEARCH:
        settings[_FLOOR] = k
    statement, params = _statement(collection, vector, k, filter, settings)
    with store.connection() as conn:
        rows = conn.execute(statement, params).fetchall()
    metric = collection.distance
    return [SearchResult(r[0], r[1], r[2], r[3], r[4], score_of(r[4], metric)) for r in rows]
