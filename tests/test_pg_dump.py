"""A whole database through pg_dump and pg_restore, with the embedded server's own binaries:
vectors, the HNSW index, row-level security, vecpg's functions, the keyword index and the
embedding queue all come back, and searches give the same results."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

import vecpg
from vecpg.db.server import bin_dir

DOCS = [
    ("tides", "The Moon's gravity pulls the oceans and causes tides.", "acme"),
    ("bread", "Bake sourdough in a hot oven at about 230 C.", "acme"),
    ("rust", "Rust's borrow checker prevents data races at compile time.", None),
    ("volcano", "Magma rises through the crust and erupts as lava.", "globex"),
    ("tea", "Green tea is steeped at 80 C for two minutes.", None),
]

STATE = {
    "rows": "SELECT id, content, metadata::text, embedding::text, tenant_id, created_at, updated_at "
            "FROM vecpg_data.notes ORDER BY id",
    "queue": "SELECT collection, doc_id, text_hash FROM vecpg.embedding_queue ORDER BY doc_id",
    "indexes": "SELECT indexrelid::regclass::text, indisvalid, pg_get_indexdef(indexrelid) FROM pg_index "
               "WHERE indrelid = 'vecpg_data.notes'::regclass ORDER BY 1",
    "policies": "SELECT policyname, roles::text, cmd, qual, with_check FROM pg_policies "
                "WHERE schemaname = 'vecpg_data' ORDER BY 1",
    "security": "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'vecpg_data.notes'::regclass",
    "functions": "SELECT p.oid::regprocedure::text, md5(p.prosrc) FROM pg_proc p "
                 "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'vecpg' ORDER BY 1",
    "triggers": "SELECT tgname FROM pg_trigger WHERE tgrelid = 'vecpg_data.notes'::regclass ORDER BY 1",
}


def state(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(query).fetchall() for name, query in STATE.items()}


def searches(store: vecpg.Store) -> list[list[tuple[str, float]]]:
    coll = store.collection("notes")
    return [[(hit.id, round(hit.score, 6)) for hit in coll.search("Why are there tides?", k=3, mode=mode)]
            for mode in ("vector", "keyword", "hybrid")]


def test_pg_dump_and_pg_restore_keep_everything_vecpg_made(db_url: str, make_database: Callable[[], str],
                                                           embedder: vecpg.Embedder, tmp_path: Path) -> None:
    if not (bin_dir() / "pg_dump").exists():
        pytest.skip("no embedded server binaries")
    with vecpg.connect(db_url, embedder=embedder) as store:
        notes = store.create_collection("notes", model=embedder.model)
        notes.load([{"id": i, "content": text, "tenant_id": tenant} for i, text, tenant in DOCS[:4]])
        notes.load([{"id": DOCS[4][0], "content": DOCS[4][1]}], via_queue=True)  # waits for vecpg worker
        notes.create_index()
        assert notes.enable_keyword_index() > 0
        before = searches(store)

    dump = tmp_path / "vecpg.dump"
    subprocess.run([bin_dir() / "pg_dump", "--format=custom", f"--file={dump}", f"--dbname={db_url}"], check=True)
    restored_url = make_database()
    subprocess.run([bin_dir() / "pg_restore", "--exit-on-error", f"--dbname={restored_url}", dump], check=True)

    original, restored = state(db_url), state(restored_url)
    assert restored == original
    assert restored["queue"] and restored["policies"] and restored["security"] == [(True, True)]
    assert all(valid for _, valid, _ in restored["indexes"])
    assert any("hnsw" in definition for _, _, definition in restored["indexes"])
    with vecpg.connect(restored_url, embedder=embedder) as store:  # at vecpg's head: nothing to migrate
        notes = store.collection("notes")
        assert notes.has_keyword_index()
        assert [i.method for i in notes.indexes()] == ["hnsw"]
        assert searches(store) == before
        assert notes.count() == 5
