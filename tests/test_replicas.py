"""Read replicas against a real streaming-replication standby of the test server, made as
`vecpg db replica create` makes one (pg_basebackup -R with the embedded server's own binaries):
searches go to the replica while it is healthy and caught up, writes and read-your-writes to the
primary, a lagging, stopped or promoted replica is skipped without an error for the caller."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

import vecpg
from tests.conftest import as_user, with_database
from vecpg.cli import main
from vecpg.db.replicas import lsn
from vecpg.db.server import bin_dir
from vecpg.db.standby import Standby, create_standby
from vecpg.errors import InvalidArgument, StatementTimeout
from vecpg.metrics import Metrics
from vecpg.ops.statement import Statement, scalar

DOCS = [
    {"id": "tides", "content": "The Moon's gravity pulls the oceans and causes tides.", "tenant_id": "acme"},
    {"id": "bread", "content": "Bake sourdough in a hot oven at about 230 C.", "tenant_id": "acme"},
    {"id": "volcano", "content": "Magma rises through the crust and erupts as lava.", "tenant_id": "globex"},
]
# A statement marked as a search (settings) that says where it ran.
WHERE = Statement("SELECT pg_is_in_recovery()", result=scalar, settings={})


@pytest.fixture(scope="module")
def standby(server_url: str) -> Iterator[Standby]:
    """One hot standby of the session's test server for the module, in a short temporary path."""
    if os.environ.get("VECPG_TEST_DATABASE_URL") or not (bin_dir() / "pg_basebackup").exists():
        pytest.skip("needs the embedded server and its binaries")
    home = Path(tempfile.mkdtemp(prefix="vecpg-standby-"))
    made = create_standby(home / "data", port=5433, source_url=server_url)
    yield made
    if made.is_running():
        made.stop()
    shutil.rmtree(home, ignore_errors=True)


def replica_of(standby: Standby, url: str) -> str:
    """The standby's URL for the database and role of ``url`` (a primary's)."""
    parts = psycopg.conninfo.conninfo_to_dict(url)
    return as_user(with_database(standby.url(), str(parts["dbname"])), str(parts.get("user", "postgres")))


def wait_replayed(primary_url: str, replica_url: str) -> None:
    """Until the replica has replayed everything the primary has written."""
    with psycopg.connect(primary_url, autocommit=True) as primary:
        target = lsn(primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]
    deadline = time.monotonic() + 60
    while True:
        try:
            with psycopg.connect(replica_url, autocommit=True) as replica:
                done = lsn(replica.execute("SELECT pg_last_wal_replay_lsn()").fetchone()[0])  # type: ignore[index]
            if done is not None and target is not None and done >= target:
                return
        except psycopg.OperationalError:  # the database or role is not replayed yet
            pass
        assert time.monotonic() < deadline, "the standby did not catch up"
        time.sleep(0.05)


def fresh(store: vecpg.Store) -> vecpg.Store:
    """The store with its replicas probed now (not up to a second ago)."""
    assert store.replicas is not None
    store.replicas.refresh(force=True)
    return store


def titles(hits: list[vecpg.SearchResult]) -> set[str]:
    return {hit.id for hit in hits}


def test_a_write_becomes_searchable_on_the_replica_and_a_lagging_one_is_skipped(
        db_url: str, standby: Standby, embedder: vecpg.Embedder) -> None:
    replica = replica_of(standby, db_url)
    with vecpg.connect(db_url, embedder=embedder) as writer:
        notes = writer.create_collection("notes", model=embedder.model)
        notes.load(DOCS)
    wait_replayed(db_url, replica)
    with vecpg.connect(db_url, embedder=embedder, read_urls=[replica], replica_max_lag=3600) as reader:
        notes = reader.collection("notes")
        wait_replayed(db_url, replica)
        fresh(reader)
        assert titles(notes.search("Why are there tides?", k=3)) == {"tides", "bread", "volcano"}
        assert reader.search_targets() == {"primary": 0, replica: 1}
        assert reader.run(WHERE) is True  # the search statement ran in recovery: on the standby

        # Replay paused: the standby lags, really. A write of another client is not there yet.
        with psycopg.connect(replica_of(standby, with_database(db_url, "postgres")), autocommit=True) as su:
            su.execute("SELECT pg_wal_replay_pause()")
            try:
                with vecpg.connect(db_url, embedder=embedder) as writer:
                    writer.collection("notes").upsert([{"id": "ebb", "content": "Ebb and flood: the tides turn."}])
                fresh(reader)
                assert "ebb" not in titles(notes.search("tides", k=4))  # the replica answered, behind
                with vecpg.connect(db_url, embedder=embedder, read_urls=[replica], replica_max_lag=0) as strict:
                    assert "ebb" in titles(strict.collection("notes").search("tides", k=4))
                    assert strict.search_targets()[replica] == 0
                    assert strict.run(WHERE) is False
                    [status] = strict.replica_status()
                    assert not status["usable"] and status["lag"] > 0 and "lags" in str(status["error"])
            finally:
                su.execute("SELECT pg_wal_replay_resume()")
        wait_replayed(db_url, replica)
        fresh(reader)
        assert "ebb" in titles(notes.search("tides", k=4))


