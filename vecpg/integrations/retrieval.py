"""One batch of queries to padded arrays: what a framework layer needs from a batch search.

Frameworks want rectangles: ``[B, k]`` scores and ``[B, k, d]`` vectors, whereas a query may
find fewer than k documents (a filter, a tenant, a small collection, keyword search). The
missing places are padded (score -inf, vector zeros) and a mask tells them apart. The settings
are checked once, when a layer is made (the filter compiled by the database then), so a bad
filter fails before training starts, not at its first batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..collection import Collection
from ..documents import check_k
from ..errors import InvalidArgument
from ..filters import parse_filter
from ..search.batch import MAX_QUERIES
from ..search.options import Options, options_for
from ..search.results import SearchResult

PAD_SCORE = float("-inf")


@dataclass(frozen=True, slots=True)
class Padded:
    """A batch's hits as rectangles. ``scores``: float32 ``[B, k]``, higher is better (the
    similarity; -distance for l2; BM25 or the fused score in keyword and hybrid modes), -inf
    where a query found fewer than k; ``mask``: bool ``[B, k]``, True where there is a hit;
    ``vectors``: float32 ``[B, k, d]`` stored embeddings, zeros where there is none (None unless
    asked for); ``ids`` and ``results``: the hits themselves, one list per query."""

    ids: list[list[str]]
    results: list[list[SearchResult]]
    scores: np.ndarray
    mask: np.ndarray
    vectors: np.ndarray | None


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The searches a layer runs: a collection, k, a mode, a filter, options, a tenant."""

    collection: Collection
    k: int
    mode: str
    filter: Any
    options: Options
    vectors: bool
    tenant: str | None

    @classmethod
    def checked(cls, collection: Any, k: int, mode: str, filter: Any, options: Options | Mapping[str, Any] | None,
                vectors: bool, tenant: str | None, what: str) -> Retrieval:
        """The settings, each checked as a search would check it; ``what`` names the layer in messages."""
        if not isinstance(collection, Collection):
            raise InvalidArgument(f"{what} needs a vecpg Collection (store.collection(name)), got "
                                  f"{type(collection).__name__} {collection!r}")
        check_k(k)
        opts = options_for(mode, options)
        flt = parse_filter(filter)
        if flt:  # compiled (and cached) now, so a filter the database refuses fails here
            collection.store.run(collection.store.filters.compile(flt))
        if not isinstance(vectors, bool):
            raise InvalidArgument(f"return_vectors must be true or false, got {vectors!r}")
        if tenant is not None and (not isinstance(tenant, str) or not tenant):
            raise InvalidArgument(f"tenant must be a non-empty string or None, got {tenant!r}")
        return cls(collection, k, mode, flt or None, opts, vectors, tenant)

    def __deepcopy__(self, memo: dict[int, Any]) -> Retrieval:
        return self  # immutable settings and a connection that copies of a model share

    def __reduce__(self) -> Any:
        raise TypeError(f"searches of collection {self.collection.name!r} hold its store's connection, which "
                        "cannot be pickled: save the model's weights (state_dict, save_weights) and make the "
                        "retrieval again from the collection")

    @property
    def dimension(self) -> int:
        return self.collection.dimension

    def __call__(self, queries: Sequence[str] | np.ndarray) -> Padded:
        """The k best hits of each query: one round trip per 1,000 queries (the batch search's bound)."""
        batch: list[list[SearchResult]] = []
        for start in range(0, len(queries), MAX_QUERIES):
            batch += self.collection.search_many(queries[start:start + MAX_QUERIES], self.k, mode=self.mode,
                                                 filter=self.filter, options=self.options, vectors=self.vectors,
                                                 tenant=self.tenant)
        return self.padded(batch)

    def padded(self, batch: list[list[SearchResult]]) -> Padded:
        shape = (len(batch), self.k)
        scores = np.full(shape, PAD_SCORE, dtype=np.float32)
        mask = np.zeros(shape, dtype=bool)
        vectors = np.zeros((*shape, self.dimension), dtype=np.float32) if self.vectors else None
        for row, hits in enumerate(batch):
            for col, hit in enumerate(hits):
                scores[row, col] = _score(hit)
                if vectors is not None and hit.vector is not None:
                    vectors[row, col] = hit.vector
            mask[row, :len(hits)] = True
        return Padded([[h.id for h in hits] for hits in batch], batch, scores, mask, vectors)


def _score(hit: SearchResult) -> float:
    if hit.score is not None:
        return hit.score
    return -hit.distance if hit.distance is not None else PAD_SCORE
