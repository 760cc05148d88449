"""Hybrid search: the vector and keyword lists fused in one statement.

With a keyword index, a search that the collection's own search function can take
(``vecpg_postings.<collection>``, planned once per session) calls it directly, gated by
``vecpg.keyword_index_serves``, the one definition of when the index may serve; everything else
goes through ``vecpg.hybrid_search``, which writes its statement for each query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from ..documents import check_k
from ..ops.statement import Result, Statement, Steps, flag
from .options import HybridOptions, Options, options_for
from .results import SearchResult
from .target import SearchTarget
from .vector import MAX_EF_SEARCH, scan_rows, search_settings

# Options that vecpg.hybrid_search applies with apply_search_options but that the collection's
# search function takes no argument for.
_NOT_FAST = ("probes", "max_scan_tuples", "rerank")


def _fast_arguments(collection: SearchTarget, text: str, vector: np.ndarray, k: int,
                    options: HybridOptions) -> tuple[Any, ...] | None:
    """Arguments of the gated keyword-index statement, or None when the call cannot be written
    as one (options that function takes no argument for, or ``keyword_index=False``)."""
    if options.value("keyword_index") is False or any(getattr(options.vector, n) is not None for n in _NOT_FAST):
        return None
    candidates = options.candidates_for(k)
    # The collection's search defaults count as the call's own options, except its re-rank
    # factor, which the function has written in.
    settings = search_settings(collection, options.vector.given(), candidates)
    if any(n in settings for n in _NOT_FAST if n != "rerank"):
        return None
    vector_weight, keyword_weight = options.weights()
    scan = settings.get("iterative_scan")
    store = collection.store
    if scan is None and store.current_tenant is not None and store.pgvector_version >= (0, 8):
        scan = "relaxed_order"  # row-level security filters the vector list, as a filter would
    keyword = options.keyword
    ef_search = settings.get("ef_search", min(scan_rows(collection, candidates, settings), MAX_EF_SEARCH))
    return (text, vector, candidates, options.value("method"), vector_weight, keyword_weight,
            float(options.value("rrf_k")), k, options.value("max_postings"), float(keyword.value("k1")),
            float(keyword.value("b")), ef_search, scan,
            text, Jsonb(keyword.given()))


def _hits(result: Result) -> list[SearchResult]:
    return [SearchResult(r[0], r[1], r[2], r[3], None, r[4], *r[5:]) for r in result.rows]


def has_keyword_index(collection: SearchTarget) -> Statement[bool]:
    """Whether the collection has a keyword index."""
    return Statement("SELECT vecpg.has_keyword_index(%s)", (collection.name,), flag)


def hybrid_query(
    collection: SearchTarget,
    text: str,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: Options | Mapping[str, Any] | None = None,
) -> Steps[list[SearchResult]]:
    """Vector and keyword lists fused in one statement (see the module's docstring)."""
    check_k(k)
    opts: HybridOptions = options_for("hybrid", options)
    hits: list[SearchResult] = []
    statements = collection.statements
    # The collection's search function takes no filter: a filtered search is never its to serve.
    if not filter:
        indexed = statements.keyword_index()
        if indexed is None:
            indexed = yield has_keyword_index(collection)
            statements.remember_keyword_index(indexed)
        arguments = _fast_arguments(collection, text, vector, k, opts) if indexed else None
        if arguments is not None:
            try:
                hits = yield Statement(statements.fast_hybrid, arguments, _hits, settings={})
            except psycopg.errors.UndefinedFunction:
                statements.forget_keyword_index()  # another client dropped it
    if not hits:  # not served by the keyword index, or no hits (asking again costs only then)
        # The session's settings as the connection started (a vector search may have changed
        # them): vecpg.hybrid_search applies the call's own on top.
        hits = yield Statement("SELECT * FROM vecpg.hybrid_search(%s, %s, %s, %s, %s, %s)",
                               (collection.name, text, vector, k, Jsonb(filter or {}), Jsonb(opts.given())),
                               _hits, settings={})
    return hits
