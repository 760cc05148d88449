"""Search-quality evaluation on BEIR-format datasets (a small one written here; SciFact is a benchmark)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import vecpg
from vecpg.cli import main
from vecpg.errors import InputFileError
from vecpg.evaluation import load_dataset, load_judgements, mrr_at, ndcg_at, recall_at

CORPUS = {
    "d1": ("Tides", "The gravity of the Moon raises tides in the oceans twice a day."),
    "d2": ("Sourdough", "Sourdough bread rises with wild yeast and bakes best at high heat."),
    "d3": ("HNSW", "Hierarchical navigable small world graphs answer nearest neighbour queries quickly."),
    "d4": ("Photosynthesis", "Plants turn sunlight, water and carbon dioxide into sugar and oxygen."),
    "d5": ("Volcanoes", "Magma rising through the crust erupts as lava from volcanoes."),
}
QUERIES = {"q1": "why does the sea level rise and fall each day", "q2": "bread baking with yeast",
           "q3": "fast approximate nearest neighbour search", "q4": "an unjudged question"}
QRELS = [("q1", "d1", 1), ("q2", "d2", 2), ("q3", "d3", 1), ("q3", "d5", 0)]


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text("\n".join(
        json.dumps({"_id": i, "title": t, "text": x}) for i, (t, x) in CORPUS.items()) + "\n")
    (root / "queries.jsonl").write_text("\n".join(json.dumps({"_id": q, "text": t}) for q, t in QUERIES.items()))
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(f"{q}\t{d}\t{s}" for q, d, s in QRELS))
    return root


def test_metrics_follow_their_definitions() -> None:
    judged = {"a": 2, "b": 1, "z": 0}
    assert ndcg_at(["a", "b", "c"], judged) == pytest.approx(1.0)
    assert ndcg_at(["c", "a"], judged) == pytest.approx((2 / 1.58496) / (2 + 1 / 1.58496), rel=1e-4)
    assert recall_at(["c", "b"], judged) == 0.5
    assert mrr_at(["c", "z", "b"], judged) == pytest.approx(1 / 3)
    assert mrr_at(["c"] * 20 + ["a"], judged) == 0.0  # beyond 10


def test_dataset_reading(beir: Path) -> None:
    data = load_dataset(beir)
    assert set(data.judged_queries()) == {"q1", "q2", "q3"}  # q4 has no judgement
    with pytest.raises(InputFileError, match="no corpus.jsonl"):
        load_dataset(beir / "qrels")


def test_eval_command_prints_every_mode(db_url: str, beir: Path, embedder) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--url", db_url, "eval", str(beir), "--collection", "tiny", "--json"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert set(scores) == {"vector", "keyword", "hybrid"}
    for mode in scores.values():
        assert set(mode) == {"ndcg@10", "recall@100", "mrr@10", "p50_ms"} and mode["p50_ms"] > 0
        assert mode["recall@100"] == 1.0  # five documents: every relevant one is in the first 100
    assert scores["vector"]["ndcg@10"] == 1.0  # each judged query's answer is its nearest document
    # Run again: the corpus is reused, not loaded twice.
    with vecpg.connect(db_url) as store:
        assert store.collection("tiny").count() == 5
    table = runner.invoke(main, ["--url", db_url, "eval", str(beir), "-c", "tiny", "--modes", "keyword"])
    assert table.exit_code == 0 and "keyword" in table.output and "hybrid" not in table.output
    assert "p50 ms" in table.output and "keyword index: no" in table.output
    fast = runner.invoke(main, ["--url", db_url, "eval", str(beir), "-c", "tiny", "--modes", "hybrid", "--keyword-index"])
    assert fast.exit_code == 0 and "keyword index: yes" in fast.output
    with vecpg.connect(db_url) as store:
        assert store.collection("tiny").has_keyword_index()
    bad = runner.invoke(main, ["--url", db_url, "eval", str(beir), "-c", "tiny", "--modes", "magic"])
    assert bad.exit_code == 2 and "--modes takes" in bad.stderr


def test_eval_passes_search_options_to_each_mode(db_url: str, beir: Path, embedder) -> None:
    runner = CliRunner()

    def run(options: str) -> Result:
        return runner.invoke(main, ["--url", db_url, "eval", str(beir), "-c", "tiny", "--json", "--options", options])

    # Weighted RRF with the keyword list weighing nothing ranks as the vector list does.
    vector_only = run('{"hybrid": {"method": "rrf", "keyword_weight": 0}, "vector": {"ef_search": 100}}')
    assert vector_only.exit_code == 0, vector_only.output
    scores = json.loads(vector_only.output)
    assert scores["hybrid"]["ndcg@10"] == scores["vector"]["ndcg@10"] == 1.0

    for options, message in [
        ("{broken", "--options is not valid JSON"),
        ('["hybrid"]', "options must be an object"),
        ('{"magic": {}}', "not among the modes evaluated"),
        ('{"vector": {"ef_search": 0}}', "ef_search must be an integer between 1 and 1000"),
        ('{"vector": {"nprobe": 3}}', "unknown vector search option"),
        ('{"keyword": {"bm42": true}}', "unknown keyword search option"),
        ('{"hybrid": {"fusion": "max"}}', "unknown hybrid search option"),
    ]:
        bad = run(options)
        assert bad.exit_code == 2 and message in bad.stderr, (options, bad.output)
        assert len(bad.stderr.strip().splitlines()) == 1


def test_labelled_queries_from_csv_and_jsonl_against_an_existing_collection(db_url: str, tmp_path: Path,
                                                                           embedder) -> None:
    with vecpg.connect(db_url) as store:
        kb = store.create_collection("kb")
        kb.upsert([{"id": i, "title": t, "content": x} for i, (t, x) in CORPUS.items()])
    (tmp_path / "questions.csv").write_text(
        "query,relevant_ids,grades\n"
        "why does the sea rise and fall,d1,2\n"
        '"sourdough, yeast and heat",d2 d4,2 0\n'
        "nearest neighbour graphs,d3,\n")
    (tmp_path / "questions.jsonl").write_text(
        json.dumps({"query": "why does the sea rise and fall", "relevant_ids": ["d1"]}) + "\n"
        + json.dumps({"query": "lava from volcanoes", "relevant_ids": "d5 d1", "grades": [2, 1]}) + "\n")
    csv_data = load_judgements(tmp_path / "questions.csv")
    assert csv_data.qrels == {"q2": {"d1": 2}, "q3": {"d2": 2, "d4": 0}, "q4": {"d3": 1}}
    assert load_judgements(tmp_path / "questions.jsonl").qrels["q2"] == {"d5": 2, "d1": 1}

    runner = CliRunner()
    result = runner.invoke(main, ["--url", db_url, "eval", str(tmp_path / "questions.csv"), "-c", "kb",
                                  "--mmr", "0.5", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert list(scores) == ["vector", "vector+mmr", "keyword", "keyword+mmr", "hybrid", "hybrid+mmr"]
    assert scores["vector"]["ndcg@10"] == 1.0 and scores["vector+mmr"]["recall@100"] is None
    assert scores["vector+mmr"]["mrr@10"] == 1.0  # MMR keeps the most relevant document first
    table = runner.invoke(main, ["--url", db_url, "eval", str(tmp_path / "questions.jsonl"), "-c", "kb",
                                 "--modes", "hybrid", "--mmr", "0.3"])
    assert table.exit_code == 0 and "hybrid+mmr" in table.output, table.output
    with vecpg.connect(db_url) as store:
        assert store.collection("kb").count() == 5  # nothing loaded: the collection was searched as it is


@pytest.mark.parametrize("name, text, message", [
    ("q.csv", "question,answer\nx,d1\n", "must name the columns query and relevant_ids"),
    ("q.csv", "query,relevant_ids,grades\nx,d1 d2,1\n", "1 grades for 2 relevant ids"),
    ("q.csv", "query,relevant_ids\nx,\n", "at least one id"),
    ("q.jsonl", '{"query": "x", "relevant_ids": ["d1"], "grades": ["high"]}\n', "grades must be integers"),
    ("q.jsonl", "[1, 2]\n", "expected a JSON object"),
    ("q.txt", "x\n", ".csv or .jsonl"),
])
def test_bad_labelled_files_are_one_clear_line(db_url: str, tmp_path: Path, name: str, text: str,
                                               message: str) -> None:
    (tmp_path / name).write_text(text)
    with vecpg.connect(db_url) as store:
        store.create_collection("kb", dimension=4)
    bad = CliRunner().invoke(main, ["--url", db_url, "eval", str(tmp_path / name), "-c", "kb"])
    assert bad.exit_code == 2 and message in bad.stderr, bad.output
    assert len(bad.stderr.strip().splitlines()) == 1
    missing = CliRunner().invoke(main, ["--url", db_url, "eval", str(tmp_path / name), "-c", "nowhere"])
    assert missing.exit_code == 2
