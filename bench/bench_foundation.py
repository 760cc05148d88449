"""Foundation benchmark: bulk load and HNSW search through vecpg against raw psycopg, vecs and
langchain-postgres, on the same database, in one run.

Run by hand (not a test):  python bench/bench_foundation.py [--n 100000] [--queries 200] [--url URL]

Without --url it uses vecpg's embedded server (VECPG_HOME decides which). It creates its own
tables, drops them at the end, prints markdown tables, writes bench/results/foundation.json and
docs/bench_foundation.png. Loopback / Unix socket only; stops by itself.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from tqdm import tqdm

import vecpg
from vecpg.db.connection import resolve_url, sqlalchemy_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The generator and exact neighbours live in common.py; re-exported here for bench_mirror & co.
from common import DIM, clustered, ground_truth

RAW_SQL = (
    "SELECT id, title, content, metadata, embedding <=> %(q)s AS distance FROM vecpg_data.{table} "
    "WHERE embedding IS NOT NULL ORDER BY embedding <=> %(q)s LIMIT 10"
)


def measure(runs: dict[str, Callable[[np.ndarray], list[int]]], queries: np.ndarray, truth: list[set[int]],
            rounds: int = 3) -> dict[str, dict[str, Any]]:
    """Latency and recall of several clients, interleaved query by query so drift hits all alike."""
    for run in runs.values():
        for q in queries[:20]:
            run(q)
    latencies: dict[str, list[float]] = {name: [] for name in runs}
    recalls: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for q, expected in tqdm(list(zip(queries, truth)), desc="search " + ", ".join(runs), leave=False):
            for name, run in runs.items():
                start = time.perf_counter()
                found = run(q)
                latencies[name].append((time.perf_counter() - start) * 1000)
                recalls[name].append(len(set(found) & expected) / 10)
    out = {}
    for name in runs:
        lat = np.array(latencies[name])
        out[name] = {"p50_ms": round(float(np.percentile(lat, 50)), 3), "p99_ms": round(float(np.percentile(lat, 99)), 3),
                     "qps": round(1000 / float(lat.mean()), 1), "recall@10": round(float(np.mean(recalls[name])), 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--url", default=None)
    parser.add_argument("--skip", default="", help="comma-separated: vecs,langchain")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    # vecs and langchain-postgres pin pgvector (the Python package) below what vecpg needs, so the
    # [bench] extra leaves them out; bench_suite.py runs them in a virtualenv of their own.
    absent = {name for name, module in (("vecs", "vecs"), ("langchain", "langchain_postgres"))
              if name not in skip and importlib.util.find_spec(module) is None}
    if absent:
        print(f"skipping {', '.join(sorted(absent))}: not installed here (bench_suite.py measures them)")
        skip |= absent

    url = resolve_url(args.url)
    store = vecpg.connect(url, migrate_schema=True)
    centres = np.random.default_rng(7).normal(size=(200, DIM))
    data = clustered(args.n, 1, centres)
    queries = clustered(args.queries, 2, centres)
    print(f"ground truth for {args.queries} queries over {args.n} vectors...")
    truth = ground_truth(data, queries)
    ids = [str(i) for i in range(args.n)]
    results: dict[str, Any] = {"date": date.today().isoformat(), "n": args.n, "queries": args.queries}

    # -- bulk load: vecpg against raw binary COPY into an identical collection table -----------------
    def load_vecpg() -> float:
        store.drop_collection("bench_vecpg", missing_ok=True)
        coll = store.create_collection("bench_vecpg", dimension=DIM)
        start = time.perf_counter()
        coll.load({"id": ids[i], "embedding": data[i]} for i in range(args.n))
        return args.n / (time.perf_counter() - start)

    def load_raw() -> float:
        store.drop_collection("bench_raw", missing_ok=True)
        store.create_collection("bench_raw", dimension=DIM)
        with psycopg.connect(url) as conn:
            register_vector(conn)
            start = time.perf_counter()
            with conn.cursor().copy("COPY vecpg_data.bench_raw (id, embedding) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["text", "vector"])
                for i in range(args.n):
                    copy.write_row((ids[i], data[i]))
            conn.commit()
            return args.n / (time.perf_counter() - start)

    vecpg_rates, raw_rates = [], []
    for _ in tqdm(range(3), desc="bulk loads (vecpg, raw) x3"):
        vecpg_rates.append(load_vecpg())
        raw_rates.append(load_raw())
    results["load_rows_per_s"] = {"vecpg": round(max(vecpg_rates)), "raw_copy": round(max(raw_rates)),
                                  "all_vecpg": [round(r) for r in vecpg_rates], "all_raw": [round(r) for r in raw_rates]}
    store.drop_collection("bench_raw")

    coll = store.collection("bench_vecpg")
    start = time.perf_counter()
    coll.create_index(vecpg.HNSW(m=16, ef_construction=64), progress=True)
    results["hnsw_build_s"] = round(time.perf_counter() - start, 1)
    with store.connection() as conn:
        conn.execute("VACUUM ANALYZE vecpg_data.bench_vecpg")
        # Warm the index into shared buffers for every client alike.
        conn.execute("SELECT count(*) FROM vecpg_data.bench_vecpg")

    search: dict[str, dict[str, Any]] = {}
    raw = psycopg.connect(url, autocommit=True)
    register_vector(raw)
    raw_sql = RAW_SQL.format(table="bench_vecpg")
    for ef in (40, 100):
        raw.execute(f"SET hnsw.ef_search = {ef}")
        tuning = {} if ef == 40 else {"ef_search": ef}
        search.update(measure({
            f"raw psycopg, ef_search {ef}": lambda q: [int(r[0]) for r in raw.execute(raw_sql, {"q": q}).fetchall()],
            f"vecpg, ef_search {ef}": lambda q, t=tuning: [int(h.id) for h in coll.search(q, k=10, **t)],
        }, queries, truth))
    raw.execute("RESET hnsw.ef_search")

    loads: dict[str, float] = {}
    if "vecs" not in skip:
        import vecs

        client = vecs.create_client(sqlalchemy_url(url).replace("+psycopg", "+psycopg2"))
        client.delete_collection("bench_vecs")
        docs = client.get_or_create_collection(name="bench_vecs", dimension=DIM)
        start = time.perf_counter()
        batch = 2000
        for lo in tqdm(range(0, args.n, batch), desc="load vecs"):
            docs.upsert(records=[(ids[i], data[i].tolist(), {}) for i in range(lo, min(lo + batch, args.n))])
        loads["vecs"] = round(args.n / (time.perf_counter() - start))
        docs.create_index(method=vecs.IndexMethod.hnsw, measure=vecs.IndexMeasure.cosine_distance)
        search.update(measure({"vecs (defaults)": lambda q: [int(i) for i in docs.query(data=q.tolist(), limit=10)]},
                              queries, truth, rounds=1))
        client.delete_collection("bench_vecs")
        client.disconnect()

    if "langchain" not in skip:
        from langchain_core.embeddings import Embeddings
        from langchain_postgres import PGVector

        class Given(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                raise NotImplementedError

            def embed_query(self, text: str) -> list[float]:
                raise NotImplementedError

        lc = PGVector(embeddings=Given(), collection_name="bench_langchain", connection=sqlalchemy_url(url),
                      embedding_length=DIM, use_jsonb=True, pre_delete_collection=True)
        sample = min(args.n, 5000)
        start = time.perf_counter()
        lc.add_embeddings(texts=[""] * sample, embeddings=[data[i].tolist() for i in range(sample)],
                          metadatas=[{}] * sample, ids=ids[:sample])
        loads["langchain-postgres"] = round(sample / (time.perf_counter() - start))
        batch = 5000
        for lo in tqdm(range(sample, args.n, batch), desc="load langchain"):
            hi = min(lo + batch, args.n)
            lc.add_embeddings(texts=[""] * (hi - lo), embeddings=[data[i].tolist() for i in range(lo, hi)],
                              metadatas=[{}] * (hi - lo), ids=ids[lo:hi])
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("CREATE INDEX IF NOT EXISTS bench_lc_hnsw ON langchain_pg_embedding "
                         "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)")
            conn.execute("ANALYZE langchain_pg_embedding")
        search.update(measure(
            {"langchain-postgres (defaults)":
             lambda q: [int(d.id) for d, _ in lc.similarity_search_with_score_by_vector(q.tolist(), k=10)]},
            queries, truth, rounds=1))
        lc.delete_collection()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP INDEX IF EXISTS bench_lc_hnsw")

    results["search"] = search
    results["other_loads_rows_per_s"] = loads
    with store.connection() as conn:
        results["postgres"] = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]
        results["settings"] = dict(conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
            "('shared_buffers', 'maintenance_work_mem', 'effective_cache_size', 'jit')").fetchall())
    results["pgvector"] = ".".join(map(str, store.pgvector_version))
    results["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    store.drop_collection("bench_vecpg")
    store.close()

    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "foundation.json").write_text(json.dumps(results, indent=2))
    report(results)
    plot(results, Path(__file__).resolve().parents[1] / "docs" / "bench_foundation.png")


def report(r: dict[str, Any]) -> None:
    load = r["load_rows_per_s"]
    print(f"\n{r['n']:,} x {DIM}-d vectors, {r['postgres']}, pgvector {r['pgvector']}, {r['settings']}\n")
    print("| load | rows/s |\n|---|---|")
    print(f"| vecpg `Collection.load` | {load['vecpg']:,} |\n| raw psycopg binary COPY | {load['raw_copy']:,} |")
    for name, rate in r["other_loads_rows_per_s"].items():
        print(f"| {name} | {rate:,} |")
    print(f"\nvecpg / raw COPY: {load['vecpg'] / load['raw_copy']:.2f}; HNSW build {r['hnsw_build_s']} s\n")
    print("| search (k=10, 1 client) | p50 ms | p99 ms | QPS | recall@10 |\n|---|---|---|---|---|")
    for name, m in r["search"].items():
        print(f"| {name} | {m['p50_ms']} | {m['p99_ms']} | {m['qps']} | {m['recall@10']} |")
    s = r["search"]
    base = s["vecpg, ef_search 40"]
    print(f"\nvecpg p50 / raw p50 at ef_search 40: {base['p50_ms'] / s['raw psycopg, ef_search 40']['p50_ms']:.2f}")
    for other in ("vecs (defaults)", "langchain-postgres (defaults)"):
        if other in s:
            print(f"vecpg QPS / {other} QPS: {base['qps'] / s[other]['qps']:.2f}")


def plot(r: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = list(r["search"])
    left.barh(names, [r["search"][n]["qps"] for n in names], color="#3b7dd8")
    left.set_xlabel("queries per second (1 client, k=10)")
    for i, n in enumerate(names):
        left.text(r["search"][n]["qps"], i, f" recall {r['search'][n]['recall@10']:.3f}", va="center", fontsize=8)
    left.invert_yaxis()
    loads = {"vecpg load": r["load_rows_per_s"]["vecpg"], "raw COPY": r["load_rows_per_s"]["raw_copy"],
             **r["other_loads_rows_per_s"]}
    right.barh(list(loads), list(loads.values()), color="#d8843b")
    right.set_xscale("log")
    right.set_xlabel("rows per second (log scale)")
    right.invert_yaxis()
    fig.suptitle(f"{r['n']:,} x {DIM}-d vectors, HNSW m=16 ef_construction=64 — {r['machine']}, {r['date']}")
    fig.tight_layout()
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
