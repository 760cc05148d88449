"""The keyword index (sql/idempotent/08_keyword_index.sql): impact-ordered postings that writes keep
current, and the hybrid search that reads them instead of scoring every candidate."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

import vecpg
from vecpg.cli import main

DOCS = {
    "tides": "The Moon's gravity raises the ocean tides twice a day; tides follow the Moon.",
    "bread": "Bake sourdough bread in a very hot oven with steam.",
    "hnsw": "HNSW graphs make approximate nearest neighbour search fast.",
    "zx81": "The ZX81 was a home computer sold in kit form in 1981.",
    "stars": "Stars are born when cold clouds of gas collapse under gravity.",
    "oven": "A wood-fired oven bakes pizza and bread in ninety seconds.",
    "moon": "Apollo astronauts walked on the Moon and brought back Moon rocks.",
}
QUERIES = ["moon gravity", "bread oven", "fast search for neighbours", "home computer kit", "gravity of stars"]

# The postings a collection's rows should have, recomputed from scratch.
EXPECTED = """
    SELECT coalesce(d.tenant_id, ''), u.lexeme, d.id, coalesce(cardinality(u.positions), 1), length(d.fts)
    FROM vecpg_data.docs d, unnest(d.fts) u
"""
ACTUAL = "SELECT tenant_key, lexeme, id, tf, len FROM vecpg_postings.docs"


@pytest.fixture
def docs(store: vecpg.Store, embedder) -> vecpg.Collection:
    coll = store.create_collection("docs")
    coll.upsert([{"id": i, "content": c} for i, c in DOCS.items()])
    return coll


def _postings_match(conn: psycopg.Connection) -> None:
    missing = conn.execute(f"{EXPECTED} EXCEPT ALL {ACTUAL}").fetchall()
    extra = conn.execute(f"{ACTUAL} EXCEPT ALL {EXPECTED}").fetchall()
    assert (missing, extra) == ([], [])


def test_enabling_writes_one_posting_per_document_and_lexeme(docs: vecpg.Collection, conn) -> None:
    assert not docs.has_keyword_index()
    written = docs.enable_keyword_index()
    assert docs.has_keyword_index()
    assert written == conn.execute("SELECT count(*) FROM vecpg_data.docs, unnest(fts)").fetchone()[0]
    _postings_match(conn)
    # Term frequencies agree with the exact BM25 path's (positions counted by ts_rank).
    assert conn.execute(
        "SELECT count(*) FROM vecpg_postings.docs p JOIN vecpg_data.docs d USING (id) "
        "WHERE p.tf <> vecpg.term_frequency(d.fts, p.lexeme)").fetchone() == (0,)
    assert conn.execute("SELECT tf FROM vecpg_postings.docs WHERE id = 'tides' AND lexeme = 'tide'").fetchone() == (2,)


def test_every_kind_of_write_keeps_the_postings_current(docs: vecpg.Collection, conn) -> None:
    docs.enable_keyword_index()
    docs.upsert([{"id": "new", "content": "A new document about lunar tides"}])
    _postings_match(conn)
    docs.upsert([{"id": "bread", "content": "Rye bread needs a long, slow proof"}])  # text changed
    _postings_match(conn)
    conn.execute("UPDATE vecpg_data.docs SET title = 'Tides', tenant_id = NULL WHERE id = 'tides'")
    _postings_match(conn)
    docs.delete(["zx81", "new"])
    _postings_match(conn)
    docs.load([{"id": f"bulk{i}", "content": f"bulk document number {i} about the moon"} for i in range(600)])
    _postings_match(conn)


def test_updates_that_leave_the_text_alone_leave_the_postings_alone(docs: vecpg.Collection, conn) -> None:
    docs.enable_keyword_index()
    before = conn.execute("SELECT id, lexeme, xmin::text FROM vecpg_postings.docs ORDER BY 1, 2").fetchall()
    conn.execute("UPDATE vecpg_data.docs SET metadata = '{\"seen\": true}'")
    after = conn.execute("SELECT id, lexeme, xmin::text FROM vecpg_postings.docs ORDER BY 1, 2").fetchall()
    assert after == before


def test_fast_hybrid_equals_exact_hybrid_when_it_reads_every_posting(docs: vecpg.Collection) -> None:
    docs.enable_keyword_index()
    for query in QUERIES:
        for method in ("adaptive", "rrf", "convex"):
            exact = docs.search(query, k=5, mode="hybrid", method=method, keyword_index=False)
            fast = docs.search(query, k=5, mode="hybrid", method=method, max_postings=1000)
            assert [h.id for h in fast] == [h.id for h in exact], (query, method)
            for f, e in zip(fast, exact, strict=True):
                assert (f.vector_rank, f.keyword_rank) == (e.vector_rank, e.keyword_rank)
                assert f.score == pytest.approx(e.score, rel=1e-6, abs=1e-9)
                assert (f.keyword_score is None) == (e.keyword_score is None)
                if f.keyword_score is not None:
                    assert f.keyword_score == pytest.approx(e.keyword_score, rel=1e-6)


def test_a_small_budget_keeps_only_each_terms_best_postings(docs: vecpg.Collection) -> None:
    docs.enable_keyword_index()
    hits = docs.search("moon", k=7, mode="hybrid", max_postings=1, candidates=7)
    in_keyword_list = [h.id for h in hits if h.keyword_rank is not None]
    assert in_keyword_list == ["moon"]  # two "moon"s in the shortest text: the best posting
    everything = docs.search("moon", k=7, mode="hybrid", candidates=7)
    assert {h.id for h in everything if h.keyword_rank is not None} == {"moon", "tides"}


def test_sql_clients_get_the_same_fast_path(docs: vecpg.Collection, conn, embedder) -> None:
    docs.enable_keyword_index()
    query = "gravity of stars"
    vector = embedder.embed([query])[0]
    rows = conn.execute("SELECT id, score, keyword_rank FROM vecpg.hybrid_search('docs', %s, %s, 5)",
                        (query, vector)).fetchall()
    hits = docs.search(query, k=5, mode="hybrid")
    assert [(h.id, h.keyword_rank) for h in hits] == [(r[0], r[2]) for r in rows]
    assert [h.score for h in hits] == pytest.approx([r[1] for r in rows])
    # The collection's own search function, which vecpg.hybrid_search calls, takes its arguments directly.
    direct = conn.execute(
        "SELECT id, score FROM vecpg_postings.docs(%s, %s, 20, 'adaptive', 1, 1, 60, 5, 800, 0.9, 0.4, 20, NULL)",
        (query, vector)).fetchall()
    assert direct == [(r[0], r[1]) for r in rows]
    docs.disable_keyword_index()
    assert conn.execute("SELECT to_regprocedure('vecpg_postings.docs(text, vector, integer, text, float8, float8, "
                        "float8, integer, integer, float8, float8, integer, text)')").fetchone() == (None,)


def test_searches_the_index_cannot_serve_rank_exactly(docs: vecpg.Collection) -> None:
    docs.enable_keyword_index()
    exact = {"keyword_index": False}
    cases = [
        ("bread oven", {"filter": {"id": {"$ne": "hnsw"}}}),  # filters need the exact path
        ('"sourdough bread" -rye', {}),  # web-search syntax
        ("moon OR oven", {}),
        ("bread oven", {"ranking": "ts_rank_cd"}),
        ("bread oven", {"max_candidates": 2}),
    ]
    for query, extra in cases:
        got = docs.search(query, k=4, mode="hybrid", max_postings=1, **extra)
        want = docs.search(query, k=4, mode="hybrid", **exact, **extra)
        assert [(h.id, h.keyword_rank) for h in got] == [(h.id, h.keyword_rank) for h in want], query
    # Python takes the path that vecpg.hybrid_search would take: vecpg.keyword_index_serves decides for both.
    with docs.store.connection() as conn:
        for query in ('"sourdough bread" -rye', "moon OR oven", "moon or oven", "re-use of ovens"):
            vector = docs.embed_query(query)
            rows = conn.execute("SELECT id, keyword_rank FROM vecpg.hybrid_search('docs', %s, %s, 4, '{}', "
                                "'{\"max_postings\": 1}')", (query, vector)).fetchall()
            hits = docs.search(query, k=4, mode="hybrid", max_postings=1)
            assert [(h.id, h.keyword_rank) for h in hits] == rows, query


def test_bad_options_get_the_same_errors_on_the_fast_path(docs: vecpg.Collection) -> None:
    docs.enable_keyword_index()
    with pytest.raises(vecpg.InvalidArgument, match="k1"):
        docs.search("moon", mode="hybrid", k1=-1)
    with pytest.raises(vecpg.InvalidArgument, match="max_postings"):
        docs.search("moon", mode="hybrid", max_postings=0)
    with pytest.raises(vecpg.InvalidArgument, match="method"):
        docs.search("moon", mode="hybrid", method="borda")
    with pytest.raises(vecpg.InvalidArgument, match="keyword_index"):
        docs.search("moon", mode="hybrid", keyword_index="yes")  # type: ignore[arg-type]
    assert docs.search("the of and", k=3, mode="hybrid")[0].keyword_rank is None  # stop words only


def test_another_client_dropping_the_index_falls_back(docs: vecpg.Collection, conn) -> None:
    docs.enable_keyword_index()
    before = docs.search("bread oven", k=3, mode="hybrid")
    conn.execute("SELECT vecpg.disable_keyword_index('docs')")
    after = docs.search("bread oven", k=3, mode="hybrid")  # the prepared statement's table is gone
    assert [h.id for h in after] == [h.id for h in before]
    assert docs.disable_keyword_index() is False


def test_the_index_goes_with_its_collection(store: vecpg.Store, docs: vecpg.Collection, conn) -> None:
    docs.enable_keyword_index()
    store.drop_collection("docs")
    assert conn.execute("SELECT to_regclass('vecpg_postings.docs')").fetchone() == (None,)
    again = store.create_collection("docs")
    assert not again.has_keyword_index()
    again.upsert([{"id": "x", "content": "a fresh start"}])  # no trigger left behind


def test_tenants_read_only_their_own_postings(store: vecpg.Store, logins: dict[str, str]) -> None:
    store.create_collection("docs", dimension=2)
    with vecpg.connect(logins["admin"], pool_size=1) as admin:
        assert admin.collection("docs").enable_keyword_index() == 0
    with vecpg.connect(logins["writer"], pool_size=1) as writer:
        with pytest.raises(vecpg.VecpgError):  # building indexes is for admins
            writer.collection("docs").enable_keyword_index()
        coll = writer.collection("docs")
        with writer.tenant("a"):
            coll.upsert([{"id": "a1", "content": "solar power", "embedding": [1, 0]}])
        with writer.tenant("b"):
            coll.upsert([{"id": f"b{i}", "content": "solar solar eclipse", "embedding": [0, 1]} for i in range(5)])

        def hybrid(tenant: str) -> list[tuple]:
            with writer.tenant(tenant), writer.connection() as conn:
                return conn.execute("SELECT id, keyword_score FROM vecpg.hybrid_search('docs', 'solar', '[1,0]', 10)"
                                    ).fetchall()

        a_before = hybrid("a")
        assert [r[0] for r in a_before] == ["a1"]
        assert {r[0] for r in hybrid("b")} == {f"b{i}" for i in range(5)}
        with writer.tenant("b"):
            coll.upsert([{"id": f"b{i}", "content": "more solar", "embedding": [0, 1]} for i in range(5, 50)])
        assert hybrid("a") == a_before  # b's documents changed neither a's list nor a's scores
        with writer.tenant("a"), writer.connection() as conn:
            assert conn.execute("SELECT count(*) FROM vecpg_postings.docs").fetchone() == (2,)
    # Rebuilding over tenants' rows needs a role that sees them all: an admin is refused, whole.
    with vecpg.connect(logins["admin"], pool_size=1) as admin, pytest.raises(vecpg.PermissionDenied, match="every tenant"):
        admin.collection("docs").enable_keyword_index()
    with store.connection() as conn:  # the superuser may, and sees every tenant's lexemes
        lexemes = conn.execute("SELECT count(*) FROM vecpg_data.docs, unnest(fts)").fetchone()[0]
    assert store.collection("docs").enable_keyword_index() == lexemes > 2


def test_cli_builds_and_drops_the_keyword_index(docs: vecpg.Collection, db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--url", db_url, "index", "keyword", "-c", "docs"])
    assert result.exit_code == 0, result.output
    assert "postings" in result.output and docs.has_keyword_index()
    info = runner.invoke(main, ["--url", db_url, "collection", "info", "docs"])
    assert "keyword index" in info.output
    result = runner.invoke(main, ["--url", db_url, "index", "keyword", "-c", "docs", "--drop"])
    assert result.exit_code == 0 and not docs.has_keyword_index()
    result = runner.invoke(main, ["--url", db_url, "index", "keyword", "-c", "nope"])
    assert result.exit_code == 2 and "nope" in result.output
