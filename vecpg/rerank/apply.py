"""The second stage: a reranker's scores applied to a first stage's candidates."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..documents import check_k
from ..errors import InvalidArgument
from ..search.results import SearchResult
from .protocol import Reranker


def rerank(reranker: Reranker, query: str, candidates: list[SearchResult], k: int) -> list[SearchResult]:
    """The ``k`` candidates the reranker scores highest, best first (equal scores keep the first
    stage's order), as copies carrying ``first_rank`` (1-based position in ``candidates``),
    ``first_score`` (the candidate's ``score``) and ``rerank_score``.

    Give it more candidates than ``k`` (a few times k): a reranker can only promote what the
    first stage found. The candidates themselves are left as they were.
    """
    check_k(k)
    if not candidates:
        return []
    scores = np.asarray(reranker.score(query, candidates), dtype=np.float64)
    if scores.shape != (len(candidates),):
        raise InvalidArgument(f"reranker {reranker.name!r} gave scores of shape {scores.shape} "
                              f"for {len(candidates)} candidates; it must give one per candidate")
    if not np.isfinite(scores).all():
        raise InvalidArgument(f"reranker {reranker.name!r} gave a NaN or infinite score")
    order = np.argsort(-scores, kind="stable")[:k]
    return [dataclasses.replace(candidates[i], first_rank=int(i) + 1, first_score=candidates[i].score,
                                rerank_score=float(scores[i])) for i in order]
