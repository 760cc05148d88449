"""The sync copies a mirrored collection to Qdrant (the real engine, in process) and keeps it equal:
every write from any client, deletes and re-inserts, TRUNCATE, crashes at any point."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector
from psycopg import sql

from vecpg.mirror.edge import EdgeBackend
from vecpg.mirror.sync import sync
from vecpg.mirror.verify import verify


def _vec(rng: random.Random) -> str:
    return "[" + ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(4)) + "]"


@pytest.fixture
def conn(db_url: str) -> psycopg.Connection:
    with psycopg.connect(db_url, autocommit=True) as c:
        register_vector(c)
        c.execute("SELECT vecpg.create_collection('docs', 4)")
        yield c


@pytest.fixture
def backend(tmp_path: Path) -> EdgeBackend:
    b = EdgeBackend(tmp_path / "qdrant")
    yield b
    b.close()


def test_enabling_copies_what_exists_and_sync_follows_every_write(conn: psycopg.Connection, backend: EdgeBackend) -> None:
    rng = random.Random(1)
    for i in range(30):
        conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding, metadata, tenant_id) VALUES (%s, %s, %s, %s, %s)",
                     (f"d{i}", f"text {i}", _vec(rng), psycopg.types.json.Jsonb({"n": i}), "acme" if i % 2 else None))
    conn.execute("INSERT INTO vecpg_data.docs (id, content) VALUES ('novector', 'waits for its embedding')")
    conn.execute("SELECT vecpg.enable_mirror('docs')")
    assert sync(conn, backend) == 1  # the one full-copy event
    assert backend.count("docs") == 30 and verify(conn, backend, "docs").ok

    conn.execute("UPDATE vecpg_data.docs SET metadata = '{\"n\": -1}' WHERE id = 'd1'")
    conn.execute("DELETE FROM vecpg_data.docs WHERE id IN ('d2', 'd3')")
    conn.execute("UPDATE vecpg_data.docs SET embedding = '[1,0,0,0]' WHERE id = 'novector'")
    conn.execute("DELETE FROM vecpg_data.docs WHERE id = 'd4'")
    conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('d4', 'born again', '[0,1,0,0]')")
    assert sync(conn, backend) == 6
    result = verify(conn, backend, "docs")
    assert result.ok, result
    assert backend.count("docs") == 29
    (_, payload), = backend.retrieve("docs", ["d4"]).values()
    assert payload["content"] == "born again"
    assert conn.execute("SELECT backlog FROM vecpg.mirror_status()").fetchone() == (0,)


def test_truncate_and_rebuild_recreate_the_copy(conn: psycopg.Connection, backend: EdgeBackend) -> None:
    conn.execute("SELECT vecpg.enable_mirror('docs')")
    conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('a', 'x', '[1,0,0,0]'), ('b', 'y', '[0,1,0,0]')")
    sync(conn, backend)
    conn.execute("TRUNCATE vecpg_data.docs")
    conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('c', 'after', '[0,0,1,0]')")
    sync(conn, backend)
    assert sorted(backend.retrieve("docs", ["a", "b", "c"])) == ["c"]
    conn.execute("SELECT vecpg.rebuild_mirror('docs')")
    sync(conn, backend)
    assert verify(conn, backend, "docs").ok


def test_verify_lists_what_differs(conn: psycopg.Connection, backend: EdgeBackend) -> None:
    conn.execute("SELECT vecpg.enable_mirror('docs')")
    conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('a', 'x', '[1,0,0,0]'), ('b', 'y', '[0,1,0,0]')")
    sync(conn, backend)
    conn.execute("SELECT vecpg.disable_mirror('docs')")  # writes stop reaching the outbox
    conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('c', 'z', '[0,0,1,0]')")
    conn.execute("UPDATE vecpg_data.docs SET content = 'changed' WHERE id = 'a'")
    conn.execute("DELETE FROM vecpg_data.docs WHERE id = 'b'")
    conn.execute("SELECT vecpg.enable_mirror('docs')")
    conn.execute("DELETE FROM vecpg.mirror_outbox")  # as if the full copy were lost
    result = verify(conn, backend, "docs")
    assert (result.missing, result.extra, result.changed, result.ok) == (["c"], ["b"], ["a"], False)


WRITER_IDS = [f"w{i}" for i in range(40)]


def _writer(url: str, stop: threading.Event, seed: int, errors: list[BaseException]) -> None:
    """Upserts, updates, deletes and delete-then-reinsert of the same ids, until stopped."""
    rng = random.Random(seed)
    with psycopg.connect(url, autocommit=True) as c:
        while not stop.is_set():
            try:
                _write(c, rng)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.UniqueViolation):
                pass  # the two writers raced for the same id or statistics rows: a client retries
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
                return
            time.sleep(0.01)


def _write(c: psycopg.Connection, rng: random.Random) -> None:
    doc = rng.choice(WRITER_IDS)
    action = rng.random()
    if action < 0.5:
        c.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES (%s, %s, %s) "
                  "ON CONFLICT (id) DO UPDATE SET content = EXCLUDED.content, embedding = EXCLUDED.embedding",
                  (doc, f"v{rng.random():.6f}", _vec(rng)))
    elif action < 0.8:
        c.execute("DELETE FROM vecpg_data.docs WHERE id = %s", (doc,))
    else:
        with c.transaction():
            c.execute("DELETE FROM vecpg_data.docs WHERE id = %s", (doc,))
            c.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES (%s, 'reborn', %s)",
                      (doc, _vec(rng)))


def test_killed_syncs_lose_nothing_and_add_nothing(conn: psycopg.Connection, db_url: str, tmp_path: Path) -> None:
    """SIGKILL the sync process at random moments (mid-batch, between Qdrant's write and the
    acknowledgement, during a flush) 24 times under concurrent writes; then one more sync leaves
    Qdrant exactly equal to PostgreSQL."""
    conn.execute("SELECT vecpg.enable_mirror('docs')")
    env = {**os.environ, "VECPG_QDRANT_PATH": str(tmp_path / "qdrant")}
    env.pop("VECPG_QDRANT_URL", None)
    command = [sys.executable, "-m", "vecpg.cli", "--url", db_url, "mirror", "sync", "--follow", "--batch", "7"]
    stop = threading.Event()
    errors: list[BaseException] = []
    writers = [threading.Thread(target=_writer, args=(db_url, stop, seed, errors)) for seed in (1, 2)]
    for w in writers:
        w.start()
    rng = random.Random(7)
    kills = 0
    try:
        while kills < 24:
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.2 + rng.random() * 1.3)  # past start-up (about 1 s), into the batches
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += process.returncode == -signal.SIGKILL
    finally:
        stop.set()
        for w in writers:
            w.join()
    assert not errors
    # The killed syncs did work, not only the last one: many events were acknowledged.
    waiting, written = conn.execute("SELECT count(*), (SELECT last_value FROM vecpg.mirror_outbox_seq_seq) "
                                    "FROM vecpg.mirror_outbox").fetchone()
    assert written - waiting > 500
    backend = EdgeBackend(tmp_path / "qdrant")
    try:
        sync(conn, backend)
        result = verify(conn, backend, "docs")
        assert result.ok, result
        ours = conn.execute("SELECT count(*) FROM vecpg_data.docs WHERE embedding IS NOT NULL").fetchone()[0]
        assert backend.count("docs") == ours
        for doc_id, (vector, payload) in backend.retrieve("docs", WRITER_IDS).items():
            row = conn.execute("SELECT embedding, content FROM vecpg_data.docs WHERE id = %s", (doc_id,)).fetchone()
            assert row is not None and payload["content"] == row[1]
            expected = np.asarray(row[0].to_list()) / np.linalg.norm(row[0].to_list())
            assert np.allclose(vector, expected, atol=1e-5)
    finally:
        backend.close()


def test_a_following_sync_stops_soon_after_sigterm(conn: psycopg.Connection, db_url: str, tmp_path: Path) -> None:
    """SIGTERM while the follower waits (its poll is 5 s): it finishes and exits within a second."""
    conn.execute("SELECT vecpg.enable_mirror('docs')")
    env = {**os.environ, "VECPG_QDRANT_PATH": str(tmp_path / "qdrant")}
    env.pop("VECPG_QDRANT_URL", None)
    command = [sys.executable, "-m", "vecpg.cli", "--url", db_url, "mirror", "sync", "--follow"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while conn.execute("SELECT count(*) FROM vecpg.mirror_outbox").fetchone()[0]:
            assert time.monotonic() < deadline, "the follower never copied the collection"
            time.sleep(0.1)
        time.sleep(0.5)  # now waiting for a NOTIFY
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 1.5
    finally:
        process.kill()


class _Flaky:
    """The real Edge backend, failing its first upserts as an unreachable Qdrant would."""

    def __init__(self, inner: EdgeBackend, failures: int) -> None:
        self.inner, self.failures = inner, failures

    def upsert(self, name, points) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("Qdrant unreachable")
        self.inner.upsert(name, points)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def test_follow_retries_until_qdrant_answers(conn: psycopg.Connection, db_url: str, backend: EdgeBackend,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    from vecpg.mirror.sync import follow

    conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('a', 'x', '[1,0,0,0]')")
    conn.execute("SELECT vecpg.enable_mirror('docs')")
    flaky = _Flaky(backend, failures=2)
    done = threading.Event()
    runner = threading.Thread(target=follow, args=(db_url, flaky), kwargs={"poll": 0.2, "should_stop": done.is_set})
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while conn.execute("SELECT backlog FROM vecpg.mirror_status()").fetchone() != (0,):
            assert time.monotonic() < deadline, "the follower never caught up"
            time.sleep(0.1)
    finally:
        done.set()
        runner.join()
    assert flaky.failures == 0 and verify(conn, backend, "docs").ok
    assert capfd.readouterr().err.count("Qdrant unreachable") == 2


def test_two_syncs_at_once_share_the_work_without_doing_it_twice(conn: psycopg.Connection, db_url: str,
                                                                backend: EdgeBackend) -> None:
    conn.execute("SELECT vecpg.create_collection('more', 4)")
    for name in ("docs", "more"):
        conn.execute(f"SELECT vecpg.enable_mirror('{name}')")  # constant names
    rng = random.Random(5)
    for i in range(300):
        for name in ("docs", "more"):
            conn.execute(sql.SQL("INSERT INTO vecpg_data.{} (id, content, embedding) VALUES (%s, 'x', %s)")
                         .format(sql.Identifier(name)), (f"d{i}", _vec(rng)))
    total = conn.execute("SELECT count(*) FROM vecpg.mirror_outbox").fetchone()[0]
    acked: list[int] = []

    def worker() -> None:
        with psycopg.connect(db_url, autocommit=True) as c:
            while c.execute("SELECT count(*) FROM vecpg.mirror_outbox").fetchone()[0]:
                acked.append(sync(c, backend, batch=25))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(acked) == total == 602  # every event acknowledged exactly once
    assert verify(conn, backend, "docs").ok and verify(conn, backend, "more").ok
