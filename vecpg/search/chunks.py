"""Vector search by chunks: documents ranked by their best chunk, through ``vecpg.search_chunks``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from ..documents import check_k
from ..ops.statement import Result, Statement
from .options import Options, options_for
from .results import SearchResult
from .target import SearchTarget


def _hits(result: Result) -> list[SearchResult]:
    return [SearchResult(r[0], r[1], r[2], r[3], r[4], r[5], chunk_no=r[6], highlight=r[7]) for r in result.rows]


def chunk_query(
    collection: SearchTarget,
    vector: np.ndarray,
    k: int,
    filter: Any = None,
    options: Options | Mapping[str, Any] | None = None,
) -> Statement[list[SearchResult]]:
    """The k documents nearest by their best chunk (their own vector when they have none); the
    chunk is ``highlight`` (None when the document's own vector ranked it)."""
    check_k(k)
    given = options_for("vector", options).given()
    # The session's settings as the connection started ({}); the call's own apply on top in SQL.
    return Statement("SELECT id, title, content, metadata, distance, score, chunk_no, highlight "
                     "FROM vecpg.search_chunks(%s, %s, %s, %s, %s)",
                     (collection.name, vector, k, Jsonb(filter or {}), Jsonb(given)), _hits, settings={})
