"""Index builds that do not block writers (CREATE INDEX CONCURRENTLY from Python), invalid
indexes left by failed builds, and the settings builds run with, against a real PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner, Result

import vecpg
from vecpg.cli import main
from vecpg.index.builds import build_session, create_concurrently
from vecpg.search import search_statement

DIM = 64
BIG = 20_000  # rows: an HNSW build of these takes seconds, long enough to write beside it


def vectors(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


def filled(store: vecpg.Store, name: str, rows: int) -> vecpg.Collection:
    coll = store.create_collection(name, dimension=DIM)
    coll.load(({"id": f"r{i}", "content": "x", "embedding": v} for i, v in enumerate(vectors(rows, 0))),
              batch_size=2000)
    return coll


@pytest.fixture
def big(store: vecpg.Store, conn: psycopg.Connection) -> vecpg.Collection:
    coll = filled(store, "big", BIG)
    conn.execute("ANALYZE vecpg_data.big")
    return coll


@pytest.fixture
def small(store: vecpg.Store) -> vecpg.Collection:
    return filled(store, "small", 3000)


@pytest.fixture
def background() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(1) as pool:
        yield pool


def building(conn: psycopg.Connection, table: str, timeout: float = 120.0) -> int:
    """The pid of the build on ``table`` once it builds (for a concurrent one: once its index is
    in the catalog, invalid)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute("SELECT pid, phase FROM pg_stat_progress_create_index WHERE relid = %s::regclass",
                           (table,)).fetchone()
        if row is not None and row[1].startswith("building index"):
            return int(row[0])
        time.sleep(0.02)
    raise AssertionError(f"no index build on {table} started within {timeout} s")


def plan(conn: psycopg.Connection, coll: vecpg.Collection) -> str:
    statement, params = search_statement(coll, vectors(1, 99)[0], 10)
    return "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + statement, params))  # type: ignore[operator]


def fail_a_build(conn: psycopg.Connection, collection: str, index_name: str | None = None) -> None:
    """Leave an invalid index as any failed concurrent build does (here pgvector refuses an
    IVFFlat build short of memory), from a client that does not clean up after it."""
    conn.execute("SET maintenance_work_mem = '1MB'")
    ddl = conn.execute("SELECT vecpg.index_ddl(%s, 'ivfflat', '{\"lists\": 100}', true, %s)",
                       (collection, index_name)).fetchone()[0]
    with pytest.raises(psycopg.errors.ProgramLimitExceeded):
        conn.execute(ddl)
    conn.execute("RESET maintenance_work_mem")


def state(coll: vecpg.Collection) -> list[tuple[str, bool]]:
    return [(i.name, i.valid) for i in coll.indexes()]


