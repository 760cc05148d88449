"""Vectors in the row (STORAGE MAIN, vecpg's default since revision 0005) against pgvector's own
EXTERNAL storage, on a copy of a loaded collection (default: the one `vecpg eval` fills).

Run by hand (not a test):  python bench/bench_storage.py [--source scifact] [--queries 300]

Both copies hold the same rows (id, title, content, embedding); for each, in one run:
- the time to copy the rows in with INSERT ... SELECT (three rounds, the two taking turns);
- p50/p99 of an exact k = 10 search, of an HNSW k = 10 search and of a hybrid search over the
  keyword index, the two copies taking turns query by query (queries: the source's own vectors);
- heap and TOAST sizes.
Prints a markdown table and writes bench/results/storage.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
from common import hybrid_search, vector_search
from tqdm import tqdm

import vecpg

STORAGES = ("MAIN", "EXTERNAL")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="scifact", help="a loaded collection to copy")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()

    store = vecpg.connect(args.url)
    source = store.collection(args.source)
    copies = {s: f"storage_{s.lower()}" for s in STORAGES}
    insert = "INSERT INTO vecpg_data.{} (id, title, content, embedding) SELECT id, title, content, embedding FROM {}"
    source_table = f"{source.info.schema}.{source.info.table}"

    copy_seconds: dict[str, list[float]] = {s: [] for s in STORAGES}
    for _ in tqdm(range(3), desc="copy"):
        for storage, name in copies.items():
            store.drop_collection(name, missing_ok=True)
            coll = store.create_collection(name, dimension=source.dimension, model=source.model)
            with store.connection() as conn:
                conn.execute(f"ALTER TABLE vecpg_data.{name} ALTER COLUMN embedding SET STORAGE {storage}")
                start = time.perf_counter()
                conn.execute(insert.format(name, source_table))  # type: ignore[arg-type]
                copy_seconds[storage].append(time.perf_counter() - start)
    colls = {s: store.collection(n) for s, n in copies.items()}
    with store.connection() as conn:
        rows = conn.execute(f"SELECT embedding, coalesce(title, '') || ' ' || left(content, 200) FROM {source_table} "
                            f"ORDER BY id LIMIT %s", (args.queries,)).fetchall()
        sizes = {s: conn.execute("SELECT pg_relation_size(oid), pg_relation_size(reltoastrelid) FROM pg_class "
                                 "WHERE oid = %s::regclass", (f"vecpg_data.{n}",)).fetchone() for s, n in copies.items()}
    vectors = [np.asarray(r[0], dtype=np.float32) for r in rows]
    texts = [r[1] for r in rows]

    def timed(run, rounds: int = 3) -> dict[str, tuple[float, float]]:
        samples: dict[str, list[float]] = {s: [] for s in STORAGES}
        for r in range(rounds):
            for i in range(len(vectors)):
                for storage, coll in colls.items():
                    start = time.perf_counter()
                    run(coll, i)
                    if r:  # the first round warms the caches
                        samples[storage].append((time.perf_counter() - start) * 1000)
        return {s: (round(float(np.percentile(v, 50)), 3), round(float(np.percentile(v, 99)), 3)) for s, v in samples.items()}

    latency = {"exact k=10": timed(lambda c, i: vector_search(c, vectors[i], 10))}
    for coll in colls.values():
        coll.create_index(vecpg.HNSW())
        coll.enable_keyword_index()
    with store.connection() as conn:
        for name in copies.values():
            conn.execute(f"VACUUM ANALYZE vecpg_data.{name}")
            conn.execute(f"VACUUM ANALYZE vecpg_postings.{name}")
    latency["HNSW k=10"] = timed(lambda c, i: vector_search(c, vectors[i], 10))
    latency["hybrid, HNSW + keyword index"] = timed(lambda c, i: hybrid_search(c, texts[i], vectors[i], 10))
    for name in copies.values():
        store.drop_collection(name)

    result = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "source": args.source, "rows": source.count(), "queries": len(vectors),
              "copy_seconds_median": {s: round(float(np.median(v)), 3) for s, v in copy_seconds.items()},
              "sizes_bytes": {s: {"heap": v[0], "toast": v[1]} for s, v in sizes.items() if v},
              "latency_ms_p50_p99": latency}
    out = Path(__file__).resolve().parent / "results" / "storage.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))

    main_, ext = result["copy_seconds_median"]["MAIN"], result["copy_seconds_median"]["EXTERNAL"]
    print(f"\n{result['rows']} rows from {args.source}, {len(vectors)} queries\n")
    print("| | MAIN (vecpg) | EXTERNAL (pgvector's default) | EXTERNAL / MAIN |\n|---|---|---|---|")
    print(f"| copy the rows in (s) | {main_} | {ext} | {ext / main_:.2f}x |")
    for s_name, key in (("heap", "heap"), ("TOAST", "toast")):
        m, e = (result["sizes_bytes"][s][key] / 2**20 for s in STORAGES)
        print(f"| {s_name} size (MiB) | {m:.1f} | {e:.1f} | |")
    for name, by in latency.items():
        (m50, m99), (e50, e99) = by["MAIN"], by["EXTERNAL"]
        print(f"| {name}, p50 / p99 ms | {m50} / {m99} | {e50} / {e99} | {e50 / m50:.2f}x |")
    store.close()


if __name__ == "__main__":
    main()
