"""Search quality on a BEIR-format dataset: nDCG@10, recall@100 and MRR@10 per search mode, and p50 latency."""

from __future__ import annotations

import csv
import gzip
import json
import math
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .collection import Collection
from .errors import NO_MODEL_FIX, InputFileError, InvalidArgument
from .search import MODES, Options, hybrid_query, keyword_query, options_for, vector_query

LATENCY_BLOCK = 20  # queries a mode runs in a row while latency is measured


@dataclass
class Dataset:
    """A BEIR dataset: where its corpus is, its queries and graded judgements of one split."""

    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    def judged_queries(self) -> dict[str, str]:
        """Queries with at least one positive judgement (the others cannot be scored)."""
        return {qid: text for qid, text in self.queries.items() if any(g > 0 for g in self.qrels.get(qid, {}).values())}


def _open_text(path: Path) -> IO[str]:
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def load_dataset(directory: str | Path, split: str = "test") -> Dataset:
    """Read ``corpus.jsonl[.gz]``, ``queries.jsonl`` and ``qrels/<split>.tsv`` from a directory."""
    root = Path(directory)
    corpus = next((root / n for n in ("corpus.jsonl", "corpus.jsonl.gz") if (root / n).is_file()), None)
    if corpus is None:
        raise InputFileError(f"{root}: no corpus.jsonl or corpus.jsonl.gz (is this a BEIR dataset directory?)")
    queries_path, qrels_path = root / "queries.jsonl", root / "qrels" / f"{split}.tsv"
    for path in (queries_path, qrels_path):
        if not path.is_file():
            raise InputFileError(f"{path}: missing")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0] == "query-id":
                continue
            try:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
            except (IndexError, ValueError):
                raise InputFileError(f"{qrels_path}: malformed line {row!r}") from None
    queries: dict[str, str] = {}
    with queries_path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    item = json.loads(line)
                    queries[str(item["_id"])] = item["text"]
                except (json.JSONDecodeError, KeyError):
                    raise InputFileError(f"{queries_path}:{number}: expected a JSON object with _id and text") from None
    return Dataset(corpus, {q: t for q, t in queries.items() if q in qrels}, qrels)


def corpus_documents(dataset: Dataset) -> Iterator[dict[str, Any]]:
    """The corpus as vecpg documents (BEIR's ``_id``, ``title``, ``text``)."""
    with _open_text(dataset.corpus) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                yield {"id": str(item["_id"]), "title": item.get("title") or None, "content": item["text"]}
            except (json.JSONDecodeError, KeyError):
                raise InputFileError(f"{dataset.corpus}:{number}: expected a JSON object with _id and text") from None


def ensure_loaded(collection: Collection, dataset: Dataset, progress: bool = False) -> int:
    """Load the corpus unless the collection already holds exactly it; returns documents written."""
    ids = [doc["id"] for doc in corpus_documents(dataset)]
    if collection.count() == len(ids) and collection.count({"id": {"$in": ids}}) == len(ids):
        return 0
    return collection.load(corpus_documents(dataset), progress=progress, total=len(ids))


def ndcg_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains, as trec_eval and BEIR compute it."""
    dcg = sum(judged.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], judged: dict[str, int], k: int = 100) -> float:
    """Share of the relevant documents found in the first k."""
    relevant = {d for d, g in judged.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document within k."""
    return next((1.0 / (i + 1) for i, d in enumerate(ranked[:k]) if judged.get(d, 0) > 0), 0.0)


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


def evaluate(
    collection: Collection,
    dataset: Dataset,
    modes: tuple[str, ...] = MODES,
    progress: bool = False,
    options: dict[str, Any] | None = None,
) -> dict[str, dict[str, float]]:
    """Mean nDCG@10, recall@100 and MRR@10 of each mode over the judged queries, and the p50
    latency in ms of its k = 10 search (query embeddings computed beforehand, so it is the
    database's time: the same in every mode; timed in blocks, see below)."""
    opts = checked_options(options, modes)
    queries = dataset.judged_queries()
    qids = list(queries)
    embedder = collection.embedder()
    if embedder is None and set(modes) - {"keyword"}:
        raise InvalidArgument(f"collection {collection.name!r} has no embedding model: only keyword mode can be "
                              f"evaluated, or {NO_MODEL_FIX}")
    texts = [queries[q] for q in qids]
    vectors = embedder.embed(texts) if embedder is not None and set(modes) - {"keyword"} else None

    def ranked(mode: str, i: int, k: int) -> list[str]:
        if mode == "keyword":
            return [r.id for r in collection.store.run(keyword_query(collection, texts[i], k, None, opts.get("keyword")))]
        assert vectors is not None
        if mode == "vector":
            return [r.id for r in collection.store.run(vector_query(collection, vectors[i], k, None, opts.get("vector")))]
        return [r.id for r in collection.store.run(hybrid_query(collection, texts[i], vectors[i], k, None, opts.get("hybrid")))]

    results: dict[str, dict[str, float]] = {}
    for mode in modes:
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(qids), desc=f"eval {mode}", unit="query")
        totals = {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
        for i, qid in enumerate(qids):
            top100 = ranked(mode, i, 100)
            # Fusion looks at 4*k candidates per list, so a hybrid top 10 is not the head of its
            # top 100: score the @10 metrics on a k=10 search, as users run it.
            head = ranked(mode, i, 10) if mode == "hybrid" else top100[:10]
            judged = dataset.qrels[qid]
            totals["ndcg@10"] += ndcg_at(head, judged)
            totals["recall@100"] += recall_at(top100, judged)
            totals["mrr@10"] += mrr_at(head, judged)
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        results[mode] = {name: round(value / max(len(qids), 1), 4) for name, value in totals.items()}

    # Latency in a pass of its own, in blocks of LATENCY_BLOCK queries, the modes taking turns
    # block by block: within a block one mode runs query after query, as an application would
    # (a mode alone in all its runs would be skewed by a machine whose speed drifts; modes
    # alternating query by query would each evict the other's pages from the CPU caches).
    timings: dict[str, list[float]] = {mode: [] for mode in modes}
    for first in range(0, len(qids), LATENCY_BLOCK):
        for mode in modes:
            for i in range(first, min(first + LATENCY_BLOCK, len(qids))):
                start = time.perf_counter()
                ranked(mode, i, 10)
                timings[mode].append((time.perf_counter() - start) * 1000)
    for mode in modes:
        results[mode]["p50_ms"] = round(statistics.median(timings[mode]), 2) if timings[mode] else 0.0
    return results
