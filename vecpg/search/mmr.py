"""Diversity: maximal marginal relevance (MMR) over a first stage's candidates.

The picking runs in PostgreSQL (``vecpg.mmr_select``, sql/idempotent/14_mmr.sql), next to the
stored vectors it compares, so no vector crosses the wire. ``mmr_query`` re-picks the ids of any
first stage (vector, keyword, hybrid, reranked); ``mmr_search_query`` is vector search and MMR in
one statement (``vecpg.mmr_search``), LangChain's ``max_marginal_relevance_search``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from ..documents import check_ids, check_k, check_vector
from ..errors import InvalidArgument
from ..filters import parse_filter
from ..ops.statement import Result, Statement
from ..storage import STORAGES
from .options import MMROptions, Options, options_for
from .results import SearchResult
from .target import SearchTarget


@dataclass(frozen=True, slots=True)
class Pick:
    """One id MMR picked: its place in the new order (1-based) and its MMR score when picked."""

    id: str
    rank: int
    score: float


def _picks(result: Result) -> list[Pick]:
    return [Pick(*row) for row in result.rows]


def mmr_query(
    collection: SearchTarget,
    query_vector: Sequence[float] | np.ndarray,
    ids: Sequence[str],
    relevance: Sequence[float] | np.ndarray | None = None,
    k: int = 10,
    lam: float = 0.5,
) -> Statement[list[Pick]]:
    """The k of ``ids`` that MMR picks, best first: ``lam`` 1 keeps the relevance order, 0 picks
    the candidate least like those already picked. ``relevance``, one score per id on any scale
    (a reranker's, a fused score), is min-max normalised; without it, the cosine of each stored
    vector to the query. Ids the caller cannot see (tenants) take no part."""
    check_k(k)
    lam = float(MMROptions(mmr=lam).value("mmr"))
    vector = check_vector(query_vector, collection.dimension, largest=STORAGES[collection.storage].largest)
    id_list = check_ids(ids)
    scores: list[float] | None = None
    if relevance is not None:
        scores = [float(s) for s in np.asarray(relevance, dtype=np.float64).ravel()]
        if len(scores) != len(id_list):
            raise InvalidArgument(f"relevance has {len(scores)} scores for {len(id_list)} ids: give one per id")
        if not all(math.isfinite(s) for s in scores):
            raise InvalidArgument("relevance scores must be finite numbers")
    return Statement("SELECT id, mmr_rank, mmr_score FROM vecpg.mmr_select(%s, %s, %s::text[], %s::float8[], %s, %s)",
                     (collection.name, vector, id_list, scores, k, lam), _picks)


def _hits(result: Result) -> list[SearchResult]:
    return [SearchResult(r[0], r[1], r[2] or "", r[3] or {}, r[4], r[5], first_rank=r[6], first_score=r[5])
            for r in result.rows]


def mmr_search_query(
    collection: SearchTarget,
    vector: Sequence[float] | np.ndarray,
    k: int,
    lam: float = 0.5,
    candidates: int | None = None,
    filter: Any = None,
    options: Options | Mapping[str, Any] | None = None,
) -> Statement[list[SearchResult]]:
    """Vector search for ``candidates`` (default 20 or 4*k, whichever is larger), then the k that
    MMR picks among them, in one statement. ``first_rank`` and ``first_score`` are each hit's
    rank and similarity in the plain vector search; ``options`` are vector search's."""
    check_k(k)
    MMROptions(mmr=lam, candidates=candidates).candidates_for(k)
    query = check_vector(vector, collection.dimension, largest=STORAGES[collection.storage].largest)
    given = options_for("vector", options).given()
    # settings={}: the session's settings as the connection started; vecpg.search applies the call's own.
    return Statement(
        "SELECT id, title, content, metadata, distance, score, vector_rank "
        "FROM vecpg.mmr_search(%s, %s, %s, %s, %s, %s, %s)",
        (collection.name, query, k, float(lam), candidates, Jsonb(parse_filter(filter)), Jsonb(given)),
        _hits, settings={})
