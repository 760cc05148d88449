"""The embedding queue in SQL (sql/idempotent/10_embedding_queue.sql): any client that writes text
without a vector queues it in the same transaction; what the workers will embed follows the text."""

from __future__ import annotations

import psycopg
import pytest
from conftest import CountingEmbedder

import vecpg
from vecpg.worker import Worker


def queued(conn: psycopg.Connection, collection: str = "docs") -> list[str]:
    return [r[0] for r in conn.execute("SELECT doc_id FROM vecpg.embedding_queue WHERE collection = %s "
                                       "ORDER BY doc_id", (collection,)).fetchall()]


@pytest.fixture
def docs(store: vecpg.Store) -> vecpg.Collection:
    return store.create_collection("docs")  # all-MiniLM-L6-v2


def test_plain_inserts_copy_and_add_document_queue_text_without_a_vector(conn: psycopg.Connection,
                                                                          docs: vecpg.Collection) -> None:
    conn.execute("INSERT INTO vecpg_data.docs (id, title, content) VALUES ('a', 'Tides', 'the moon pulls the sea')")
    with conn.cursor().copy("COPY vecpg_data.docs (id, content) FROM STDIN") as copy:
        copy.write_row(("b", "sourdough needs steam"))
    assert conn.execute("SELECT vecpg.add_document('docs', 'c', NULL, 'a third text', '{\"n\": 3}')").fetchone() == ("c",)
    docs.upsert([{"id": "d", "content": "embedded by the client"}])  # arrives with its vector
    conn.execute("INSERT INTO vecpg_data.docs (id, content) VALUES ('e', '')")  # nothing to embed
    assert queued(conn) == ["a", "b", "c"]
    # The hash is of the text the model sees, as Python embeds it too.
    row = conn.execute("SELECT q.text_hash = sha256(convert_to('Tides the moon pulls the sea', 'UTF8')) "
                       "FROM vecpg.embedding_queue q WHERE q.doc_id = 'a'").fetchone()
    assert row == (True,)


def test_a_text_change_drops_the_vector_at_once_and_queues_the_new_text(conn: psycopg.Connection,
                                                                        docs: vecpg.Collection) -> None:
    docs.upsert([{"id": "a", "content": "the moon pulls the sea"}, {"id": "b", "content": "bread"}])
    conn.execute("UPDATE vecpg_data.docs SET content = 'volcanoes erupt lava' WHERE id = 'a'")
    assert conn.execute("SELECT embedding IS NULL FROM vecpg_data.docs WHERE id = 'a'").fetchone() == (True,)
    assert queued(conn) == ["a"]
    # No search finds it by the vector of its old text meanwhile.
    assert [h.id for h in docs.search("the moon pulls the sea", k=5)] == ["b"]


def test_metadata_changes_queue_nothing_and_a_client_vector_cancels(conn: psycopg.Connection,
                                                                    docs: vecpg.Collection) -> None:
    docs.upsert([{"id": "a", "content": "the moon pulls the sea"}])
    conn.execute("UPDATE vecpg_data.docs SET metadata = '{\"k\": 1}' WHERE id = 'a'")
    conn.execute("SELECT vecpg.add_document('docs', 'a', NULL, 'the moon pulls the sea', '{\"k\": 2}')")
    assert queued(conn) == []
    conn.execute("SELECT vecpg.add_document('docs', 'b', NULL, 'waiting')")
    vector = "[" + ",".join(["0.05"] * 384) + "]"
    conn.execute("UPDATE vecpg_data.docs SET embedding = %s WHERE id = 'b'", (vector,))
    assert queued(conn) == []


def test_deletes_truncate_and_emptied_text_cancel(conn: psycopg.Connection, docs: vecpg.Collection) -> None:
    for doc in ("a", "b", "c", "d"):
        conn.execute("SELECT vecpg.add_document('docs', %s, NULL, %s)", (doc, f"text {doc}"))
    conn.execute("DELETE FROM vecpg_data.docs WHERE id = 'a'")
    conn.execute("UPDATE vecpg_data.docs SET content = '' WHERE id = 'b'")
    conn.execute("UPDATE vecpg_data.docs SET id = 'c2' WHERE id = 'c'")
    assert queued(conn) == ["c2", "d"]
    conn.execute("TRUNCATE vecpg_data.docs")
    assert queued(conn) == []


def test_collections_without_a_model_queue_nothing(conn: psycopg.Connection, store: vecpg.Store) -> None:
    store.create_collection("items", dimension=3)
    conn.execute("INSERT INTO vecpg_data.items (id, content) VALUES ('a', 'no vector, no model')")
    assert queued(conn, "items") == []
    with pytest.raises(psycopg.Error, match="no model"):
        conn.execute("SELECT vecpg.add_document('items', 'b', NULL, 'text')")


def test_writers_queue_what_they_may_not_read(logins: dict[str, str], docs: vecpg.Collection,
                                               conn: psycopg.Connection) -> None:
    with psycopg.connect(logins["writer"], autocommit=True) as writer:
        writer.execute("SELECT vecpg.add_document('docs', 'w', NULL, 'written by a writer role')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            writer.execute("SELECT * FROM vecpg.embedding_queue")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            writer.execute("SELECT vecpg.retry_embeddings()")
    assert queued(conn) == ["w"]


def test_an_upgraded_collection_can_queue_what_it_already_had(conn: psycopg.Connection, docs: vecpg.Collection,
                                                               counting: CountingEmbedder, db_url: str) -> None:
    conn.execute("ALTER TABLE vecpg_data.docs DISABLE TRIGGER embedding_insert")  # as before revision 0009
    conn.execute("INSERT INTO vecpg_data.docs (id, content) VALUES ('old', 'from before the queue')")
    conn.execute("ALTER TABLE vecpg_data.docs ENABLE TRIGGER embedding_insert")
    assert queued(conn) == []
    assert conn.execute("SELECT vecpg.queue_missing_embeddings('docs')").fetchone() == (1,)
    with Worker(db_url, embedder_for=counting.for_collection) as worker:
        assert worker.run_once().embedded == 1
    assert docs.count() == 1 and queued(conn) == []
