"""Filtered ANN: with a filter matching 1% of 50,000 rows, HNSW and IVFFlat still return k rows.

Run by hand (not a test):  python bench/bench_filtered.py [--n 50000] [--dim 384] [--url URL]

Reports, per index and per filter kind (a range, which no metadata index serves, and an equality,
which the GIN index can), how many of k=10 rows come back and recall@10 against the exact
filtered answer, with pgvector 0.8's iterative scans (vecpg's default for filtered searches)
and without them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import vecpg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(100, args.dim))
    data = (centres[rng.integers(0, 100, args.n)] + 0.35 * rng.normal(size=(args.n, args.dim))).astype(np.float32)
    queries = (centres[rng.integers(0, 100, args.queries)] + 0.35 * rng.normal(size=(args.queries, args.dim))).astype(np.float32)
    unit = data / np.linalg.norm(data, axis=1, keepdims=True)
    selected = np.arange(args.n) % 100 == 7  # 1%
    filters = {"range (n < 1%)": ({"n": {"$lt": args.n // 100}}, np.arange(args.n) < args.n // 100),
               "equality (bucket = 7)": ({"bucket": 7}, selected)}

    store = vecpg.connect(args.url)
    store.drop_collection("bench_filtered", missing_ok=True)
    coll = store.create_collection("bench_filtered", dimension=args.dim)
    coll.load(({"id": str(i), "embedding": data[i], "metadata": {"n": i, "bucket": i % 100}} for i in range(args.n)),
              progress=True, total=args.n)
    print(f"\n{args.n:,} x {args.dim}-d, k = 10, {args.queries} queries\n")
    print("| index | filter | iterative scan | rows returned (mean) | recall@10 | p50 ms |\n|---|---|---|---|---|---|")
    for index in (vecpg.HNSW(), vecpg.IVFFlat()):
        coll.create_index(index)
        with store.connection() as conn:
            conn.execute("ANALYZE vecpg_data.bench_filtered")
        for fname, (flt, mask) in filters.items():
            for scan in ("relaxed_order", "off"):
                returned, recalls, times = [], [], []
                for q in queries:
                    sims = np.where(mask, unit @ (q / np.linalg.norm(q)), -np.inf)
                    truth = {str(i) for i in np.argsort(-sims)[:10]}
                    start = time.perf_counter()
                    hits = coll.search(q, k=10, filter=flt, iterative_scan=scan, probes=10)
                    times.append((time.perf_counter() - start) * 1000)
                    returned.append(len(hits))
                    recalls.append(len({h.id for h in hits} & truth) / 10)
                print(f"| {index.method} | {fname} | {scan} | {np.mean(returned):.1f} | {np.mean(recalls):.3f} | "
                      f"{np.percentile(times, 50):.2f} |")
    store.drop_collection("bench_filtered")
    store.close()


if __name__ == "__main__":
    main()
