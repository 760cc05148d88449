"""Backups of a collection: export to JSONL (plain or gzipped) or Parquet and import back, every
row of every tenant exactly as it was (vector bytes, metadata, timestamps), and the refusals."""

from __future__ import annotations

import gzip
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner
from pgvector.psycopg import register_vector

import vecpg
from vecpg.backups.vectors import decimals_of, exact_float32
from vecpg.cli import main
from vecpg.errors import InputFileError, InvalidArgument

needs_pyarrow = pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="Parquet needs pyarrow")

DIM = 8
ROWS = "SELECT id, title, content, metadata::text, embedding::text, tenant_id, created_at, updated_at FROM {} ORDER BY id"


def awkward_vectors(n: int, seed: int = 0) -> np.ndarray:
    """float32 values whose shortest decimals are long, tiny, huge or negative zero."""
    rng = np.random.default_rng(seed)
    vectors = (rng.standard_normal((n, DIM)) * 10.0 ** rng.integers(-30, 30, (n, DIM))).astype(np.float32)
    vectors[0, :4] = [np.float32(0.1), np.nextafter(np.float32(1), np.float32(2)), np.float32(-0.0),
                      np.float32(1e-45)]
    return vectors


def fill(store: vecpg.Store, name: str, storage: str = "vector", n: int = 60) -> np.ndarray:
    """A collection with rows of two tenants and none, metadata of every JSON kind, and rows
    updated later (so updated_at differs from created_at)."""
    coll = store.create_collection(name, dimension=DIM, storage=storage)
    vectors = awkward_vectors(n)
    if storage == "halfvec":
        vectors = np.clip(vectors, -60000, 60000).astype(np.float16).astype(np.float32)
    docs = [{"id": f"doc-{i:03}", "title": None if i % 3 else f"Title {i} é", "content": f"text {i} \u2603 \"quoted\"",
             "metadata": {"n": i, "x": 0.1 * i, "tags": ["a", None, True], "nested": {"k": "v\n"}},
             "embedding": vectors[i], "tenant_id": [None, "acme", "globex"][i % 3]} for i in range(n)]
    coll.load(docs)
    with store.connection() as conn:
        conn.execute(f"UPDATE vecpg_data.{name} SET metadata = metadata || '{{\"edited\": true}}' WHERE id < 'doc-010'")
    return vectors


