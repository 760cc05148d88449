"""Embedding workers (vecpg.worker): queued text becomes searchable, once, never stale, and a
failing row or a killed worker holds nothing up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
from conftest import CountingEmbedder

import vecpg
from vecpg.errors import CollectionNotFound, InvalidArgument, PermissionDenied
from vecpg.worker import Worker, WorkerOptions, embedding_status, failures

TEXTS = {
    "moon": "The moon's gravity raises the tides of the oceans.",
    "bread": "Sourdough bread rises slowly and bakes best with steam.",
    "lava": "Volcanoes erupt molten lava from deep inside the earth.",
}


@pytest.fixture
def docs(store: vecpg.Store) -> vecpg.Collection:
    return store.create_collection("docs")


def add(conn: psycopg.Connection, texts: dict[str, str], collection: str = "docs") -> None:
    for doc_id, text in texts.items():
        conn.execute("SELECT vecpg.add_document(%s, %s, NULL, %s)", (collection, doc_id, text))


def wait_until(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_queued_text_becomes_searchable_with_the_models_vectors(conn: psycopg.Connection, db_url: str,
                                                                 docs: vecpg.Collection,
                                                                 counting: CountingEmbedder) -> None:
    add(conn, TEXTS)
    assert docs.search("ocean tides", k=3) == []  # no vectors yet: nothing to find
    with Worker(db_url, embedder_for=counting.for_collection) as worker:
        stats = worker.run_once()
    assert stats.embedded == 3 and sorted(counting.texts) == sorted(TEXTS.values())
    assert docs.search("ocean tides", k=1)[0].id == "moon"
    # The same vector the client-side path computes for the same text.
    stored = docs.get(["lava"])[0].embedding
    assert np.allclose(stored, counting.inner.embed([TEXTS["lava"]])[0], atol=1e-6)
    (status,) = embedding_status(conn, "docs")
    assert (status.documents, status.embedded, status.coverage, status.queued) == (3, 3, 1.0, 0)
    assert status.embedded_5min == 3 and status.docs_per_second and status.docs_per_second > 0


def test_a_metadata_update_costs_no_model_call(conn: psycopg.Connection, db_url: str, docs: vecpg.Collection,
                                                counting: CountingEmbedder) -> None:
    add(conn, TEXTS)
    with Worker(db_url, embedder_for=counting.for_collection) as worker:
        worker.run_once()
        calls = len(counting.texts)
        conn.execute("UPDATE vecpg_data.docs SET metadata = '{\"topic\": \"science\"}'")
        conn.execute("SELECT vecpg.add_document('docs', 'moon', NULL, %s, '{\"n\": 1}')", (TEXTS["moon"],))
        assert worker.run_once().embedded == 0
        assert len(counting.texts) == calls
        conn.execute("UPDATE vecpg_data.docs SET content = 'Glaciers carve valleys.' WHERE id = 'lava'")
        worker.run_once()
    assert counting.texts[calls:] == ["Glaciers carve valleys."]


def test_two_workers_share_the_queue_and_embed_no_row_twice(conn: psycopg.Connection, db_url: str,
                                                             docs: vecpg.Collection, embedder: vecpg.Embedder) -> None:
    texts = {f"s{i}": f"Sentence number {i} about topic {i % 17}." for i in range(400)}
    with conn.transaction():
        add(conn, texts)
    counters = [CountingEmbedder(embedder), CountingEmbedder(embedder)]
    workers = [Worker(db_url, WorkerOptions(batch=16), embedder_for=c.for_collection) for c in counters]
    threads = [threading.Thread(target=w.run_once) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in workers:
        w.close()
    embedded = counters[0].texts + counters[1].texts
    assert len(embedded) == len(texts) and set(embedded) == set(texts.values())
    assert all(c.texts for c in counters), "both workers took a share"
    assert conn.execute("SELECT count(*) FROM vecpg_data.docs WHERE embedding IS NULL").fetchone() == (0,)


class _WriterDuringEmbedding(CountingEmbedder):
    """The real model; while it embeds the first batch, another client rewrites one document."""

    def __init__(self, inner: vecpg.Embedder, url: str) -> None:
        super().__init__(inner)
        self.url, self.done = url, False

    def embed(self, texts):  # type: ignore[no-untyped-def]
        if not self.done:
            self.done = True
            with psycopg.connect(self.url, autocommit=True) as other:
                other.execute("UPDATE vecpg_data.docs SET content = 'Volcanic ash darkens the sky.' WHERE id = 'lava'")
        return super().embed(texts)


def test_a_text_changed_while_embedding_never_gets_the_old_vector(conn: psycopg.Connection, db_url: str,
                                                                  docs: vecpg.Collection,
                                                                  embedder: vecpg.Embedder) -> None:
    add(conn, TEXTS)
    racing = _WriterDuringEmbedding(embedder, db_url)
    with Worker(db_url, WorkerOptions(batch=10), embedder_for=racing.for_collection) as worker:
        first = worker.run_batch(worker.collections()[0])
        assert first == 3
        assert conn.execute("SELECT embedding IS NULL FROM vecpg_data.docs WHERE id = 'lava'").fetchone() == (True,)
        worker.run_once()
    stored = docs.get(["lava"])[0].embedding
    assert np.allclose(stored, embedder.embed(["Volcanic ash darkens the sky."])[0], atol=1e-6)
    assert racing.texts.count("Volcanic ash darkens the sky.") == 1


def test_a_failing_row_is_retried_then_listed_and_blocks_nothing(conn: psycopg.Connection, db_url: str,
                                                                 store: vecpg.Store, docs: vecpg.Collection,
                                                                 embedder: vecpg.Embedder) -> None:
    other = store.create_collection("other")
    add(conn, {**TEXTS, "bad": "this one goes boom"})
    add(conn, {"x": "a text in another collection"}, "other")
    flaky = CountingEmbedder(embedder, fail_on="boom")
    with Worker(db_url, WorkerOptions(max_attempts=2), embedder_for=flaky.for_collection) as worker:
        stats = worker.run_once()
        assert (stats.embedded, stats.failed) == (4, 1)
        attempts, error, later = conn.execute(
            "SELECT attempts, last_error, retry_at > now() FROM vecpg.embedding_queue WHERE doc_id = 'bad'").fetchone()
        assert attempts == 1 and "boom" in error and later
        assert worker.run_once().failed == 0  # backing off: not tried again at once
        conn.execute("UPDATE vecpg.embedding_queue SET retry_at = now() WHERE doc_id = 'bad'")
        assert worker.run_once().failed == 1
    assert other.count() == 1 and other.search("another collection", k=1)[0].id == "x"
    (failed,) = failures(conn)
    assert (failed.doc_id, failed.attempts) == ("bad", 2) and "boom" in (failed.last_error or "")
    status = {s.collection: s for s in embedding_status(conn)}
    assert status["docs"].failed == 1 and status["docs"].queued == 0 and status["docs"].coverage == 0.75
    assert conn.execute("SELECT vecpg.retry_embeddings('docs')").fetchone() == (1,)
    conn.execute("UPDATE vecpg_data.docs SET content = 'this one is fine now' WHERE id = 'bad'")
    with Worker(db_url, embedder_for=flaky.for_collection) as worker:
        assert worker.run_once().embedded == 1
    assert failures(conn) == [] and embedding_status(conn, "docs")[0].coverage == 1.0


def test_a_model_of_the_wrong_dimension_fails_every_row_clearly(conn: psycopg.Connection, db_url: str,
                                                                store: vecpg.Store,
                                                                counting: CountingEmbedder) -> None:
    conn.execute("SELECT vecpg.create_collection('small', 8, model => 'sentence-transformers/all-MiniLM-L6-v2')")
    add(conn, {"a": "text"}, "small")
    with Worker(db_url, WorkerOptions(max_attempts=1), embedder_for=counting.for_collection) as worker:
        assert worker.run_once().failed == 1
    assert counting.texts == []
    assert "384-d vectors, the collection holds 8-d" in (failures(conn)[0].last_error or "")


def test_a_following_worker_wakes_on_notify(conn: psycopg.Connection, db_url: str, docs: vecpg.Collection,
                                            counting: CountingEmbedder) -> None:
    stop = threading.Event()
    worker = Worker(db_url, WorkerOptions(poll=60), embedder_for=counting.for_collection)
    runner = threading.Thread(target=worker.run, args=(stop.is_set,))
    runner.start()
    try:
        time.sleep(0.5)
        add(conn, {"moon": TEXTS["moon"]})
        wait_until(lambda: docs.search("tides", k=1), timeout=10)  # long before the 60 s poll
    finally:
        stop.set()
        runner.join(timeout=10)
        worker.close()
    assert not runner.is_alive()


def test_the_mirror_takes_a_row_when_its_vector_is_written(conn: psycopg.Connection, db_url: str,
                                                           docs: vecpg.Collection, counting: CountingEmbedder,
                                                           tmp_path: Path) -> None:
    from vecpg.mirror.edge import EdgeBackend
    from vecpg.mirror.sync import sync

    docs.enable_mirror()
    add(conn, TEXTS)
    with EdgeBackend(tmp_path) as backend:
        sync(conn, backend)
        assert backend.count("docs") == 0
        with Worker(db_url, embedder_for=counting.for_collection) as worker:
            worker.run_once()
        sync(conn, backend)
        assert backend.count("docs") == 3
        conn.execute("UPDATE vecpg_data.docs SET content = 'Glaciers carve valleys.' WHERE id = 'lava'")
        sync(conn, backend)
        assert backend.count("docs") == 2  # its old vector is gone from the mirror too


def test_workers_refuse_roles_bound_by_row_level_security(logins: dict[str, str], docs: vecpg.Collection) -> None:
    with pytest.raises(PermissionDenied, match="row-level security"):
        Worker(logins["admin"])


def test_unknown_collections_and_bad_options(db_url: str, store: vecpg.Store) -> None:
    store.create_collection("items", dimension=3)
    for name, message in (("nope", "does not exist"), ("items", "has no model")):
        with Worker(db_url, WorkerOptions(collections=(name,))) as worker, pytest.raises(CollectionNotFound,
                                                                                          match=message):
            worker.run_once()
    for bad in ({"batch": 0}, {"max_attempts": 0}, {"poll": 0}):
        with pytest.raises(InvalidArgument):
            WorkerOptions(**bad)  # type: ignore[arg-type]


def _worker_process(db_url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "vecpg.cli", "--url", db_url, "worker", "--quiet", *args],
                            env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _claimed_by_live_workers(conn: psycopg.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM vecpg.embedding_queue q WHERE q.claimed_by IN (SELECT l.objid::bigint FROM pg_locks l "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = vecpg.worker_lock_class()::oid)").fetchone()[0]


def test_sigkill_loses_nothing_and_sigterm_finishes_the_batch(conn: psycopg.Connection, db_url: str,
                                                              docs: vecpg.Collection,
                                                              counting: CountingEmbedder) -> None:
    texts = {f"s{i}": f"Sentence {i}: a fact about subject {i % 23} and its history." for i in range(600)}
    with conn.transaction():
        add(conn, texts)

    def embedded() -> int:
        return conn.execute("SELECT count(embedding) FROM vecpg_data.docs").fetchone()[0]

    killed = _worker_process(db_url, "--batch", "32")
    wait_until(lambda: embedded() > 0 and _claimed_by_live_workers(conn) > 0, timeout=120)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    # Its claims are free the moment its session is gone, without waiting for any timeout.
    wait_until(lambda: _claimed_by_live_workers(conn) == 0, timeout=10)

    stopped = _worker_process(db_url, "--batch", "32")
    wait_until(lambda: _claimed_by_live_workers(conn) > 0, timeout=120)
    stopped.send_signal(signal.SIGTERM)
    out, err = stopped.communicate(timeout=60)
    assert stopped.returncode == 0, err
    assert b"embedded" in out
    assert _claimed_by_live_workers(conn) == 0

    with Worker(db_url, embedder_for=counting.for_collection) as worker:
        worker.run_once()
    assert embedded() == len(texts)
    assert conn.execute("SELECT count(*) FROM vecpg.embedding_queue").fetchone() == (0,)
    assert len(counting.texts) < len(texts)  # the killed and stopped workers' vectors were kept


def test_a_collection_whose_embedder_cannot_load_fails_alone(conn: psycopg.Connection, db_url: str,
                                                             store: vecpg.Store, docs: vecpg.Collection,
                                                             counting: CountingEmbedder) -> None:
    conn.execute("SELECT vecpg.create_collection('elsewhere', 384, model => 'no-such/model-anywhere')")
    add(conn, {"x": "a text no model here can embed"}, "elsewhere")
    add(conn, {"moon": TEXTS["moon"]})

    def embedders(model: str, embedder: str | None) -> vecpg.Embedder:
        return counting if model == vecpg.DEFAULT_MODEL else vecpg.embedding.embedder_for(model, embedder)

    with Worker(db_url, embedder_for=embedders) as worker:
        stats = worker.run_once()
    assert (stats.embedded, stats.failed) == (1, 1)
    (error,) = conn.execute("SELECT last_error FROM vecpg.embedding_queue WHERE collection = 'elsewhere'").fetchone()
    assert "no-such/model-anywhere" in error
