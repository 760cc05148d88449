"""Chunking (sql/idempotent/11_chunks.sql, vecpg/embedding/chunking.py): long documents are found by
what they say past the model's window, with the passage that matched."""

from __future__ import annotations

import itertools

import psycopg
import pytest
from conftest import CountingEmbedder

import vecpg
from vecpg.embedding.chunking import chunks, model_window, token_count
from vecpg.errors import InvalidArgument
from vecpg.worker import Worker

MODEL = vecpg.DEFAULT_MODEL
BREAD = "Sourdough bread needs a lively starter, a long rise and a hot oven with steam. " * 12
VOLCANO = "At the very end: volcanoes erupt molten lava and ash when magma rises through the crust."
LONG = BREAD + VOLCANO


def test_chunks_overlap_cover_the_text_and_fit_the_window() -> None:
    assert model_window(MODEL) == 256
    assert chunks(MODEL, "A short text.", 64, 16) == []
    parts = chunks(MODEL, LONG, 64, 16)
    assert len(parts) > 3
    assert parts[0].start == 0 and parts[-1].end == len(LONG.rstrip())
    for part, following in itertools.pairwise(parts):
        assert LONG[part.start:part.end] == part.text
        assert token_count(MODEL, part.text) <= 64
        assert following.start < part.end  # they overlap
    assert VOLCANO.split(":")[1].strip() in parts[-1].text


@pytest.fixture
def docs(store: vecpg.Store, conn: psycopg.Connection) -> vecpg.Collection:
    docs = store.create_collection("docs")
    assert docs.enable_chunking(64, 16) == 0  # nothing to chunk yet
    return docs


def embed_queue(db_url: str, counting: CountingEmbedder) -> None:
    with Worker(db_url, embedder_for=counting.for_collection) as worker:
        worker.run_once()


def test_a_long_document_is_found_by_its_last_passage(conn: psycopg.Connection, db_url: str, docs: vecpg.Collection,
                                                       counting: CountingEmbedder) -> None:
    conn.execute("SELECT vecpg.add_document('docs', 'long', 'Baking notes', %s)", (LONG,))
    conn.execute("SELECT vecpg.add_document('docs', 'rocks', NULL, 'Granite is an igneous rock.')")
    conn.execute("SELECT vecpg.add_document('docs', 'tea', NULL, 'Green tea is steeped briefly.')")
    embed_queue(db_url, counting)
    stored = conn.execute("SELECT count(*), min(chunk_no), max(chunk_no) FROM vecpg_data.docs_chunks "
                          "WHERE parent_id = 'long'").fetchone()
    assert stored[0] > 3 and stored[1] == 0
    # One vector per document, of its first window: the volcano passage is invisible to it ...
    plain = docs.search("volcano eruption with lava and ash", k=3)
    assert plain[0].id == "rocks" and all(h.highlight is None for h in plain)
    # ... and its best chunk finds it, with that passage as highlight.
    by_chunks = docs.search("volcano eruption with lava and ash", k=3, chunks=True)
    assert by_chunks[0].id == "long" and "volcanoes erupt" in (by_chunks[0].highlight or "")
    assert by_chunks[0].content == LONG and by_chunks[0].chunk_no == stored[2]
    assert {h.id for h in by_chunks} == {"long", "rocks", "tea"}  # short ones by their own vectors
    assert [h.highlight for h in by_chunks[1:]] == [None, None]
    # The document's own vector is its first chunk's.
    first = conn.execute("SELECT (d.embedding <=> c.embedding) < 1e-6 FROM vecpg_data.docs d "
                         "JOIN vecpg_data.docs_chunks c ON c.parent_id = d.id AND c.chunk_no = 0").fetchone()
    assert first == (True,)


def test_chunks_follow_their_document(conn: psycopg.Connection, db_url: str, docs: vecpg.Collection,
                                      counting: CountingEmbedder) -> None:
    conn.execute("SELECT vecpg.add_document('docs', 'long', NULL, %s)", (LONG,))
    embed_queue(db_url, counting)

    def count() -> int:
        return conn.execute("SELECT count(*) FROM vecpg_data.docs_chunks").fetchone()[0]

    assert count() > 3
    conn.execute("UPDATE vecpg_data.docs SET metadata = '{\"k\": 1}'")  # not its text: chunks stay
    assert count() > 3
    conn.execute("UPDATE vecpg_data.docs SET content = %s WHERE id = 'long'", (VOLCANO + " " + BREAD,))
    assert count() == 0  # stale at once
    embed_queue(db_url, counting)
    assert count() > 3
    conn.execute("DELETE FROM vecpg_data.docs")
    assert count() == 0
    conn.execute("SELECT vecpg.add_document('docs', 'long', NULL, %s)", (LONG,))
    embed_queue(db_url, counting)
    conn.execute("TRUNCATE vecpg_data.docs")
    assert count() == 0


