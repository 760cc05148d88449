"""What each `vecpg doctor` check costs, on a collection of N clustered vectors with an HNSW index.

    python bench/bench_doctor.py --rows 100000 [--dim 384] [--url URL]

Times each part of ``vecpg.doctor()`` (its SQL helpers, one statement each), then the Python
checks: pending migrations, the recall measurement (100 sampled queries: 100 exact scans and 100
index searches) and the whole ``Store.doctor``. Run by hand; docs/performance.md has the figures.
"""

from __future__ import annotations

import argparse
import time

from common import centres, clustered

import vecpg
from vecpg.doctor.checks import RECALL_K, RECALL_SAMPLE, migrations
from vecpg.index.tuning import measure_recall

PARTS = {
    "indexes (invalid, unused, bloat, missing, shared_buffers)": "SELECT count(*) FROM vecpg.doctor_indexes(vecpg.get_collection(%s))",
    "table (dead rows, statistics)": "SELECT count(*) FROM vecpg.doctor_table(vecpg.get_collection(%s))",
    "vectors (similarity, norms of 200 sampled)": "SELECT count(*) FROM vecpg.doctor_vectors(vecpg.get_collection(%s))",
    "queue and mirror": "SELECT count(*) FROM vecpg.doctor_pipelines(%s)",
    "pgvector version and fixes": "SELECT count(*) FROM vecpg.doctor_pgvector(%s)",
    "vecpg.doctor() whole": "SELECT count(*) FROM vecpg.doctor(%s)",
}


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--url")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    store = vecpg.connect(args.url)
    name = "bench_doctor"
    store.drop_collection(name, missing_ok=True)
    coll = store.create_collection(name, dimension=args.dim)
    vectors = clustered(args.rows, 1, centres(dim=args.dim))
    started = time.perf_counter()
    coll.load(({"id": str(i), "content": f"document {i}", "embedding": v} for i, v in enumerate(vectors)),
              batch_size=5000)
    coll.create_index(maintenance_work_mem="1GB")
    with store.admin_connection() as conn:
        conn.execute(f"VACUUM ANALYZE vecpg_data.{name}")
    print(f"{args.rows:,} rows of {args.dim}-d, HNSW built in {time.perf_counter() - started:.0f} s")
    with store.admin_connection() as conn:
        for label, statement in PARTS.items():
            seconds = best(lambda s=statement: conn.execute(s, (name,)).fetchall(), args.repeat)
            print(f"  {label:58s} {seconds * 1000:9.1f} ms")
    print(f"  {'pending migrations':58s} {best(lambda: migrations(store), args.repeat) * 1000:9.1f} ms")
    seconds = best(lambda: measure_recall(coll, RECALL_K, RECALL_SAMPLE), 1)
    print(f"  {f'recall@{RECALL_K} of {RECALL_SAMPLE} sampled queries':58s} {seconds * 1000:9.1f} ms")
    print(f"  {'Store.doctor(recall=False) whole':58s} {best(lambda: store.doctor(name, recall=False), args.repeat) * 1000:9.1f} ms")
    print(f"  {'Store.doctor() whole':58s} {best(lambda: store.doctor(name), 1) * 1000:9.1f} ms")
    store.drop_collection(name)
    store.close()


if __name__ == "__main__":
    main()