def test_writes_and_read_your_writes_go_to_the_primary(db_url: str, standby: Standby,
                                                       embedder: vecpg.Embedder) -> None:
    replica = replica_of(standby, db_url)
    with vecpg.connect(db_url, embedder=embedder) as writer:
        writer.create_collection("notes", model=embedder.model).load(DOCS)
    wait_replayed(db_url, replica)
    with vecpg.connect(db_url, embedder=embedder, read_urls=[replica], replica_max_lag=3600) as store:
        fresh(store)

        def search_then_write() -> object:
            searched = yield WHERE
            written = yield Statement("SELECT pg_is_in_recovery()", result=scalar)  # not a search: the primary
            return searched, written

        assert store.run(search_then_write()) == (True, False)
        with psycopg.connect(replica_of(standby, with_database(db_url, "postgres")), autocommit=True) as su:
            su.execute("SELECT pg_wal_replay_pause()")
            try:
                notes = store.collection("notes")
                notes.upsert([{"id": "ebb", "content": "Ebb and flood: the tides turn."}])
                fresh(store)
                before = store.search_targets()["primary"]
                assert "ebb" in titles(notes.search("tides", k=4))  # this context wrote it: the primary
                assert store.search_targets()["primary"] == before + 1
                seen: list[object] = []  # another thread has not written: the (lagging) replica
                thread = threading.Thread(target=lambda: seen.append(store.run(WHERE)))
                thread.start()
                thread.join()
                assert seen == [True]
            finally:
                su.execute("SELECT pg_wal_replay_resume()")


def test_tenants_stay_isolated_on_the_replica(db_url: str, logins: dict[str, str], standby: Standby,
                                              embedder: vecpg.Embedder) -> None:
    with vecpg.connect(logins["admin"], embedder=embedder) as writer:
        notes = writer.create_collection("notes", model=embedder.model)
        for tenant in ("acme", "globex"):
            with writer.tenant(tenant):
                notes.load([{"id": d["id"], "content": d["content"]} for d in DOCS if d["tenant_id"] == tenant])
    replica = replica_of(standby, logins["reader"])
    wait_replayed(db_url, replica)
    with vecpg.connect(logins["reader"], embedder=embedder, read_urls=[replica]) as store:
        notes = store.collection("notes")
        wait_replayed(db_url, replica)
        fresh(store)
        with store.tenant("acme"):
            assert titles(notes.search("lava and tides", k=3)) == {"tides", "bread"}
            assert store.run(Statement("SELECT current_setting('vecpg.tenant_id'), pg_is_in_recovery(), "
                                       "current_user", settings={})) == [("acme", True, "vecpg_test_reader")]
        with store.tenant("globex"):
            assert titles(notes.search("lava and tides", k=3)) == {"volcano"}
        assert titles(notes.search("lava and tides", k=3)) == set()  # no tenant: only rows without one
        assert store.search_targets() == {"primary": 0, replica: 4}  # the three searches and the statement
        metrics = Metrics()
        metrics.watch(store)
        text = metrics.text().decode()
        assert 'vecpg_replica_searches_total{target="replica0"} 4.0' in text
        assert 'vecpg_replica_searches_total{target="primary"} 0.0' in text
        assert 'vecpg_replica_lag_seconds{replica="replica0"}' in text and replica not in text


def test_a_replica_lost_during_a_search_or_stopped_sends_searches_to_the_primary(
        db_url: str, standby: Standby, embedder: vecpg.Embedder) -> None:
    replica = replica_of(standby, db_url)
    with vecpg.connect(db_url, embedder=embedder) as writer:
        writer.create_collection("notes", model=embedder.model).load(DOCS)
    wait_replayed(db_url, replica)
    with vecpg.connect(db_url, embedder=embedder, read_urls=[replica], replica_max_lag=3600,
                       statement_timeout=0.5) as store:
        # The search's own failure is the caller's, and says nothing about the replica.
        with pytest.raises(StatementTimeout):
            fresh(store).run(Statement("SELECT pg_sleep(3)", settings={}))
        assert store.replica_status()[0]["usable"] is True

    with vecpg.connect(db_url, embedder=embedder, read_urls=[replica], replica_max_lag=3600) as store:
        notes = store.collection("notes")
        wait_replayed(db_url, replica)
        fresh(store)

        def terminate() -> None:  # the standby ends the search's backend, as a shutdown or crash would
            with psycopg.connect(replica_of(standby, with_database(db_url, "postgres")), autocommit=True) as su:
                while not su.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE query LIKE 'SELECT pg_is_in_recovery() FROM pg_sleep%'").fetchall():
                    time.sleep(0.02)

        killer = threading.Thread(target=terminate)
        killer.start()
        assert store.run(Statement("SELECT pg_is_in_recovery() FROM pg_sleep(2)", result=scalar, settings={})) is False
        killer.join()
        assert "connection lost" in str(store.replica_status()[0]["error"])

    with vecpg.connect(db_url, embedder=embedder, read_urls=[replica], replica_max_lag=3600) as store:
        notes = store.collection("notes")
        wait_replayed(db_url, replica)
        assert titles(fresh(store) and notes.search("tides", k=1)) == {"tides"}
        assert store.search_targets()[replica] == 1
        stopped = CliRunner().invoke(main, ["db", "replica", "stop", str(standby.pgdata)])
        assert stopped.exit_code == 0 and not standby.is_running(), stopped.output
        try:
            assert titles(notes.search("tides", k=1)) == {"tides"}  # no error: the primary answered
            assert titles(notes.search("tides", k=1)) == {"tides"}
            assert store.search_targets() == {"primary": 2, replica: 1}
            assert store.replica_status()[0]["usable"] is False
        finally:
            started = CliRunner().invoke(main, ["db", "replica", "start", str(standby.pgdata)])
        assert started.exit_code == 0 and started.output.strip() == standby.url(), started.output