def test_writes_go_on_while_a_concurrent_build_replaces_the_index(big, conn, background, capsys) -> None:
    big.create_index(vecpg.HNSW(m=4, ef_construction=8))  # the index searches use meanwhile

    def build() -> tuple[str, float, float]:
        started = time.monotonic()
        name = big.create_index(vecpg.HNSW(m=16, ef_construction=64), concurrently=True, progress=True)
        return name, started, time.monotonic()

    future = background.submit(build)
    building(conn, "vecpg_data.big")
    # The new index is built beside the old one, which keeps serving searches.
    assert state(big) == [("big_embedding_hnsw", True), ("big_embedding_hnsw_new", False)]
    assert "Index Scan using big_embedding_hnsw on" in plan(conn, big)
    with pytest.raises(vecpg.InvalidArgument, match="another index build on collection 'big' is running"):
        big.create_index(vecpg.HNSW(), concurrently=True)

    written: list[tuple[str, float, float]] = []  # id, when the write started, when it committed
    new = vectors(500, seed=1)
    while not future.done() and len(written) < len(new):
        began = time.monotonic()
        big.upsert([{"id": f"w{len(written)}", "content": "written during the build", "embedding": new[len(written)]}])
        written.append((f"w{len(written)}", began, time.monotonic()))
    name, started, finished = future.result()

    during = [w for w in written if started < w[1] and w[2] < finished]
    assert len(during) >= 10, f"only {len(during)} of {len(written)} writes committed while the index was built"
    assert max(end - began for _, began, end in during) < (finished - started) / 4  # none waited for the build
    assert name == "big_embedding_hnsw"
    (index,) = big.indexes()
    assert index.valid and "m='16'" in index.definition and index.name == name
    conn.execute("ANALYZE vecpg_data.big")
    assert f"Index Scan using {name} on" in plan(conn, big)
    for id_, _, _ in during[:: max(1, len(during) // 5)]:  # rows written during the build are in the index
        vector = new[int(id_[1:])]
        assert big.search(vector, k=1, ef_search=100)[0].id == id_
    err = capsys.readouterr().err
    assert "hnsw index on big" in err and "building index" in err


def test_a_plain_build_blocks_writers(big, db_url: str, background) -> None:
    """What the concurrent build avoids (and proof the test above can tell the difference)."""
    with psycopg.connect(db_url, autocommit=True) as other:
        future = background.submit(big.create_index, vecpg.HNSW(m=4, ef_construction=8))
        building(other, "vecpg_data.big")
        other.execute("SET lock_timeout = '200ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("INSERT INTO vecpg_data.big (id, content) VALUES ('blocked', 'x')")
        future.result()


def test_a_cancelled_concurrent_build_drops_what_it_left_and_the_old_index_stays(big, db_url, conn, background) -> None:
    big.create_index(vecpg.IVFFlat())
    with vecpg.connect(db_url, pool_size=1) as single:
        with single.connection() as c:
            before = c.execute("SELECT current_setting('maintenance_work_mem'), "
                               "current_setting('max_parallel_maintenance_workers')").fetchone()
        future = background.submit(single.collection("big").create_index, vecpg.HNSW(), concurrently=True)
        pid = building(conn, "vecpg_data.big")
        conn.execute("SELECT pg_cancel_backend(%s)", (pid,))
        with pytest.raises(psycopg.errors.QueryCanceled):
            future.result()
        assert state(big) == [("big_embedding_ivfflat", True)]
        with single.connection() as c:  # the pooled connection's session got its settings back
            assert c.execute("SELECT current_setting('maintenance_work_mem'), "
                             "current_setting('max_parallel_maintenance_workers')").fetchone() == before


def test_a_build_whose_client_died_leaves_an_invalid_index_that_is_reported_and_rebuilt(
        big, conn, db_url: str, background) -> None:
    future = background.submit(big.create_index, vecpg.HNSW(), concurrently=True)
    conn.execute("SELECT pg_terminate_backend(%s)", (building(conn, "vecpg_data.big"),))
    with pytest.raises(psycopg.OperationalError):
        future.result()
    assert state(big) == [("big_embedding_hnsw", False)]
    assert "Index Scan" not in plan(conn, big)  # searches cannot use it

    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, ["--url", db_url, *args], catch_exceptions=False)

    assert "big_embedding_hnsw (hnsw, " in run("collection", "info", "big").output
    assert "INVALID: a concurrent build is running or failed" in run("collection", "info", "big").output
    assert json.loads(run("collection", "info", "big", "--json").output)["indexes"][0]["valid"] is False
    assert "vecpg index rebuild -c big replaces it" in run("index", "list", "-c", "big").output
    rebuilt = run("index", "rebuild", "-c", "big", "--concurrently")
    assert rebuilt.exit_code == 0 and "rebuilt 1 index(es)" in rebuilt.output
    assert json.loads(run("index", "list", "-c", "big", "--json").output)[0]["valid"] is True
    assert "Index Scan using big_embedding_hnsw on" in plan(conn, big)


def test_rebuilds_and_new_builds_replace_invalid_indexes(small, conn) -> None:
    fail_a_build(conn, "small")
    assert state(small) == [("small_embedding_ivfflat", False)]
    assert small.rebuild_index() == 1  # alone, an invalid index is rebuilt: REINDEX makes it valid
    assert state(small) == [("small_embedding_ivfflat", True)]

    # Beside a valid index, an invalid one is what a failed replacement left: dropped.
    fail_a_build(conn, "small", "small_embedding_ivfflat_new")
    assert state(small) == [("small_embedding_ivfflat", True), ("small_embedding_ivfflat_new", False)]
    assert small.rebuild_index() == 1
    assert state(small) == [("small_embedding_ivfflat", True)]
    fail_a_build(conn, "small", "small_embedding_ivfflat_new")
    assert small.rebuild_index(concurrently=True) == 1
    assert state(small) == [("small_embedding_ivfflat", True)]

    fail_a_build(conn, "small", "small_embedding_ivfflat_new")
    assert small.create_index(vecpg.IVFFlat(lists=10), concurrently=True) == "small_embedding_ivfflat"
    (index,) = small.indexes()
    assert index.valid and "lists='10'" in index.definition
    assert small.create_index(vecpg.HNSW(m=8), concurrently=True) == "small_embedding_hnsw"  # another method
    assert state(small) == [("small_embedding_hnsw", True)]
    assert conn.execute("SELECT vecpg.index_info('small', 'small_embedding_hnsw')").fetchone() is not None
    assert conn.execute("SELECT count(*) FROM vecpg.index_info('small', 'nothing')").fetchone() == (0,)


def test_concurrent_builds_refuse_tenants_transactions_bad_parameters_and_roles(small, logins, db_url) -> None:
    small.create_index(vecpg.IVFFlat())
    with vecpg.connect(logins["admin"]) as admin, admin.tenant("a"):
        with pytest.raises(vecpg.InvalidArgument, match=r"cannot run inside store.tenant\(\)"):
            admin.collection("small").create_index(concurrently=True)
        with pytest.raises(vecpg.InvalidArgument, match=r"inside store.tenant\(\)"):
            admin.collection("small").rebuild_index(concurrently=True)
        admin.collection("small").create_index(vecpg.IVFFlat(lists=5))  # a plain build may run for a tenant
    def refused():  # type: ignore[no-untyped-def]
        return pytest.raises(vecpg.InvalidArgument, match="cannot run inside a transaction")

    with psycopg.connect(db_url) as c, refused():  # psycopg would open a transaction for the first statement
        create_concurrently(c, small.info, "hnsw", {})
    with psycopg.connect(db_url, autocommit=True) as c, c.transaction(), refused():
        create_concurrently(c, small.info, "hnsw", {})
    with pytest.raises(vecpg.InvalidArgument, match="m must be an integer between 2 and 100"):
        small.create_index(vecpg.HNSW(m=1), concurrently=True)
    with pytest.raises(vecpg.InvalidArgument, match="parallel_workers must be an integer"):
        small.create_index(concurrently=True, parallel_workers=-1)
    with vecpg.connect(logins["writer"]) as writer, pytest.raises(vecpg.PermissionDenied):
        writer.collection("small").create_index(concurrently=True)  # the table's owner builds its indexes
    assert [(i.name, i.valid, "lists='5'" in i.definition) for i in small.indexes()] == [
        ("small_embedding_ivfflat", True, True)]  # nothing refused was dropped


def test_the_command_line_builds_concurrently(small, db_url: str, logins) -> None:
    runner = CliRunner()
    built = runner.invoke(main, ["--url", db_url, "index", "create", "-c", "small", "--concurrently", "--m", "8"])
    assert built.exit_code == 0 and "built small_embedding_hnsw" in built.output
    assert "small_embedding_hnsw (hnsw, " in runner.invoke(main, ["--url", db_url, "index", "list", "-c", "small"]).output
    refused = runner.invoke(main, ["--url", logins["admin"], "--tenant", "a", "index", "create", "-c", "small",
                                   "--concurrently"])
    assert refused.exit_code == 2
    assert "cannot run inside store.tenant()" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1


def test_builds_use_the_servers_workers_and_never_more_than_max_parallel_workers(small, conn) -> None:
    def settings(params: str = "{}") -> dict[str, str]:
        return dict(conn.execute("SELECT * FROM vecpg.build_settings(%s)", (params,)).fetchall())

    def show(name: str) -> str:
        return conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0]

    server = int(show("max_parallel_maintenance_workers"))  # the embedded server's: CPUs less one
    assert int(settings()["max_parallel_maintenance_workers"]) == min(server, int(show("max_parallel_workers")))
    conn.execute("SET max_parallel_workers = 1")
    for params in ("{}", '{"parallel_workers": 6}'):
        assert int(settings(params)["max_parallel_maintenance_workers"]) <= 1
    with conn.transaction():  # the SQL build sets them for its transaction
        conn.execute("SELECT vecpg.create_index('small', 'ivfflat', '{\"parallel_workers\": 6}')")
        assert int(show("max_parallel_maintenance_workers")) <= 1
        assert conn.execute("SELECT pg_size_bytes(current_setting('maintenance_work_mem')) >= "
                            "pg_size_bytes('1GB')").fetchone() == (True,)
    assert int(show("max_parallel_maintenance_workers")) == server
    with build_session(conn, {"parallel_workers": 6}) as applied:  # the concurrent build's session
        assert applied["max_parallel_maintenance_workers"] == "1" == show("max_parallel_maintenance_workers")
    assert int(show("max_parallel_maintenance_workers")) == server
