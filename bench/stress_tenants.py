"""Bounded stress test: concurrent writers and searchers on several tenants, then verification.

Run by hand (not a test):  python bench/stress_tenants.py [--seconds 30] [--tenants 4] [--url URL]

Writers upsert, update and delete their own documents; searchers run vector, keyword and hybrid
searches (over a keyword index with --keyword-index, whose postings are then checked too); everyone logs in as a non-superuser member of vecpg_writer (created here when the
script's own login may create roles), so row-level security is in force. After the fixed time the
script checks: every tenant holds exactly the documents its writers left (nothing lost, nothing
duplicated), no search ever returned another tenant's row, the BM25 statistics equal a recount,
and no deadlock reached a caller (serialization failures and deadlocks are retried and counted).
Loopback / Unix socket only; it stops by itself.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections import defaultdict
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg

import vecpg
from vecpg.db.connection import resolve_url

DIM = 16
WORDS = ["solar", "wind", "tide", "star", "bread", "oven", "index", "vector", "graph", "river", "ocean", "glacier",
         "music", "opera", "chess"]
RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)


def as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc.rsplit('@', 1)[-1]}"))


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.count: dict[str, int] = defaultdict(int)

    def add(self, name: str, seconds: float, n: int = 1) -> None:
        with self.lock:
            self.latency[name].append(seconds * 1000)
            self.count[name] += n


def retrying(stats: Stats, action):  # type: ignore[no-untyped-def]
    for attempt in range(10):
        try:
            return action()
        except vecpg.VecpgError as exc:
            if not isinstance(exc.__cause__, RETRYABLE):
                raise
        except RETRYABLE:
            pass
        stats.add("retries", 0)
        time.sleep(0.01 * (attempt + 1))
    raise RuntimeError("gave up after 10 retries")


def writer(url: str, tenant: str, wid: int, deadline: float, live: set[str], stats: Stats, errors: list) -> None:
    rng = random.Random(hash((tenant, wid)))
    seq = 0
    with vecpg.connect(url, pool_size=1) as store, store.tenant(tenant):
        coll = store.collection("stress")
        while time.monotonic() < deadline:
            try:
                roll = rng.random()
                if roll < 0.7 or not live:
                    batch = [{"id": f"{tenant}-w{wid}-{seq + i}", "content": " ".join(rng.choices(WORDS, k=6)),
                              "embedding": np.random.default_rng(seq + i).normal(size=DIM), "metadata": {"w": wid}}
                             for i in range(rng.randint(1, 20))]
                    seq += len(batch)
                    start = time.perf_counter()
                    retrying(stats, lambda batch=batch: coll.upsert(batch))
                    stats.add("upsert", time.perf_counter() - start, len(batch))
                    live.update(d["id"] for d in batch)
                elif roll < 0.85:
                    target = rng.choice(sorted(live))
                    start = time.perf_counter()
                    update = [{"id": target, "content": "updated " + rng.choice(WORDS), "embedding": np.ones(DIM)}]
                    retrying(stats, lambda update=update: coll.upsert(update))
                    stats.add("update", time.perf_counter() - start)
                else:
                    victims = rng.sample(sorted(live), min(len(live), rng.randint(1, 5)))
                    start = time.perf_counter()
                    deleted = retrying(stats, lambda victims=victims: coll.delete(victims))
                    stats.add("delete", time.perf_counter() - start, deleted)
                    if deleted != len(victims):
                        errors.append(f"{tenant}: deleted {deleted} of {len(victims)} own rows")
                    live.difference_update(victims)
            except Exception as exc:  # noqa: BLE001 - recorded and reported, the run goes on
                errors.append(f"writer {tenant}/{wid}: {type(exc).__name__}: {exc}")


def searcher(url: str, tenants: list[str], deadline: float, stats: Stats, leaks: list, errors: list) -> None:
    rng = random.Random(7)
    with vecpg.connect(url, pool_size=1) as store:
        coll = store.collection("stress")
        while time.monotonic() < deadline:
            tenant = rng.choice(tenants)
            mode = rng.choice(["vector", "keyword", "hybrid"])
            try:
                with store.tenant(tenant):
                    start = time.perf_counter()
                    if mode == "vector":
                        hits = coll.search(np.random.default_rng().normal(size=DIM), k=10)
                    else:
                        with store.connection() as conn:
                            text = " ".join(rng.choices(WORDS, k=2))
                            if mode == "keyword":
                                rows = conn.execute("SELECT id FROM vecpg.keyword_search('stress', %s, 10)", (text,))
                            else:
                                rows = conn.execute("SELECT id FROM vecpg.hybrid_search('stress', %s, %s, 10)",
                                                    (text, np.random.default_rng().normal(size=DIM)))
                            hits = [type("Hit", (), {"id": r[0]}) for r in rows]
                    stats.add(mode, time.perf_counter() - start)
                leaks.extend(h.id for h in hits if not h.id.startswith(tenant + "-"))
            except Exception as exc:  # noqa: BLE001
                errors.append(f"searcher {mode}: {type(exc).__name__}: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--writers", type=int, default=2, help="per tenant")
    parser.add_argument("--searchers", type=int, default=4)
    parser.add_argument("--url", default=None)
    parser.add_argument("--keyword-index", action="store_true", help="give the collection a keyword index first")
    args = parser.parse_args()

    url = resolve_url(args.url)
    admin = vecpg.connect(url, migrate_schema=True)
    admin.drop_collection("stress", missing_ok=True)
    admin.create_collection("stress", dimension=DIM)
    if args.keyword_index:
        admin.collection("stress").enable_keyword_index()
    with admin.connection() as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'vecpg_stress'").fetchone():
            conn.execute("CREATE ROLE vecpg_stress LOGIN")
        conn.execute("GRANT vecpg_writer TO vecpg_stress")
    app_url = as_user(url, "vecpg_stress")
    tenants = [f"t{i}" for i in range(args.tenants)]
    live: dict[str, set[str]] = {t: set() for t in tenants}
    per_writer: dict[tuple[str, int], set[str]] = {}
    stats, leaks, errors = Stats(), [], []
    deadline = time.monotonic() + args.seconds
    threads = []
    for tenant in tenants:
        for wid in range(args.writers):
            per_writer[(tenant, wid)] = set()
            threads.append(threading.Thread(target=writer, args=(app_url, tenant, wid, deadline,
                                                                 per_writer[(tenant, wid)], stats, errors)))
    threads += [threading.Thread(target=searcher, args=(app_url, tenants, deadline, stats, leaks, errors))
                for _ in range(args.searchers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.seconds + 120)
    elapsed = time.monotonic() - started
    for (tenant, _), ids in per_writer.items():
        live[tenant] |= ids

    # -- verification --------------------------------------------------------------------------
    problems = list(errors)
    with vecpg.connect(app_url) as store:
        coll = store.collection("stress")
        for tenant in tenants:
            with store.tenant(tenant), store.connection() as conn:
                stored = [r[0] for r in conn.execute("SELECT id FROM vecpg_data.stress")]
            if len(stored) != len(set(stored)):
                problems.append(f"{tenant}: duplicated ids")
            if set(stored) != live[tenant]:
                problems.append(f"{tenant}: {len(live[tenant] - set(stored))} lost, {len(set(stored) - live[tenant])} unexpected")
        if coll.count() != 0:
            problems.append("rows visible without a tenant")
    with admin.connection() as conn:
        stats_now = conn.execute(
            "SELECT tenant_key, lexeme, df FROM vecpg.keyword_statistics('stress') "
            "EXCEPT SELECT coalesce(tenant_id, ''), u.lexeme, count(*) FROM vecpg_data.stress d, unnest(d.fts) u GROUP BY 1, 2"
        ).fetchall()
        if stats_now:
            problems.append(f"BM25 statistics differ from a recount in {len(stats_now)} rows")
        if args.keyword_index:
            recount = ("SELECT coalesce(tenant_id, ''), u.lexeme, d.id, coalesce(cardinality(u.positions), 1) "
                       "FROM vecpg_data.stress d, unnest(d.fts) u")
            postings = "SELECT tenant_key, lexeme, id, tf FROM vecpg_postings.stress"
            differ = conn.execute(f"({recount} EXCEPT ALL {postings}) UNION ALL ({postings} EXCEPT ALL {recount})").fetchall()
            if differ:
                problems.append(f"keyword index differs from a recount in {len(differ)} postings")
    if leaks:
        problems.append(f"{len(leaks)} search results from another tenant")

    print(f"\n{args.tenants} tenants x {args.writers} writers, {args.searchers} searchers, {elapsed:.1f} s\n")
    print("| operation | count | per second | p50 ms | p99 ms |\n|---|---|---|---|---|")
    for name in ("upsert", "update", "delete", "vector", "keyword", "hybrid"):
        lat = np.array(stats.latency.get(name, [0.0]))
        print(f"| {name} | {stats.count[name]} | {stats.count[name] / elapsed:.1f} | "
              f"{np.percentile(lat, 50):.2f} | {np.percentile(lat, 99):.2f} |")
    print(f"\nretried after serialization failure or deadlock: {stats.count['retries']}")
    print(f"documents left: {sum(len(v) for v in live.values())}")
    print("verification: " + ("passed" if not problems else "FAILED\n  " + "\n  ".join(problems[:20])))
    admin.drop_collection("stress")
    admin.close()
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