def test_the_async_store_routes_the_same_way(db_url: str, standby: Standby, embedder: vecpg.Embedder) -> None:
    replica = replica_of(standby, db_url)
    with vecpg.connect(db_url, embedder=embedder) as writer:
        writer.create_collection("notes", model=embedder.model).load(DOCS)
    wait_replayed(db_url, replica)

    def search_then_write() -> object:
        searched = yield WHERE
        written = yield Statement("SELECT pg_is_in_recovery()", result=scalar)
        return searched, written

    async def scenario() -> None:
        store = await vecpg.connect_async(db_url, embedder=embedder, read_urls=[replica], replica_max_lag=3600)
        try:
            notes = await store.collection("notes")
            wait_replayed(db_url, replica)
            fresh(store.sync)
            assert titles(await notes.search("Why are there tides?", k=1)) == {"tides"}
            assert await store.run(WHERE) is True
            assert await store.run(search_then_write()) == (True, False)
            assert store.sync.search_targets() == {"primary": 0, replica: 3}
            # A write the async store makes in a thread (collection creation, COPY loads) counts for
            # this task's read-your-writes too: with replay paused, its next search is the primary's.
            with psycopg.connect(replica_of(standby, with_database(db_url, "postgres")), autocommit=True) as su:
                su.execute("SELECT pg_wal_replay_pause()")
                try:
                    fresh(store.sync)
                    await store.create_collection("later", dimension=4)
                    assert await store.run(WHERE) is False
                finally:
                    su.execute("SELECT pg_wal_replay_resume()")
        finally:
            await store.close()

    asyncio.run(scenario())


def test_a_promoted_replica_is_no_replica(db_url: str, standby: Standby, embedder: vecpg.Embedder) -> None:
    """Last in the module: promotion ends the standby's recovery for good."""
    replica = replica_of(standby, db_url)
    wait_replayed(db_url, replica)
    with vecpg.connect(db_url, embedder=embedder, read_urls=[replica], replica_max_lag=3600) as store:
        assert fresh(store).run(WHERE) is True
        promoted = CliRunner().invoke(main, ["db", "replica", "promote", str(standby.pgdata)])
        assert promoted.exit_code == 0 and "is a primary now" in promoted.output, promoted.output
        assert fresh(store).run(WHERE) is False
        [status] = store.replica_status()
        assert status["usable"] is False and "not in recovery" in str(status["error"])


def test_bad_replica_settings_are_refused_clearly(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    refused = CliRunner().invoke(main, ["db", "replica", "promote", str(tmp_path)])
    assert refused.exit_code == 2 and "is not a standby's data directory" in refused.output
    with pytest.raises(InvalidArgument, match="read_urls: 'not a url' is not a PostgreSQL URL"):
        vecpg.connect(db_url, read_urls=["not a url"])
    with pytest.raises(InvalidArgument, match="read_urls must be database URLs"):
        vecpg.connect(db_url, read_urls=[42])  # type: ignore[list-item]
    with pytest.raises(InvalidArgument, match="replica_max_lag must be a number of seconds"):
        vecpg.connect(db_url, read_urls=[db_url], replica_max_lag=-1)
    monkeypatch.setenv("VECPG_READ_URLS", f"{db_url}, {db_url}")
    with pytest.raises(InvalidArgument, match="VECPG_READ_URLS names a replica twice"):
        vecpg.connect(db_url)
    monkeypatch.setenv("VECPG_READ_URLS", db_url)
    monkeypatch.setenv("VECPG_REPLICA_MAX_LAG", "soon")
    with pytest.raises(InvalidArgument, match="VECPG_REPLICA_MAX_LAG must be a number of seconds"):
        vecpg.connect(db_url)
    monkeypatch.setenv("VECPG_REPLICA_MAX_LAG", "2")
    with vecpg.connect(db_url) as store:  # the primary given as a replica: not in recovery, never used
        assert store.run(WHERE) is False
        assert store.replica_status()[0]["in_recovery"] is False
        assert store.replicas is not None and store.replicas.max_lag == 2.0

