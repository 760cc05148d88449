"""Concurrent writers commit multi-statement transactions without deadlocks (issue 20).

BM25 statistics are appended per statement, never updated in place (sql/incremental/013): each
test runs several clients at once for a couple of seconds, every transaction of several
statements, each client on its own documents (two transactions that update the same documents in
opposite orders deadlock in any database; that is the application's to avoid). Then no writer
saw a deadlock or a serialization failure, and the statistics equal a recount.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import numpy as np
import psycopg
import pytest
from conftest import keyword_recount, keyword_statistics
from sqlalchemy import select

import vecpg
from vecpg import orm

WORDS = ["moon", "tides", "gravity", "ocean", "sun", "light", "star", "planet", "orbit", "water", "bread", "oven", "crust", "steam", "salt", "yeast", "flour", "stone", "river", "cloud", "rain", "wind", "field"]
SECONDS = 2.0
COLLECTION = "w"


def text(rng: random.Random) -> str:
    # Few distinct words, so that every statement touches the same common lexemes: the rows a
    # per-lexeme statistic would lock.
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))


def run_writers(count: int, work: Callable[[int, random.Random], None]) -> dict[str, int]:
    """``work(writer, rng)`` (one transaction) in a loop on ``count`` threads for SECONDS;
    commits and errors by SQLSTATE."""
    outcome: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def loop(writer: int) -> None:
        rng = random.Random(writer)
        while time.monotonic() < deadline:
            try:
                work(writer, rng)
                key = "commits"
            except (psycopg.Error, vecpg.VecpgError) as exc:
                key = getattr(exc, "sqlstate", None) or type(exc).__name__
            with lock:
                outcome[key] = outcome.get(key, 0) + 1

    threads = [threading.Thread(target=loop, args=(w,)) for w in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome


def assert_exact(conn: psycopg.Connection) -> None:
    assert keyword_statistics(conn, COLLECTION) == keyword_recount(conn, COLLECTION)


@pytest.fixture
def collection(store: vecpg.Store, conn: psycopg.Connection) -> vecpg.Collection:
    coll = store.create_collection(COLLECTION, dimension=2)
    rng = random.Random(0)
    coll.upsert([{"id": f"{w}-{i}", "content": text(rng), "embedding": [1, i]} for w in range(8) for i in range(25)])
    return coll


def upsert(conn: psycopg.Connection, doc_id: str, rng: random.Random, tenant: str | None = None) -> None:
    conn.execute(f"INSERT INTO vecpg_data.{COLLECTION} (id, content, embedding, tenant_id) VALUES (%s, %s, %s, %s) "
                 "ON CONFLICT (id) DO UPDATE SET content = EXCLUDED.content",
                 (doc_id, text(rng), f"[1,{rng.random()}]", tenant))


def connections(url: str, count: int) -> list[psycopg.Connection]:
    return [psycopg.connect(url) for _ in range(count)]  # not autocommit: each work() one transaction


@pytest.mark.parametrize("shape", ["delete then upsert", "two upserts"])
def test_multi_statement_transactions_never_deadlock(collection: vecpg.Collection, db_url: str,
                                                     conn: psycopg.Connection, shape: str) -> None:
    clients = connections(db_url, 4)

    def work(writer: int, rng: random.Random) -> None:
        c = clients[writer]
        with c.transaction():
            first, second = (f"{writer}-{rng.randrange(25)}" for _ in range(2))
            if shape == "delete then upsert":
                c.execute(f"DELETE FROM vecpg_data.{COLLECTION} WHERE id = %s", (first,))
            else:
                upsert(c, first, rng)
            upsert(c, second, rng)

    outcome = run_writers(4, work)
    for c in clients:
        c.close()
    assert set(outcome) == {"commits"} and outcome["commits"] > 40, outcome
    assert_exact(conn)
    # Compactions ran during the load (every 64th statement): compacted rows exist.
    assert conn.execute("SELECT count(*) FROM vecpg.bm25_df WHERE collection = %s AND base",
                        (COLLECTION,)).fetchone()[0] > 0


def test_orm_sessions_flushing_fifty_documents_each(collection: vecpg.Collection, db_url: str,
                                                    conn: psycopg.Connection) -> None:
    Doc = orm.document_model(COLLECTION, 2)
    engine = orm.engine(db_url, pool_size=3)

    def work(writer: int, rng: random.Random) -> None:
        with orm.session(bind=engine) as s:
            mine = {d.id: d for d in s.scalars(select(Doc).where(Doc.id.like(f"{writer}-%")))}
            for i in range(50):
                doc_id = f"{writer}-{rng.randrange(60)}"
                if doc_id in mine:
                    mine[doc_id].content = text(rng)
                else:
                    mine[doc_id] = Doc(id=doc_id, content=text(rng), embedding=np.array([1.0, i]))
                    s.add(mine[doc_id])
            s.commit()

    outcome = run_writers(3, work)
    engine.dispose()
    assert set(outcome) == {"commits"} and outcome["commits"] >= 3, outcome
    assert_exact(conn)


@pytest.mark.parametrize("same_tenant", [False, True])
def test_tenants_writing_at_once_keep_their_statistics_exact(collection: vecpg.Collection, logins: dict[str, str],
                                                             conn: psycopg.Connection, same_tenant: bool) -> None:
    clients = connections(logins["writer"], 4)  # row-level security binds this role

    def work(writer: int, rng: random.Random) -> None:
        c = clients[writer]
        tenant = "acme" if same_tenant else f"tenant{writer}"
        with c.transaction():
            c.execute("SELECT set_config('vecpg.tenant_id', %s, true)", (tenant,))
            c.execute(f"DELETE FROM vecpg_data.{COLLECTION} WHERE id = %s", (f"t{writer}-{rng.randrange(20)}",))
            upsert(c, f"t{writer}-{rng.randrange(20)}", rng, tenant)
            upsert(c, f"t{writer}-{rng.randrange(20)}", rng, tenant)

    outcome = run_writers(4, work)
    for c in clients:
        c.close()
    assert set(outcome) == {"commits"} and outcome["commits"] > 40, outcome
    assert_exact(conn)  # the superuser sees every tenant's statistics and rows
    tenants = {"acme"} if same_tenant else {f"tenant{w}" for w in range(4)}
    assert set(keyword_statistics(conn, COLLECTION)[1]) == tenants | {""}
    # Compacting everything leaves the same statistics, one row a key.
    conn.execute("SELECT vecpg.compact_keyword_stats(%s)", (COLLECTION,))
    assert_exact(conn)
    assert conn.execute("SELECT count(*) FROM vecpg.bm25_df WHERE collection = %s AND NOT base",
                        (COLLECTION,)).fetchone() == (0,)


def test_the_queue_and_the_outbox_miss_no_write_under_the_same_load(store: vecpg.Store, db_url: str,
                                                                    conn: psycopg.Connection) -> None:
    # A collection with a model: documents written without a vector wait in its embedding queue.
    conn.execute("SELECT vecpg.create_collection(%s, 2, 'cosine', 'test/two-dimensional-model')", (COLLECTION,))
    conn.execute("SELECT vecpg.enable_mirror(%s)", (COLLECTION,))
    start = conn.execute("SELECT coalesce(max(seq), 0) FROM vecpg.mirror_outbox").fetchone()[0]
    clients = connections(db_url, 4)
    written: set[str] = set()

    def work(writer: int, rng: random.Random) -> None:
        c = clients[writer]
        gone, kept = (f"{writer}-{rng.randrange(25)}" for _ in range(2))
        with c.transaction():
            deleted = c.execute(f"DELETE FROM vecpg_data.{COLLECTION} WHERE id = %s", (gone,)).rowcount
            c.execute(f"INSERT INTO vecpg_data.{COLLECTION} (id, content) VALUES (%s, %s) "
                      "ON CONFLICT (id) DO UPDATE SET content = EXCLUDED.content", (kept, text(rng)))
        written.update([gone, kept] if deleted else [kept])

    outcome = run_writers(4, work)
    for c in clients:
        c.close()
    assert set(outcome) == {"commits"} and outcome["commits"] > 40, outcome
    assert_exact(conn)
    unqueued = conn.execute(
        f"SELECT d.id FROM vecpg_data.{COLLECTION} d LEFT JOIN vecpg.embedding_queue q "
        "ON q.collection = %s AND q.doc_id = d.id AND q.text_hash = vecpg.text_hash(d.title, d.content) "
        "WHERE q.doc_id IS NULL", (COLLECTION,)).fetchall()
    assert unqueued == []  # every document waits for its vector, with the text it has now
    announced = {r[0] for r in conn.execute(
        "SELECT DISTINCT doc_id FROM vecpg.mirror_outbox WHERE collection = %s AND seq > %s", (COLLECTION, start))}
    assert written <= announced  # every document written, deleted or not, is in the outbox
