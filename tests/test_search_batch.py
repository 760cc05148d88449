"""Batch search: many queries in one statement and one round trip, each query's results those of
its own search, in the order the queries were given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg
import pytest
from conftest import CountingEmbedder, clustered
from psycopg.types.json import Jsonb

import vecpg
from vecpg.search import MODES, SearchResult
from vecpg.search.batch import MAX_QUERIES, search_many_query

DIM = 16
N = 2000
FACTS = {
    "tides": ("The Moon's gravity raises the ocean tides twice a day.", "science"),
    "stars": ("Stars are born when cold clouds of gas collapse under gravity.", "science"),
    "bread": ("Bake sourdough bread in a very hot oven with steam.", "cooking"),
    "pasta": ("Fresh pasta needs only flour, eggs and a rolling pin.", "cooking"),
    "zx81": ("The ZX81 was a home computer sold in kit form in 1981.", "computing"),
    "hnsw": ("HNSW graphs make approximate nearest neighbour search fast.", "computing"),
    "volcano": ("Volcanoes erupt when magma rises through the crust.", "science"),
    "chips": ("Chips taste best fried twice in beef dripping.", "cooking"),
}
TEXTS = ["why do the tides rise", "baking bread at home", "old home computers", "why do the tides rise",
         "gravity and stars"]


def same(batch: Sequence[SearchResult], single: Sequence[SearchResult]) -> None:
    """A query's results in a batch are its own search's: the same documents, ranks and scores."""
    assert [h.id for h in batch] == [h.id for h in single]
    assert [h.score for h in batch] == pytest.approx([h.score for h in single], abs=1e-6)
    assert [(h.vector_rank, h.keyword_rank) for h in batch] == [(h.vector_rank, h.keyword_rank) for h in single]


@pytest.fixture
def vectors() -> np.ndarray:
    return clustered(N, DIM)


def load_points(store: vecpg.Store, vectors: np.ndarray, name: str = "points", **create: Any) -> vecpg.Collection:
    coll = store.create_collection(name, dimension=DIM, **create)
    coll.load({"id": str(i), "content": f"point {i}", "embedding": v, "metadata": {"g": i % 5}}
              for i, v in enumerate(vectors))
    return coll


@pytest.fixture(params=["exact", "hnsw"])
def points(request: pytest.FixtureRequest, store: vecpg.Store, vectors: np.ndarray) -> vecpg.Collection:
    coll = load_points(store, vectors)
    if request.param == "hnsw":
        coll.create_index(vecpg.HNSW())
    return coll


@pytest.fixture(params=["exact", "keyword-index"])
def facts(request: pytest.FixtureRequest, store: vecpg.Store, embedder: vecpg.Embedder) -> vecpg.Collection:
    coll = store.create_collection("facts")
    coll.upsert([{"id": i, "content": c, "metadata": {"category": cat}} for i, (c, cat) in FACTS.items()])
    if request.param == "keyword-index":
        coll.enable_keyword_index()
    return coll


def test_each_query_gets_what_its_own_search_gets_in_the_order_given(points: vecpg.Collection,
                                                                     vectors: np.ndarray) -> None:
    queries = vectors[[3, 500, 3, 1999, 42]] + 0.01  # the first query twice
    for flt in (None, {"g": 2}):
        batch = points.search_many(queries, k=10, filter=flt)
        assert len(batch) == len(queries)
        for query, hits in zip(queries, batch):
            assert len(hits) == 10
            same(hits, points.search(query, k=10, filter=flt))
        assert batch[0] == batch[2]
        if flt:
            assert all(h.metadata["g"] == 2 for hits in batch for h in hits)
    # Options apply to every query, as to one search; a list of vectors works as an array does.
    batch = points.search_many(list(queries[:2]), k=60, ef_search=20)
    for query, hits in zip(queries, batch):
        same(hits, points.search(query, k=60, ef_search=20))


def test_text_queries_in_every_mode_get_their_own_searchs_results(facts: vecpg.Collection) -> None:
    for mode in MODES:
        for flt in (None, {"category": "science"}):
            batch = facts.search_many(TEXTS, k=4, mode=mode, filter=flt)
            assert len(batch) == len(TEXTS)
            for text, hits in zip(TEXTS, batch):
                same(hits, facts.search(text, k=4, mode=mode, filter=flt))
            assert batch[0] == batch[3]
    tides, bread, computers = (hits[0].id for hits in facts.search_many(TEXTS[:3], k=1, mode="hybrid"))
    assert (tides, bread, computers) == ("tides", "bread", "zx81")
    # Vector mode takes texts and vectors side by side.
    by_text, by_vector = facts.search_many([TEXTS[0], facts.embed_query(TEXTS[0])], k=4)
    assert by_text == by_vector == facts.search(TEXTS[0], k=4)


def test_texts_are_embedded_in_one_call_of_the_model(db_url: str, embedder: vecpg.Embedder) -> None:
    calls = CountingEmbedder(embedder)
    with vecpg.connect(db_url, embedder=calls) as store:  # type: ignore[arg-type]
        facts = store.create_collection("facts")
        facts.upsert([{"id": i, "content": c} for i, (c, _) in FACTS.items()])
        facts.search("tides", k=1)
        calls.calls.clear()
        batch = facts.search_many(["tides", "sourdough", "tides", "fried chips"], k=1, mode="hybrid")
        assert calls.calls == [["sourdough", "fried chips"]]  # "tides" was cached, each other text embedded once
        assert [hits[0].id for hits in batch] == ["tides", "bread", "tides", "chips"]
        assert facts.search_many(["sourdough", "fried chips"], k=1) and len(calls.calls) == 1  # cached now


@pytest.mark.parametrize("storage, index", [
    ("halfvec", vecpg.HNSW()), ("halfvec", vecpg.HNSW(quantization="binary")),
    ("vector", vecpg.HNSW(quantization="binary")), ("vector", vecpg.IVFFlat(lists=20, quantization="halfvec")),
], ids=["halfvec", "halfvec-binary", "binary", "ivfflat-halfvec"])
def test_every_storage_and_index_searches_a_batch_through_the_index(
        store: vecpg.Store, conn: psycopg.Connection, vectors: np.ndarray, storage: str, index: Any) -> None:
    coll = load_points(store, vectors, storage=storage)
    name = coll.create_index(index)
    queries = vectors[[7, 70, 700]] + 0.02
    batch = coll.search_many(queries, k=10, vectors=True, rerank=6, probes=4)
    for query, hits in zip(queries, batch):
        same(hits, coll.search(query, k=10, rerank=6, probes=4))
        stored = {d.id: d.embedding for d in coll.get([h.id for h in hits])}
        assert all(h.vector.dtype == np.float32 and np.array_equal(h.vector, stored[h.id]) for h in hits)
    # Python's statement: one index scan per query, inside the LATERAL join.
    statement = search_many_query(coll, queries, 10)
    assert isinstance(statement, vecpg.ops.statement.Statement)
    plan = "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + statement.query, statement.params))
    assert "Nested Loop" in plan and f"Index Scan using {name}" in plan, plan
    # SQL's: the same results, and the index scanned once per query.
    conn.execute("SELECT pg_stat_force_next_flush()")
    before = index_scans(conn, name)
    rows = conn.execute("SELECT query_no, id, score FROM vecpg.search_many('points', %s, 10, options => %s)",
                        (list(queries), Jsonb({"rerank": 6, "probes": 4}))).fetchall()
    conn.execute("SELECT pg_stat_force_next_flush()")
    assert index_scans(conn, name) - before == len(queries)
    assert [(r[0], r[1]) for r in rows] == [(n, h.id) for n, hits in enumerate(batch, 1) for h in hits]


def index_scans(conn: psycopg.Connection, index: str) -> int:
    return conn.execute("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = %s", (index,)).fetchone()[0]


def test_vectors_true_returns_each_hits_stored_embedding_in_every_mode(facts: vecpg.Collection) -> None:
    for mode in MODES:
        batch = facts.search_many(TEXTS[:2], k=3, mode=mode, vectors=True)
        for hits in batch:
            stored = {d.id: d.embedding for d in facts.get([h.id for h in hits])}
            assert all(np.array_equal(h.vector, stored[h.id]) for h in hits), mode
        assert all(h.vector is None for hits in facts.search_many(TEXTS[:2], k=3, mode=mode) for h in hits)


def test_the_sql_function_answers_a_batch_from_psql(points: vecpg.Collection, conn: psycopg.Connection,
                                                    vectors: np.ndarray) -> None:
    queries = vectors[[11, 1200]] + 0.01
    flt, options = {"g": {"$in": [1, 3]}}, {"ef_search": 64}
    rows = conn.execute("SELECT query_no, rank, id, distance, score, embedding "
                        "FROM vecpg.search_many('points', %s, 5, %s, %s, vectors => true)",
                        (list(queries), Jsonb(flt), Jsonb(options))).fetchall()
    batch = points.search_many(queries, k=5, filter=flt, options=options)
    assert [r[:3] for r in rows] == [(n, rank, h.id) for n, hits in enumerate(batch, 1)
                                     for rank, h in enumerate(hits, 1)]
    assert [r[4] for r in rows] == pytest.approx([h.score for hits in batch for h in hits])
    assert np.array_equal(rows[0][5].to_numpy(), vectors[int(rows[0][2])])
    # As typed in psql: vector literals in an array; no embeddings unless asked for.
    literal = "ARRAY[" + ", ".join(f"'[{','.join(map(str, q))}]'" for q in queries) + "]::vector[]"
    rows = conn.execute(f"SELECT query_no, id, embedding FROM vecpg.search_many('points', {literal}, 3)").fetchall()
    assert [r[:2] for r in rows] == [(n, h.id) for n, hits in enumerate(points.search_many(queries, k=3), 1)
                                     for h in hits]
    assert all(r[2] is None for r in rows)
    assert conn.execute("SELECT count(*) FROM vecpg.search_many('points', '{}'::vector[], 3)").fetchone() == (0,)


def test_an_empty_batch_is_answered_without_a_round_trip(points: vecpg.Collection) -> None:
    operation = search_many_query(points, [], 10)
    with pytest.raises(StopIteration) as stop:
        next(operation)  # type: ignore[call-overload]
    assert stop.value.value == []
    for mode in MODES:
        assert points.search_many([], k=5, mode=mode) == []


def test_bad_batches_raise_vecpg_errors_before_anything_runs(store: vecpg.Store, facts: vecpg.Collection,
                                                             vectors: np.ndarray) -> None:
    points = load_points(store, vectors[:50])
    for k in (0, 1001, 2.5):
        with pytest.raises(vecpg.InvalidArgument, match="k must be"):
            points.search_many([vectors[0]], k=k)  # type: ignore[arg-type]
    with pytest.raises(vecpg.DimensionMismatch, match="query 1 has 17 dimensions"):
        points.search_many([vectors[0], np.zeros(DIM + 1), vectors[1]], k=3)
    with pytest.raises(vecpg.InvalidArgument, match=f"at most {MAX_QUERIES} queries"):
        points.search_many(np.repeat(vectors[:1], MAX_QUERIES + 1, axis=0), k=3)
    with pytest.raises(vecpg.FilterError):
        points.search_many([vectors[0]], k=3, filter="{not json")
    with pytest.raises(vecpg.FilterError):
        points.search_many([vectors[0]], k=3, filter={"g": {"$near": 1}})
    with pytest.raises(vecpg.InvalidArgument, match="sequence of queries"):
        points.search_many("one text", k=3)
    with pytest.raises(vecpg.InvalidArgument, match="sequence of queries"):
        points.search_many(vectors[0], k=3)  # one vector, not a batch
    with pytest.raises(vecpg.InvalidArgument, match="unknown vector search option"):
        points.search_many([vectors[0]], k=3, beam=4)
    with pytest.raises(vecpg.InvalidArgument, match="vectors must be true or false"):
        points.search_many([vectors[0]], k=3, vectors="yes")  # type: ignore[arg-type]
    with pytest.raises(vecpg.InvalidArgument, match="no embedding model"):
        points.search_many(["a text"], k=3)
    with pytest.raises(vecpg.InvalidArgument, match="keyword search needs text queries: query 1"):
        facts.search_many(["tides", [0.0] * 384], k=3, mode="keyword")
    with pytest.raises(vecpg.InvalidArgument, match="query 1 must not be empty"):
        facts.search_many(["tides", " "], k=3)
    # A wrong vector anywhere stops the batch before the model embeds its texts.
    store.query_cache.clear()
    with pytest.raises(vecpg.DimensionMismatch, match="query 2"):
        facts.search_many(["tides", "bread", [0.0] * 5], k=3)
    assert len(store.query_cache) == 0


def test_the_sql_function_checks_as_the_python_call_does(store: vecpg.Store, conn: psycopg.Connection) -> None:
    coll = store.create_collection("tiny", dimension=2)
    coll.upsert([{"id": str(i), "embedding": [1, i]} for i in range(3)])
    many = [np.array([1, i], dtype=np.float32) for i in range(MAX_QUERIES)]
    assert len(coll.search_many(many, k=1)) == MAX_QUERIES  # the same bound on both sides
    assert conn.execute("SELECT count(*) FROM vecpg.search_many('tiny', %s, 1)", (many,)).fetchone() == (MAX_QUERIES,)
    for arguments, state in [((many + many[:1], 1), "VP005"), (([many[0], np.zeros(3, np.float32)], 1), "VP003"),
                             ((many[:1], 0), "VP005"), ((None, 1), "VP005")]:
        with pytest.raises(psycopg.Error) as failed:
            conn.execute("SELECT * FROM vecpg.search_many('tiny', %s::vector[], %s)", arguments)
        assert failed.value.sqlstate == state, arguments


@pytest.fixture
def tenants(store: vecpg.Store, logins: dict[str, str]):
    """An HNSW-indexed collection where tenant "small" owns 30 rows and "big" 3,000."""
    store.create_collection("shared", dimension=8)
    rng = np.random.default_rng(5)
    with vecpg.connect(logins["writer"]) as writer:
        coll = writer.collection("shared")
        for tenant, n in (("big", 3000), ("small", 30)):
            with writer.tenant(tenant):
                coll.load({"id": f"{tenant}{i}", "content": f"{tenant} solar {i}", "embedding": rng.normal(size=8)}
                          for i in range(n))
    store.collection("shared").create_index(vecpg.HNSW())
    return rng.normal(size=(3, 8)).astype(np.float32)


def test_a_tenant_batch_sees_only_its_rows_and_still_gets_k_of_them(tenants: np.ndarray,
                                                                      logins: dict[str, str]) -> None:
    with vecpg.connect(logins["reader"]) as reader:
        coll = reader.collection("shared")
        with reader.tenant("small"):
            for hits in coll.search_many(tenants, k=10):  # row-level security after the index scan
                assert len(hits) == 10 and all(h.id.startswith("small") for h in hits)
            keyword = coll.search_many(["solar", "solar 7"], k=50, mode="keyword")
            assert [len(hits) for hits in keyword] == [30, 30]
            assert all(h.id.startswith("small") for hits in keyword for h in hits)
        assert all(h.id.startswith("big") for hits in coll.search_many(tenants, k=10, tenant="big") for h in hits)
        assert coll.search_many(tenants, k=10) == [[], [], []]  # no tenant: no tenant's rows
    with psycopg.connect(logins["reader"]) as conn:  # and from plain SQL, as the application's role
        conn.execute("SELECT set_config('vecpg.tenant_id', 'small', true)")
        literal = [f"[{','.join(map(str, q))}]" for q in tenants]
        rows = conn.execute("SELECT query_no, id FROM vecpg.search_many('shared', %s::vector[], 10)", (literal,)).fetchall()
    assert len(rows) == 30 and {r[0] for r in rows} == {1, 2, 3} and all(r[1].startswith("small") for r in rows)
