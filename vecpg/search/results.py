"""What a search returns: a hit and why it ranked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..documents import short_repr


@dataclass(slots=True)
class SearchResult:
    """One hit and why it ranked.

    ``score``: vector mode, the similarity (None for l2, see ``distance``); keyword mode, BM25;
    hybrid mode, the fused score, with each list's rank and score beside it (None when the
    document was not in that list); the vector list's score is the similarity, -distance for l2.
    Searching by chunks (``chunks=True``): the best chunk's number and text, which ranked the
    document (None when the document's own vector did).
    After a second stage (a reranker, or MMR; ``vecpg.SearchService``): ``first_rank`` and
    ``first_score`` are the hit's rank (1-based) and ``score`` in the first stage's candidates,
    ``rerank_score`` the reranker's score (None without one); ``score`` stays the first stage's.
    ``vector``: the stored embedding, when the search was asked for it (``search_many(...,
    vectors=True)``).
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
    first_rank: int | None = None
    first_score: float | None = None
    rerank_score: float | None = None
    vector: np.ndarray | None = field(default=None, compare=False)  # arrays have no plain ==

    def to_dict(self) -> dict[str, Any]:
        """The hit as JSON-ready values (what ``vecpg search --json`` prints): every field, the
        stored vector as a list of floats and only when the search fetched it."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "vector"}
        if self.vector is not None:
            fields["vector"] = [float(x) for x in self.vector]
        return fields

    def __repr__(self) -> str:
        """The fields that are set (no None, no empty metadata), long texts shortened:
        ``SearchResult(id='1', content='...', distance=0.12, score=0.88)``."""
        parts = [f"id={self.id!r}"]
        for name in ("title", "content", "metadata", "distance", "score", "vector_rank", "vector_score",
                     "keyword_rank", "keyword_score", "chunk_no", "highlight", "first_rank", "first_score",
                     "rerank_score"):
            value = getattr(self, name)
            if value is None or (name in ("content", "metadata") and not value):
                continue
            parts.append(f"{name}={short_repr(value) if isinstance(value, str) else repr(value)}")
        return f"SearchResult({', '.join(parts)})"


def score_of(distance: float, metric: str) -> float | None:
    """Similarity for a distance: cosine 1 - d, inner product -d; l2 has none."""
    if metric == "cosine":
        return 1.0 - distance
    if metric == "ip":
        return -distance
    return None
