"""Pieces the benchmarks share: the clustered test vectors and exact nearest neighbours.

``clustered`` is bench_foundation's generator (moved here; bench_foundation re-exports it), so
every benchmark that says "clustered 384-d vectors" means the same points. ``ground_truth`` is
brute force in numpy, batched over the data so 1,000,000 x 384 fits in memory, with an optional
mask for filtered search.
"""

from __future__ import annotations

import numpy as np

DIM = 384
NOISE = 0.35
_ROWS_PER_DRAW = 50_000


def centres(count: int = 200, dim: int = DIM, seed: int = 7) -> np.ndarray:
    """The cluster centres bench_foundation and bench_mirror use (200 of them, seed 7)."""
    return np.random.default_rng(seed).normal(size=(count, dim))


def clustered(n: int, seed: int, centres: np.ndarray) -> np.ndarray:
    """``n`` float32 points, each a random centre plus N(0, 0.35^2) noise per coordinate.

    The noise is drawn in slices of rows, which yields the same numbers as one draw of all
    ``n x dim`` of them (numpy's generators fill arrays from one stream), without the float64
    temporary of the whole set.
    """
    rng = np.random.default_rng(seed)
    dim = centres.shape[1]
    which = rng.integers(0, len(centres), n)
    out = np.empty((n, dim), dtype=np.float32)
    for lo in range(0, n, _ROWS_PER_DRAW):
        hi = min(lo + _ROWS_PER_DRAW, n)
        out[lo:hi] = centres[which[lo:hi]] + NOISE * rng.normal(size=(hi - lo, dim))
    return out


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32; a zero row stays zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, np.float32(1e-30))


def ground_truth(data: np.ndarray, queries: np.ndarray, k: int = 10, mask: np.ndarray | None = None,
                 batch: int = 100_000) -> list[set[int]]:
    """Row numbers of each query's k nearest rows by cosine similarity, exactly.

    ``mask`` (a boolean per row) restricts the answer to the rows it marks: the truth of a
    filtered search. Work is done ``batch`` data rows at a time, keeping a running top k.
    """
    q = unit_rows(queries)
    best_s = np.full((len(q), k), -np.inf, dtype=np.float32)
    best_i = np.full((len(q), k), -1, dtype=np.int64)
    for lo in range(0, len(data), batch):
        hi = min(lo + batch, len(data))
        sims = q @ unit_rows(data[lo:hi]).T
        if mask is not None:
            sims[:, ~mask[lo:hi]] = -np.inf
        s = np.concatenate([best_s, sims], axis=1)
        i = np.concatenate([best_i, np.broadcast_to(np.arange(lo, hi), sims.shape)], axis=1)
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        best_s = np.take_along_axis(s, top, axis=1)
        best_i = np.take_along_axis(i, top, axis=1)
    return [set(row[score > -np.inf].tolist()) for row, score in zip(best_i, best_s)]


# The three searches as one call each, for scripts that time them: each runs its operation
# (vecpg/search/) through the collection's store, as Collection.search does after its checks.
def vector_search(coll, vector, k, filter=None, options=None):  # type: ignore[no-untyped-def]
    from vecpg.search import vector_query

    return coll.store.run(vector_query(coll, vector, k, filter, options))


def keyword_search(coll, text, k, filter=None, options=None):  # type: ignore[no-untyped-def]
    from vecpg.search import keyword_query

    return coll.store.run(keyword_query(coll, text, k, filter, options))


def hybrid_search(coll, text, vector, k, filter=None, options=None):  # type: ignore[no-untyped-def]
    from vecpg.search import hybrid_query

    return coll.store.run(hybrid_query(coll, text, vector, k, filter, options))