def rows_of(url: str, table: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(ROWS.format(f"vecpg_data.{table}")).fetchall()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", pytest.param(".parquet", marks=needs_pyarrow)])
def test_export_then_import_into_a_new_database_gives_every_row_back_exactly(
        store: vecpg.Store, db_url: str, make_database: Callable[[], str], tmp_path: Path, suffix: str) -> None:
    vectors = fill(store, "facts")
    path = tmp_path / f"facts{suffix}"
    assert store.collection("facts").export(path) == 60

    other_url = make_database()
    with vecpg.connect(other_url, migrate_schema=True) as other:
        result = other.import_collection("facts", path)
        assert (result.rows, result.created) == (60, True)
        restored = other.collection("facts")
        assert (restored.dimension, restored.distance, restored.storage) == (DIM, "cosine", "vector")

    before, after = rows_of(db_url, "facts"), rows_of(other_url, "facts")
    assert after == before
    assert {r[5] for r in after} == {None, "acme", "globex"}
    assert any(r[6] != r[7] for r in after)  # the updated rows kept their own updated_at
    with psycopg.connect(other_url) as conn:
        register_vector(conn)
        got = np.stack([r[0].to_numpy()
                        for r in conn.execute("SELECT embedding FROM vecpg_data.facts ORDER BY id", binary=True)])
    assert got.tobytes() == vectors.tobytes()  # float32 for float32, as loaded


@pytest.mark.parametrize("suffix", [".jsonl", pytest.param(".parquet", marks=needs_pyarrow)])
def test_a_halfvec_collection_round_trips(store: vecpg.Store, db_url: str, tmp_path: Path, suffix: str) -> None:
    fill(store, "halves", storage="halfvec")
    store.collection("halves").export(tmp_path / f"halves{suffix}")
    assert store.import_collection("restored", tmp_path / f"halves{suffix}").created
    assert store.collection("restored").storage == "halfvec"
    assert rows_of(db_url, "restored") == rows_of(db_url, "halves")


def test_the_export_begins_with_the_settings_and_holds_the_server_shortest_decimals(store: vecpg.Store,
                                                                                   tmp_path: Path) -> None:
    fill(store, "facts", n=3)
    store.collection("facts").enable_keyword_index()
    store.collection("facts").export(tmp_path / "facts.jsonl.gz")
    with gzip.open(tmp_path / "facts.jsonl.gz", "rt") as f:
        header, *rows = [json.loads(line) for line in f]
    assert header["vecpg_export"] == 1
    assert header["collection"] | {"keyword_index": True, "rows": 3} == header["collection"]
    assert (header["collection"]["dimension"], header["collection"]["storage"]) == (DIM, "vector")
    assert [r["id"] for r in rows] == ["doc-000", "doc-001", "doc-002"]
    assert rows[0]["embedding"][:2] == [0.1, 1.0000001]  # shortest decimals that read back as these float32
    assert rows[1]["tenant_id"] == "acme"


def test_importing_replaces_rows_of_an_existing_collection_and_keeps_their_timestamps(
        store: vecpg.Store, db_url: str, tmp_path: Path) -> None:
    fill(store, "facts")
    before = rows_of(db_url, "facts")
    store.collection("facts").export(tmp_path / "facts.jsonl")
    with store.connection() as conn:
        conn.execute("UPDATE vecpg_data.facts SET content = 'changed', metadata = '{}' WHERE id >= 'doc-030'")
    result = store.import_collection("facts", tmp_path / "facts.jsonl")
    assert (result.rows, result.created) == (60, False)
    assert rows_of(db_url, "facts") == before  # updated_at too, though each row was updated


def test_an_import_refuses_a_collection_with_other_settings_and_writes_nothing_on_a_bad_row(
        store: vecpg.Store, tmp_path: Path) -> None:
    fill(store, "facts", n=5)
    store.collection("facts").export(tmp_path / "facts.jsonl")
    store.create_collection("wider", dimension=DIM + 1)
    with pytest.raises(InvalidArgument, match=r"dimension 8 \(the collection has 9\)"):
        store.import_collection("wider", tmp_path / "facts.jsonl")

    lines = (tmp_path / "facts.jsonl").read_text().splitlines()
    bad = json.loads(lines[4])
    bad["embedding"] = bad["embedding"][:-1]
    (tmp_path / "bad.jsonl").write_text("\n".join([*lines[:4], json.dumps(bad)]) + "\n")
    with pytest.raises(vecpg.errors.DimensionMismatch, match="row 3"):
        store.import_collection("restored", tmp_path / "bad.jsonl")
    assert "restored" not in [c.name for c in store.list_collections()]  # created for the import, dropped with it

    (tmp_path / "plain.jsonl").write_text('{"id": "1", "content": "no header"}\n')
    with pytest.raises(InputFileError, match="not a vecpg export"):
        store.import_collection("restored", tmp_path / "plain.jsonl")


def test_rows_with_a_vector_are_not_queued_and_rows_without_one_are(store: vecpg.Store, embedder: vecpg.Embedder,
                                                                    conn: psycopg.Connection, tmp_path: Path) -> None:
    coll = store.create_collection("notes", model=embedder.model)
    coll.load([{"id": "embedded", "content": "Tides follow the Moon."}])
    coll.load([{"id": "waiting", "content": "Sourdough needs a hot oven."}], via_queue=True)
    coll.export(tmp_path / "notes.jsonl.gz")
    store.import_collection("copy", tmp_path / "notes.jsonl.gz")
    queued = conn.execute("SELECT doc_id FROM vecpg.embedding_queue WHERE collection = 'copy'").fetchall()
    assert queued == [("waiting",)]
    copy = store.collection("copy")
    assert copy.model == embedder.model
    assert copy.search("What causes tides?", k=1)[0].id == "embedded"


def test_the_cli_exports_to_stdout_and_imports_from_a_file(store: vecpg.Store, db_url: str, tmp_path: Path) -> None:
    fill(store, "facts", n=10)
    runner = CliRunner()
    exported = runner.invoke(main, ["--url", db_url, "collection", "export", "facts"], catch_exceptions=False)
    assert exported.exit_code == 0
    (tmp_path / "facts.jsonl").write_bytes(exported.stdout_bytes)
    assert json.loads(exported.stdout.splitlines()[0])["collection"]["name"] == "facts"
    imported = runner.invoke(main, ["--url", db_url, "collection", "import", "again", str(tmp_path / "facts.jsonl"),
                                    "--quiet"], catch_exceptions=False)
    assert imported.exit_code == 0, imported.output
    assert "imported 10 rows (created collection again)" in imported.output
    assert rows_of(db_url, "again") == rows_of(db_url, "facts")
    written = runner.invoke(main, ["--url", db_url, "collection", "export", "facts", str(tmp_path / "f.jsonl.gz"),
                                   "--quiet"], catch_exceptions=False)
    assert "exported 10 rows of facts" in written.output


def test_a_vector_read_from_a_decimal_a_double_cannot_hold_is_the_nearest_float32() -> None:
    # Read as a double, the first decimal is exactly halfway between 1 and the next float32
    # (and would round to 1); it is above halfway, so it is the next float32.
    record = '{"embedding": [1.000000059604644775390625000001, 1.000000059604644775390625, 0.1]}'
    values = exact_float32(json.loads(record)["embedding"], lambda: decimals_of(record, "embedding"))
    assert values.tolist() == [float(np.nextafter(np.float32(1), np.float32(2))), 1.0, float(np.float32(0.1))]
