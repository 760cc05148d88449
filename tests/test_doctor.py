"""vecpg doctor and vecpg maintain: each check is shown by making its problem happen, then
maintain repairs what it may and the doctor finds it no more.

Statistics (dead rows, scans) reach pg_stat_* when the writing backend flushes them: the tests
write on their own connection and flush it (pg_stat_force_next_flush) before asking the doctor.
"""

from __future__ import annotations

import json

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner
from conftest import CountingEmbedder, clustered

import vecpg
from vecpg.cli import main
from vecpg.doctor import Finding, maintain
from vecpg.doctor.maintain import plan
from vecpg.worker import Worker, WorkerOptions

DIM = 64
N = 3000


def flushed(conn: psycopg.Connection) -> None:
    """This connection's statistics, visible to the doctor's connection."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT 1")


def checks(findings: list[Finding], collection: str | None = None) -> set[str]:
    return {f.check for f in findings if collection is None or f.collection == collection}


def only(findings: list[Finding], check: str) -> Finding:
    found = [f for f in findings if f.check == check]
    assert len(found) == 1, findings
    return found[0]


def load(store: vecpg.Store, name: str = "t", n: int = N, vectors: np.ndarray | None = None) -> vecpg.Collection:
    coll = store.create_collection(name, dimension=DIM)
    data = clustered(n, DIM) if vectors is None else vectors
    coll.load({"id": str(i), "content": f"document {i}", "embedding": v} for i, v in enumerate(data))
    return coll


def cli(db_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--url", db_url, *args])
    return result.exit_code, result.output


def test_a_healthy_collection_has_no_problem_and_exits_0(store: vecpg.Store, conn: psycopg.Connection,
                                                          db_url: str) -> None:
    coll = load(store)
    coll.create_index()
    conn.execute("VACUUM ANALYZE vecpg_data.t")
    coll.tune(0.95)
    code, out = cli(db_url, "doctor", "--json")
    assert code == 0, out
    findings = [Finding(**f) for f in json.loads(out)]
    assert not [f for f in findings if f.problem]
    assert not checks(findings) & {"invalid_index", "recall_below_target", "never_analyzed", "table_bloat",
                                   "collapsed_embeddings", "missing_index", "pending_migrations"}


def test_an_invalid_index_is_a_problem_and_maintain_reindexes_it(store: vecpg.Store, conn: psycopg.Connection,
                                                                 db_url: str) -> None:
    coll = load(store)
    name = coll.create_index()
    # What a failed CREATE INDEX CONCURRENTLY leaves behind (this test's database is a copy).
    conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", (f"vecpg_data.{name}",))
    finding = only(store.doctor("t", recall=False), "invalid_index")
    assert finding.problem and finding.fix == f"REINDEX INDEX CONCURRENTLY vecpg_data.{name}"
    code, out = cli(db_url, "doctor", "-c", "t", "--no-recall")
    assert code == 1 and "invalid_index" in out and "REINDEX INDEX CONCURRENTLY" in out
    code, out = cli(db_url, "maintain", "-c", "t", "--dry-run", "--no-recall")
    assert code == 0 and f"would run: REINDEX INDEX CONCURRENTLY vecpg_data.{name}" in out
    assert not coll.indexes()[0].valid  # a dry run runs nothing
    code, out = cli(db_url, "maintain", "-c", "t", "--no-recall")
    assert code == 0 and f"ran: REINDEX INDEX CONCURRENTLY vecpg_data.{name}" in out, out
    assert coll.indexes()[0].valid
    assert "invalid_index" not in checks(store.doctor("t", recall=False))


def test_collapsed_embeddings_are_a_problem(store: vecpg.Store) -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=DIM)
    load(store, "same", 300, (base + 1e-3 * rng.normal(size=(300, DIM))).astype(np.float32))
    load(store, "fine", 300)
    findings = store.doctor(recall=False)
    finding = only(findings, "collapsed_embeddings")
    assert finding.collection == "same" and finding.problem and "similarity 1" in finding.message
    assert "collapsed_embeddings" not in checks(findings, "fine")


def test_unnormalised_vectors_and_text_past_the_window_in_a_model_collection(store: vecpg.Store,
                                                                               embedder: vecpg.Embedder) -> None:
    kb = store.create_collection("kb", model=embedder.model)
    rng = np.random.default_rng(1)
    long_text = " ".join(f"word{i}" for i in range(600))  # far past all-MiniLM-L6-v2's 256 tokens
    kb.upsert({"id": str(i), "content": long_text if i % 2 else f"short text {i}",
               "embedding": (3 * rng.normal(size=kb.dimension)).astype(np.float32)} for i in range(60))
    findings = store.doctor("kb", recall=False)
    unnormalised = only(findings, "unnormalised_embeddings")
    assert "60 of 60" in unnormalised.message and "l2_normalize" in unnormalised.fix
    window = only(findings, "over_window")
    assert window.fix == "vecpg collection chunk kb" and "longer than" in window.message
    kb.enable_chunking()
    assert "over_window" not in checks(store.doctor("kb", recall=False))


def test_a_stale_queue_and_failed_embeddings(store: vecpg.Store, conn: psycopg.Connection, db_url: str,
                                             embedder: vecpg.Embedder) -> None:
    store.create_collection("kb", model=embedder.model)
    for i, text in enumerate(["a text", "another text", "this one goes boom"]):
        conn.execute("SELECT vecpg.add_document('kb', %s, NULL, %s)", (str(i), text))
    assert "embedding_backlog" not in checks(store.doctor("kb", recall=False))  # just queued: no worker needed yet
    flaky = CountingEmbedder(embedder, fail_on="boom")
    with Worker(db_url, WorkerOptions(max_attempts=1), embedder_for=flaky.for_collection) as worker:
        assert worker.run_once().failed == 1
    for i in range(3, 6):
        conn.execute("SELECT vecpg.add_document('kb', %s, NULL, 'waiting for a worker')", (str(i),))
    conn.execute("UPDATE vecpg.embedding_queue SET queued_at = now() - interval '1 hour' WHERE failed_at IS NULL")
    findings = store.doctor("kb", recall=False)
    failed = only(findings, "embedding_failures")
    assert failed.problem and "boom" in failed.message and failed.fix == "vecpg worker retry -c kb"
    backlog = only(findings, "embedding_backlog")
    assert "3 documents" in backlog.message and backlog.fix == "vecpg worker -c kb"
    actions, left = maintain(store, "kb", recall=False)
    assert "vecpg worker retry -c kb" in [a.command for a in actions]
    assert [f.check for f in left] == ["embedding_backlog"]  # starting workers is the operator's
    assert "embedding_failures" not in checks(store.doctor("kb", recall=False))


def test_never_analyzed_dead_rows_and_index_bloat_then_maintain(store: vecpg.Store, conn: psycopg.Connection) -> None:
    coll = store.create_collection("t", dimension=DIM)
    conn.execute("ALTER TABLE vecpg_data.t SET (autovacuum_enabled = false)")  # as when autovacuum lags
    coll.load({"id": str(i), "content": f"document {i}", "embedding": v} for i, v in enumerate(clustered(N, DIM)))
    coll.create_index()
    flushed(conn)
    assert "never_analyzed" in checks(store.doctor("t", recall=False))
    conn.execute("ANALYZE vecpg_data.t")
    # Every row gets a new direction: a dead copy of each, and a new element in the HNSW graph beside the old.
    conn.execute("UPDATE vecpg_data.t SET embedding = embedding + (SELECT embedding FROM vecpg_data.t WHERE id = '0')")
    flushed(conn)
    findings = store.doctor("t", recall=False)
    assert {"table_bloat", "stale_statistics", "index_bloat"} <= checks(findings), findings
    assert only(findings, "table_bloat").fix == "VACUUM ANALYZE vecpg_data.t"
    # The repairs of these very findings (the statistics behind them move as backends flush).
    actions, _left = plan(store, findings)
    assert next(a.command for a in actions) == "VACUUM ANALYZE vecpg_data.t"
    assert any(a.command.startswith("REINDEX INDEX CONCURRENTLY") for a in actions)
    for action in actions:
        action.run()
    flushed(conn)
    assert not checks(store.doctor("t", recall=False)) & {"table_bloat", "stale_statistics", "index_bloat",
                                                          "never_analyzed"}


def test_an_unused_index(store: vecpg.Store, conn: psycopg.Connection) -> None:
    load(store)
    conn.execute("CREATE INDEX t_title ON vecpg_data.t (title)")
    conn.execute("SELECT count(*) FROM vecpg_data.t WHERE content LIKE 'document 1%'")  # the table is read
    flushed(conn)
    finding = only(store.doctor("t", recall=False), "unused_index")
    assert "t_title" in finding.message and finding.fix == "DROP INDEX CONCURRENTLY vecpg_data.t_title"


def test_a_missing_index_and_recall_below_target_then_retuned(store: vecpg.Store) -> None:
    big = store.create_collection("big", dimension=8)
    big.load({"id": str(i), "embedding": v} for i, v in enumerate(clustered(10_000, 8)))
    poor = load(store, "poor")
    poor.create_index(vecpg.HNSW(m=4, ef_construction=16))
    poor.set_search_defaults(ef_search=10)
    findings = store.doctor()
    missing = only(findings, "missing_index")
    assert missing.collection == "big" and missing.fix == "vecpg index create -c big"
    recall = only(findings, "recall_below_target")
    assert recall.collection == "poor" and recall.fix == "vecpg index tune -c poor --target-recall 0.95"
    actions, _left = maintain(store, "poor")
    assert "vecpg index tune -c poor" in [a.command for a in actions]
    assert poor.tuning() is not None
    assert "recall_below_target" not in checks(store.doctor("poor"))


def test_pgvector_fixes_of_later_releases_are_named(store: vecpg.Store) -> None:
    coll = load(store, n=500)
    coll.create_index(vecpg.IVFFlat(lists=10))
    installed = store.pgvector_version
    findings = [f for f in store.doctor(recall=False) if f.check == "pgvector_fixes"]
    if installed >= (0, 8, 7):
        assert findings == []
    else:
        assert findings and all("ALTER EXTENSION vector UPDATE" in f.fix for f in findings)
        assert any("IVFFlat" in f.message for f in findings)


def test_the_sql_function_alone(store: vecpg.Store, conn: psycopg.Connection) -> None:
    load(store, n=300)
    rows = conn.execute('SELECT "check", severity FROM vecpg.doctor(%s)', ("t",)).fetchall()
    assert all(severity in ("ok", "warning", "problem") for _, severity in rows)
    with pytest.raises(psycopg.Error, match="does not exist"):
        conn.execute("SELECT * FROM vecpg.doctor('nope')")
