"""Hybrid search: the vector and keyword lists fused in one SQL statement, explained per row."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

import vecpg

DOCS = {
    "tides": "The Moon's gravity raises the ocean tides twice a day.",
    "bread": "Bake sourdough bread in a very hot oven with steam.",
    "hnsw": "HNSW graphs make approximate nearest neighbour search fast.",
    "zx81": "The ZX81 was a home computer sold in kit form in 1981.",
    "stars": "Stars are born when cold clouds of gas collapse under gravity.",
}


@pytest.fixture(params=[False, True], ids=["exact", "keyword-index"])
def docs(request: pytest.FixtureRequest, store: vecpg.Store, embedder) -> vecpg.Collection:
    """Every test runs twice: keyword lists from exact BM25, and from the keyword index."""
    coll = store.create_collection("docs")
    coll.upsert([{"id": i, "content": c, "metadata": {"len": len(c)}} for i, c in DOCS.items()])
    if request.param:
        coll.enable_keyword_index()
    return coll


def test_hybrid_fuses_both_lists_and_explains_each_row(docs: vecpg.Collection) -> None:
    hits = docs.search("ZX81 computer", k=5, mode="hybrid")
    assert hits[0].id == "zx81"
    top = hits[0]
    assert top.vector_rank == 1 and top.keyword_rank == 1
    assert top.vector_score is not None and top.keyword_score is not None
    assert hits == sorted(hits, key=lambda h: -h.score)
    # Every document is in the vector list; only zx81 is in the keyword list, and it still ranks.
    assert all(h.keyword_rank is None for h in hits[1:])
    assert {h.id for h in hits} == set(DOCS)


def test_a_document_found_by_one_list_only_still_appears(docs: vecpg.Collection) -> None:
    hits = docs.search("sourdough", k=5, mode="hybrid", method="rrf", candidates=5)
    by_id = {h.id: h for h in hits}
    assert by_id["bread"].keyword_rank == 1
    assert {h.id for h in hits} == set(DOCS)  # the rest come from the vector list alone
    for h in hits:
        expected = (1 / (60 + h.vector_rank) if h.vector_rank else 0) + (1 / (60 + h.keyword_rank) if h.keyword_rank else 0)
        assert h.score == pytest.approx(expected)


def test_methods_and_weights(docs: vecpg.Collection) -> None:
    for method in ("adaptive", "rrf", "convex"):
        hits = docs.search("why do tides happen", k=3, mode="hybrid", method=method)
        assert hits[0].id == "tides", method
    keyword_only = docs.search("gravity", k=2, mode="hybrid", method="convex", vector_weight=0, keyword_weight=1)
    assert {h.id for h in keyword_only} == {"tides", "stars"}
    with pytest.raises(vecpg.InvalidArgument, match="method"):
        docs.search("x", mode="hybrid", method="borda")
    with pytest.raises(vecpg.InvalidArgument, match="hybrid search needs a text"):
        docs.search([0.0] * 384, mode="hybrid")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(vecpg.InvalidArgument, match="keyword_weight must be a finite number"):
            docs.search("tides", mode="hybrid", method="rrf", keyword_weight=bad)
        with pytest.raises(vecpg.InvalidArgument, match="k1 must be a finite number"):
            docs.search("tides", mode="keyword", k1=bad)


def test_filters_apply_to_both_lists(docs: vecpg.Collection) -> None:
    hits = docs.search("gravity", k=5, mode="hybrid", filter={"len": {"$gt": 55}})
    assert {h.id for h in hits} == {i for i, c in DOCS.items() if len(c) > 55}


def test_fuse_combines_any_two_ranked_lists(conn: psycopg.Connection) -> None:
    # vecpg.fuse is the exact path's fusion, usable on lists from anywhere (best first).
    rows = conn.execute(
        "SELECT id, score, vector_rank, keyword_rank FROM vecpg.fuse("
        " ARRAY['a', 'b'], ARRAY[0.9, 0.5]::float8[], ARRAY['b', 'c'], ARRAY[3.0, 1.0]::float8[],"
        " 'rrf', 1, 1, 60, 3)").fetchall()
    assert [(r[0], r[2], r[3]) for r in rows] == [("b", 2, 1), ("a", 1, None), ("c", None, 2)]
    assert rows[0][1] == pytest.approx(1 / 62 + 1 / 61) and rows[2][1] == pytest.approx(1 / 62)
    # Adaptive fusion with an empty keyword list ranks as the vector list does.
    alone = conn.execute("SELECT id FROM vecpg.fuse(ARRAY['a', 'b', 'c'], ARRAY[0.9, 0.5, 0.1]::float8[],"
                         " '{}', '{}', 'adaptive', 1, 1, 60, 2)").fetchall()
    assert alone == [("a",), ("b",)]


def test_adaptive_fusion_asks_the_vector_model_about_each_keyword_hit(conn: psycopg.Connection) -> None:
    # A keyword hit the vector model finds far from the query (a word matched out of context)
    # ranks lower than one it finds close. Without the keyword hits' vector similarities,
    # vecpg.fuse gives them the vector list's lowest.
    def fused(keyword_vector_scores: list[float] | None) -> list[str]:
        rows = conn.execute(
            "SELECT id FROM vecpg.fuse(ARRAY['a', 'b', 'c', 'd'], ARRAY[0.80, 0.78, 0.60, 0.55]::float8[],"
            " ARRAY['x', 'y', 'c'], ARRAY[3.0, 2.9, 2.8]::float8[], 'adaptive', 1, 1, 60, 6, %s::float8[])",
            (keyword_vector_scores,)).fetchall()
        return [r[0] for r in rows]

    far, close = fused([0.10, 0.10, 0.60]), fused([0.82, 0.10, 0.60])
    assert far.index("x") > far.index("b") and far.index("y") > far.index("b")
    assert close[0] == "x"
    assert fused(None) == fused([0.55, 0.55, 0.60])


def test_from_sql_any_client_gets_the_same(docs: vecpg.Collection, conn: psycopg.Connection, embedder) -> None:
    q = embedder.embed(["home computer kit"])[0]
    rows = conn.execute(
        "SELECT id, score, vector_rank, keyword_rank FROM vecpg.hybrid_search('docs', 'home computer kit', %s, 3)",
        (q,),
    ).fetchall()
    python = docs.search("home computer kit", k=3, mode="hybrid")
    assert [r[0] for r in rows] == [h.id for h in python]
    assert rows[0][1] == pytest.approx(python[0].score)


def test_the_vector_list_is_as_long_as_asked_with_an_hnsw_index(store: vecpg.Store, conn: psycopg.Connection) -> None:
    coll = store.create_collection("many", dimension=8)
    rng = np.random.default_rng(1)
    coll.load({"id": str(i), "content": f"item {i}", "embedding": rng.normal(size=8)} for i in range(3000))
    coll.create_index(vecpg.HNSW())
    q = rng.normal(size=8)
    # An HNSW scan stops at ef_search rows (40 by default): hybrid search raises it to `candidates`.
    rows = conn.execute(
        "SELECT count(vector_rank) FROM vecpg.hybrid_search('many', 'nothing matches', %s, 200)", (q,)
    ).fetchone()
    assert rows == (200,)


def test_every_method_fuses_scores_on_an_l2_collection(store: vecpg.Store, embedder) -> None:
    # l2 has no similarity in [0, 1]; the vector list ranks by -distance so that score-based
    # methods still weigh it (they once saw only NULL scores there).
    coll = store.create_collection("near", distance="l2")
    coll.upsert([{"id": i, "content": c} for i, c in DOCS.items()])
    for method in ("adaptive", "rrf", "convex"):
        hits = coll.search("ocean tides and the moon", k=3, mode="hybrid", method=method)
        assert hits[0].id == "tides" and hits[0].vector_rank == 1
        assert all(h.vector_score is not None and h.vector_score <= 0 for h in hits)
    vector_only = coll.search("ocean tides and the moon", k=5, mode="hybrid", method="convex",
                              vector_weight=1, keyword_weight=0)
    assert [h.id for h in vector_only] == [h.id for h in coll.search("ocean tides and the moon", k=5)]
