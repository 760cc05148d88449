"""Concurrent writers against the BM25 statistics, before and after a revision, in one run (issue 20).

Run by hand (not a test):
    python bench/bench_writers.py [--seconds 10] [--writers 1,4,8] [--docs 2000] [--before 0010] [--tenants]

Two databases on one server, one migrated to --before and one to head, each with a collection
``w`` of short documents (sentences of vecpg/data/sample_corpus.jsonl, random 8-d embeddings).
For each workload and writer count, N threads (each its own connection, READ COMMITTED) commit
transactions in a loop for --seconds; deadlocks (40P01) and serialization failures (40001) are
rolled back and counted. The BM25 statistics are then compared with a recount from the rows.
Plain workloads run as the superuser (the URL's own login); with --tenants each workload runs
again as a non-superuser member of vecpg_writer (row-level security in force), once with a
tenant per writer and once with all writers in one tenant.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from tqdm import tqdm

from vecpg import orm
from vecpg.db import migrate
from vecpg.db.connection import resolve_url, sqlalchemy_url
from vecpg.db.server import EmbeddedServer

DIM = 8
ROLE = "vecpg_bench_writer"
CORPUS = Path(__file__).resolve().parent.parent / "vecpg" / "data" / "sample_corpus.jsonl"
SENTENCES = [(r["title"], r["content"]) for r in
             (json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip())]
UPSERT = ("INSERT INTO vecpg_data.w (id, title, content, embedding) VALUES (%s, %s, %s, %s::vector) "
          "ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, content = EXCLUDED.content, "
          "embedding = EXCLUDED.embedding")
ERRORS = {"40P01": "deadlocks", "40001": "serialization failures"}


def with_database(url: str, dbname: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{dbname}"))


def as_user(url: str, user: str) -> str:
    """The same URL logging in as another role (the embedded server trusts local sockets)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc.rsplit('@', 1)[-1]}"))


def vector(rng: random.Random) -> str:
    return "[" + ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(DIM)) + "]"


def document(rng: random.Random, doc_id: str) -> tuple[str, str, str, str]:
    title, content = rng.choice(SENTENCES)
    return doc_id, title, content, vector(rng)


def create_database(server_url: str, name: str, revision: str, docs: int, tenants: list[str]) -> str:
    """A fresh database at ``revision`` with collection w: ``docs`` rows without a tenant and as
    many per tenant (ids ``<tenant>-<n>``, so that a tenant's upserts never meet another's row)."""
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        # Roles are the cluster's: made once, as tests/conftest.py's logins fixture does.
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone():
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(ROLE)))
    url = with_database(server_url, name)
    migrate.upgrade(url, revision)
    rng = random.Random(name)
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("GRANT vecpg_writer TO {}").format(sql.Identifier(ROLE)))
        conn.execute("SELECT vecpg.create_collection('w', %s)", (DIM,))
        for tenant in [None, *tenants]:
            rows = [document(rng, f"{tenant or 'd'}-{n}") for n in range(docs)]
            # One statement per tenant: the statistics trigger aggregates it once.
            conn.execute("INSERT INTO vecpg_data.w (id, title, content, embedding, tenant_id) "
                         "SELECT i, t, c, e::vector, %s FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) "
                         "AS u(i, t, c, e)", (tenant, *map(list, zip(*rows))))
    return url


# One transaction of each workload; ``ids`` is the id range of the writer's tenant.
def delete_upsert(cur: psycopg.Cursor, rng: random.Random, ids: list[str]) -> None:
    cur.execute("DELETE FROM vecpg_data.w WHERE id = %s", (rng.choice(ids),))
    cur.execute(UPSERT, document(rng, rng.choice(ids)))


def two_upserts(cur: psycopg.Cursor, rng: random.Random, ids: list[str]) -> None:
    cur.execute(UPSERT, document(rng, rng.choice(ids)))
    cur.execute(UPSERT, document(rng, rng.choice(ids)))


def single_upsert(cur: psycopg.Cursor, rng: random.Random, ids: list[str]) -> None:
    cur.execute(UPSERT, document(rng, rng.choice(ids)))


def orm_session(session: Session, rng: random.Random, ids: list[str]) -> None:
    """50 documents merged (an UPDATE when the id exists, an INSERT when a delete took it)."""
    for doc_id, title, content, emb in (document(rng, rng.choice(ids)) for _ in range(50)):
        session.merge(Doc(id=doc_id, title=title, content=content, embedding=json.loads(emb)))


Doc = orm.document_model("w", DIM)
WORKLOADS = {"delete+upsert": delete_upsert, "two upserts": two_upserts, "single upsert": single_upsert,
             "orm session": orm_session}


def sqlstate(error: Exception) -> str | None:
    return getattr(getattr(error, "orig", error), "sqlstate", None)


def writer(url: str, engine, workload: str, tenant: str | None, ids: list[str], seed: int,
           start: threading.Barrier, seconds: float) -> Counter:
    """Commit transactions until the time is up; a failed one is rolled back, counted, not retried."""
    rng, counts = random.Random(seed), Counter()
    is_orm = workload == "orm session"
    conn = Session(engine) if is_orm else psycopg.connect(url)
    if not is_orm:
        conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
    target = conn if is_orm else conn.cursor()
    start.wait()
    deadline = time.monotonic() + seconds
    with conn:
        while time.monotonic() < deadline:
            try:
                if tenant is not None:
                    target.execute(*((text("SELECT set_config('vecpg.tenant_id', :t, true)"), {"t": tenant})
                                     if is_orm else ("SELECT set_config('vecpg.tenant_id', %s, true)", (tenant,))))
                WORKLOADS[workload](target, rng, ids)
                conn.commit()
                counts["commits"] += 1
            except (psycopg.Error, sa_exc.DBAPIError) as error:
                conn.rollback()
                kind = ERRORS.get(sqlstate(error), "other errors")
                counts[kind] += 1
                if kind == "other errors" and counts[kind] == 1:
                    tqdm.write(f"  {workload}: {str(error).splitlines()[0]}")
    return counts


