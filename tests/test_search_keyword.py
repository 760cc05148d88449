"""Keyword search: BM25 in SQL over the collection's tsvector, with statistics kept by triggers."""

from __future__ import annotations

import math

import psycopg
import pytest
from conftest import keyword_recount, keyword_statistics

import vecpg

DOCS = [
    ("moon", "Tides", "The Moon's gravity raises the tides; the Sun's gravity adds spring tides."),
    ("bread", "Sourdough", "Bake sourdough bread at a high temperature with steam for a crisp crust."),
    ("pasta", "Pasta", "Cook pasta in salted boiling water, then toss it with the sauce."),
    ("stars", "Stars", "Stars form when clouds of gas collapse under their own gravity."),
    ("oven", "Ovens", "A hot oven browns bread; a cool oven dries meringue."),
]


@pytest.fixture
def facts(store: vecpg.Store) -> vecpg.Collection:
    coll = store.create_collection("facts", dimension=2)
    coll.upsert([{"id": i, "title": t, "content": c, "embedding": [1, n], "metadata": {"n": n}}
                 for n, (i, t, c) in enumerate(DOCS)])
    return coll


def test_bm25_ranks_by_term_rarity_and_frequency(facts: vecpg.Collection) -> None:
    hits = facts.search("gravity tides", k=3, mode="keyword")
    assert [h.id for h in hits][:2] == ["moon", "stars"]
    assert hits[0].score > hits[1].score > 0
    assert hits[0].keyword_rank == 1 and hits[0].distance is None
    # Natural language needs no term to be present in every document.
    assert {h.id for h in facts.search("what makes bread crust crisp in an oven", k=5, mode="keyword")} >= {"bread", "oven"}


def test_bm25_score_matches_the_formula(facts: vecpg.Collection, conn: psycopg.Connection) -> None:
    facts.upsert([{"id": "long", "content": " ".join(f"word{i}" for i in range(40)),
                   "embedding": [1, 1]}])  # so that the oven document is shorter than average
    (hit,) = facts.search("meringue", k=1, mode="keyword")
    n_docs, total_len = conn.execute(
        "SELECT sum(n_docs)::bigint, sum(total_len)::bigint FROM vecpg.keyword_totals('facts')").fetchone()
    doc_len = conn.execute("SELECT length(fts) FROM vecpg_data.facts WHERE id = 'oven'").fetchone()[0]
    idf = math.log(1 + (n_docs - 1 + 0.5) / (1 + 0.5))
    k1, b = 0.9, 0.4
    expected = idf * 1 * (k1 + 1) / (1 + k1 * (1 - b + b * doc_len / (total_len / n_docs)))
    assert hit.id == "oven" and hit.score == pytest.approx(expected)
    tuned = facts.search("meringue", k=1, mode="keyword", k1=1.2, b=0.75)[0]
    assert tuned.score != pytest.approx(expected)


def test_websearch_syntax_when_the_user_types_it(facts: vecpg.Collection) -> None:
    assert {h.id for h in facts.search('"sourdough bread"', k=5, mode="keyword")} == {"bread"}
    assert {h.id for h in facts.search("bread -oven", k=5, mode="keyword")} == {"bread"}
    assert {h.id for h in facts.search("pasta OR meringue", k=5, mode="keyword")} == {"pasta", "oven"}


def test_empty_and_stop_word_queries_return_nothing(facts: vecpg.Collection, conn: psycopg.Connection) -> None:
    assert facts.search("the and of", k=5, mode="keyword") == []
    assert conn.execute("SELECT count(*) FROM vecpg.keyword_search('facts', '', 5)").fetchone() == (0,)
    assert facts.search("xylophone", k=5, mode="keyword") == []


def test_filters_and_ts_rank_cd(facts: vecpg.Collection) -> None:
    assert [h.id for h in facts.search("gravity", k=5, mode="keyword", filter={"n": {"$gte": 2}})] == ["stars"]
    ranked = facts.search("gravity", k=5, mode="keyword", ranking="ts_rank_cd")
    assert {h.id for h in ranked} == {"moon", "stars"}
    with pytest.raises(vecpg.InvalidArgument, match="ranking"):
        facts.search("gravity", mode="keyword", ranking="tfidf")


def test_statistics_stay_exact_through_every_kind_of_write(facts: vecpg.Collection, conn: psycopg.Connection) -> None:
    assert keyword_statistics(conn, "facts") == keyword_recount(conn, "facts")
    facts.upsert([{"id": "moon", "content": "The Moon orbits the Earth.", "embedding": [1, 0], "tenant_id": "acme"}])
    facts.load({"id": f"x{i}", "content": f"extra document number {i} about gravity", "embedding": [1, 1],
                "tenant_id": "acme" if i % 2 else None} for i in range(600))
    facts.delete(filter={"n": 1})
    conn.execute("UPDATE vecpg_data.facts SET content = content || ' bread' WHERE id LIKE 'x1%'")
    conn.execute("DELETE FROM vecpg_data.facts WHERE id LIKE 'x2%'")
    assert keyword_statistics(conn, "facts") == keyword_recount(conn, "facts")
    assert set(keyword_statistics(conn, "facts")[1]) == {"", "acme"}  # kept per tenant


