"""vecpg's own cost per search: ``collection.search`` against the same SQL by hand, same graph.

Run by hand (not a test), from the repository root:

    python bench/bench_search_overhead.py [--n 100000] [--queries 500] [--rounds 6] [--url URL]

Loads ``--n`` clustered 384-d vectors into a collection with an HNSW index (m 16,
ef_construction 64), then times one search at a time, k = 10, ef_search 40, ids and distances
only, on one thread:

- ``raw``: psycopg, prepared, binary, ``SELECT id, embedding <=> $1 ... LIMIT 10`` on the
  collection's table, ``SET hnsw.ef_search`` once for the session, as the table's owner;
- ``raw, RLS-bound role``: the same through vecpg's application role (row-level security on);
- ``vecpg's statement by hand``: vecpg's own statement run with psycopg on that role;
- ``vecpg's statement with set_config inside``: how vecpg applied ef_search before (a wrapper
  query setting it for the statement's transaction), by hand;
- ``collection.search(q, k=10, ef_search=40, include=())`` and the same without ef_search;
- with ``--baseline REV``: ``collection.search`` of vecpg as it was at git revision REV, imported
  in the same process as ``vecpg_baseline`` (``git archive`` of its package into a temporary
  directory), on the same collection and connections' role: the two versions side by side.

Each system runs every query in a block, the blocks rotating round after round: a search right
after another one on the same query finds the graph's pages in the CPU caches, so interleaving
query by query would favour whoever comes second. Without --url it uses the embedded server.
"""

from __future__ import annotations

import argparse
import importlib
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from tqdm import tqdm

import vecpg
from vecpg.db.connection import resolve_url
from vecpg.db.embedded import application_url
from vecpg.search import search_statement
from vecpg.search.vector import _statement

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DIM, centres, clustered

NAME = "bench_overhead"
ROOT = Path(__file__).resolve().parent.parent


def baseline_package(revision: str, into: Path) -> object:
    """vecpg as it was at ``revision``, importable as ``vecpg_baseline`` (its relative imports
    stay inside it; its schema files come along for its revision check)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "vecpg", "sql", "migrations"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "vecpg").rename(into / "vecpg_baseline")
    sys.path.insert(0, str(into))
    return importlib.import_module("vecpg_baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--url", help="a superuser's URL (default: the embedded server)")
    parser.add_argument("--app-url", help="an RLS-bound role's URL (default: the embedded server's vecpg_app)")
    parser.add_argument("--baseline", metavar="REV", help="also time collection.search of vecpg at git revision REV")
    args = parser.parse_args()
    url = resolve_url(args.url)
    app_url = args.app_url or application_url()
    c = centres()
    data, queries = clustered(args.n, 1, c), clustered(args.queries, 2, c)
    admin = vecpg.connect(url)
    admin.drop_collection(NAME, missing_ok=True)
    coll = admin.create_collection(NAME, dimension=DIM)
    coll.load(({"id": str(i), "embedding": v} for i, v in enumerate(data)), progress=True, total=args.n)
    coll.create_index(vecpg.HNSW(m=16, ef_construction=64))
    store = vecpg.connect(app_url)
    mine = store.collection(NAME)

    owner = psycopg.connect(url, autocommit=True)
    app = psycopg.connect(app_url, autocommit=True)
    for conn in (owner, app):
        register_vector(conn)
        conn.execute(f'ANALYZE "{coll.info.schema}"."{coll.info.table}"')
        conn.execute("SET hnsw.ef_search = 40")
    raw = (f'SELECT id, embedding <=> %s AS distance FROM "{coll.info.schema}"."{coll.info.table}" '
           "ORDER BY embedding <=> %s LIMIT 10")
    live, _ = mine.store.run(mine.store.filters.compile(None))  # what every search adds: not expired
    plain, params, _ = _statement(mine, queries[0], 10, live, {}, {"ef_search": 40}, ())
    inline, inline_params = search_statement(mine, queries[0], 10, None, {"ef_search": 40})

    def by_hand(statement: bytes, given: dict[str, Any]) -> Callable[[np.ndarray], Any]:
        def run(q: np.ndarray) -> Any:
            given["query"] = q
            return app.execute(statement, given, prepare=True, binary=True).fetchall()
        return run

    baseline_store = None
    if args.baseline:
        old = baseline_package(args.baseline, Path(tempfile.mkdtemp(prefix="vecpg-baseline-")))
        # Its Store directly: connect() refuses a database at a newer revision than its own, and
        # the search it runs reads only columns every revision has.
        baseline_store = old.Store(app_url)  # type: ignore[attr-defined]
        theirs = baseline_store.collection(NAME)
    systems: dict[str, Callable[[np.ndarray], Any]] = {
        "raw": lambda q: owner.execute(raw, (q, q), prepare=True, binary=True).fetchall(),
        "raw, RLS-bound role": lambda q: app.execute(raw, (q, q), prepare=True, binary=True).fetchall(),
        "vecpg's statement by hand": by_hand(plain, dict(params)),
        "vecpg's statement with set_config inside": by_hand(inline, dict(inline_params)),
        "collection.search, ef_search=40": lambda q: mine.search(q, k=10, ef_search=40, include=()),
        "collection.search, default ef_search": lambda q: mine.search(q, k=10, include=()),
    }
    if baseline_store is not None:
        systems[f"collection.search, ef_search=40, at {args.baseline}"] = \
            lambda q: theirs.search(q, k=10, ef_search=40, include=())
        systems[f"collection.search, default ef_search, at {args.baseline}"] = \
            lambda q: theirs.search(q, k=10, include=())
    for run in systems.values():  # prepared statements, pages in shared buffers
        for q in queries[:50]:
            run(q)
    times: dict[str, list[float]] = {name: [] for name in systems}
    # This process's CPU time per search: the client's own work (vecpg's Python, psycopg, the
    # vector's encoding), without the server's, which the wall times of a shared machine blur.
    cpu: dict[str, list[float]] = {name: [] for name in systems}
    names = list(systems)
    with tqdm(total=args.rounds * len(names), desc="search blocks") as bar:
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                run = systems[name]
                used = time.process_time()
                for q in queries:
                    start = time.perf_counter()
                    run(q)
                    times[name].append(time.perf_counter() - start)
                cpu[name].append((time.process_time() - used) / len(queries))
                bar.update()
    base = statistics.mean(times["raw"])
    base_cpu = statistics.median(cpu["raw"])
    print(f"\n{args.n:,} x {DIM}-d, HNSW m 16, k 10, ef_search 40, {args.queries} queries x {args.rounds} rounds\n")
    print("| search | mean ms | p50 ms | over raw, ms | client CPU ms | client CPU over raw, ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, ts in times.items():
        mean, used = statistics.mean(ts), statistics.median(cpu[name])
        print(f"| {name} | {1e3 * mean:.3f} | {1e3 * statistics.median(ts):.3f} | {1e3 * (mean - base):+.3f} "
              f"| {1e3 * used:.3f} | {1e3 * (used - base_cpu):+.3f} |")
    for conn in (owner, app):
        conn.close()
    store.close()
    if baseline_store is not None:
        baseline_store.close()
    admin.drop_collection(NAME, missing_ok=True)
    admin.close()


if __name__ == "__main__":
    main()
