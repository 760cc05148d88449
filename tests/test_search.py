"""Vector search from Python and from SQL: exact results, filters, index use, per-call tuning."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

import vecpg
from vecpg.search import SearchResult, hybrid_query, search_statement

DIM = 16


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """n points around 20 fixed centres; the seed varies the points, never the centres."""
    centres = np.random.default_rng(1234).normal(size=(20, DIM))
    rng = np.random.default_rng(seed)
    return (centres[rng.integers(0, 20, n)] + 0.3 * rng.normal(size=(n, DIM))).astype(np.float32)


@pytest.fixture
def points(store: vecpg.Store) -> tuple[vecpg.Collection, np.ndarray]:
    coll = store.create_collection("points", dimension=DIM, distance="cosine")
    vectors = clustered(3000)
    coll.load(
        {"id": str(i), "content": f"point {i}", "embedding": v, "metadata": {"parity": i % 2, "bucket": f"b{i % 100}"}}
        for i, v in enumerate(vectors)
    )
    return coll, vectors


def exact_cosine(vectors: np.ndarray, q: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[str]:
    sims = vectors @ q / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(q))
    if mask is not None:
        sims = np.where(mask, sims, -np.inf)
    return [str(i) for i in np.argsort(-sims)[:k]]


def test_exact_search_matches_brute_force(points) -> None:
    coll, vectors = points
    q = clustered(1, seed=7)[0]
    hits = coll.search(q, k=10)
    assert [h.id for h in hits] == exact_cosine(vectors, q, 10)
    assert all(abs(h.score - (1 - h.distance)) < 1e-9 for h in hits)
    assert hits == sorted(hits, key=lambda h: h.distance)


def test_filters_select_metadata_equality(points) -> None:
    coll, vectors = points
    q = clustered(1, seed=8)[0]
    hits = coll.search(q, k=5, filter={"parity": 1, "bucket": "b17"})
    mask = np.array([i % 2 == 1 and i % 100 == 17 for i in range(len(vectors))])
    assert [h.id for h in hits] == exact_cosine(vectors, q, 5, mask)
    assert all(h.metadata["bucket"] == "b17" for h in hits)


def test_hnsw_index_is_used_and_recall_is_high(points, conn: psycopg.Connection) -> None:
    coll, vectors = points
    name = coll.create_index(vecpg.HNSW(m=16, ef_construction=64))
    assert [i.method for i in coll.indexes()] == ["hnsw"]
    conn.execute("ANALYZE vecpg_data.points")
    q = clustered(1, seed=9)[0]
    statement, params = search_statement(coll, q, 10)
    plan = "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + statement, params))
    assert f"Index Scan using {name}" in plan

    queries = clustered(20, seed=10)
    recall = np.mean([
        len({h.id for h in coll.search(q, k=10, ef_search=100)} & set(exact_cosine(vectors, q, 10))) / 10
        for q in queries
    ])
    assert recall >= 0.9


def test_ef_search_applies_to_one_call_and_does_not_leak(store: vecpg.Store, db_url: str) -> None:
    with vecpg.connect(db_url, pool_size=1) as single:  # every call shares one connection
        coll = single.create_collection("tiny", dimension=DIM)
        coll.load({"id": str(i), "embedding": v, "content": "x"} for i, v in enumerate(clustered(500)))
        coll.create_index(vecpg.HNSW())
        q = clustered(1, seed=3)[0]
        # Without iterative scans an HNSW scan yields at most ef_search rows: proof the setting applied.
        assert len(coll.search(q, k=50, ef_search=10)) == 10
        with single.connection() as conn:
            assert conn.execute("SHOW hnsw.ef_search").fetchone() == ("40",)
            assert conn.execute("SHOW hnsw.iterative_scan").fetchone() == ("off",)
        assert len(coll.search(q, k=50)) == 50  # k above the default raises ef_search for the call
        with single.connection() as conn:
            assert conn.execute("SHOW hnsw.ef_search").fetchone() == ("40",)
        # Iterative scans keep going until k rows are found.
        assert len(coll.search(q, k=50, ef_search=10, iterative_scan="strict_order")) == 50
        with single.connection() as conn:
            assert conn.execute("SHOW hnsw.iterative_scan").fetchone() == ("off",)


def test_searches_sharing_a_connection_each_get_their_own_settings(db_url: str) -> None:
    """Settings stay on the connection between searches (session.py); each search still runs
    with its own: HNSW without iterative scans returns at most ef_search rows, so the row
    count shows which ef_search each call ran with."""
    with vecpg.connect(db_url, pool_size=1) as single:
        coll = single.create_collection("shared", dimension=DIM)
        coll.load({"id": str(i), "embedding": v, "content": "solar power"} for i, v in enumerate(clustered(500)))
        coll.create_index(vecpg.HNSW())
        q = clustered(1, seed=3)[0]
        calls = [({"ef_search": 10}, 10), ({"ef_search": 20}, 20), ({"ef_search": 20}, 20), ({}, 30),
                 ({"ef_search": 10}, 10), ({"ef_search": 10, "iterative_scan": "strict_order"}, 30), ({}, 30)]
        for options, rows in calls:
            assert len(coll.search(q, k=30, **options)) == rows, options
        # Hybrid search after a tuned vector search runs with the connection's own settings.
        coll.search(q, k=30, ef_search=10)
        assert len(coll.store.run(hybrid_query(coll, "solar", q, 30))) == 30
        with single.connection() as conn:  # and SQL of one's own sees them too
            assert conn.execute("SHOW hnsw.ef_search").fetchone() == ("40",)


def test_ivfflat_lists_default_to_rows_over_1000(points) -> None:
    coll, vectors = points
    coll.create_index(vecpg.IVFFlat())
    (index,) = coll.indexes()
    assert index.method == "ivfflat" and "lists='3'" in index.definition
    q = clustered(1, seed=11)[0]
    assert [h.id for h in coll.search(q, k=10, probes=3)] == exact_cosine(vectors, q, 10)
    coll.create_index(vecpg.IVFFlat(lists=7))  # replaces the index
    assert "lists='7'" in coll.indexes()[0].definition
    assert coll.rebuild_index() == 1
    assert coll.drop_index() == 1 and coll.indexes() == []


@pytest.mark.parametrize(("distance", "expected_score"), [("l2", None), ("ip", -1.0)])
def test_other_distances(store: vecpg.Store, distance: str, expected_score) -> None:
    coll = store.create_collection(f"d_{distance}", dimension=2, distance=distance)
    coll.upsert([{"id": "near", "embedding": [1, 0]}, {"id": "far", "embedding": [-1, 0]}])
    hits = coll.search([1, 0], k=2)
    assert [h.id for h in hits] == (["near", "far"])
    if expected_score is None:
        assert hits[0].score is None and hits[0].distance == 0
    else:
        assert hits[0].score == pytest.approx(-expected_score)  # inner product of [1,0] with itself
    coll.create_index(vecpg.HNSW())
    ops = {"l2": "vector_l2_ops", "ip": "vector_ip_ops"}[distance]
    assert ops in coll.indexes()[0].definition


@pytest.mark.parametrize(
    ("query", "k", "flt", "error"),
    [
        ([1.0] * DIM, 0, None, vecpg.InvalidArgument),
        ([1.0] * DIM, 1001, None, vecpg.InvalidArgument),
        ([1.0] * 3, 5, None, vecpg.DimensionMismatch),
        ([float("nan")] * DIM, 5, None, vecpg.InvalidVector),
        ([1.0] * DIM, 5, "{not json", vecpg.FilterError),
        ([1.0] * DIM, 5, '["a list"]', vecpg.FilterError),
        ([1.0] * DIM, 5, {"$gt": 3}, vecpg.FilterError),
        ("   ", 5, None, vecpg.InvalidArgument),
        ("text on a collection without model", 5, None, vecpg.InvalidArgument),
    ],
)
def test_bad_searches_are_refused(points, query, k, flt, error) -> None:
    coll, _ = points
    with pytest.raises(error):
        coll.search(query, k=k, filter=flt)


def test_bad_tuning_values_are_refused(points) -> None:
    coll, _ = points
    with pytest.raises(vecpg.InvalidArgument, match="ef_search"):
        coll.search([1.0] * DIM, ef_search=0)
    with pytest.raises(vecpg.InvalidArgument, match="iterative_scan"):
        coll.search([1.0] * DIM, iterative_scan="sideways")


def test_sql_search_function_agrees_with_python(points, conn: psycopg.Connection) -> None:
    coll, _ = points
    q = clustered(1, seed=12)[0]
    literal = "[" + ",".join(map(str, q.tolist())) + "]"
    rows = conn.execute(
        "SELECT id, distance, score FROM vecpg.search('points', %s::vector, 5, '{\"parity\": 0}')", (literal,)
    ).fetchall()
    hits = coll.search(q, k=5, filter={"parity": 0})
    assert [r[0] for r in rows] == [h.id for h in hits]
    assert rows[0][2] == pytest.approx(hits[0].score, abs=1e-6)


def test_sql_search_options_are_transaction_local(points, conn: psycopg.Connection) -> None:
    coll, _ = points
    coll.create_index(vecpg.HNSW())
    rows = conn.execute(
        "SELECT count(*) FROM vecpg.search('points', %s::vector, 100, options => '{\"ef_search\": 20}')",
        ("[" + ",".join(["1"] * DIM) + "]",),
    ).fetchone()
    assert rows == (20,)
    assert conn.execute("SHOW hnsw.ef_search").fetchone() == ("40",)


@pytest.mark.parametrize(
    ("statement", "sqlstate"),
    [
        ("SELECT * FROM vecpg.search('nope', '[1,2]', 5)", "VP001"),
        ("SELECT * FROM vecpg.search('points', '[1,2]', 5)", "VP003"),
        ("SELECT * FROM vecpg.search('points', array_fill(1, ARRAY[16])::vector, 0)", "VP005"),
        ("SELECT * FROM vecpg.search('points', array_fill(1, ARRAY[16])::vector, 5, '[1]')", "VP004"),
        ("SELECT vecpg.create_index('points', 'hnsw', '{\"m\": 1}')", "VP005"),
        ("SELECT vecpg.create_index('points', 'hnsw', '{\"lists\": 4}')", "VP005"),
        ("SELECT vecpg.create_index('points', 'annoy')", "VP005"),
    ],
)
def test_sql_functions_raise_vecpg_sqlstates(points, conn: psycopg.Connection, statement: str, sqlstate: str) -> None:
    with pytest.raises(psycopg.Error) as info:
        conn.execute(statement)
    assert info.value.sqlstate == sqlstate


@pytest.fixture(scope="module")
def fifty_thousand(server_url: str, template_url: str):
    """50,000 points; `n` runs 0..49,999 so {"n": {"$lt": 500}} matches 1%."""
    from conftest import _create_database, _drop_database

    url = _create_database(server_url, "vecpg_test_filtered_ann", template="vecpg_test_template")
    with vecpg.connect(url) as store:
        coll = store.create_collection("points", dimension=DIM)
        vectors = clustered(50_000, seed=21)
        coll.load({"id": str(i), "embedding": v, "metadata": {"n": i}} for i, v in enumerate(vectors))
        yield store, coll, vectors
    _drop_database(server_url, "vecpg_test_filtered_ann")


@pytest.mark.parametrize("index", [vecpg.HNSW(), vecpg.IVFFlat()], ids=["hnsw", "ivfflat"])
def test_filtered_ann_returns_k_rows(fifty_thousand, index) -> None:
    store, coll, vectors = fifty_thousand
    coll.create_index(index)
    with store.connection() as conn:
        conn.execute("ANALYZE vecpg_data.points")
    mask = np.arange(len(vectors)) < 500
    flt = {"n": {"$lt": 500}}  # a range: no metadata index helps, the vector index does the work
    recalls = []
    for seed in range(10):
        q = clustered(1, seed=100 + seed)[0]
        hits = coll.search(q, k=10, filter=flt, probes=10)
        assert len(hits) == 10
        assert all(h.metadata["n"] < 500 for h in hits)
        recalls.append(len({h.id for h in hits} & set(exact_cosine(vectors, q, 10, mask))) / 10)
    assert np.mean(recalls) >= 0.8
    if index.method == "hnsw":
        # Without iterative scans the same query comes back short: the post-filter drops most rows.
        q = clustered(1, seed=100)[0]
        assert len(coll.search(q, k=10, filter=flt, iterative_scan="off")) < 10


def test_k_above_ef_search_still_returns_k_rows(points, conn: psycopg.Connection) -> None:
    coll, vectors = points
    coll.create_index(vecpg.HNSW())
    q = vectors[7]
    # An HNSW scan yields at most ef_search rows (40 by default): a larger k raises it for the call.
    assert len(coll.search(q, k=100)) == 100
    assert conn.execute("SELECT count(*) FROM vecpg.search('points', %s, 100)", (q,)).fetchone() == (100,)
    # ...without lowering a higher setting, and without keeping the raised one afterwards.
    conn.execute("SET hnsw.ef_search = 300")
    assert conn.execute("SELECT count(*) FROM vecpg.search('points', %s, 250)", (q,)).fetchone() == (250,)
    assert conn.execute("SHOW hnsw.ef_search").fetchone() == ("300",)
    assert len(coll.search(q, k=40, ef_search=10)) == 10  # an explicit ef_search is the user's call


def test_vectors_are_stored_in_the_row(store: vecpg.Store, conn: psycopg.Connection) -> None:
    # pgvector's EXTERNAL storage moved a 384-d vector beside a page of text out of line: every
    # distance computed from the table (exact scans, an index scan's scores) fetched it again.
    text = " ".join(f"word{i}" for i in range(600))
    vector = np.random.default_rng(0).normal(size=384).astype(np.float32)
    for name in ("inline", "external"):
        store.create_collection(name, dimension=384).upsert([{"id": "a", "content": text, "embedding": vector}])
    conn.execute("ALTER TABLE vecpg_data.external ALTER COLUMN embedding SET STORAGE EXTERNAL")
    conn.execute("DELETE FROM vecpg_data.external")
    store.collection("external").upsert([{"id": "a", "content": text, "embedding": vector}])
    out_of_line = {name: conn.execute(f"SELECT pg_column_toast_chunk_id(embedding) IS NOT NULL FROM vecpg_data.{name}"
                                      ).fetchone()[0] for name in ("inline", "external")}
    assert out_of_line == {"inline": False, "external": True}
    hit = store.collection("inline").search(vector, k=1)[0]
    assert hit.id == "a" and hit.score == pytest.approx(1.0, abs=1e-6)


def test_search_result_reprs_leave_out_what_is_unset(store: vecpg.Store) -> None:
    coll = store.create_collection("reprs", dimension=3, distance="l2")
    coll.upsert([{"id": "long", "content": "word " * 40, "embedding": [1, 0, 0]}])
    hit = coll.search([1, 0, 0], k=1)[0]  # l2: no score; no title, metadata, ranks or chunk
    assert repr(hit) == f"SearchResult(id='long', content='{('word ' * 40)[:79]}\u2026', distance=0.0)"
    fused = SearchResult("h", "Title", "text", {"k": 1}, None, 0.03, vector_rank=1, vector_score=0.9,
                         keyword_rank=None, keyword_score=None)
    assert repr(fused) == ("SearchResult(id='h', title='Title', content='text', metadata={'k': 1}, score=0.03, "
                           "vector_rank=1, vector_score=0.9)")
