"""Change capture for the Qdrant mirror: every write from any client lands in the outbox, in the
writing transaction; writes that change nothing the mirror holds do not."""

from __future__ import annotations

import io

import psycopg
import pytest

import vecpg
from vecpg.db import migrate
from vecpg.schema.catalog import catalog_snapshot, snapshot_differences


def outbox(conn: psycopg.Connection) -> list[str | None]:
    """The ids waiting in the outbox, oldest first (None: copy the whole collection)."""
    return [r[0] for r in conn.execute("SELECT doc_id FROM vecpg.mirror_outbox ORDER BY seq").fetchall()]


def drain(conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM vecpg.mirror_outbox")


@pytest.fixture
def mirrored(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("SELECT vecpg.create_collection('docs', 2)")
    conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('old', 'before mirroring', '[1,0]')")
    conn.execute("SELECT vecpg.enable_mirror('docs')")
    return conn


def test_enabling_asks_for_a_full_copy(mirrored: psycopg.Connection) -> None:
    assert outbox(mirrored) == [None]
    status = mirrored.execute("SELECT collection, backlog, full_copy_pending FROM vecpg.mirror_status()").fetchall()
    assert status == [("docs", 1, True)]
    drain(mirrored)
    status = mirrored.execute("SELECT collection, backlog, full_copy_pending FROM vecpg.mirror_status()").fetchall()
    assert status == [("docs", 0, False)]


def test_every_kind_of_write_is_captured(mirrored: psycopg.Connection, db_url: str) -> None:
    drain(mirrored)
    mirrored.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('a', 'x', '[1,0]'), ('b', 'y', '[0,1]')")
    with mirrored.cursor().copy("COPY vecpg_data.docs (id, content) FROM STDIN") as copy:
        copy.write(io.StringIO("c\tfrom copy\n").read())
    with vecpg.connect(db_url, pool_size=1) as store:  # the library's own upsert
        store.collection("docs").upsert([{"id": "d", "content": "z", "embedding": [0.5, 0.5]}])
    mirrored.execute("UPDATE vecpg_data.docs SET metadata = '{\"k\": 1}' WHERE id = 'a'")
    mirrored.execute("DELETE FROM vecpg_data.docs WHERE id = 'b'")
    assert outbox(mirrored) == ["a", "b", "c", "d", "a", "b"]


def test_an_update_that_changes_nothing_mirrored_is_no_event(mirrored: psycopg.Connection) -> None:
    drain(mirrored)
    mirrored.execute("UPDATE vecpg_data.docs SET content = content, metadata = metadata")  # updated_at moves
    assert outbox(mirrored) == []
    mirrored.execute("UPDATE vecpg_data.docs SET embedding = '[0,1]'")
    assert outbox(mirrored) == ["old"]


def test_a_changed_id_is_a_delete_and_an_insert(mirrored: psycopg.Connection) -> None:
    drain(mirrored)
    mirrored.execute("UPDATE vecpg_data.docs SET id = 'new' WHERE id = 'old'")
    assert sorted(outbox(mirrored)) == ["new", "old"]  # type: ignore[type-var]


def test_truncate_asks_for_a_full_copy_and_notifies(mirrored: psycopg.Connection, db_url: str) -> None:
    drain(mirrored)
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN vecpg_mirror")
        mirrored.execute("TRUNCATE vecpg_data.docs")
        notices = list(listener.notifies(timeout=2, stop_after=1))
    assert outbox(mirrored) == [None]
    assert [n.payload for n in notices] == ["docs"]


def test_a_rolled_back_write_leaves_no_event(mirrored: psycopg.Connection) -> None:
    drain(mirrored)
    with pytest.raises(psycopg.errors.UniqueViolation), mirrored.transaction():
        mirrored.execute("INSERT INTO vecpg_data.docs (id, content) VALUES ('e', 'kept?')")
        mirrored.execute("INSERT INTO vecpg_data.docs (id, content) VALUES ('old', 'duplicate')")
    assert outbox(mirrored) == []


def test_writers_append_to_the_outbox_without_reading_it(mirrored: psycopg.Connection, logins: dict[str, str]) -> None:
    drain(mirrored)
    with psycopg.connect(logins["writer"], autocommit=True) as writer:
        writer.execute("INSERT INTO vecpg_data.docs (id, content) VALUES ('w', 'by a writer')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            writer.execute("SELECT * FROM vecpg.mirror_outbox")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            writer.execute("SELECT vecpg.enable_mirror('docs')")
    assert outbox(mirrored) == ["w"]


def test_disabling_stops_capture_and_clears_the_outbox(mirrored: psycopg.Connection) -> None:
    assert mirrored.execute("SELECT vecpg.disable_mirror('docs')").fetchone() == (True,)
    mirrored.execute("INSERT INTO vecpg_data.docs (id, content) VALUES ('after', 'not mirrored')")
    assert outbox(mirrored) == []
    assert mirrored.execute("SELECT vecpg.disable_mirror('docs')").fetchone() == (False,)
    triggers = mirrored.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'vecpg_data.docs'::regclass "
                                "AND tgname LIKE 'mirror%'").fetchall()
    assert triggers == []


@pytest.mark.parametrize(("call", "sqlstate"), [
    ("SELECT vecpg.enable_mirror('nope')", "VP001"),
    ("SELECT vecpg.enable_mirror('docs', '{\"m\": 1}')", "VP005"),
    ("SELECT vecpg.enable_mirror('docs', '{\"quantization\": \"pq\"}')", "VP005"),
    ("SELECT vecpg.enable_mirror('docs', '{\"payload_indexes\": [1]}')", "VP005"),
    ("SELECT vecpg.enable_mirror('docs', '{\"shards\": 2}')", "VP005"),
    ("SELECT vecpg.rebuild_mirror('plain')", "VP005"),
])
def test_bad_mirror_calls_are_clear_errors(mirrored: psycopg.Connection, call: str, sqlstate: str) -> None:
    mirrored.execute("SELECT vecpg.create_collection('plain', 2)")
    with pytest.raises(psycopg.Error) as raised:
        mirrored.execute(call)
    assert raised.value.sqlstate == sqlstate


def test_downgrading_a_mirrored_database_matches_a_fresh_install(make_database) -> None:
    def prepare(url: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT vecpg.create_collection('docs', 2)")
            conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('a', 'x', '[1,0]')")

    mirrored, fresh = make_database(), make_database()
    migrate.upgrade(mirrored)
    prepare(mirrored)
    with psycopg.connect(mirrored, autocommit=True) as conn:
        conn.execute("SELECT vecpg.enable_mirror('docs')")
    migrate.downgrade(mirrored, "0007")
    migrate.upgrade(fresh, "0007")
    prepare(fresh)
    with psycopg.connect(mirrored) as a, psycopg.connect(fresh) as b:
        differences = snapshot_differences(catalog_snapshot(a), catalog_snapshot(b))
    assert not differences, "\n".join(differences[:10])
