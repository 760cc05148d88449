"""Keyword search: BM25 computed in PostgreSQL by ``vecpg.keyword_search``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from ..documents import check_k
from .options import Options, options_for
from .results import SearchResult
from .target import SearchTarget


def keyword_search(
    collection: SearchTarget,
    text: str,
    k: int,
    filter: Any = None,
    options: Options | Mapping[str, Any] | None = None,
) -> list[SearchResult]:
    """BM25 keyword search through ``vecpg.keyword_search``."""
    check_k(k)
    given = options_for("keyword", options).given()
    with collection.store.connection() as conn:
        rows = conn.execute(
            "SELECT id, title, content, metadata, score FROM vecpg.keyword_search(%s, %s, %s, %s, %s)",
            (collection.name, text, k, Jsonb(filter or {}), Jsonb(given)),
        ).fetchall()
    return [SearchResult(r[0], r[1], r[2], r[3], None, r[4], keyword_rank=i, keyword_score=r[4])
            for i, r in enumerate(rows, start=1)]
