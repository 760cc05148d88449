"""What a reranker is, and the text of a candidate it reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ..documents import embedding_text
from ..search.results import SearchResult


@runtime_checkable
class Reranker(Protocol):
    """Anything with a name and a ``score`` of a query against a first stage's candidates.

    vecpg's own rerankers are listed in ``vecpg.rerank``; a reranker of yours needs only these two.
    """

    name: str

    def score(self, query: str, candidates: Sequence[SearchResult]) -> np.ndarray:
        """One float per candidate, in the candidates' order; higher is better."""
        ...


def candidate_text(result: SearchResult) -> str:
    """What a reranker reads of a candidate: its title and content, as the collection's model
    embedded them (a chunk search's ``highlight`` is only the best chunk; the reranker sees all)."""
    return embedding_text(result.title, result.content)
