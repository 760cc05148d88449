"""Hybrid search quality and latency on a BEIR dataset (default: the shared SciFact copy).

Run by hand (not a test):  python bench/bench_hybrid.py [--data ../shared/data/scifact] [--split test]

1. nDCG@10 of vector, keyword (BM25) and every fusion method, in three scenarios: the real
   queries; a much weaker keyword leg (the keyword query cut to its first two words); a much
   weaker vector leg (Gaussian noise added to the query embedding). The scenarios stand in for
   datasets where one leg is far behind the other (as BM25 is on FiQA).
   Fusion methods rank with exact BM25 unless they say "keyword index".
2. p50/p99 latency of vector (exact and HNSW), keyword and hybrid search (exact BM25 and keyword
   index) on the collection, from a precomputed query embedding and from the query text (the
   model's embedding included).
3. What the keyword index costs writes: the corpus copied into a collection with SQL, and
   single-document upserts, with and without it.
Prints markdown tables and writes bench/results/hybrid-<split>.json and docs/bench_hybrid.png.
`--plot-only` redraws the figure from that JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import time
from datetime import date
from pathlib import Path

import numpy as np
from common import hybrid_search, keyword_search, vector_search
from tqdm import tqdm

import vecpg
from vecpg.evaluation import ensure_loaded, load_dataset, ndcg_at

EXACT = {"keyword_index": False}
METHODS = {
    "adaptive (default)": EXACT,
    "rrf": {"method": "rrf", **EXACT},
    "rrf 0.7/0.3": {"method": "rrf", "vector_weight": 0.7, "keyword_weight": 0.3, **EXACT},
    "convex 0.7/0.3": {"method": "convex", **EXACT},
    "convex 0.5/0.5": {"method": "convex", "vector_weight": 0.5, "keyword_weight": 0.5, **EXACT},
    # The keyword list from the keyword index (the best 100 postings of each query term).
    "adaptive, keyword index": {},
    "rrf, keyword index": {"method": "rrf"},
}


def weak_text(text: str) -> str:
    words = re.findall(r"[A-Za-z]{4,}", text)
    return " ".join(words[:2]) or text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"))
    parser.add_argument("--split", default="test")
    parser.add_argument("--collection", default="bench_hybrid")
    parser.add_argument("--url", default=None)
    parser.add_argument("--noise", type=float, default=0.09, help="std of the noise added for the weak-vector scenario")
    parser.add_argument("--plot-only", action="store_true", help="redraw docs/bench_hybrid.png from the last results")
    args = parser.parse_args()
    results_file = Path(__file__).resolve().parent / "results" / f"hybrid-{args.split}.json"
    figure = Path(__file__).resolve().parents[1] / "docs" / "bench_hybrid.png"
    if args.plot_only:
        plot(json.loads(results_file.read_text()), figure)
        return

    store = vecpg.connect(args.url)
    coll = store.get_or_create_collection(args.collection)
    data = load_dataset(args.data, args.split)
    ensure_loaded(coll, data, progress=True)
    coll.drop_index()
    coll.enable_keyword_index()
    with store.connection() as conn:
        conn.execute(f"VACUUM ANALYZE vecpg_postings.{args.collection}")
    queries = data.judged_queries()
    qids = list(queries)
    vectors = coll.embedder().embed([queries[q] for q in qids])
    rng = np.random.default_rng(0)
    noisy = vectors + rng.normal(scale=args.noise, size=vectors.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    scenarios = {
        "real queries": (vectors, lambda t: t),
        "weak keyword leg": (vectors, weak_text),
        "weak vector leg": (noisy, lambda t: t),
    }

    quality: dict[str, dict[str, float]] = {}
    for name, (qv, text_of) in scenarios.items():
        scores: dict[str, float] = {"vector": 0.0, "keyword": 0.0, **{m: 0.0 for m in METHODS}}
        for i, qid in enumerate(tqdm(qids, desc=name)):
            judged, text = data.qrels[qid], text_of(queries[qid])
            scores["vector"] += ndcg_at([r.id for r in vector_search(coll, qv[i], 10)], judged)
            scores["keyword"] += ndcg_at([r.id for r in keyword_search(coll, text, 10)], judged)
            for method, options in METHODS.items():
                scores[method] += ndcg_at([r.id for r in hybrid_search(coll, text, qv[i], 10, None, options)], judged)
        quality[name] = {m: round(v / len(qids), 4) for m, v in scores.items()}

    def timed(runs: dict, rounds: int = 3) -> dict[str, tuple[float, float]]:
        """p50/p99 ms of each run over every query; runs take turns, so drift hits all alike."""
        samples: dict[str, list[float]] = {name: [] for name in runs}
        for r in range(rounds):
            for i in range(len(qids)):
                for name, run in runs.items():
                    start = time.perf_counter()
                    run(i)
                    if r:  # the first round warms caches and prepared statements
                        samples[name].append((time.perf_counter() - start) * 1000)
        return {name: (round(float(np.percentile(s, 50)), 2), round(float(np.percentile(s, 99)), 2))
                for name, s in samples.items()}

    latency = timed({
        "vector, exact scan": lambda i: coll.search(vectors[i], k=10),
        "hybrid, exact vector scan, exact BM25": lambda i: hybrid_search(coll, queries[qids[i]], vectors[i], 10, None, EXACT),
        "hybrid, exact vector scan, keyword index": lambda i: hybrid_search(coll, queries[qids[i]], vectors[i], 10),
    })
    coll.create_index(vecpg.HNSW())
    with store.connection() as conn:
        conn.execute(f"ANALYZE vecpg_data.{args.collection}")
    latency.update(timed({
        "vector, HNSW": lambda i: coll.search(vectors[i], k=10),
        "keyword (BM25)": lambda i: keyword_search(coll, queries[qids[i]], 10),
        "hybrid, HNSW, exact BM25": lambda i: hybrid_search(coll, queries[qids[i]], vectors[i], 10, None, EXACT),
        "hybrid, HNSW, keyword index": lambda i: hybrid_search(coll, queries[qids[i]], vectors[i], 10),
        # What an application sees: the query text in, the model's embedding included.
        "vector from text (embedding included), HNSW": lambda i: coll.search(queries[qids[i]], k=10),
        "hybrid from text (embedding included), HNSW": lambda i: coll.search(queries[qids[i]], k=10, mode="hybrid"),
    }))
    coll.drop_index()
    writes = write_cost(store, coll, vectors[0])

    result = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "documents": coll.count(), "queries": len(qids), "split": args.split,
              "quality_ndcg@10": quality, "latency_ms_p50_p99": latency, "writes": writes}
    results_file.parent.mkdir(exist_ok=True)
    results_file.write_text(json.dumps(result, indent=2))
    plot(result, figure)

    columns = ["vector", "keyword", *METHODS]
    print(f"\nnDCG@10, {len(qids)} {args.split} queries, {coll.count()} documents\n")
    print("| scenario | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, row in quality.items():
        print(f"| {name} | " + " | ".join(f"{row[c]:.4f}" for c in columns) + " |")
    print("\n| search | p50 ms | p99 ms |\n|---|---|---|")
    for name, (p50, p99) in latency.items():
        print(f"| {name} | {p50} | {p99} |")
    print("\n| write | without keyword index | with | ratio |\n|---|---|---|---|")
    for name, (without, with_index) in writes.items():
        print(f"| {name} | {without} | {with_index} | {with_index / without:.2f}x |")
    store.close()


def write_cost(store: vecpg.Store, source: vecpg.Collection, vector: np.ndarray) -> dict[str, tuple[float, float]]:
    """Copy the corpus into a scratch collection with SQL (seconds) and upsert 200 single documents
    (p50 ms), without and then with a keyword index; the two runs take turns, three rounds."""
    copy = ("INSERT INTO vecpg_data.bench_writes (id, title, content, embedding) "
            f"SELECT id, title, content, embedding FROM vecpg_data.{source.name}")
    samples: dict[str, dict[bool, list[float]]] = {"copy corpus (s)": {False: [], True: []},
                                                   "upsert 1 document, p50 (ms)": {False: [], True: []}}
    for _ in range(3):
        for indexed in (False, True):
            store.drop_collection("bench_writes", missing_ok=True)
            scratch = store.create_collection("bench_writes", dimension=source.dimension)
            if indexed:
                scratch.enable_keyword_index()
            with store.connection() as conn:
                start = time.perf_counter()
                conn.execute(copy)  # type: ignore[arg-type]
                samples["copy corpus (s)"][indexed].append(time.perf_counter() - start)
            one = []
            for n in range(200):
                start = time.perf_counter()
                scratch.upsert([{"id": f"new{n}", "content": f"Document {n} about protein folding and gene expression",
                                 "embedding": vector}])
                one.append((time.perf_counter() - start) * 1000)
            samples["upsert 1 document, p50 (ms)"][indexed].append(float(np.median(one)))
    store.drop_collection("bench_writes")
    return {name: (round(float(np.median(runs[False])), 3), round(float(np.median(runs[True])), 3))
            for name, runs in samples.items()}


def plot(result: dict, path: Path) -> None:
    """nDCG@10 of each single list and fusion method, one group of bars per scenario."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quality = result["quality_ndcg@10"]
    scenarios = list(quality)
    methods = list(next(iter(quality.values())))
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(11, 4.5))
    for m, method in enumerate(methods):
        xs = [s + (m - (len(methods) - 1) / 2) * width for s in range(len(scenarios))]
        ax.bar(xs, [quality[s][method] for s in scenarios], width, label=method,
               hatch="//" if method in ("vector", "keyword") else None)
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.set_ylabel("nDCG@10")
    ax.set_ylim(0.2, 0.8)
    ax.set_title(f"Hybrid fusion on SciFact ({result['queries']} {result['split']} queries, "
                 f"{result['documents']:,} documents), {result['date']}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
