"""Backup benchmark (issue 25): export and import rows/s, per format, on N rows of D-dimensional
float32 vectors with a short text, metadata and a tenant each.

Run by hand (not a test):
    python bench/bench_backup.py [--n 20000,100000] [--dim 384] [--url URL]

Without --url it runs on the embedded server (a database of its own, dropped at the end).
Export: ``Collection.export`` to a file; import: ``Store.import_collection`` into a new
collection (the COPY engine's direct path: an empty table, as the admin). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
from psycopg import sql

import vecpg

FORMATS = (".jsonl", ".jsonl.gz", ".parquet")


def fill(store: vecpg.Store, n: int, dim: int) -> None:
    coll = store.create_collection("source", dimension=dim)
    rng = np.random.default_rng(0)
    batch = 5000
    for start in range(0, n, batch):
        vectors = rng.standard_normal((min(batch, n - start), dim)).astype(np.float32)
        coll.load({"id": f"doc-{start + i:07}", "content": f"document {start + i} about topic {(start + i) % 97}",
                   "metadata": {"n": start + i, "topic": (start + i) % 97}, "embedding": v,
                   "tenant_id": f"tenant-{(start + i) % 5}"} for i, v in enumerate(vectors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", default="20000,100000", help="Row counts, comma-separated.")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--url", help="A database vecpg may write to (default: the embedded server).")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    server_url = args.url
    if server_url is None:
        from vecpg.db.server import EmbeddedServer

        server_url = EmbeddedServer().start()
    print("| rows | dim | format | file MB | export rows/s | import rows/s |")
    print("|---:|---:|---|---:|---:|---:|")
    for n in (int(x) for x in args.n.split(",")):
        url = server_url if args.url else fresh_database(server_url, "vecpg_bench_backup")
        with vecpg.connect(url, migrate_schema=True) as store, tempfile.TemporaryDirectory() as tmp:
            fill(store, n, args.dim)
            source = store.collection("source")
            for i, suffix in enumerate(FORMATS):
                path = Path(tmp) / f"export{suffix}"
                started = time.perf_counter()
                written = source.export(path)
                exported = time.perf_counter() - started
                started = time.perf_counter()
                result = store.import_collection(f"copy_{i}", path)
                imported = time.perf_counter() - started
                assert written == result.rows == n
                store.drop_collection(f"copy_{i}")
                print(f"| {n:,} | {args.dim} | {suffix[1:]} | {path.stat().st_size / 1e6:,.0f} | "
                      f"{n / exported:,.0f} | {n / imported:,.0f} |", flush=True)
            if not args.url:
                store.drop_collection("source")


def fresh_database(server_url: str, name: str) -> str:
    """``name`` on the server, dropped and created again."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


if __name__ == "__main__":
    main()
