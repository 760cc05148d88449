"""Search quality per search mode: nDCG@10, recall@100, MRR@10 and p50 latency over judged queries."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Any

from ..errors import NO_MODEL_FIX, InvalidArgument
from ..search import MODES, Options, SearchService, hybrid_query, keyword_query, options_for, vector_query
from .datasets import Dataset
from .metrics import mrr_at, ndcg_at, recall_at

if TYPE_CHECKING:
    from ..collection import Collection
    from ..rerank import Reranker

LATENCY_BLOCK = 20  # queries a mode runs in a row while latency is measured


def checked_options(options: Any, modes: tuple[str, ...]) -> dict[str, Options]:
    """Per-mode search options, checked before hundreds of searches run: an object per chosen mode."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise InvalidArgument("options must be an object of search options per mode, e.g. {\"hybrid\": {\"method\": \"rrf\"}}")
    for mode, opts in options.items():
        if mode not in modes:
            raise InvalidArgument(f"options for {mode!r}, which is not among the modes evaluated ({', '.join(modes)})")
        if not isinstance(opts, (dict, Options)):
            raise InvalidArgument(f"options for {mode!r} must be an object, got {opts!r}")
    return {mode: options_for(mode, opts) for mode, opts in options.items()}


def runs_for(modes: tuple[str, ...], reranker: Any = None, mmr: float | None = None) -> list[tuple[str, str, str]]:
    """The rows an evaluation reports: (label, mode, second stage) for each mode alone, then with
    the reranker and with MMR when given (``hybrid+reranker``, ``vector+mmr``)."""
    rows = []
    for mode in modes:
        rows.append((mode, mode, ""))
        if reranker is not None:
            rows.append((f"{mode}+reranker", mode, "reranker"))
        if mmr is not None:
            rows.append((f"{mode}+mmr", mode, "mmr"))
    return rows


def evaluate(
    collection: Collection,
    dataset: Dataset,
    modes: tuple[str, ...] = MODES,
    progress: bool = False,
    options: dict[str, Any] | None = None,
    reranker: Reranker | str | None = None,
    mmr: float | None = None,
) -> dict[str, dict[str, float | None]]:
    """Mean nDCG@10, recall@100 and MRR@10 of each mode over the judged queries, and the p50
    latency in ms of its k = 10 search (query embeddings computed beforehand, so it is the
    database's time: the same in every mode; timed in blocks, see below). With ``reranker``
    (a ``vecpg.rerank`` reranker, name or path) or ``mmr`` (λ), each mode again through
    ``vecpg.SearchService`` with that second stage (its latency includes the reranker's model;
    its recall@100 is None, as a second stage reorders only its candidates)."""
    opts = checked_options(options, modes)
    queries = dataset.judged_queries()
    qids = list(queries)
    embedder = collection.embedder()
    if embedder is None and (set(modes) - {"keyword"} or mmr is not None):
        raise InvalidArgument(f"collection {collection.name!r} has no embedding model: only keyword mode can be "
                              f"evaluated, or {NO_MODEL_FIX}")
    texts = [queries[q] for q in qids]
    vectors = embedder.embed(texts) if embedder is not None and set(modes) - {"keyword"} else None
    rows = runs_for(modes, reranker, mmr)
    services = {label: SearchService(collection, mode=mode, options=opts.get(mode),
                                     reranker=reranker if stage == "reranker" else None,
                                     mmr=mmr if stage == "mmr" else None)
                for label, mode, stage in rows if stage}

    def ranked(label: str, mode: str, i: int, k: int) -> list[str]:
        if label in services:
            return [r.id for r in services[label].search(texts[i], k)]
        if mode == "keyword":
            return [r.id for r in collection.store.run(keyword_query(collection, texts[i], k, None, opts.get("keyword")))]
        assert vectors is not None
        if mode == "vector":
            return [r.id for r in collection.store.run(vector_query(collection, vectors[i], k, None, opts.get("vector")))]
        return [r.id for r in collection.store.run(hybrid_query(collection, texts[i], vectors[i], k, None, opts.get("hybrid")))]

    results: dict[str, dict[str, float | None]] = {}
    for label, mode, stage in rows:
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(qids), desc=f"eval {label}", unit="query")
        totals = {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
        for i, qid in enumerate(qids):
            # Fusion and second stages look at 4*k candidates, so their top 10 is not the head
            # of a top 100: score the @10 metrics on a k=10 search, as users run it.
            top100 = [] if stage else ranked(label, mode, i, 100)
            head = ranked(label, mode, i, 10) if mode == "hybrid" or stage else top100[:10]
            judged = dataset.qrels[qid]
            totals["ndcg@10"] += ndcg_at(head, judged)
            totals["recall@100"] += recall_at(top100, judged)
            totals["mrr@10"] += mrr_at(head, judged)
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        results[label] = {name: round(value / max(len(qids), 1), 4) for name, value in totals.items()}
        if stage:
            results[label]["recall@100"] = None

    # Latency in a pass of its own, in blocks of LATENCY_BLOCK queries, the rows taking turns
    # block by block: within a block one row runs query after query, as an application would
    # (a row alone in all its runs would be skewed by a machine whose speed drifts; rows
    # alternating query by query would each evict the other's pages from the CPU caches).
    timings: dict[str, list[float]] = {label: [] for label, _, _ in rows}
    for first in range(0, len(qids), LATENCY_BLOCK):
        for label, mode, _ in rows:
            for i in range(first, min(first + LATENCY_BLOCK, len(qids))):
                start = time.perf_counter()
                ranked(label, mode, i, 10)
                timings[label].append((time.perf_counter() - start) * 1000)
    for label, _, _ in rows:
        results[label]["p50_ms"] = round(statistics.median(timings[label]), 2) if timings[label] else 0.0
    return results
