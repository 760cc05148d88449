"""Tenant partitions: a small tenant's search in a partitioned collection against the same tenant
filtered out of one large table.

Run by hand (not a test):  python bench/bench_partitions.py [--n 200000] [--dim 384] [--url URL]

One big tenant (half the rows) and many small ones share three collections of the same rows:
one unpartitioned table with one HNSW index (the small tenant found by row-level security and
pgvector's iterative scan), one partitioned by hash (8 partitions) and one by list with the big
tenant moved to its own partition. A small tenant, then the big one, is searched as that tenant
(store.tenant(), so row-level security applies) with k = 10: p50/p95 latency over --queries
queries and recall@10 against the exact answer of its rows.
"""

from __future__ import annotations

import argparse
import time
from urllib.parse import urlsplit, urlunsplit

import numpy as np

import vecpg
from vecpg.db.connection import resolve_url


def as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc.rsplit('@', 1)[-1]}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--small", type=int, default=200, help="tenants sharing the other half")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()

    rng = np.random.default_rng(5)
    centres = rng.normal(size=(100, args.dim))
    data = (centres[rng.integers(0, 100, args.n)] + 0.35 * rng.normal(size=(args.n, args.dim))).astype(np.float32)
    tenants = np.where(np.arange(args.n) < args.n // 2, "big", np.char.add("t", (np.arange(args.n) % args.small).astype(str)))
    queries = (centres[rng.integers(0, 100, args.queries)] + 0.35 * rng.normal(size=(args.queries, args.dim))).astype(np.float32)
    unit = data / np.linalg.norm(data, axis=1, keepdims=True)

    url = resolve_url(args.url)
    admin = vecpg.connect(url, migrate_schema=True)
    with admin.connection() as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'vecpg_bench'").fetchone():
            conn.execute("CREATE ROLE vecpg_bench LOGIN")
        conn.execute("GRANT vecpg_reader TO vecpg_bench")
    setups = {"one table": {}, "hash (8)": {"partition_by_tenant": "hash", "partitions": 8},
              "list, big tenant moved": {"partition_by_tenant": "list"}}
    for number, (label, options) in enumerate(setups.items()):
        name = f"bench_parts_{number}"
        admin.drop_collection(name, missing_ok=True)
        coll = admin.create_collection(name, dimension=args.dim, **options)
        coll.load(({"id": str(i), "embedding": data[i], "tenant_id": str(tenants[i])} for i in range(args.n)),
                  progress=True, total=args.n)
        started = time.perf_counter()
        coll.create_index(vecpg.HNSW())
        if "moved" in label:
            coll.give_tenant_partition("big")
        print(f"{label}: load and index {time.perf_counter() - started:.0f} s")
        with admin.connection() as conn:
            conn.execute(f"ANALYZE vecpg_data.{name}")

    print(f"\n{args.n:,} x {args.dim}-d, big tenant {args.n // 2:,} rows, {args.small} small tenants "
          f"(~{(tenants == 't7').sum()} rows each), k = 10, {args.queries} queries as each tenant\n")
    print("| tenant | collection | p50 ms | p95 ms | recall@10 |\n|---|---|---|---|---|")
    reader = vecpg.connect(as_user(url, "vecpg_bench"))
    for probe in ("t7", "big"):
        mask = tenants == probe
        for number, label in enumerate(setups):
            coll = reader.collection(f"bench_parts_{number}")
            times, recalls = [], []
            with reader.tenant(probe):
                for q in queries[:20]:
                    coll.search(q, k=10)  # warm
                for q in queries:
                    truth = {str(i) for i in np.argsort(-np.where(mask, unit @ (q / np.linalg.norm(q)), -np.inf))[:10]}
                    start = time.perf_counter()
                    hits = coll.search(q, k=10)
                    times.append((time.perf_counter() - start) * 1000)
                    recalls.append(len({h.id for h in hits} & truth) / 10)
            print(f"| {probe} ({mask.sum():,} rows) | {label} | {np.percentile(times, 50):.2f} | "
                  f"{np.percentile(times, 95):.2f} | {np.mean(recalls):.3f} |")

if __name__ == "__main__":
    main()
