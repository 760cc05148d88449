"""Quantized indexes: halfvec copies and binary codes with exact re-ranking, chosen by hand or by
dimension, and every search path ordering by the expression the index was built on."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
import pytest
from conftest import clustered

import vecpg
from vecpg.errors import InvalidArgument
from vecpg.search import search_statement

DIM = 64
N = 3000


@pytest.fixture
def vectors() -> np.ndarray:
    return clustered(N, DIM)


@pytest.fixture
def coll(store: vecpg.Store, vectors: np.ndarray) -> vecpg.Collection:
    c = store.create_collection("q", dimension=DIM)
    c.load({"id": str(i), "content": f"document {i} about topic {i % 7}", "embedding": v,
            "metadata": {"g": i % 10}, "tenant_id": "acme" if i % 2 else "beta"} for i, v in enumerate(vectors))
    return c


def plan(conn: psycopg.Connection, statement: bytes | str, params: Any) -> str:
    """EXPLAIN with scans the index could replace turned off: if the query's ORDER BY is not the
    indexed expression, no index scan is possible and the plan says so."""
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL enable_bitmapscan = off")
        text = statement if isinstance(statement, bytes) else statement.encode()
        return "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + text, params).fetchall())


def exact_ids(vectors: np.ndarray, query: np.ndarray, k: int) -> list[str]:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return [str(i) for i in np.argsort(-(unit @ (query / np.linalg.norm(query))))[:k]]


@pytest.mark.parametrize("quantization", ["halfvec", "binary"])
def test_every_search_path_uses_the_quantized_index(coll: vecpg.Collection, store: vecpg.Store,
                                                    vectors: np.ndarray, quantization: str,
                                                    logins: dict[str, str]) -> None:
    name = coll.create_index(vecpg.HNSW(quantization=quantization))
    assert coll.quantization == quantization and quantization in coll.indexes()[0].definition
    query = vectors[7] + 0.01
    with store.connection() as conn:
        for flt in (None, {"g": 3}):
            statement, params = search_statement(coll, query, 10, flt)
            assert f"Index Scan using {name}" in plan(conn, statement, params)
        # The SQL functions' statement (vecpg.search, hybrid_search, search_chunks all use it).
        sql_text = conn.execute("SELECT vecpg.nearest_sql(c, 'd.id', 'true', '$1', '10') FROM vecpg.collection c "
                                "WHERE c.name = 'q'").fetchone()[0]
        assert f"Index Scan using {name}" in plan(conn, sql_text.replace("$1", "%(q)s"), {"q": query})
    # A tenant's search, bound by row-level security, too.
    with vecpg.connect(logins["reader"]) as reader, reader.tenant("acme"), reader.connection() as conn:
        mine = reader.collection("q")
        statement, params = search_statement(mine, query, 10, None)
        assert f"Index Scan using {name}" in plan(conn, statement, params)
        assert all(int(h.id) % 2 for h in mine.search(query, k=10))


@pytest.mark.parametrize("quantization, least_recall", [("halfvec", 0.95), ("binary", 0.6)])
def test_quantized_search_returns_exact_distances_and_finds_the_neighbours(
        coll: vecpg.Collection, vectors: np.ndarray, quantization: str, least_recall: float) -> None:
    coll.create_index(vecpg.HNSW(quantization=quantization))
    found = 0
    for i in range(0, 300, 10):
        query = vectors[i] + 0.05
        hits = coll.search(query, k=10, ef_search=100, rerank=8)
        found += len({h.id for h in hits} & set(exact_ids(vectors, query, 10)))
        exact = 1 - float(np.dot(vectors[int(hits[0].id)], query)
                          / (np.linalg.norm(vectors[int(hits[0].id)]) * np.linalg.norm(query)))
        assert hits[0].distance == pytest.approx(exact, abs=1e-5)  # re-ranked by the full vectors
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert found / 300 >= least_recall


def test_more_rerank_candidates_find_more_neighbours(coll: vecpg.Collection, vectors: np.ndarray) -> None:
    coll.create_index(vecpg.HNSW(quantization="binary"))

    def recall(rerank: int) -> float:
        hits = 0
        for i in range(0, 300, 10):
            query = vectors[i] + 0.05
            got = {h.id for h in coll.search(query, k=10, ef_search=400, rerank=rerank)}
            hits += len(got & set(exact_ids(vectors, query, 10)))
        return hits / 300

    assert recall(1) < recall(10)


def test_hybrid_and_keyword_index_work_on_every_index(coll: vecpg.Collection, conn: psycopg.Connection,
                                                     vectors: np.ndarray) -> None:
    coll.enable_keyword_index()
    query = vectors[21] + 0.01
    for spec in (vecpg.HNSW(), vecpg.HNSW(quantization="halfvec"), vecpg.HNSW(quantization="binary"),
                 vecpg.IVFFlat(lists=10, quantization="halfvec")):
        coll.create_index(spec)
        for options in ('{}', '{"keyword_index": false}', '{"rerank": 2}'):  # keyword index, exact, exact
            rows = conn.execute("SELECT id, vector_rank FROM vecpg.hybrid_search('q', 'document 21', %s, 5, '{}', %s)",
                                (query, options)).fetchall()
            assert rows[0] == ("21", 1), (spec, options)


def test_the_index_follows_the_dimension(store: vecpg.Store) -> None:
    rng = np.random.default_rng(1)
    for dim, expected in ((2500, "halfvec"), (4500, "binary")):
        c = store.create_collection(f"wide_{dim}", dimension=dim)
        c.load({"id": str(i), "embedding": rng.normal(size=dim).astype(np.float32), "content": "x"} for i in range(50))
        c.create_index()
        assert c.quantization == expected
        query = rng.normal(size=dim).astype(np.float32)
        assert len(c.search(query, k=5)) == 5
    with pytest.raises(InvalidArgument, match="2000 dimensions"):
        store.collection("wide_2500").create_index(vecpg.HNSW(quantization="none"))
    with pytest.raises(InvalidArgument, match="4000 dimensions"):
        store.collection("wide_4500").create_index(vecpg.HNSW(quantization="halfvec"))
    with pytest.raises(InvalidArgument, match="unknown quantization"):
        store.collection("wide_2500").create_index(vecpg.HNSW(quantization="int4"))


def test_dropping_the_index_searches_the_vectors_again(coll: vecpg.Collection, store: vecpg.Store,
                                                       vectors: np.ndarray) -> None:
    coll.create_index(vecpg.HNSW(quantization="binary"))
    assert coll.drop_index() == 1 and coll.quantization is None
    other = store.collection("q")  # a fresh handle reads the catalog
    assert other.quantization is None
    query = vectors[3]
    assert [h.id for h in coll.search(query, k=5)] == exact_ids(vectors, query, 5)


def test_a_halfvec_index_is_about_half_the_size(store: vecpg.Store) -> None:
    # At 384 dimensions the vectors, not the graph's links, fill an HNSW index.
    c = store.create_collection("sizes", dimension=384)
    c.load({"id": str(i), "embedding": v, "content": "x"} for i, v in enumerate(clustered(2000, 384)))
    sizes = {}
    for quantization in ("none", "halfvec", "binary"):
        c.create_index(vecpg.HNSW(quantization=quantization))
        sizes[quantization] = c.indexes()[0].size_bytes
    assert sizes["halfvec"] < 0.65 * sizes["none"] and sizes["binary"] < 0.5 * sizes["halfvec"], sizes
