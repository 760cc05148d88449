"""Parquet files: read in record batches, metadata as JSON text, struct or map, bad files refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

import vecpg
from vecpg.cli import main
from vecpg.errors import InputFileError
from vecpg.ingest import count_records, open_reader, read_documents


@pytest.fixture
def run(db_url: str):
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["--url", db_url, *args], catch_exceptions=False)

    return invoke


def write(path: Path, columns: dict, row_group_size: int | None = None) -> Path:
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)
    return path


def test_metadata_as_json_text_struct_or_map(tmp_path: Path) -> None:
    as_text = write(tmp_path / "text.parquet", {
        "id": [1, 2], "title": ["One", None], "content": ["first", "second"],
        "metadata": ['{"lang": "en"}', None], "ignored": [True, False],
    })
    assert list(read_documents(as_text)) == [
        {"id": "1", "title": "One", "content": "first", "metadata": {"lang": "en"}},
        {"id": "2", "content": "second", "metadata": {}},
    ]
    as_struct = write(tmp_path / "struct.parquet", {
        "content": ["a"],
        "metadata": pa.array([{"year": 2024, "when": np.datetime64("2024-05-01T12:00:00", "us"),
                               "tags": ["x", "y"]}]),
    })
    (doc,) = read_documents(as_struct)
    assert doc["metadata"] == {"year": 2024, "when": "2024-05-01T12:00:00", "tags": ["x", "y"]}
    as_map = write(tmp_path / "map.parquet", {
        "content": ["a", "b"],
        "metadata": pa.array([[("k", "v")], []], type=pa.map_(pa.string(), pa.string())),
    })
    assert [d["metadata"] for d in read_documents(as_map)] == [{"k": "v"}, {}]
    assert count_records(as_map) == 2


def test_resume_skips_whole_row_groups(tmp_path: Path) -> None:
    path = write(tmp_path / "many.parquet", {"id": [str(i) for i in range(95)], "content": [f"doc {i}" for i in range(95)]},
                 row_group_size=10)
    reader = open_reader(path, skip=43)
    try:
        assert reader.total == 95 and reader.unit == "doc"
        ids = [d["id"] for d in reader.records]
        assert ids == [str(i) for i in range(43, 95)] and reader.position() == 95
    finally:
        reader.close()
    reader = open_reader(path, skip=95)
    assert list(reader.records) == []


def test_parquet_round_trip_through_the_cli(run, db_url: str, tmp_path: Path, embedder) -> None:
    path = write(tmp_path / "facts.parquet", {
        "id": ["moon", "bread", "pasta"],
        "title": ["Tides", "Bread", "Pasta"],
        "content": ["The Moon's gravity pulls the oceans and causes tides.",
                    "Bake sourdough in a hot oven at about 230 C.",
                    "Cook pasta in plenty of salted boiling water."],
        "metadata": pa.array([{"topic": "science"}, {"topic": "cooking"}, {"topic": "cooking"}]),
    }, row_group_size=2)
    assert run("collection", "create", "facts").exit_code == 0
    result = run("ingest", str(path), "-c", "facts", "--quiet", "--commit-every", "2")
    assert result.exit_code == 0 and "wrote 3 documents to facts" in result.output, result.output
    with vecpg.connect(db_url) as store:
        facts = store.collection("facts")
        assert facts.count({"topic": "cooking"}) == 2
        assert facts.search("what makes the sea rise and fall", k=1)[0].id == "moon"
        (moon,) = facts.get(["moon"])
        expected = embedder.embed(["Tides The Moon's gravity pulls the oceans and causes tides."])[0]
        assert np.allclose(moon.embedding, expected, atol=1e-5)


def test_embeddings_and_tenants_from_columns(run, db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "vectors.parquet", {
        "id": ["a", "b"], "content": ["x", "y"], "tenant_id": ["t1", None],
        "embedding": pa.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], type=pa.list_(pa.float32(), 3)),
    })
    assert run("collection", "create", "vectors", "--dimension", "3").exit_code == 0
    assert run("ingest", str(path), "-c", "vectors", "--quiet").exit_code == 0
    with vecpg.connect(db_url) as store, store.connection() as conn:  # the superuser sees every tenant
        rows = conn.execute("SELECT id, tenant_id, embedding::text FROM vecpg_data.vectors ORDER BY id").fetchall()
    assert rows == [("a", "t1", "[1,0,0]"), ("b", None, "[0,1,0]")]


@pytest.mark.parametrize(
    ("columns", "data", "message"),
    [
        ({"id": ["1"], "text": ["hello"]}, None, "Parquet file has no 'content' column (columns: id, text)"),
        ({"content": ["hi", "there"], "metadata": ["{}", "{oops"]}, None, "record 2: metadata is not valid JSON"),
        ({"content": ["hi"], "metadata": [3]}, None, "record 1: metadata must be a JSON object"),
        ({"content": ["hi", None]}, None, "record 2: empty content"),
        (None, b"id,content\n1,not parquet at all\n", "not a Parquet file"),
        (None, b"PAR1" + b"\0" * 64 + b"PAR1", "not a Parquet file"),
    ],
)
def test_bad_parquet_files_exit_2_with_one_line(run, tmp_path: Path, columns, data, message: str) -> None:
    path = tmp_path / "bad.parquet"
    if columns is not None:
        write(path, columns)
    else:
        path.write_bytes(data)
    with pytest.raises(InputFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(read_documents(path))
    run("collection", "create", "facts", "--dimension", "3")
    result = run("ingest", str(path), "-c", "facts", "--quiet")
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert json.loads(run("collection", "info", "facts", "--json").output)["documents"] == 0