def run(url: str, workload: str, n: int, mode: str, docs: int, seconds: float) -> tuple[Counter, float]:
    """N writers for ``seconds``; commits/s is over the wall time from the common start."""
    tenants = {"plain": [None] * n, "tenant per writer": [f"t{i}" for i in range(n)], "one tenant": ["t0"] * n}[mode]
    url = url if mode == "plain" else as_user(url, ROLE)
    engine = create_engine(sqlalchemy_url(url), pool_size=n) if workload == "orm session" else None
    start = threading.Barrier(n + 1, timeout=120)  # a writer that cannot connect fails the run
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(writer, url, engine, workload, t, [f"{t or 'd'}-{k}" for k in range(docs)], i,
                               start, seconds) for i, t in enumerate(tenants)]
        start.wait()
        began = time.monotonic()
        totals = sum((f.result() for f in futures), Counter())
    if engine is not None:
        engine.dispose()
    return totals, time.monotonic() - began


# Statistics as summed rows (after issue 20 a key may have several delta rows) against a recount.
CHECKS = {
    "bm25_df": (("SELECT tenant_key, lexeme, sum(df) FROM vecpg.bm25_df WHERE collection = 'w' GROUP BY 1, 2 "
                 "HAVING sum(df) <> 0"),
                "SELECT coalesce(tenant_id, ''), lexeme, count(*) FROM vecpg_data.w, unnest(fts) GROUP BY 1, 2"),
    "bm25_totals": (("SELECT tenant_key, sum(n_docs), sum(total_len) FROM vecpg.bm25_totals "
                     "WHERE collection = 'w' GROUP BY 1 HAVING sum(n_docs) <> 0 OR sum(total_len) <> 0"),
                    "SELECT coalesce(tenant_id, ''), count(*), sum(length(fts)) FROM vecpg_data.w GROUP BY 1"),
}


def check_stats(url: str) -> list[str]:
    """Differences between the statistics and the recount, as lines (none: exact)."""
    problems = []
    with psycopg.connect(url) as conn:
        for table, (stored, recount) in CHECKS.items():
            for side, a, b in (("stored only", stored, recount), ("recount only", recount, stored)):
                rows = conn.execute(f"({a}) EXCEPT ({b}) ORDER BY 1, 2 LIMIT 5").fetchall()
                problems += [f"{table} {side}: {row}" for row in rows]
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a superuser URL (default: the embedded server)")
    parser.add_argument("--before", default="0010", help="revision of the 'before' database")
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--writers", default="1,4,8")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--tenants", action="store_true", help="also as an RLS-bound role: tenant per writer, one tenant")
    args = parser.parse_args()
    writers = [int(w) for w in args.writers.split(",")]
    workloads = args.workloads.split(",")
    modes = ["plain"] + (["tenant per writer", "one tenant"] if args.tenants else [])
    started_here = not args.url and not EmbeddedServer().is_running()
    server_url = resolve_url(args.url)
    tenants = [f"t{i}" for i in range(max(writers))] if args.tenants else []
    dbs = {}
    for label, revision in (("before", args.before), ("after", "head")):
        tqdm.write(f"database {label}: migrating to {revision}, {args.docs} documents x {1 + len(tenants)} tenants")
        dbs[label] = create_database(server_url, f"vecpg_bench_writers_{label}", revision, args.docs, tenants)
        tqdm.write(f"  at revision {migrate.current(dbs[label])}")

    header = ["database", "workload", "writers", "commits/s", "deadlocks", "serialization failures",
              "other errors", "after/before", "stats"]
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    bar = tqdm(total=len(modes) * len(workloads) * len(writers) * len(dbs), unit="run")
    for mode in modes:
        for workload in workloads:
            name = workload if mode == "plain" else f"{workload} ({mode})"
            for n in writers:
                rate = {}
                # Before and after back to back, so that the machine's other load hits both alike.
                for label, url in dbs.items():
                    bar.set_description(f"{label} {name} x{n}")
                    counts, elapsed = run(url, workload, n, mode, args.docs, args.seconds)
                    rate[label] = counts["commits"] / elapsed
                    problems = check_stats(url)
                    tqdm.write(f"{label} {name} x{n}: {counts['commits']} commits, "
                               + ("stats exact" if not problems else "stats differ:\n    " + "\n    ".join(problems)))
                    ratio = f"{rate['after'] / rate['before']:.2f}" if label == "after" and rate["before"] else ""
                    table.append(f"| {label} | {name} | {n} | {rate[label]:,.{0 if rate[label] >= 10 else 1}f} | {counts['deadlocks']} | "
                                 f"{counts['serialization failures']} | {counts['other errors']} | {ratio} | "
                                 f"{'exact' if not problems else f'{len(problems)} differ'} |")
                    bar.update()
    bar.close()
    print(f"\n{args.docs} documents, {args.seconds:g} s a run, before = {args.before}, after = {migrate.head()}\n")
    print("\n".join(table))
    if started_here:
        EmbeddedServer().stop()


if __name__ == "__main__":
    main()
