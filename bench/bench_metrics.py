"""What Prometheus metrics cost a search: the same searches with metrics off and on, in blocks
that take turns (issue 25). Run by hand from the repository root:

    VECPG_HOME=$(mktemp -d) python bench/bench_metrics.py [--n 20000] [--queries 500] [--rounds 6]

Data: ``--n`` clustered 384-d vectors (bench/common.py), an HNSW index with vecpg's defaults,
``--queries`` query vectors; each block runs every query once (k 10, vector mode) with metrics
off (``vecpg.metrics.disable()``) or on (``enable()`` on a fresh registry). Prints the mean
microseconds per search of each side and the difference.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import prometheus_client
from common import centres, clustered  # type: ignore[import-not-found]

import vecpg
from vecpg import metrics


def block(coll: vecpg.Collection, queries: np.ndarray) -> float:
    start = time.perf_counter()
    for q in queries:
        coll.search(q, k=10, mode="vector")
    return (time.perf_counter() - start) / len(queries) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    c = centres()
    data, queries = clustered(args.n, 1, c), clustered(args.queries, 2, c)
    with vecpg.connect() as store:
        store.drop_collection("bench_metrics", missing_ok=True)
        coll = store.create_collection("bench_metrics", dimension=data.shape[1])
        coll.load({"id": str(i), "embedding": v} for i, v in enumerate(data))
        coll.create_index()
        block(coll, queries)  # warm-up
        off, on = [], []
        for _ in range(args.rounds):
            metrics.disable()
            off.append(block(coll, queries))
            metrics.enable(prometheus_client.CollectorRegistry())
            on.append(block(coll, queries))
        metrics.disable()
        store.drop_collection("bench_metrics")
    print(f"{args.n:,} x {data.shape[1]}-d, {args.queries} queries x {args.rounds} rounds, k 10")
    print("| metrics | µs per search (median of rounds) |\n|---|---:|")
    print(f"| off | {np.median(off):.1f} |\n| on | {np.median(on):.1f} |")
    print(f"on - off: {np.median(on) - np.median(off):+.1f} µs per search")


if __name__ == "__main__":
    main()