def test_enabling_chunks_what_is_already_there(store: vecpg.Store, conn: psycopg.Connection, db_url: str,
                                               counting: CountingEmbedder) -> None:
    docs = store.create_collection("docs")
    docs.upsert([{"id": "long", "content": LONG}, {"id": "short", "content": "tiny"}])
    assert docs.enable_chunking() == 1  # only the one longer than 240 characters
    assert docs.chunking() == (240, 40)
    assert docs.search("volcano", k=1, chunks=True)[0].highlight is None  # not chunked yet, still found
    embed_queue(db_url, counting)
    assert conn.execute("SELECT count(*) FROM vecpg_data.docs_chunks").fetchone()[0] >= 2
    assert docs.disable_chunking() and docs.chunking() is None
    assert conn.execute("SELECT to_regclass('vecpg_data.docs_chunks')").fetchone() == (None,)
    assert docs.search("volcano", k=1, chunks=True)[0].id in ("long", "short")  # plain search again


def test_bad_chunk_settings(store: vecpg.Store) -> None:
    docs = store.create_collection("docs")
    with pytest.raises(InvalidArgument, match="window"):
        docs.enable_chunking(300)
    with pytest.raises(InvalidArgument, match="half"):
        docs.enable_chunking(64, 40)
    items = store.create_collection("items", dimension=3)
    with pytest.raises(InvalidArgument, match="no model"):
        items.enable_chunking()
    with pytest.raises(InvalidArgument, match="vector"):
        docs.search("x", mode="keyword", chunks=True)


def test_tenants_see_only_their_documents_chunks(logins: dict[str, str], db_url: str, docs: vecpg.Collection,
                                                 counting: CountingEmbedder) -> None:
    with psycopg.connect(logins["writer"], autocommit=True) as writer, writer.transaction():
        writer.execute("SELECT set_config('vecpg.tenant_id', 'acme', true)")
        writer.execute("SELECT vecpg.add_document('docs', 'acme-long', NULL, %s)", (LONG,))
    embed_queue(db_url, counting)
    query = "volcano eruption with lava and ash"
    with vecpg.connect(logins["reader"]) as reader:
        found = reader.collection("docs").search(query, k=3, chunks=True, tenant="acme")
        assert found and found[0].id == "acme-long" and found[0].highlight
        assert reader.collection("docs").search(query, k=3, chunks=True, tenant="beta") == []
    with psycopg.connect(logins["reader"]) as conn:  # the chunk table itself, from plain SQL
        conn.execute("SELECT set_config('vecpg.tenant_id', 'beta', true)")
        assert conn.execute("SELECT count(*) FROM vecpg_data.docs_chunks").fetchone() == (0,)
        conn.execute("SELECT set_config('vecpg.tenant_id', 'acme', true)")
        assert conn.execute("SELECT count(*) FROM vecpg_data.docs_chunks").fetchone()[0] > 3


def test_search_by_chunks_from_the_command_line(conn: psycopg.Connection, db_url: str, docs: vecpg.Collection,
                                                counting: CountingEmbedder) -> None:
    from click.testing import CliRunner

    from vecpg.cli import main

    conn.execute("SELECT vecpg.add_document('docs', 'long', 'Baking notes', %s)", (LONG,))
    embed_queue(db_url, counting)
    result = CliRunner().invoke(main, ["--url", db_url, "search", "-c", "docs", "volcano eruption", "--chunks", "-k", "1"])
    assert result.exit_code == 0, result.output
    assert "(chunk " in result.output and "volcanoes erupt" in result.output


def test_long_documents_upserted_with_their_vector_are_chunked_too(store: vecpg.Store, conn: psycopg.Connection,
                                                                  db_url: str, docs: vecpg.Collection,
                                                                  counting: CountingEmbedder) -> None:
    docs.upsert([{"id": "long", "content": LONG}, {"id": "short", "content": "Granite is an igneous rock."}])
    assert conn.execute("SELECT doc_id FROM vecpg.embedding_queue").fetchall() == [("long",)]
    assert docs.search("bread", k=1)[0].id == "long"  # searchable by its first window meanwhile
    embed_queue(db_url, counting)
    assert docs.search("volcano eruption with lava and ash", k=1, chunks=True)[0].highlight
    docs.upsert([{"id": "long", "content": LONG, "metadata": {"k": 1}}])  # the same text again
    assert conn.execute("SELECT count(*) FROM vecpg.embedding_queue").fetchone() == (0,)


def test_collection_info_says_what_the_model_cuts_off_and_chunk_turns_it_on(conn: psycopg.Connection,
                                                                            store: vecpg.Store, db_url: str) -> None:
    from click.testing import CliRunner

    from vecpg.cli import main

    docs = store.create_collection("docs")
    docs.upsert([{"id": "long", "content": BREAD * 2 + VOLCANO}, {"id": "short", "content": "tiny"}])  # > 256 tokens
    conn.execute("ANALYZE vecpg_data.docs")
    assert docs.over_window() == (1, 2)

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["--url", db_url, *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "1 of 2 sampled documents exceed" in run("collection", "info", "docs")
    assert "1 documents queued" in run("collection", "chunk", "docs", "--tokens", "64", "--overlap", "8")
    assert "chunks:        64 tokens, overlapping by 8" in run("collection", "info", "docs")
    assert "dropped the chunks" in run("collection", "chunk", "docs", "--off")
    bad = CliRunner().invoke(main, ["--url", db_url, "collection", "chunk", "docs", "--tokens", "999"])
    assert bad.exit_code == 2 and "window" in bad.output
