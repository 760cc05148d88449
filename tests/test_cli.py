"""The vecpg command line, driven as a user would, against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

import vecpg
from vecpg.cli import main
from vecpg.db import migrate


@pytest.fixture
def run(db_url: str):
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, ["--url", db_url, *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "facts.jsonl"
    rows = [
        {"id": "moon", "title": "Tides", "content": "The Moon's gravity pulls the oceans and causes tides.",
         "metadata": {"topic": "science"}},
        {"id": "bread", "title": "Bread", "content": "Bake sourdough in a hot oven at about 230 C.",
         "metadata": {"topic": "cooking"}},
        {"id": "pasta", "title": "Pasta", "content": "Cook pasta in plenty of salted boiling water.",
         "metadata": {"topic": "cooking"}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_collection_lifecycle(run) -> None:
    created = run("collection", "create", "vectors", "--dimension", "3", "--distance", "l2")
    assert created.exit_code == 0, created.output
    assert "created vectors: 3 dimensions, l2, model none" in created.output
    listed = json.loads(run("collection", "list", "--json").output)
    assert [(c["name"], c["dimension"]) for c in listed] == [("vectors", 3)]
    info = json.loads(run("collection", "info", "vectors", "--json").output)
    assert info["documents"] == 0 and info["indexes"] == []
    assert run("collection", "drop", "vectors").exit_code == 0
    assert run("collection", "list", "--json").output.strip() == "[]"


def test_collections_show_and_choose_their_embedder(run) -> None:
    created = run("collection", "create", "fast", "--embedder", "transformers")
    assert created.exit_code == 0 and "model sentence-transformers/all-MiniLM-L6-v2, embedder transformers" in created.output
    assert "embedder:      transformers (collection)" in run("collection", "info", "fast").output
    assert run("collection", "create", "plain").exit_code == 0
    assert "embedder:      sentence-transformers (store default)" in run("collection", "info", "plain").output
    info = json.loads(run("collection", "info", "plain", "--json").output)
    assert info["embedder"] == "sentence-transformers" and info["embedder source"] == "store default"
    listed = {c["name"]: c["embedder"] for c in json.loads(run("collection", "list", "--json").output)}
    assert listed == {"fast": "transformers", "plain": None}  # the catalog's column: None is the default
    assert run("collection", "create", "bare", "--dimension", "3").exit_code == 0
    assert "embedder:      -" in run("collection", "info", "bare").output  # no model, nothing to run

    refused = run("collection", "create", "gpu", "--embedder", "cuda")
    assert refused.exit_code == 2 and "'cuda' is not one of 'sentence-transformers', 'transformers'" in refused.output


def test_ingest_search_index_and_delete(run, corpus: Path, embedder) -> None:
    assert run("collection", "create", "facts").exit_code == 0  # dimension from the default model
    ingested = run("ingest", str(corpus), "--collection", "facts", "--quiet")
    assert ingested.exit_code == 0 and "wrote 3 documents to facts" in ingested.output

    found = run("search", "what makes the sea rise and fall", "-c", "facts", "--k", "2", "--json")
    hits = json.loads(found.output)
    assert hits[0]["id"] == "moon" and len(hits) == 2
    assert set(hits[0]) == {"id", "title", "content", "metadata", "distance", "score",
                            "vector_rank", "vector_score", "keyword_rank", "keyword_score", "chunk_no", "highlight",
                            "first_rank", "first_score", "rerank_score"}

    filtered = json.loads(run("search", "oven", "-c", "facts", "--filter", '{"topic": "cooking"}', "--json").output)
    assert {h["id"] for h in filtered} == {"bread", "pasta"}
    plain = run("search", "oven", "-c", "facts", "--k", "1")
    assert "[bread] Bread" in plain.output

    assert "built facts_embedding_hnsw" in run("index", "create", "-c", "facts", "--m", "8").output
    assert "rebuilt 1" in run("index", "rebuild", "-c", "facts").output
    assert "dropped 1" in run("index", "drop", "-c", "facts").output
    assert "built facts_embedding_ivfflat" in run("index", "create", "-c", "facts", "--method", "ivfflat").output

    assert "deleted 2 documents" in run("delete", "-c", "facts", "--filter", '{"topic": "cooking"}').output
    assert "deleted 1 documents" in run("delete", "-c", "facts", "--id", "moon", "--id", "nope").output


def test_hybrid_search_shows_why_each_document_ranked(run, corpus: Path, embedder) -> None:
    run("collection", "create", "facts")
    run("ingest", str(corpus), "--collection", "facts", "--quiet")
    plain = run("search", "oven baking bread", "-c", "facts", "--mode", "hybrid", "--k", "2")
    assert plain.exit_code == 0, plain.output
    assert "[bread] Bread" in plain.output.splitlines()[0] and "vector #1, keyword #1" in plain.output

    def ranked(*options: str, mode: str = "hybrid") -> list[dict]:
        result = run("search", "oven baking bread", "-c", "facts", "--mode", mode, "--json", *options)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    for method in ("adaptive", "rrf", "convex"):
        hits = ranked("--method", method)
        assert hits[0]["id"] == "bread" and hits[0]["keyword_rank"] == 1
    # Only the bread document holds the query's words: with the vector list weighing nothing, it alone scores.
    keyword_only = ranked("--method", "rrf", "--vector-weight", "0", "--keyword-weight", "1", "--k", "3", "--candidates", "3")
    assert [h["score"] > 0 for h in keyword_only] == [h["keyword_rank"] is not None for h in keyword_only]
    assert ranked("--ranking", "ts_rank_cd", mode="keyword")[0]["id"] == "bread"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "hello", "-c", "missing"), 'collection "missing" does not exist'),
        (("search", "hello", "-c", "facts", "--k", "0"), "k must be"),
        (("search", "hello", "-c", "facts", "--k", "5000"), "k must be"),
        (("search", "", "-c", "facts"), "query text must not be empty"),
        (("search", "hello", "-c", "facts", "--filter", "{broken"), "filter is not valid JSON"),
        (("delete", "-c", "facts", "--filter", '{"$or": []}'), "$or needs a non-empty array"),
        (("delete", "-c", "facts"), "give --id or --filter"),
        (("collection", "create", "Bad Name", "--dimension", "3"), "invalid collection name"),
        (("index", "create", "-c", "facts", "--m", "1"), "m must be an integer between 2 and 100"),
        (("search", "hello", "-c", "facts", "--ranking", "bm25"), "unknown vector search option(s) 'ranking'"),
        (("search", "hello", "-c", "facts", "--mode", "hybrid", "--candidates", "1001"),
         "candidates must be an integer between 1 and 1000"),
    ],
)
def test_errors_are_one_line_and_exit_2(run, args: tuple[str, ...], message: str) -> None:
    run("collection", "create", "facts")
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("nocontent.csv", b"id,title\n1,x\n", "no 'content' column"),
        ("latin1.csv", "id,content\n1,caf\xe9\n".encode("latin-1"), "not UTF-8"),
        ("late_error.jsonl", b'{"content": "good"}\n' * 1500 + b'{"content": 5, "id": "x"}\n', "content must be a string"),
    ],
)
def test_bad_files_write_nothing(run, tmp_path: Path, name: str, data: bytes, message: str, embedder) -> None:
    run("collection", "create", "facts")
    path = tmp_path / name
    path.write_bytes(data)
    result = run("ingest", str(path), "-c", "facts", "--quiet", "--batch-size", "500")
    assert result.exit_code == 2 and message in result.stderr
    assert json.loads(run("collection", "info", "facts", "--json").output)["documents"] == 0


def test_demo_loads_the_sample_corpus_and_answers(db_url: str, embedder) -> None:
    result = CliRunner().invoke(main, ["--url", db_url, "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with vecpg.connect(db_url) as store:
        demo = store.collection("demo")
        assert demo.count() >= 200
        assert [i.method for i in demo.indexes()] == ["hnsw"]
        top = demo.search("how do stars form", k=3)
        assert any(h.metadata.get("topic") == "astronomy" for h in top)
    assert "search: how do stars form" in result.output
    # Running it again reuses the collection instead of failing.
    assert CliRunner().invoke(main, ["--url", db_url, "demo"]).exit_code == 0


def test_a_collection_without_a_model_says_how_to_give_it_text(run, corpus: Path) -> None:
    assert run("collection", "create", "bare", "--dimension", "384").exit_code == 0  # no model
    for args in (("ingest", str(corpus), "-c", "bare", "--quiet"), ("search", "tides", "-c", "bare")):
        result = run(*args)
        assert result.exit_code == 2, result.output
        assert len(result.stderr.strip().splitlines()) == 1
        assert "no embedding model" in result.stderr or "has no model" in result.stderr
        assert "pass vectors" in result.stderr and "--model" in result.stderr
    assert json.loads(run("collection", "info", "bare", "--json").output)["documents"] == 0


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"vecpg {vecpg.__version__}\n"


def test_url_goes_before_or_after_the_subcommand(db_url: str) -> None:
    runner = CliRunner()
    created = runner.invoke(main, ["collection", "create", "later", "--dimension", "2", "--url", db_url])
    assert created.exit_code == 0, created.output
    for argv in (["--url", db_url, "collection", "list", "--json"], ["collection", "list", "--json", "--url", db_url]):
        listed = runner.invoke(main, argv)
        assert [c["name"] for c in json.loads(listed.output)] == ["later"], argv


def test_migrate_down_to_a_revision_and_up_again(run, db_url: str) -> None:
    down = run("migrate", "--downgrade", "0006")
    assert down.exit_code == 0 and "revision 0006" in down.output
    with psycopg.connect(db_url) as conn:  # the earlier layer is back, with the helper it had
        assert conn.execute("SELECT to_regproc('vecpg.pin_search_paths')").fetchone() != (None,)
    up = run("migrate")
    assert up.exit_code == 0 and f"revision {migrate.head()}" in up.output
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT to_regproc('vecpg.pin_search_paths')").fetchone() == (None,)
