"""Keyword search: BM25 computed in PostgreSQL by ``vecpg.keyword_search``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from ..documents import check_k
from ..ops.statement import Result, Statement
from .options import Options, options_for
from .results import SearchResult
from .target import SearchTarget


def _hits(result: Result) -> list[SearchResult]:
    return [SearchResult(r[0], r[1], r[2], r[3], None, r[4], keyword_rank=i, keyword_score=r[4])
            for i, r in enumerate(result.rows, start=1)]


def keyword_query(
    collection: SearchTarget,
    text: str,
    k: int,
    filter: Any = None,
    options: Options | Mapping[str, Any] | None = None,
) -> Statement[list[SearchResult]]:
    """BM25 keyword search through ``vecpg.keyword_search``, as an operation."""
    check_k(k)
    given = options_for("keyword", options).given()
    return Statement("SELECT id, title, content, metadata, score FROM vecpg.keyword_search(%s, %s, %s, %s, %s)",
                     (collection.name, text, k, Jsonb(filter or {}), Jsonb(given)), _hits,
                     settings={})  # a read: a replica may answer it
