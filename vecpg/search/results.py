"""What a search returns: a hit and why it ranked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class SearchResult:
    """One hit and why it ranked.

    ``score``: vector mode, the similarity (None for l2, see ``distance``); keyword mode, BM25;
    hybrid mode, the fused score, with each list's rank and score beside it (None when the
    document was not in that list); the vector list's score is the similarity, -distance for l2.
    Searching by chunks (``chunks=True``): the best chunk's number and text, which ranked the
    document (None when the document's own vector did).
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
    chunk_no: int | None = None
    highlight: str | None = None


def score_of(distance: float, metric: str) -> float | None:
    """Similarity for a distance: cosine 1 - d, inner product -d; l2 has none."""
    if metric == "cosine":
        return 1.0 - distance
    if metric == "ip":
        return -distance
    return None
