"""The search path through the Qdrant mirror against Qdrant Edge queried directly and vecpg's
PostgreSQL search, for the same fields, interleaved in one run.

Run by hand (not a test):
    VECPG_QDRANT_PATH=$(mktemp -d) python bench/bench_mirror_path.py [--n 20000] [--queries 200]
        [--rounds 5] [--batches 16,64] [--url URL]

One collection of ``--n`` clustered 384-d vectors (common.py), each with a title, a 300-character
content and metadata, in PostgreSQL (HNSW m 16, ef_construction 64; searched at vecpg's defaults)
and mirrored to Qdrant Edge in this process (HNSW m 16, ef_construct 64). For two sets of fields,
ids and scores (``include=()``) and all of them (title, content, metadata), each query runs:

- ``coll.search(q, k=10)``: PostgreSQL;
- ``coll.search(q, k=10, backend="qdrant")``: through the mirror (state check, tenant filter,
  SearchResult objects);
- Edge direct: ``EdgeShard.query`` on the mirror's own shard with the same payload fields
  (``with_payload=False`` for ids: the point ids are the document ids here), the points' ids,
  scores and payloads read into Python.

and, per batch size, ``vecpg.mirror.search.mirror_search_many`` against ``EdgeShard.query_batch``.
Each query runs the runs in a new random order (see measure). QPS is queries / wall time
(batches: queries of all batches / their time), recall@10 against brute force. The ratio the
target is about: mirror QPS / Edge direct QPS, per set of fields. Wall time is what callers
see; the CPU time of this process is printed beside it for the in-process paths, as it moves less
when other processes share the cores.

Without ``mirror_search_many`` (an older vecpg on PYTHONPATH, for before/after figures) the
batch rows are skipped. Prints markdown, writes bench/results/mirror_path.json, drops its
collection.
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
import qdrant_edge as qe
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DIM, centres, clustered, ground_truth

import vecpg

NAME = "bench_mirror_path"
K = 10
ALL = ("title", "content", "metadata")
WORDS = ["vector", "search", "mirror", "qdrant", "postgres", "index", "query", "payload", "tenant", "filter", "recall", "latency"]

Run = Callable[[np.ndarray], list[list[int]]]  # a batch of queries -> ids per query


def documents(n: int, data: np.ndarray) -> Any:
    rng = np.random.default_rng(5)
    for i in range(n):
        words = rng.choice(WORDS, 40)
        yield {"id": str(i), "title": f"document {i}", "content": " ".join(words)[:300],
               "metadata": {"cluster": int(i % 200), "n": i, "tag": str(words[0])}, "embedding": data[i]}


def read(scored: list[qe.ScoredPoint]) -> list[int]:
    """What a caller of Edge takes from its points (id, score, payload), and the ids for recall."""
    points = [(p.id, p.score, p.payload) for p in scored]
    return [int(pid) for pid, _, _ in points]


def measure(runs: dict[str, Run], queries: np.ndarray, truth: list[set[int]], batch: int, rounds: int
            ) -> dict[str, dict[str, Any]]:
    """Wall and CPU time of each run over the queries in batches of ``batch``, the runs in a new
    random order for each batch; recall@10 of what they found.

    Not rotated: a rotation keeps the cyclic order, so one run always follows the same other,
    and the run after PostgreSQL's (whose round trip lets other processes take the core) paid
    for the cold caches every time: Edge direct measured 1.6x slower behind PostgreSQL than
    before it."""
    names = list(runs)
    rng = np.random.default_rng(3)
    starts = range(0, len(queries) - batch + 1, batch)
    for run in runs.values():  # warm-up
        for lo in list(starts)[:10]:
            run(queries[lo:lo + batch])
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    recall: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for lo in tqdm(starts, desc=f"batch {batch}, round {r + 1}/{rounds}", leave=False):
            for name in rng.permutation(names):
                c0, w0 = time.process_time(), time.perf_counter()
                found = runs[name](queries[lo:lo + batch])
                wall[name].append(time.perf_counter() - w0)
                cpu[name].append(time.process_time() - c0)
                recall[name] += [len(set(f) & truth[lo + j]) / K for j, f in enumerate(found)]
    out = {}
    for name in names:
        w, c = np.array(wall[name]), np.array(cpu[name])
        out[name] = {"qps": round(batch / float(w.mean()), 1), "p50_ms": round(float(np.median(w)) * 1000 / batch, 4),
                     "cpu_us_per_query": round(float(c.mean()) * 1e6 / batch, 1),
                     f"recall@{K}": round(float(np.mean(recall[name])), 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", default="16,64", help="batch sizes for the batch rows ('' for none)")
    parser.add_argument("--url", default=None)
    args = parser.parse_args()

    own_dir = not os.environ.get("VECPG_QDRANT_PATH", "").strip()
    if own_dir:
        os.environ["VECPG_QDRANT_PATH"] = tempfile.mkdtemp(prefix="vecpg-bench-mirror-path-")
    store = vecpg.connect(args.url, migrate_schema=True)
    c = centres()
    data = clustered(args.n, 1, c)
    queries = clustered(args.queries, 2, c)
    truth = ground_truth(data, queries)
    results: dict[str, Any] = {"date": date.today().isoformat(), "n": args.n, "queries": args.queries,
                               "rounds": args.rounds, "machine": f"{platform.machine()}, {os.cpu_count()} cores"}

    store.drop_collection(NAME, missing_ok=True)
    coll = store.create_collection(NAME, dimension=DIM)
    coll.load(documents(args.n, data), progress=True, total=args.n)
    print("PostgreSQL HNSW (m 16, ef_construction 64)...", flush=True)
    coll.create_index(vecpg.HNSW(m=16, ef_construction=64))
    with store.connection() as conn:
        conn.execute(f"VACUUM ANALYZE vecpg_data.{NAME}")
    print("mirroring (full copy and Edge HNSW build)...", flush=True)
    start = time.perf_counter()
    coll.enable_mirror()
    coll.sync_mirror()
    results["mirror_copy_s"] = round(time.perf_counter() - start, 1)

    store.mirror_fallback = "error"  # a fallback to PostgreSQL must not pass for the mirror
    shard = store.mirror_backend()._shard(NAME)

    def postgres(include: tuple[str, ...] | None) -> Run:
        return lambda qs: [[int(h.id) for h in coll.search(q, k=K, include=include)] for q in qs]

    def mirror(include: tuple[str, ...] | None) -> Run:
        return lambda qs: [[int(h.id) for h in coll.search(q, k=K, backend="qdrant", include=include)] for q in qs]

    def edge(payload: bool | list[str]) -> Run:
        def run(qs: np.ndarray) -> list[list[int]]:
            out = []
            for q in qs:
                scored = shard.query(qe.QueryRequest(limit=K, query=qe.Query.Nearest(q.tolist()), with_payload=payload,
                                                     with_vector=False))
                out.append(read(scored))
            return out
        return run

    runs: dict[str, Run] = {}
    for label, include, payload in (("ids", (), False), ("all fields", None, ["doc_id", *ALL])):
        runs[f"PostgreSQL, {label}"] = postgres(include)
        runs[f"mirror, {label}"] = mirror(include)
        runs[f"Edge direct, {label}"] = edge(payload)
    results["single"] = measure(runs, queries, truth, 1, args.rounds)

    try:
        from vecpg.mirror.search import mirror_search_many
    except ImportError:
        mirror_search_many = None
    results["batch"] = {}
    for batch in [int(b) for b in args.batches.split(",") if b] if mirror_search_many else []:
        def many(fields: tuple[str, ...]) -> Run:
            return lambda qs: [[int(h.id) for h in hits] for hits in mirror_search_many(coll, qs, K, {}, fields)]

        def edge_batch(payload: bool | list[str]) -> Run:
            def run(qs: np.ndarray) -> list[list[int]]:
                request = qe.QueryBatchRequest([qe.QueryRequest(limit=K, query=qe.Query.Nearest(q), with_payload=payload,
                                                                with_vector=False) for q in qs.tolist()])
                return [read(scored) for scored in shard.query_batch(request)]
            return run

        batch_runs: dict[str, Run] = {}
        for label, fields, payload in (("ids", (), False), ("all fields", ALL, ["doc_id", *ALL])):
            batch_runs[f"mirror_search_many, {label}"] = many(fields)
            batch_runs[f"Edge query_batch, {label}"] = edge_batch(payload)
        # As many batches as single searches were timed, not len(queries) / batch of them.
        results["batch"][batch] = measure(batch_runs, queries, truth, batch, args.rounds * batch)

    with store.connection() as conn:
        results["postgres"] = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]
    results["pgvector"] = ".".join(map(str, store.pgvector_version))
    from importlib.metadata import version
    results["qdrant_edge"] = version("qdrant-edge-py")
    coll.disable_mirror()
    store.drop_collection(NAME)
    store.close()
    if own_dir:
        shutil.rmtree(os.environ["VECPG_QDRANT_PATH"], ignore_errors=True)
    outdir = Path(__file__).resolve().parent / "results"
    outdir.mkdir(exist_ok=True)
    (outdir / "mirror_path.json").write_text(json.dumps(results, indent=2))
    report(results)


def report(r: dict[str, Any]) -> None:
    print(f"\n{r['n']:,} x {DIM}-d, k = {K}, {r['queries']} queries x {r['rounds']} rounds, {r['postgres']}, "
          f"pgvector {r['pgvector']}, qdrant-edge-py {r['qdrant_edge']}, {r['machine']}\n")
    print("| search, one client | QPS | p50 ms | CPU us/query | recall@10 |\n|---|---|---|---|---|")
    for name, s in r["single"].items():
        print(f"| {name} | {s['qps']:,} | {s['p50_ms']} | {s['cpu_us_per_query']} | {s[f'recall@{K}']} |")
    for batch, rows in r["batch"].items():
        print(f"\n| batch of {batch} | QPS | p50 ms per query | CPU us/query | recall@10 |\n|---|---|---|---|---|")
        for name, s in rows.items():
            print(f"| {name} | {s['qps']:,} | {s['p50_ms']} | {s['cpu_us_per_query']} | {s[f'recall@{K}']} |")
    print()
    s = r["single"]
    for label in ("ids", "all fields"):
        mir, edge, pg = s[f"mirror, {label}"], s[f"Edge direct, {label}"], s[f"PostgreSQL, {label}"]
        print(f"{label}: mirror / Edge direct QPS {mir['qps'] / edge['qps']:.2f} (p50 {edge['p50_ms'] / mir['p50_ms']:.2f}, "
              f"CPU {edge['cpu_us_per_query'] / mir['cpu_us_per_query']:.2f}); mirror / PostgreSQL QPS "
              f"{mir['qps'] / pg['qps']:.2f}")
    for batch, rows in r["batch"].items():
        for label in ("ids", "all fields"):
            mir, edge = rows[f"mirror_search_many, {label}"], rows[f"Edge query_batch, {label}"]
            print(f"batch {batch}, {label}: mirror_search_many / Edge query_batch QPS {mir['qps'] / edge['qps']:.2f}; "
                  f"/ single searches through the mirror {mir['qps'] / s[f'mirror, {label}']['qps']:.2f}")


if __name__ == "__main__":
    main()
