"""What diversity costs: MMR over a vector search's candidates, in PostgreSQL and in the client.

Run by hand (not a test), from the repository root:

    python bench/bench_mmr.py [--n 20000] [--queries 200] [--rounds 3] [--candidates 50] [--k 10] [--url URL]

Loads ``--n`` clustered 384-d vectors into a collection with an HNSW index, then times, per
query, on one thread (p50 and p95 in ms, as seen from Python):

- the plain vector search for k and for the candidates (``collection.search``);
- ``vecpg.mmr_select`` picking k of the candidates (``mmr_query``; the candidates' ids known),
  with relevance the cosine to the query and with relevance given;
- ``vecpg.mmr_search``: the search and the picking in one statement (``mmr_search_query``);
- ``collection.search`` for the candidates, then ``mmr_query``: two statements;
- what LangChain's max_marginal_relevance_search does: the candidates' stored vectors fetched
  (one statement) and greedy MMR in numpy.

Each system runs every query in a block, the blocks rotating round after round.
Without --url it uses the embedded server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import vecpg
from vecpg.db.connection import resolve_url
from vecpg.search import mmr_query, mmr_search_query

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DIM, centres, clustered, unit_rows

NAME = "bench_mmr"


def numpy_mmr(query: np.ndarray, vectors: np.ndarray, k: int, lam: float) -> list[int]:
    """Greedy MMR with cosine relevance, as LangChain's maximal_marginal_relevance."""
    unit = unit_rows(vectors)
    rel = unit @ (query / np.linalg.norm(query))
    picks = [int(np.argmax(rel))]
    nearest = unit @ unit[picks[0]]
    while len(picks) < min(k, len(vectors)):
        score = lam * rel - (1 - lam) * nearest
        score[picks] = -np.inf
        best = int(np.argmax(score))
        picks.append(best)
        nearest = np.maximum(nearest, unit @ unit[best])
    return picks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--lam", type=float, default=0.5)
    parser.add_argument("--url", help="default: the embedded server")
    args = parser.parse_args()
    c = centres()
    data, queries = clustered(args.n, 1, c), clustered(args.queries, 2, c)
    store = vecpg.connect(resolve_url(args.url), migrate_schema=True)
    store.drop_collection(NAME, missing_ok=True)
    coll = store.create_collection(NAME, dimension=DIM)
    coll.load(({"id": str(i), "embedding": v} for i, v in enumerate(data)), total=args.n)
    coll.create_index(vecpg.HNSW(m=16, ef_construction=64))
    k, n, lam = args.k, args.candidates, args.lam
    first = [coll.search(q, k=n, include=()) for q in queries]
    ids = [[h.id for h in hits] for hits in first]
    scores = [[h.score for h in hits] for hits in first]
    table = f'"{coll.info.schema}"."{coll.info.table}"'

    def client_side(i: int) -> Any:
        with store.connection() as conn:
            rows = conn.execute(f"SELECT id, embedding FROM {table} WHERE id = ANY(%s)", (ids[i],),
                                binary=True).fetchall()
        return numpy_mmr(queries[i], np.stack([r[1].to_numpy() for r in rows]), k, lam)

    systems: dict[str, Callable[[int], Any]] = {
        f"vector search, k={k}": lambda i: coll.search(queries[i], k=k, include=()),
        f"vector search, k={n}": lambda i: coll.search(queries[i], k=n, include=()),
        f"mmr_select, {n} -> {k}": lambda i: store.run(mmr_query(coll, queries[i], ids[i], None, k, lam)),
        f"mmr_select, {n} -> {k}, relevance given": lambda i: store.run(
            mmr_query(coll, queries[i], ids[i], scores[i], k, lam)),
        f"mmr_search, k={k}, candidates={n}": lambda i: store.run(
            mmr_search_query(coll, queries[i], k, lam, n)),
        f"vector search k={n}, then mmr_select (2 statements)": lambda i: store.run(mmr_query(
            coll, queries[i], [h.id for h in coll.search(queries[i], k=n, include=())], None, k, lam)),
        f"vectors fetched + numpy MMR, {n} -> {k}": client_side,
    }
    for run in systems.values():  # warm up: plans, caches
        for i in range(min(20, len(queries))):
            run(i)
    times: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(args.rounds):
        for name, run in systems.items():
            for i in range(len(queries)):
                start = time.perf_counter()
                run(i)
                times[name].append((time.perf_counter() - start) * 1000)
    print(f"\n{args.n:,} clustered {DIM}-d vectors, HNSW m 16, {args.queries} queries x {args.rounds} rounds, "
          f"lambda {lam}\n")
    print("| what | p50 ms | p95 ms |\n|---|---:|---:|")
    for name, values in times.items():
        values.sort()
        print(f"| {name} | {statistics.median(values):.2f} | {values[int(0.95 * (len(values) - 1))]:.2f} |")
    store.drop_collection(NAME)
    store.close()


if __name__ == "__main__":
    main()