def test_one_tenants_documents_do_not_change_anothers_scores(facts: vecpg.Collection, conn: psycopg.Connection) -> None:
    """Statistics are per tenant. (Hiding tenant b's rows from tenant a is row-level security's job.)"""
    facts.upsert([{"id": f"a{i}", "content": "gravity bread", "embedding": [1, 0], "tenant_id": "a"} for i in range(3)])

    def scores_for_a() -> list[tuple[str, float]]:
        with conn.transaction():
            conn.execute("SELECT set_config('vecpg.tenant_id', 'a', true)")
            rows = conn.execute("SELECT id, score FROM vecpg.keyword_search('facts', 'gravity bread', 1000)").fetchall()
        return [(r[0], round(r[1], 9)) for r in rows if r[0].startswith("a")]

    before = scores_for_a()
    facts.load({"id": f"b{i}", "content": "gravity gravity bread stars", "embedding": [1, 0], "tenant_id": "b"}
               for i in range(200))
    assert scores_for_a() == before


def test_existing_collections_get_statistics_when_migrated(blank_db_url: str) -> None:
    from vecpg.db import migrate

    migrate.upgrade(blank_db_url, "0001")
    with psycopg.connect(blank_db_url, autocommit=True) as c:
        c.execute("SELECT vecpg.create_collection('old', 2)")
        c.execute("INSERT INTO vecpg_data.old (id, content, embedding) VALUES ('1', 'solar panels', '[1,0]')")
    migrate.upgrade(blank_db_url)
    with vecpg.connect(blank_db_url) as store:
        old = store.collection("old")
        assert [h.id for h in old.search("solar", mode="keyword")] == ["1"]
        with store.connection() as conn:  # 0004 keeps the tsvectors of existing collections in the row too
            assert conn.execute("SELECT attstorage FROM pg_attribute WHERE attrelid = 'vecpg_data.old'::regclass"
                                " AND attname = 'fts'").fetchone() == ("m",)
        old.upsert([{"id": "2", "content": "solar wind", "embedding": [0, 1]}])  # triggers installed
        assert [h.id for h in old.search("wind", mode="keyword")] == ["2"]
    migrate.downgrade(blank_db_url, "0003")  # before 0004: the 004 keyword search works again
    with psycopg.connect(blank_db_url) as c:
        assert c.execute("SELECT id FROM vecpg.keyword_search('old', 'wind', 5)").fetchall() == [("2",)]
        assert c.execute("SELECT to_regproc('vecpg.keyword_plan')").fetchone() == (None,)
    migrate.downgrade(blank_db_url, "0001")  # and back: the 0001 functions work again
    with psycopg.connect(blank_db_url) as c:
        assert c.execute("SELECT count(*) FROM vecpg.search('old', '[1,0]', 5)").fetchone() == (2,)
        assert c.execute("SELECT to_regclass('vecpg.bm25_df')").fetchone() == (None,)


def test_hostile_query_text_is_only_text(facts: vecpg.Collection) -> None:
    for text in ("'; DROP TABLE vecpg.collection; --", "a\\b 'c' | & ! <-> :*", "x" * 100_000, "\u2603 \u00e9t\u00e9"):
        facts.search(text, k=3, mode="keyword")
    assert facts.count() == len(DOCS)


