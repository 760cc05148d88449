"""Where a hybrid search's wall time goes: each part timed on the server, beside the p50 a client sees.

Run by hand (not a test):
    python bench/time_components.py --collection scifact [--data ../shared/data/scifact]
        [--queries 300] [--rounds 5] [--url URL]

The collection needs a keyword index (`vecpg index keyword` or `vecpg eval --keyword-index`).
Server-side figures come from one statement that runs a part once per query over a temporary
table of queries, so they hold no round trip, no protocol and no Python; the parts take turns
round after round, and the median round is printed. The client-side p50s are measured as
`vecpg eval` measures them (blocks of 20 queries per mode). Client minus server is what a call
from Python costs besides the search: the round trip, a transaction of its own (locks on every
relation the plan reads), sending the parameters, returning 10 rows with their text.
The keyword list alone runs the collection's own keyword-list SQL (vecpg.postings_list_sql)
in a temporary function; "1 posting a term" leaves the part of its cost that does not depend
on how many postings are read. The client side also times hybrid search with smaller postings
budgets (max_postings 400, 200 and 1: the last reads almost nothing, so it is the floor of
everything else a hybrid search does), and a vector search right after another one against
right after a keyword list: what the keyword half of a hybrid search costs the HNSW half, whose
graph stays warm in the CPU caches only while nothing else runs between two searches.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from common import hybrid_search, vector_search
from count_instructions import default_expressions
from psycopg import sql

import vecpg
from vecpg.evaluation import LATENCY_BLOCK, load_dataset
from vecpg.search import search_statement

QUERY_TABLE = "pg_temp.vecpg_timed_queries"


def keyword_list_function(conn: psycopg.Connection, collection: str, vector_schema: str) -> None:
    """pg_temp.keyword_list(...): the keyword index's list alone, with the hybrid function's parameters."""
    row = conn.execute("SELECT vecpg.postings_list_sql(c) FROM vecpg.collection c WHERE c.name = %s",
                       (collection,)).fetchone()
    if row is None:
        raise SystemExit(f"no collection {collection!r}")
    body = row[0]
    conn.execute(sql.SQL(
        "CREATE FUNCTION pg_temp.keyword_list(text, {}.vector, integer, text, float8, float8, float8, integer, "
        "integer, float8, float8) RETURNS TABLE (id text, score float8) LANGUAGE plpgsql "
        "SET plan_cache_mode = force_generic_plan AS {}"
    ).format(sql.Identifier(vector_schema), sql.Literal(f"BEGIN RETURN QUERY {body}; END")))


BUDGETS = (400, 200, 1)  # max_postings for the client-side hybrid rows (the default is 800)


def vector_search_after(conn: psycopg.Connection, coll: vecpg.Collection, texts: list[str],
                        vectors: Any) -> dict[str, list[float]]:
    """Vector search times (µs) when each follows another vector search, or a keyword list."""
    statements = [search_statement(coll, v, 10) for v in vectors]
    keyword_list = "SELECT * FROM pg_temp.keyword_list(%s, %s, 40, 'adaptive', 1, 1, 60, 10, 1, 0.9, 0.4)"
    before = {"another vector search": lambda j: conn.execute(*statements[j]).fetchall(),
              "a keyword list (1 posting a term)": lambda j: conn.execute(
                  keyword_list, (texts[j], vectors[j])).fetchall()}
    samples: dict[str, list[float]] = {name: [] for name in before}
    for first in range(0, len(texts), LATENCY_BLOCK):
        for name, run_before in before.items():
            for i in range(first, min(first + LATENCY_BLOCK, len(texts))):
                run_before((i * 7) % len(texts))  # another query's: this one's pages are not warmed
                start = time.perf_counter()
                conn.execute(*statements[i]).fetchall()
                samples[name].append((time.perf_counter() - start) * 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", required=True)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"),
                        help="a BEIR dataset whose test queries to run")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()

    store = vecpg.connect(args.url)
    coll = store.collection(args.collection)
    if not coll.has_keyword_index():
        raise SystemExit(f"collection {coll.name!r} has no keyword index")
    embedder = coll.embedder()
    if embedder is None:
        raise SystemExit(f"collection {coll.name!r} has no embedding model")
    texts = list(load_dataset(args.data).judged_queries().values())[: args.queries]
    vectors = embedder.embed(texts)
    n = len(texts)
    hybrid = "vecpg_postings.{}(q.t, q.e, 40, 'adaptive', 1, 1, 60, 10, {}, 0.9, 0.4, 40, null)"
    parts = {
        "vector search, k = 10 (what `vecpg eval` times)": default_expressions(coll.name, True)["vector"],
        "vector list of hybrid: 40 ids and distances": (
            f"select count(*) from (select id, embedding <=> q.e from vecpg_data.{coll.name} "
            f"order by embedding <=> q.e limit 40) x"),
        "keyword list of hybrid (budget 800 postings)": (
            "select count(*) from pg_temp.keyword_list(q.t, q.e, 40, 'adaptive', 1, 1, 60, 10, 800, 0.9, 0.4)"),
        "keyword list, 1 posting a term": (
            "select count(*) from pg_temp.keyword_list(q.t, q.e, 40, 'adaptive', 1, 1, 60, 10, 1, 0.9, 0.4)"),
        "hybrid search, k = 10 (the whole function)": "select count(*) from " + hybrid.format(coll.name, 800),
        "hybrid search, 1 posting a term": "select count(*) from " + hybrid.format(coll.name, 1),
    }

    server: dict[str, list[float]] = {name: [] for name in parts}
    with store.connection() as conn:
        conn.execute(sql.SQL("CREATE TEMPORARY TABLE vecpg_timed_queries (i int, t text, e {}.vector)").format(
            sql.Identifier(store.vector_schema)))
        try:
            with conn.cursor().copy("COPY pg_temp.vecpg_timed_queries (i, t, e) FROM STDIN") as copy:
                for i, (t, v) in enumerate(zip(texts, vectors)):
                    copy.write_row((i, t, "[" + ",".join(f"{x:.7g}" for x in v) + "]"))
            keyword_list_function(conn, coll.name, store.vector_schema)
            for rnd in range(args.rounds + 1):  # round 0 warms caches and plans
                for name, expression in parts.items():
                    start = time.perf_counter()
                    conn.execute(f"SELECT sum(({expression})) FROM {QUERY_TABLE} q")
                    if rnd:
                        server[name].append((time.perf_counter() - start) / n * 1e6)
            after = vector_search_after(conn, coll, texts, vectors)
        finally:
            conn.execute("DISCARD TEMP")

    def hybrid_run(budget: int | None) -> Callable[[int], object]:
        options = {} if budget is None else {"max_postings": budget}
        return lambda i: hybrid_search(coll, texts[i], vectors[i], 10, options=options)

    runs = {"vector": lambda i: vector_search(coll, vectors[i], 10), "hybrid": hybrid_run(None)}
    runs.update({f"hybrid, max_postings {budget}": hybrid_run(budget) for budget in BUDGETS})
    client: dict[str, list[float]] = {mode: [] for mode in runs}
    for i in range(min(n, 20)):  # warm-up: prepared statements, plans
        for run in runs.values():
            run(i)
    for first in range(0, n, LATENCY_BLOCK):
        for mode, run in runs.items():
            for i in range(first, min(first + LATENCY_BLOCK, n)):
                start = time.perf_counter()
                run(i)
                client[mode].append((time.perf_counter() - start) * 1e6)

    print(f"{platform.machine()}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}; {n} queries of "
          f"{args.data}; collection {coll.name}; server: median of {args.rounds} rounds\n")
    print("| part | server µs per call |\n|---|---|")
    for name, samples in server.items():
        print(f"| {name} | {statistics.median(samples):.0f} |")
    vector_p50, hybrid_p50 = (statistics.median(client[m]) for m in ("vector", "hybrid"))
    vector_server = statistics.median(server[next(iter(parts))])
    hybrid_server = statistics.median(server["hybrid search, k = 10 (the whole function)"])
    print("\n| seen from Python (blocks of 20, as `vecpg eval`) | p50 µs | of which outside the server |\n|---|---|---|")
    print(f"| vector search | {vector_p50:.0f} | {vector_p50 - vector_server:.0f} |")
    print(f"| hybrid search | {hybrid_p50:.0f} | {hybrid_p50 - hybrid_server:.0f} |")
    for budget in BUDGETS:
        p50 = statistics.median(client[f"hybrid, max_postings {budget}"])
        print(f"| hybrid search, max_postings {budget} | {p50:.0f} ({p50 / vector_p50:.2f}x vector) | |")
    print("\n| a vector search (same connection, raw statement) right after | p50 µs |\n|---|---|")
    for name, samples in after.items():
        print(f"| {name} | {statistics.median(samples):.0f} |")
    print(f"\nhybrid / vector: {hybrid_p50 / vector_p50:.2f} seen from Python, "
          f"{hybrid_server / vector_server:.2f} on the server")


if __name__ == "__main__":
    main()
