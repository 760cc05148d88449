"""What a bulk load costs and where: ``collection.load`` against raw binary COPY, side by side.

Run by hand (not a test), from the repository root:

    python bench/bench_load.py [--n 100000] [--rounds 3] [--url URL]

Each round loads the same ``--n`` clustered 384-d vectors (with a small metadata object) into
fresh tables, the runs taking turns so drift hits all alike; the median round is printed:

- ``collection.load`` into an empty collection (vecpg's direct COPY path), and the same by the
  embedded server's application role, which row-level security binds, so that PostgreSQL
  refuses it COPY into the table: rows go through a staging table and one INSERT ... SELECT;
- raw binary COPY (psycopg, ``write_row`` of id, embedding, metadata) into an empty collection
  table: the same table, with its primary key, GIN indexes, generated tsvector and triggers;
- raw binary COPY into tables with less of that, to say what each part costs per row: a bare
  table of the same columns; with the text primary key; with the two GIN indexes too; with the
  generated tsvector too (the collection's statement triggers are the remaining difference).

Without --url it uses the embedded server as its superuser (row-level security bypassed, as a
bulk load by the owner of the data is). Everything it creates is dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb
from tqdm import tqdm

import vecpg
from vecpg.db.connection import resolve_url
from vecpg.db.embedded import application_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DIM, centres, clustered

NAME = "bench_load"


def bare_table(conn: psycopg.Connection, name: str, pk: bool, gin: bool, fts: bool) -> str:
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    fts_col = (", fts tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', coalesce(title, '')), 'A') "
               "|| setweight(to_tsvector('english', content), 'B')) STORED") if fts else ""
    conn.execute(f"CREATE TABLE {name} (id text {'PRIMARY KEY' if pk else 'NOT NULL'}, title text, "
                 f"content text NOT NULL DEFAULT '', embedding vector({DIM}), metadata jsonb NOT NULL DEFAULT '{{}}', "
                 f"tenant_id text{fts_col})")
    if gin:
        conn.execute(f"CREATE INDEX ON {name} USING gin (metadata jsonb_path_ops)")
        if fts:
            conn.execute(f"CREATE INDEX ON {name} USING gin (fts)")
    return name


def raw_copy(conn: psycopg.Connection, table: str, data: np.ndarray) -> None:
    with conn.transaction(), conn.cursor() as cur, \
            cur.copy(f"COPY {table} (id, embedding, metadata) FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["text", "vector", "jsonb"])
        for i, v in enumerate(data):
            cp.write_row((str(i), v, Jsonb({"bucket": i % 100})))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url")
    args = parser.parse_args()
    url = resolve_url(args.url)
    data = clustered(args.n, 11, centres())
    store = vecpg.connect(url)
    conn = psycopg.connect(url, autocommit=True)
    register_vector(conn)

    def vecpg_load() -> None:
        store.drop_collection(NAME, missing_ok=True)
        coll = store.create_collection(NAME, dimension=DIM)
        coll.load({"id": str(i), "embedding": v, "metadata": {"bucket": i % 100}} for i, v in enumerate(data))

    app = vecpg.connect(application_url()) if args.url is None else None

    def vecpg_load_app() -> None:
        assert app is not None
        store.drop_collection(NAME, missing_ok=True)
        store.create_collection(NAME, dimension=DIM)
        app.collection(NAME).load({"id": str(i), "embedding": v, "metadata": {"bucket": i % 100}}
                                  for i, v in enumerate(data))

    def raw_same_table() -> None:
        store.drop_collection(NAME, missing_ok=True)
        coll = store.create_collection(NAME, dimension=DIM)
        raw_copy(conn, f'"{coll.info.schema}"."{coll.info.table}"', data)

    def raw_bare(pk: bool, gin: bool, fts: bool) -> Callable[[], None]:
        return lambda: raw_copy(conn, bare_table(conn, f"{NAME}_bare", pk, gin, fts), data)

    runs: dict[str, Callable[[], None]] = {
        "collection.load": vecpg_load,
        "raw COPY, the collection's table": raw_same_table,
        **({"collection.load as vecpg_app (RLS-bound: staging + merge)": vecpg_load_app} if app else {}),
        "raw COPY, bare table": raw_bare(False, False, False),
        "raw COPY, + text primary key": raw_bare(True, False, False),
        "raw COPY, + metadata GIN": raw_bare(True, True, False),
        "raw COPY, + generated tsvector and its GIN": raw_bare(True, True, True),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    with tqdm(total=args.rounds * len(runs), desc="loads") as bar:
        for r in range(args.rounds):
            names = list(runs)
            for name in names[r % len(names):] + names[:r % len(names)]:
                conn.execute("CHECKPOINT")
                start = time.perf_counter()
                runs[name]()
                times[name].append(time.perf_counter() - start)
                bar.update()
    store.drop_collection(NAME, missing_ok=True)
    conn.execute(f"DROP TABLE IF EXISTS {NAME}_bare")
    base = statistics.median(times["raw COPY, the collection's table"])
    print(f"\n{args.n:,} rows x {DIM}-d, median of {args.rounds} rounds\n")
    print("| load | rows/s | s | vs raw COPY into the collection's table |\n|---|---:|---:|---:|")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"| {name} | {args.n / t:,.0f} | {t:.2f} | {base / t:.2f}x |")
    store.close()
    if app is not None:
        app.close()
    conn.close()


if __name__ == "__main__":
    main()