def test_term_frequency_from_ts_rank_is_exact(facts: vecpg.Collection, conn: psycopg.Connection) -> None:
    # BM25 reads tf through ts_rank (no tsvector copy): it must equal the positions counted.
    facts.upsert([{"id": f"rep{n}", "content": " ".join(["gravity"] * n + ["tides"] * (n // 3 + 1)),
                   "embedding": [1, 0]} for n in (1, 2, 3, 7, 40, 255, 300)])
    wrong, pairs, most = conn.execute(
        "SELECT count(*) FILTER (WHERE vecpg.term_frequency(d.fts, u.lexeme) <> cardinality(u.positions)),"
        "       count(*), max(cardinality(u.positions))"
        " FROM vecpg_data.facts d, unnest(d.fts) u").fetchone()
    assert pairs > 40 and most == 255 and wrong == 0  # a tsvector keeps at most 255 positions a lexeme
    assert conn.execute("SELECT vecpg.term_frequency(to_tsvector('english', 'tides'), 'gravity')").fetchone()[0] == 0
    # A stripped tsvector has no positions: every lexeme present counts once.
    assert conn.execute("SELECT vecpg.term_frequency(strip(to_tsvector('english', 'tides tides')), 'tide')"
                        ).fetchone()[0] == 1


def _reference_bm25(conn: psycopg.Connection, query: str) -> dict[str, float]:
    """BM25 (k1 0.9, b 0.4) of every document of collection facts, from its tsvector's positions."""
    lexemes = [r[0] for r in conn.execute("SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', %s))", (query,))]
    rows = conn.execute("SELECT d.id, u.lexeme, cardinality(u.positions), length(d.fts)"
                        " FROM vecpg_data.facts d, unnest(d.fts) u").fetchall()
    lengths = {r[0]: r[3] for r in rows}
    tf = {(r[0], r[1]): r[2] for r in rows}
    n, avgdl = len(lengths), sum(lengths.values()) / len(lengths)
    expected = {}
    for doc, length in lengths.items():
        score = 0.0
        for lexeme in lexemes:
            df = sum(1 for d in lengths if (d, lexeme) in tf)
            f = tf.get((doc, lexeme), 0)
            if f:
                score += math.log(1 + (n - df + 0.5) / (df + 0.5)) * f * 1.9 / (f + 0.9 * (0.6 + 0.4 * length / avgdl))
        if score:
            expected[doc] = score
    return expected


def test_bm25_ranking_equals_a_reference_implementation(facts: vecpg.Collection, conn: psycopg.Connection) -> None:
    facts.upsert([{"id": f"g{n}", "content": "gravity " * n + "moon " * (5 - n) + "filler words " * n,
                   "embedding": [1, 0]} for n in range(1, 5)])
    query = "gravity of the moon and stars"
    expected = _reference_bm25(conn, query)
    hits = facts.search(query, k=len(expected), mode="keyword", max_candidates=10_000)
    assert {h.id: h.score for h in hits} == pytest.approx(expected, rel=1e-9)
    assert [h.id for h in hits] == sorted(expected, key=lambda d: (-expected[d], d))


def test_long_documents_score_the_same_however_their_tsvector_is_stored(
    facts: vecpg.Collection, conn: psycopg.Connection
) -> None:
    # Scoring reads a short tsvector in place and copies a long one once a row (out of line, it
    # would be fetched from TOAST for every query term): the scores must not depend on which.
    words = [f"term{i:05d}" for i in range(3000)]
    facts.upsert([
        {"id": "medium", "content": " ".join(words[:200]) + " gravity moon gravity", "embedding": [1, 0]},
        {"id": "long", "content": " ".join(words) + " gravity" * 9, "embedding": [1, 0]},
    ])
    stored = dict(conn.execute("SELECT id, pg_column_toast_chunk_id(fts) IS NOT NULL FROM vecpg_data.facts").fetchall())
    assert stored == {"moon": False, "bread": False, "pasta": False, "stars": False, "oven": False,
                      "medium": False, "long": True}
    query = "the gravity of the moon"
    expected = _reference_bm25(conn, query)
    hits = facts.search(query, k=len(expected), mode="keyword", max_candidates=10_000)
    assert {"medium", "long", "moon", "stars"} <= set(expected)
    assert {h.id: h.score for h in hits} == pytest.approx(expected, rel=1e-9)

    # Before PostgreSQL 17 out-of-line values cannot be told apart: every tsvector of 2 kB or more
    # is copied. Both forms give every document the same ranks.
    def ranks(server_version: int) -> list[tuple[str, float]]:
        tsvector = conn.execute("SELECT vecpg.tsvector_once_sql(%s)", (server_version,)).fetchone()[0]
        return conn.execute(
            f"SELECT d.id, ts_rank('{{1,1,1,1}}', v.fts, 'graviti | moon'::tsquery) FROM vecpg_data.facts d"
            f" CROSS JOIN LATERAL (SELECT {tsvector} AS fts OFFSET 0) v ORDER BY d.id").fetchall()

    assert ranks(160000) == ranks(180000)
    assert "toast_chunk_id" in conn.execute("SELECT vecpg.tsvector_once_sql()").fetchone()[0]


def test_tsvectors_are_stored_in_the_row(facts: vecpg.Collection, conn: psycopg.Connection) -> None:
    # Out-of-line TOAST made every keyword candidate cost an extra index lookup.
    storage = conn.execute("SELECT attstorage FROM pg_attribute"
                           " WHERE attrelid = 'vecpg_data.facts'::regclass AND attname = 'fts'").fetchone()[0]
    assert storage == "m"


def test_a_pasted_document_as_the_query_is_served(facts: vecpg.Collection) -> None:
    # 20,000 distinct query terms once made a chain of additions too deep for the planner.
    words = [f"w{i:05d}x" for i in range(20_000)]
    facts.upsert([{"id": f"page{p}", "content": " ".join(words[p::4]), "embedding": [0, 1]} for p in range(4)])
    hits = facts.search(" ".join(words), k=4, mode="keyword")
    assert sorted(h.id for h in hits) == ["page0", "page1", "page2", "page3"]
