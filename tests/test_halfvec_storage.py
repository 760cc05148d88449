"""Collections that store halfvec (``storage="halfvec"``): half the table and index, the same
reads and writes as a collection of vectors, searches through the index the column has, and
values beyond half precision refused before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner
from conftest import CountingEmbedder, clustered

import vecpg
from vecpg.cli import main
from vecpg.errors import InvalidArgument, InvalidVector
from vecpg.search import search_statement
from vecpg.worker import Worker

DIM = 64
N = 2000


def documents(vectors: np.ndarray) -> list[dict[str, Any]]:
    return [{"id": str(i), "content": f"document {i} about topic {i % 7}", "embedding": v,
             "metadata": {"g": i % 10}, "tenant_id": "acme" if i % 2 else "beta"} for i, v in enumerate(vectors)]


def half(values: np.ndarray) -> np.ndarray:
    """What a halfvec column keeps of float32 values."""
    return values.astype(np.float16).astype(np.float32)


def exact(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[list[str], np.ndarray]:
    """The k nearest ids by cosine distance, and their distances (float64)."""
    a = vectors.astype(np.float64)
    q = query.astype(np.float64)
    distances = 1 - (a @ q) / (np.linalg.norm(a, axis=1) * np.linalg.norm(q))
    order = np.argsort(distances)[:k]
    return [str(i) for i in order], distances[order]


def plan(conn: psycopg.Connection, statement: bytes | str, params: Any) -> str:
    """EXPLAIN with the scans an index could replace turned off: if the ORDER BY is not what the
    index compares, no index scan is possible and the plan says so."""
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL enable_bitmapscan = off")
        text = statement if isinstance(statement, bytes) else statement.encode()
        return "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + text, params).fetchall())


@pytest.fixture
def vectors() -> np.ndarray:
    return clustered(N, DIM)


@pytest.fixture
def halves(store: vecpg.Store, vectors: np.ndarray) -> vecpg.Collection:
    c = store.create_collection("halves", dimension=DIM, storage="halfvec")
    c.load(documents(vectors))
    return c


@pytest.fixture
def floats(store: vecpg.Store, vectors: np.ndarray) -> vecpg.Collection:
    c = store.create_collection("floats", dimension=DIM)
    c.load(documents(vectors))
    return c


def test_a_halfvec_collection_takes_every_write_and_gives_back_float32(store: vecpg.Store, conn: psycopg.Connection,
                                                                       vectors: np.ndarray,
                                                                       logins: dict[str, str]) -> None:
    c = store.create_collection("halves", dimension=DIM, storage="halfvec")
    assert c.storage == "halfvec" and store.collection("halves").storage == "halfvec"
    assert conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                        "WHERE attrelid = 'vecpg_data.halves'::regclass AND attname = 'embedding'").fetchone() \
        == ("halfvec(64)",)
    docs = documents(vectors)
    assert c.load(docs[:1000]) == 1000                   # COPY straight into the empty table
    assert c.load(docs[500:1500]) == 1000                # staged and merged into a table with rows
    c.upsert([{**docs[1500], "embedding": vectors[1501]}])  # one INSERT ... ON CONFLICT
    c.upsert(docs[1600:2000])
    # A role that row-level security binds loads through the staging table, for its tenant.
    with vecpg.connect(logins["writer"]) as writer:
        assert writer.collection("halves").load(
            [{**d, "id": f"w{d['id']}", "tenant_id": None} for d in docs[:600]], tenant="acme") == 600
    assert c.count() == 1000 + 500 + 1 + 400 + 600
    got = c.get(["3", "1200", "1500", "w7"])
    assert [d.id for d in got] == ["3", "1200", "1500", "w7"]
    for d, expected in zip(got, [vectors[3], vectors[1200], vectors[1501], vectors[7]]):
        assert d.embedding.dtype == np.float32
        assert np.array_equal(d.embedding, half(expected))  # rounded to half precision, nothing else
    assert got[3].tenant_id == "acme"


def test_exact_and_hnsw_searches_find_what_a_vector_collection_finds(halves: vecpg.Collection,
                                                                     floats: vecpg.Collection,
                                                                     vectors: np.ndarray) -> None:
    queries = [vectors[i] + 0.05 for i in (3, 777, 1999)]
    for query in queries:
        ids, distances = exact(half(vectors), half(query), 10)
        hits = halves.search(query, k=10)
        assert [h.id for h in hits] == ids  # exact: over the stored (rounded) values
        assert np.allclose([h.distance for h in hits], distances, atol=1e-5)
        # The same documents as the float32 collection, at distances within half precision of them.
        theirs = floats.search(query, k=10)
        assert len({h.id for h in hits} & {h.id for h in theirs}) >= 9
        assert abs(hits[0].distance - theirs[0].distance) < 2e-3
    name = halves.create_index(vecpg.HNSW())
    assert halves.quantization is None and "halfvec_cosine_ops" in halves.indexes()[0].definition
    assert name == "halves_embedding_hnsw"
    recall = np.mean([len({h.id for h in halves.search(q, k=10)} & set(exact(half(vectors), half(q), 10)[0])) / 10
                      for q in queries])
    assert recall >= 0.9
    # The SQL function returns what Python returns.
    with halves.store.connection() as conn:
        rows = conn.execute("SELECT id, distance FROM vecpg.search('halves', %s, 10)", (queries[0],)).fetchall()
    python = halves.search(queries[0], k=10)
    assert [r[0] for r in rows] == [h.id for h in python]
    assert np.allclose([r[1] for r in rows], [h.distance for h in python])


@pytest.mark.parametrize("quantization", [None, "binary"])
def test_every_search_path_uses_the_index_of_halfvec_storage(halves: vecpg.Collection, store: vecpg.Store,
                                                             vectors: np.ndarray, quantization: str | None,
                                                             logins: dict[str, str]) -> None:
    name = halves.create_index(vecpg.HNSW(quantization=quantization))
    assert halves.quantization == quantization
    query = vectors[7] + 0.01
    with store.connection() as conn:
        for flt in (None, {"g": 3}):
            statement, params = search_statement(halves, query, 10, flt)
            assert b"halfvec(64)" in statement  # the query in the stored type, as the index compares
            assert f"Index Scan using {name}" in plan(conn, statement, params), flt
        # The SQL functions' statement (vecpg.search, hybrid_search, search_chunks all use it).
        sql_text = conn.execute("SELECT vecpg.nearest_sql(c, 'd.id', 'true', '$1', '10') FROM vecpg.collection c "
                                "WHERE c.name = 'halves'").fetchone()[0]
        assert "halfvec(64)" in sql_text
        assert f"Index Scan using {name}" in plan(conn, sql_text.replace("$1", "%(q)s"), {"q": query})
    with vecpg.connect(logins["reader"]) as reader, reader.tenant("acme"), reader.connection() as conn:
        mine = reader.collection("halves")
        statement, params = search_statement(mine, query, 10, None)
        assert f"Index Scan using {name}" in plan(conn, statement, params)
        assert all(int(h.id) % 2 for h in mine.search(query, k=10))


def test_binary_codes_of_halfvec_are_reranked_by_the_stored_values(halves: vecpg.Collection,
                                                                   vectors: np.ndarray) -> None:
    halves.create_index(vecpg.HNSW(quantization="binary"))
    assert "binary_quantize(embedding)" in halves.indexes()[0].definition
    query = vectors[42] + 0.05
    hits = halves.search(query, k=10, rerank=20)
    ids, _ = exact(half(vectors), half(query), 10)
    by_id = dict(zip(*exact(half(vectors), half(query), N)))
    assert all(abs(h.distance - by_id[h.id]) < 1e-5 for h in hits)  # exact distances, re-ranked
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert len({h.id for h in hits} & set(ids)) >= 6


def test_halfvec_storage_indexes_its_column_directly_up_to_4000_dimensions(store: vecpg.Store) -> None:
    rng = np.random.default_rng(1)
    wide = store.create_collection("wide", dimension=3000, storage="halfvec")
    wide.upsert([{"id": str(i), "embedding": rng.normal(size=3000)} for i in range(20)])
    wide.create_index()  # automatic: the column itself, no copy
    assert wide.quantization is None and "(embedding halfvec_cosine_ops)" in wide.indexes()[0].definition
    # halfvec asked of halfvec storage is that same index: the values are half precision already.
    wide.create_index(vecpg.HNSW(quantization="halfvec"))
    assert wide.quantization is None and "(embedding halfvec_cosine_ops)" in wide.indexes()[0].definition
    wide.create_index(vecpg.IVFFlat(lists=2, quantization="none"))
    assert "ivfflat (embedding halfvec_cosine_ops)" in wide.indexes()[0].definition
    assert wide.search(rng.normal(size=3000), k=3)
    # The same dimension in a vector collection needs a halfvec copy ...
    floats = store.create_collection("floats", dimension=3000)
    floats.create_index()
    assert floats.quantization == "halfvec"
    # ... and above 4,000 dimensions both need binary codes.
    widest = store.create_collection("widest", dimension=4001, storage="halfvec")
    widest.create_index()
    assert widest.quantization == "binary"
    with pytest.raises(InvalidArgument, match="halfvec of up to 4000 dimensions.*binary"):
        widest.create_index(vecpg.HNSW(quantization="none"))


def test_hybrid_keyword_and_chunk_searches_work_on_halfvec(halves: vecpg.Collection, vectors: np.ndarray) -> None:
    query = vectors[14] + 0.01
    assert [h.id for h in halves.search("topic", k=5, mode="keyword")]
    with halves.store.connection() as conn:
        exact_path = conn.execute("SELECT id, vector_rank FROM vecpg.hybrid_search('halves', 'document 14 topic', %s, 5)",
                                  (query,)).fetchall()
        assert exact_path[0] == ("14", 1)  # first in both lists
        halves.enable_keyword_index()  # its own search function, with the vector list written in
        indexed = conn.execute("SELECT id, vector_rank FROM vecpg.hybrid_search('halves', 'document 14 topic', %s, 5)",
                               (query,)).fetchall()
        assert indexed[0] == ("14", 1)
        # A collection without chunks: search_chunks is vecpg.search.
        chunked = conn.execute("SELECT id FROM vecpg.search_chunks('halves', %s, 3)", (query,)).fetchall()
        assert chunked[0] == ("14",)


def test_the_embedding_queue_fills_halfvec_documents_and_chunks(store: vecpg.Store, conn: psycopg.Connection,
                                                                db_url: str, counting: CountingEmbedder) -> None:
    docs = store.create_collection("docs", storage="halfvec")  # the model's 384 dimensions
    docs.enable_chunking(64, 16)
    long = ("Sourdough bread needs a lively starter, a long rise and a hot oven with steam. " * 12
            + "At the very end: volcanoes erupt molten lava and ash when magma rises through the crust.")
    conn.execute("SELECT vecpg.add_document('docs', 'long', 'Baking notes', %s)", (long,))
    conn.execute("SELECT vecpg.add_document('docs', 'rocks', NULL, 'Granite is an igneous rock.')")
    with Worker(db_url, embedder_for=counting.for_collection) as worker:
        worker.run_once()
    assert conn.execute("SELECT count(embedding) FROM vecpg_data.docs").fetchone() == (2,)
    assert conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                        "attrelid = 'vecpg_data.docs_chunks'::regclass AND attname = 'embedding'").fetchone() \
        == ("halfvec(384)",)
    assert conn.execute("SELECT count(*) FROM vecpg_data.docs_chunks WHERE parent_id = 'long'").fetchone()[0] > 1
    assert "halfvec_cosine_ops" in conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'docs_chunks_hnsw'"
                                                ).fetchone()[0]
    stored = docs.get("rocks")[0].embedding
    assert stored.dtype == np.float32
    assert np.allclose(stored, counting.inner.embed(["Granite is an igneous rock."])[0], atol=1e-3)
    hits = docs.search("volcano eruption with lava and ash", k=2, chunks=True)
    assert hits[0].id == "long" and "volcanoes erupt" in (hits[0].highlight or "")


def test_values_beyond_half_precision_are_refused_and_nothing_is_written(store: vecpg.Store,
                                                                          conn: psycopg.Connection,
                                                                          vectors: np.ndarray) -> None:
    c = store.create_collection("halves", dimension=DIM, storage="halfvec")
    docs = documents(vectors)
    huge = np.full(DIM, 1.0, dtype=np.float32)
    huge[5] = 70000.0  # a float32, and beyond the 65504 of half precision
    with pytest.raises(InvalidVector, match=r"row 2 \(id '2'\): embedding has a value of magnitude 70000, beyond 65504"):
        c.upsert([docs[0], docs[1], {**docs[2], "embedding": huge}])
    # A load of many batches fails on the last one: the batches copied before it go too.
    with pytest.raises(InvalidVector, match="row 1999"):
        c.load([*docs[:1999], {**docs[1999], "embedding": -huge}], batch_size=256)
    assert c.count() == 0
    # The largest half-precision value itself is kept as it is.
    edge = np.full(DIM, 65504.0, dtype=np.float32)
    c.upsert([{"id": "edge", "embedding": edge}])
    assert np.array_equal(c.get("edge")[0].embedding, edge)
    with pytest.raises(InvalidVector, match="beyond 65504"):
        c.search(huge, k=3)
    # SQL writers and queries get pgvector's error, never an infinity.
    with pytest.raises(psycopg.errors.NumericValueOutOfRange, match="out of range for type halfvec"):
        conn.execute("INSERT INTO vecpg_data.halves (id, embedding) VALUES ('sql', %s)", (huge,))
    with pytest.raises(psycopg.errors.NumericValueOutOfRange, match="out of range for type halfvec"):
        conn.execute("SELECT * FROM vecpg.search('halves', %s, 3)", (huge,))
    assert c.count() == 1
    # A float32 collection holds the same value.
    store.create_collection("floats", dimension=DIM).upsert([{"id": "big", "embedding": huge}])


def test_a_bad_storage_is_an_invalid_argument(store: vecpg.Store, conn: psycopg.Connection) -> None:
    for bad in ("half", "HALFVEC", None, 16):
        with pytest.raises(InvalidArgument, match="invalid storage .*: use vector or halfvec"):
            store.create_collection("x", dimension=3, storage=bad)  # type: ignore[arg-type]
    with pytest.raises(psycopg.Error, match="invalid storage 'bit': use vector or halfvec") as raised:
        conn.execute("SELECT vecpg.create_collection('x', 3, storage => 'bit')")
    assert raised.value.sqlstate == "VP005"
    assert store.list_collections() == []


def test_the_table_and_index_of_halfvec_are_about_half_the_size(store: vecpg.Store, conn: psycopg.Connection) -> None:
    wide = clustered(2000, 384, seed=3)
    sizes = {}
    for storage in ("vector", "halfvec"):
        c = store.create_collection(f"of_{storage}", dimension=384, storage=storage)
        c.load({"id": str(i), "embedding": v} for i, v in enumerate(wide))
        c.create_index()
        sizes[storage] = conn.execute("SELECT pg_relation_size(%s::regclass), pg_relation_size(%s::regclass)",
                                      (f"vecpg_data.of_{storage}", f"vecpg_data.of_{storage}_embedding_hnsw")).fetchone()
    table_ratio = sizes["halfvec"][0] / sizes["vector"][0]
    index_ratio = sizes["halfvec"][1] / sizes["vector"][1]
    assert 0.4 < table_ratio < 0.6 and 0.4 < index_ratio < 0.7, sizes


def test_tuning_measures_against_the_stored_values(halves: vecpg.Collection) -> None:
    halves.create_index(vecpg.HNSW())
    result = halves.tune(target_recall=0.9, k=10, sample=30)
    assert result.parameter == "ef_search" and result.reached and result.recall >= 0.9
    assert halves.search_defaults == {"ef_search": result.value}


def test_the_qdrant_mirror_copies_the_stored_values(halves: vecpg.Collection, db_url: str, vectors: np.ndarray,
                                                    tmp_path: Path, logins: dict[str, str]) -> None:
    from vecpg.mirror.edge import EdgeBackend
    from vecpg.mirror.sync import sync
    from vecpg.mirror.verify import verify

    backend = EdgeBackend(tmp_path / "qdrant")
    try:
        halves.enable_mirror()
        with psycopg.connect(db_url, autocommit=True) as conn:
            assert sync(conn, backend) == 1 and backend.count("halves") == N
            assert verify(conn, backend, "halves").ok
        query = vectors[99] + 0.01
        with vecpg.connect(logins["reader"]) as reader, reader.tenant("acme"):  # the mirror filters tenants too
            reader.set_mirror_backend(backend)
            mine = reader.collection("halves")
            from_qdrant = mine.search(query, k=5, backend="qdrant")
            assert len(from_qdrant) == 5
            assert [h.id for h in from_qdrant] == [h.id for h in mine.search(query, k=5)]
    finally:
        backend.close()


def test_the_cli_creates_halfvec_collections_and_shows_their_storage(db_url: str) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(main, ["--url", db_url, *args], catch_exceptions=False)

    created = run("collection", "create", "halves", "--dimension", "8", "--storage", "halfvec")
    assert created.exit_code == 0, created.output
    assert "created halves: 8 dimensions, cosine, model none, halfvec storage" in created.output
    assert "8 dimensions, cosine, model none, vector storage" in run("collection", "create", "floats",
                                                                     "--dimension", "8").output
    assert run("collection", "list").output.splitlines() == ["floats\t8\tcosine\t-\tvector",
                                                             "halves\t8\tcosine\t-\thalfvec"]
    assert "storage:       halfvec" in run("collection", "info", "halves").output
    refused = run("collection", "create", "bad", "--dimension", "8", "--storage", "half")
    assert refused.exit_code == 2
    assert len(refused.stderr.strip().splitlines()) == 1 and "'half' is not one of 'vector', 'halfvec'" in refused.stderr


def test_the_orm_maps_a_halfvec_column(halves: vecpg.Collection, db_url: str, vectors: np.ndarray) -> None:
    from sqlalchemy import select

    from vecpg import orm

    Half = orm.document_model("halves", DIM, storage="halfvec", class_name="HalfDocument")
    with orm.session(db_url) as s:
        nearest = s.scalars(select(Half).order_by(Half.embedding.cosine_distance(vectors[5])).limit(3)).all()
    assert nearest[0].id == "5"
    assert np.array_equal(np.asarray(nearest[0].embedding, dtype=np.float32), half(vectors[5]))


def test_a_database_with_halfvec_collections_refuses_to_downgrade_below_them(make_database: Any) -> None:
    from vecpg.db import migrate

    url = make_database()
    migrate.upgrade(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT vecpg.create_collection('halves', 3, storage => 'halfvec')")
    with pytest.raises(Exception, match=r"collection\(s\) halves store halfvec, which revision 0009 cannot hold"):
        migrate.downgrade(url, "0009")
    assert migrate.current(url) == migrate.head()  # the whole downgrade rolled back
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT vecpg.drop_collection('halves')")
    migrate.downgrade(url, "0009")
    assert migrate.current(url) == "0009"
