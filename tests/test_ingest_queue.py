"""Ingests via the embedding queue: text and metadata written without vectors through the same
binary COPY, queued by the collection's triggers, and no model run in the ingesting process."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

import vecpg
from vecpg.store import Store


@pytest.fixture
def run(db_url: str):
    from vecpg.cli import main

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["--url", db_url, *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts every request for an embedder; the tests expect none."""
    asked: list[str] = []

    def refuse(self: Store, model: str) -> None:
        asked.append(model)
        raise AssertionError(f"the ingest asked for the model {model}")

    monkeypatch.setattr(Store, "embedder", refuse)
    return asked


def queued(conn: psycopg.Connection, collection: str) -> int:
    return conn.execute("SELECT count(*) FROM vecpg.embedding_queue WHERE collection = %s AND failed_at IS NULL",
                        (collection,)).fetchone()[0]


def text_file(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"content": f"note {i} about tides", "title": f"Note {i}",
                                        "metadata": {"n": i}}) + "\n" for i in range(count)))
    return path


def test_via_queue_writes_text_only_and_queues_every_row(run, conn, tmp_path: Path, no_model) -> None:
    conn.execute("SELECT vecpg.create_collection('notes', 384, 'cosine', 'sentence-transformers/all-MiniLM-L6-v2')")
    path = text_file(tmp_path / "notes.jsonl", 1200)
    result = run("ingest", str(path), "-c", "notes", "--via-queue", "--quiet", "--commit-every", "500")
    assert result.exit_code == 0, result.output
    assert "wrote 1200 documents to notes (queued for embedding)" in result.output
    assert no_model == []
    assert conn.execute("SELECT count(*), count(embedding) FROM vecpg_data.notes").fetchone() == (1200, 0)
    assert queued(conn, "notes") == 1200
    assert conn.execute("SELECT queued FROM vecpg.embedding_status WHERE collection = 'notes'").fetchone() == (1200,)


def test_load_via_queue_keeps_vectors_whose_text_did_not_change(store: vecpg.Store, conn, embedder) -> None:
    notes = store.create_collection("notes")
    notes.load([{"id": "a", "content": "tides"}, {"id": "b", "content": "bread"}])  # embedded here
    assert queued(conn, "notes") == 0
    notes.load([{"id": "a", "content": "tides", "metadata": {"k": 1}}, {"id": "b", "content": "sourdough"},
                {"id": "c", "content": "pasta"}], via_queue=True)
    vectors = dict(conn.execute("SELECT id, embedding IS NOT NULL FROM vecpg_data.notes").fetchall())
    assert vectors == {"a": True, "b": False, "c": False}  # b's text changed: its old vector went
    assert conn.execute("SELECT doc_id FROM vecpg.embedding_queue ORDER BY 1").fetchall() == [("b",), ("c",)]
    assert notes.get(["a"])[0].metadata == {"k": 1}
    # A row that brings its own vector is written with it, and not queued.
    vector = embedder.embed(["pizza"])[0]
    notes.load([{"id": "d", "content": "pizza", "embedding": vector}, {"id": "e", "content": "soup"}], via_queue=True)
    assert queued(conn, "notes") == 3


def test_via_queue_needs_a_collection_with_a_model(run, store: vecpg.Store, tmp_path: Path) -> None:
    bare = store.create_collection("bare", dimension=3)
    with pytest.raises(vecpg.InvalidArgument, match="has no model"):
        bare.load([{"content": "x"}], via_queue=True)
    result = run("ingest", str(text_file(tmp_path / "n.jsonl", 3)), "-c", "bare", "--via-queue", "--quiet")
    assert result.exit_code == 2 and "collection 'bare' has no model" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert bare.count() == 0
