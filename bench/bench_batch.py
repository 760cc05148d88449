"""Batch search benchmark: queries per second of ``search`` in a loop against ``search_many`` at
batch 1, 16 and 64, with Qdrant Edge's batch query (``EdgeShard.query_batch``, what Qdrant's
``search_batch`` is in the embedded engine) and Edge's single queries as the anchor.

Run by hand (not a test):
    VECPG_HOME=$(mktemp -d) python bench/bench_batch.py [--n 20000] [--queries 640] [--rounds 3] [--url URL]

One collection of clustered 384-d vectors (bench/common.py: 200 centres, seed 7; data seed 1,
queries seed 2), cosine, HNSW m 16 / ef_construction 64 in PostgreSQL and in an Edge shard in a
temporary directory (m 16, ef_construct 64, built by ``optimize``). k = 10, at two search
widths (``ef_search`` / ``hnsw_ef`` 40 and 100). Each run answers every query once per round;
runs take turns block by block (64 queries) in a rotating order, so that the machine's noise
falls on all of them alike; QPS is queries / time over all rounds, recall@10 is against exact
neighbours (brute force). vecpg returns id, title, content (``point <i>``), metadata and
distance; Edge returns ids and scores (no payload). The SQL function ``vecpg.search_many`` is
timed too, called through a plain psycopg connection.

Prints a markdown table; writes bench/results/batch.json; drops its collection at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import qdrant_edge as qe
from pgvector.psycopg import register_vector
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DIM, centres, clustered, ground_truth

import vecpg
from vecpg.db.connection import resolve_url

NAME = "bench_batch"
K = 10
BATCHES = (1, 16, 64)
EFS = (40, 100)

# A run answers a list of queries and returns each query's ids (row numbers).
Run = Callable[[np.ndarray], list[list[int]]]


def chunks(queries: np.ndarray, size: int) -> list[np.ndarray]:
    return [queries[i:i + size] for i in range(0, len(queries), size)]


def vecpg_runs(coll: vecpg.Collection, ef: int) -> dict[str, Run]:
    def loop(queries: np.ndarray) -> list[list[int]]:
        return [[int(h.id) for h in coll.search(q, k=K, ef_search=ef)] for q in queries]

    def batched(size: int) -> Run:
        def run(queries: np.ndarray) -> list[list[int]]:
            return [[int(h.id) for h in hits] for part in chunks(queries, size)
                    for hits in coll.search_many(part, k=K, ef_search=ef)]
        return run

    runs: dict[str, Run] = {"vecpg search, loop": loop}
    runs.update({f"vecpg search_many, batch {b}": batched(b) for b in BATCHES})
    return runs


def sql_runs(conn: psycopg.Connection, ef: int) -> dict[str, Run]:
    options = json.dumps({"ef_search": ef})

    def batched(size: int) -> Run:
        def run(queries: np.ndarray) -> list[list[int]]:
            out: list[list[int]] = []
            for part in chunks(queries, size):
                rows = conn.execute("SELECT query_no, id FROM vecpg.search_many(%s, %b, %s, '{}', %s)",
                                    (NAME, list(part), K, options)).fetchall()
                found: list[list[int]] = [[] for _ in part]
                for n, doc in rows:
                    found[n - 1].append(int(doc))
                out.extend(found)
            return out
        return run

    return {f"SQL vecpg.search_many, batch {b}": batched(b) for b in (1, 64)}


def edge_runs(shard: qe.EdgeShard, ef: int) -> dict[str, Run]:
    params = qe.SearchParams(hnsw_ef=ef)

    def request(q: np.ndarray) -> qe.QueryRequest:
        return qe.QueryRequest(limit=K, query=qe.Query.Nearest(q.tolist()), with_payload=False, params=params)

    def loop(queries: np.ndarray) -> list[list[int]]:
        return [[int(p.id) for p in shard.query(request(q))] for q in queries]

    def batched(size: int) -> Run:
        def run(queries: np.ndarray) -> list[list[int]]:
            return [[int(p.id) for p in hits] for part in chunks(queries, size)
                    for hits in shard.query_batch(qe.QueryBatchRequest([request(q) for q in part]))]
        return run

    runs: dict[str, Run] = {"Qdrant Edge query, loop": loop}
    runs.update({f"Qdrant Edge query_batch, batch {b}": batched(b) for b in BATCHES})
    return runs


def measure(runs: dict[str, Run], queries: np.ndarray, truth: list[set[int]], rounds: int) -> dict[str, dict[str, Any]]:
    """Every run answers the same block of 64 queries in turn, the order rotating from block to
    block and round to round: on a shared machine, load that comes and goes then falls on every
    run alike. QPS: queries answered / time spent, over all rounds."""
    names = list(runs)
    blocks = chunks(queries, max(BATCHES))
    for run in runs.values():  # warm: the first pass reads index pages
        run(blocks[0])
    spent = dict.fromkeys(names, 0.0)
    found: dict[str, list[list[int]]] = {name: [] for name in names}
    for r in tqdm(range(rounds), desc="rounds"):
        for b, block in enumerate(blocks):
            shift = (b + r) % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                ids = runs[name](block)
                spent[name] += time.perf_counter() - start
                if r == rounds - 1:
                    found[name].extend(ids)
    return {name: {"qps": round(rounds * len(queries) / spent[name], 1),
                   "recall@10": round(float(np.mean([len(set(f) & t) / K for f, t in zip(found[name], truth)])), 4)}
            for name in names}


def edge_shard(path: str, data: np.ndarray) -> qe.EdgeShard:
    shard = qe.EdgeShard.create(path, qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine),
        hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=64, full_scan_threshold=10_000)))
    for lo in tqdm(range(0, len(data), 1000), desc="Edge upsert"):
        shard.update(qe.UpdateOperation.upsert_points(
            [qe.Point(id=i, vector=data[i].tolist(), payload={}) for i in range(lo, min(lo + 1000, len(data)))]))
    shard.optimize()
    shard.flush()
    return shard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=640)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()

    url = resolve_url(args.url)
    c = centres()
    data = clustered(args.n, 1, c)
    queries = clustered(args.queries, 2, c)
    truth = ground_truth(data, queries, K)
    results: dict[str, Any] = {"date": date.today().isoformat(), "n": args.n, "queries": args.queries,
                               "rounds": args.rounds, "machine": f"{platform.machine()}, {os.cpu_count()} cores"}

    store = vecpg.connect(url, migrate_schema=True)
    store.drop_collection(NAME, missing_ok=True)
    coll = store.create_collection(NAME, dimension=DIM)
    start = time.perf_counter()
    coll.load(({"id": str(i), "content": f"point {i}", "embedding": v} for i, v in enumerate(data)), progress=True,
              total=args.n)
    coll.create_index(vecpg.HNSW(m=16, ef_construction=64), progress=True)
    results["postgres_load_and_build_s"] = round(time.perf_counter() - start, 1)

    edge_dir = tempfile.mkdtemp(prefix="vecpg-bench-batch-")
    start = time.perf_counter()
    shard = edge_shard(str(Path(edge_dir) / NAME), data)
    results["edge_load_and_build_s"] = round(time.perf_counter() - start, 1)

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            register_vector(conn)
            for ef in EFS:
                runs = {**vecpg_runs(coll, ef), **sql_runs(conn, ef), **edge_runs(shard, ef)}
                results[f"ef {ef}"] = measure(runs, queries, truth, args.rounds)
    finally:
        shard.close()
        shutil.rmtree(edge_dir, ignore_errors=True)
        store.drop_collection(NAME, missing_ok=True)
        store.close()

    print(f"\n{args.n:,} clustered {DIM}-d vectors, k {K}, {args.queries} queries, {args.rounds} rounds\n")
    for ef in EFS:
        measured = results[f"ef {ef}"]
        loop = measured["vecpg search, loop"]["qps"]
        edge_loop = measured["Qdrant Edge query, loop"]["qps"]
        print(f"ef_search / hnsw_ef {ef}\n")
        print("| run | QPS | x vecpg loop | x Edge loop | recall@10 |\n|---|---:|---:|---:|---:|")
        for name, m in measured.items():
            print(f"| {name} | {m['qps']:,.0f} | {m['qps'] / loop:.2f} | {m['qps'] / edge_loop:.2f} | {m['recall@10']:.3f} |")
        print()
    out = Path(__file__).resolve().parent / "results" / "batch.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
