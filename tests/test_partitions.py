"""Collections partitioned by tenant (sql/idempotent/18_partitions.sql): native PostgreSQL
partitions, each with its own vector index; search, keyword statistics, row-level security, the
embedding queue and the mirror as in an unpartitioned collection; a big tenant moved to a
partition of its own."""

from __future__ import annotations

import psycopg
import pytest
from conftest import keyword_recount, keyword_statistics

import vecpg
from vecpg.errors import InvalidArgument
from vecpg.index.specs import HNSW

TEXTS = {
    "acme": ["PostgreSQL stores vectors with pgvector", "the moon pulls the tides of the sea",
             "HNSW graphs find near neighbours fast", "a recipe for bread with sourdough"],
    "globex": ["tides rise twice a day", "bread needs flour, water and salt", "vectors of 384 dimensions"],
    "initech": ["the sea is salty", "graphs of neighbours"],
}


def documents(tenant: str) -> list[dict]:
    return [{"id": f"{tenant}{i}", "content": text} for i, text in enumerate(TEXTS[tenant])]


def fill(app_store: vecpg.Store, coll: vecpg.Collection) -> None:
    for tenant in TEXTS:
        with app_store.tenant(tenant):
            coll.upsert(documents(tenant))


def leaves(conn: psycopg.Connection, table: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT relid::regclass::text FROM pg_partition_tree(%s::regclass) WHERE isleaf ORDER BY 1",
        (f"vecpg_data.{table}",))]


def vector_index_of(conn: psycopg.Connection, relation: str) -> list[str]:
    """The hnsw/ivfflat indexes of one table, and whether each is attached to its parent's."""
    return [f"{r[0]}{' (attached)' if r[1] else ''}" for r in conn.execute(
        "SELECT am.amname, EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = x.indexrelid) "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam "
        "WHERE x.indrelid = %s::regclass AND am.amname IN ('hnsw', 'ivfflat')", (relation,))]


@pytest.fixture
def hashed(app_store: vecpg.Store, embedder: vecpg.Embedder) -> vecpg.Collection:
    coll = app_store.create_collection("hashed", partition_by_tenant="hash", partitions=4)
    fill(app_store, coll)
    return coll


@pytest.fixture
def plain(app_store: vecpg.Store, embedder: vecpg.Embedder) -> vecpg.Collection:
    coll = app_store.create_collection("plain")
    fill(app_store, coll)
    return coll


def test_hash_partitions_hold_each_tenants_rows(hashed: vecpg.Collection, conn: psycopg.Connection) -> None:
    assert hashed.partitioned
    assert conn.execute("SELECT vecpg.conflict_key('hashed')").fetchone() == ("tenant_id, id",)
    names = [p[0] for p in hashed.partitions()]
    assert names == ["hashed", "hashed_default", "hashed_shared", "hashed_h0", "hashed_h1", "hashed_h2", "hashed_h3"]
    hashed.upsert([{"id": "nobody", "content": "a row without a tenant"}])
    placed = conn.execute("SELECT tenant_id, count(DISTINCT tableoid), min(tableoid::regclass::text) "
                          "FROM vecpg_data.hashed GROUP BY 1").fetchall()
    assert {t: n for t, n, _ in placed} == {"acme": 1, "globex": 1, "initech": 1, None: 1}
    assert {t: where for t, _, where in placed}[None] == "vecpg_data.hashed_shared"
    assert conn.execute("SELECT count(*) FROM vecpg_data.hashed").fetchone() == (10,)


def test_list_partitioned_collection_from_sql(conn: psycopg.Connection) -> None:
    made = conn.execute("SELECT (vecpg.create_partitioned_collection('listed', 2, 'list')).name").fetchone()
    assert made == ("listed",)
    conn.execute("SET vecpg.tenant_id = 'acme'")
    conn.execute("INSERT INTO vecpg_data.listed (id, content, embedding) VALUES ('a', 'x', '[1,0]')")
    conn.execute("RESET vecpg.tenant_id")
    assert leaves(conn, "listed") == ["vecpg_data.listed_default", "vecpg_data.listed_shared"]
    assert conn.execute("SELECT vecpg.give_tenant_partition('listed', 'acme')").fetchone() == (1,)
    bounds = conn.execute("SELECT partition_name, bound FROM vecpg.tenant_partitions('listed') WHERE level = 1 "
                          "ORDER BY 1").fetchall()
    assert bounds == [("listed_default", "DEFAULT"), ("listed_shared", "FOR VALUES IN (NULL)"),
                      (bounds[2][0], "FOR VALUES IN ('acme')")]


def test_an_id_belongs_to_one_tenant_and_upserts_replace_within_it(hashed: vecpg.Collection,
                                                                    app_store: vecpg.Store, logins: dict[str, str],
                                                                    conn: psycopg.Connection) -> None:
    with app_store.tenant("acme"):
        hashed.upsert([{"id": "shared", "content": "acme's page"}, {"id": "acme0", "content": "partitions by tenant"}])
        assert hashed.get(["acme0"])[0].content == "partitions by tenant"
        assert hashed.count() == 5
    # The queue and the mirror know a document by its id: another tenant may not take it, as the
    # primary key refuses it in an unpartitioned collection, and nothing of the batch is written.
    with app_store.tenant("globex"), pytest.raises(vecpg.PermissionDenied, match="belongs to another tenant"):
        hashed.upsert([{"id": "globex-new", "content": "fine"}, {"id": "shared", "content": "globex's page"}])
    with app_store.tenant("globex"):
        assert hashed.get(["shared", "globex-new"]) == []
        hashed.load({"id": f"g{i}", "content": f"bulk {i}"} for i in range(600))  # the COPY path keeps it too
        with pytest.raises(vecpg.PermissionDenied):
            hashed.load([{"id": "acme0", "content": "taken"}] + [{"id": f"h{i}", "content": "x"} for i in range(600)])
        assert hashed.count({"id": {"$in": ["acme0", "h1"]}}) == 0
    with app_store.tenant("acme"):
        assert [d.content for d in hashed.get(["shared"])] == ["acme's page"]
        assert hashed.delete("shared") == 1
    with app_store.tenant("globex"):  # a deleted id is free again
        hashed.upsert([{"id": "shared", "content": "globex's page"}])
    with app_store.tenant("acme"), pytest.raises(psycopg.errors.UniqueViolation), app_store.connection() as c:
        c.execute("INSERT INTO vecpg_data.hashed (id, content) VALUES ('acme1', 'the same id again')")
    assert conn.execute("SELECT count(*) FROM vecpg.partitioned_id WHERE collection = 'hashed'").fetchone()[0] == \
        conn.execute("SELECT count(*) FROM vecpg_data.hashed").fetchone()[0]
    with psycopg.connect(logins["reader"]) as reader, pytest.raises(psycopg.errors.InsufficientPrivilege):
        reader.execute("SELECT * FROM vecpg.partitioned_id")  # no role reads which ids other tenants hold


def test_searches_equal_an_unpartitioned_twins(hashed: vecpg.Collection, plain: vecpg.Collection,
                                               app_store: vecpg.Store) -> None:
    for tenant in TEXTS:
        with app_store.tenant(tenant):
            for mode in ("vector", "keyword", "hybrid"):
                got = [(r.id, round(r.score, 5)) for r in hashed.search("sea tides and bread", 3, mode=mode)]
                want = [(r.id, round(r.score, 5)) for r in plain.search("sea tides and bread", 3, mode=mode)]
                assert got == want and got, (tenant, mode)


def test_row_level_security_keeps_tenants_apart(hashed: vecpg.Collection, logins: dict[str, str]) -> None:
    with vecpg.connect(logins["reader"], pool_size=1) as reader:
        coll = reader.collection("hashed")
        with reader.tenant("initech"):
            assert sorted(d.id for d in coll.search("sea", 10, mode="keyword")) == ["initech0"]
            assert coll.count() == 2
        assert coll.count() == 0  # no tenant: only rows without one


def test_a_tenants_search_opens_its_partition_alone(hashed: vecpg.Collection, app_store: vecpg.Store,
                                                     embedder: vecpg.Embedder) -> None:
    """The planner's own choice: the tenant policy of a partitioned collection is a form partition
    pruning reads, so the other tenants' partitions are not opened (a CASE policy opened all)."""
    from vecpg.search.vector import search_statement

    hashed.create_index(HNSW())
    with app_store.tenant("acme"):
        statement, params = search_statement(hashed, embedder.embed(["tides"])[0], 3)
        with app_store.connection() as conn:
            plan = "\n".join(r[0] for r in conn.execute(b"EXPLAIN (ANALYZE, COSTS OFF) " + statement, params))
    opened = {line.split(" on ")[1].split()[0] for line in plan.splitlines() if " on hashed_" in line}
    with app_store.tenant("acme"), app_store.connection() as conn:
        own = conn.execute("SELECT DISTINCT tableoid::regclass::text FROM vecpg_data.hashed").fetchone()[0]
    assert {f"vecpg_data.{name}" for name in opened} == {own}, plan  # of 5: 4 hashed and the shared one
    # psql's search and hybrid search (vecpg.nearest_sql) narrow it the same way.
    with app_store.tenant("acme"), app_store.connection() as conn:
        sql_plan = "\n".join(r[0] for r in conn.execute(
            "SELECT vecpg.nearest_sql(c, 'd.id', 'true', '$1', '3') FROM vecpg.collection c WHERE c.name = 'hashed'"))
    assert sql_plan.endswith("LIMIT 3") and "d.tenant_id = vecpg.current_tenant()" in sql_plan


def test_keyword_statistics_equal_a_recount(hashed: vecpg.Collection, conn: psycopg.Connection,
                                            app_store: vecpg.Store) -> None:
    with app_store.tenant("acme"):
        hashed.delete(["acme3"])
    assert keyword_statistics(conn, "hashed") == keyword_recount(conn, "hashed")
    assert hashed.give_tenant_partition("acme") == 3
    assert keyword_statistics(conn, "hashed") == keyword_recount(conn, "hashed")


def test_moving_a_big_tenant_keeps_its_rows_and_searches(hashed: vecpg.Collection, app_store: vecpg.Store,
                                                         conn: psycopg.Connection) -> None:
    hashed.create_index()
    with app_store.tenant("acme"):
        before = [(r.id, r.score) for r in hashed.search("neighbours in a graph", 4)]
    rows = conn.execute("SELECT id, content, created_at, updated_at FROM vecpg_data.hashed WHERE tenant_id = 'acme' "
                        "ORDER BY id").fetchall()
    assert hashed.give_tenant_partition("acme") == 4
    assert hashed.give_tenant_partition("acme") == 0  # it has its partition
    own = [p for p in hashed.partitions() if p[2] == "FOR VALUES IN ('acme')"]
    assert len(own) == 1 and own[0][1] == "hashed"
    assert conn.execute("SELECT id, content, created_at, updated_at FROM vecpg_data.hashed WHERE tenant_id = 'acme' "
                        "ORDER BY id").fetchall() == rows
    assert conn.execute(f"SELECT count(*) FROM vecpg_data.{own[0][0]}").fetchone() == (4,)
    assert vector_index_of(conn, f"vecpg_data.{own[0][0]}") == ["hnsw (attached)"]
    with app_store.tenant("acme"):
        assert [(r.id, r.score) for r in hashed.search("neighbours in a graph", 4)] == before
        hashed.upsert([{"id": "d9", "content": "a new document after the move"}])
    assert conn.execute(f"SELECT count(*) FROM vecpg_data.{own[0][0]}").fetchone() == (5,)


def test_each_partition_has_its_own_vector_index(hashed: vecpg.Collection, conn: psycopg.Connection) -> None:
    hashed.create_index()
    assert [ix.valid for ix in hashed.indexes()] == [True]
    for leaf in leaves(conn, "hashed"):
        assert vector_index_of(conn, leaf) == ["hnsw (attached)"], leaf


def test_a_concurrent_build_goes_partition_by_partition(hashed: vecpg.Collection, conn: psycopg.Connection,
                                                        app_store: vecpg.Store) -> None:
    hashed.create_index(concurrently=True)
    hashed.create_index(HNSW(m=8, ef_construction=32), concurrently=True)  # replaces it
    [index] = hashed.indexes()
    assert index.valid and "m='8'" in index.definition
    for leaf in leaves(conn, "hashed"):
        assert vector_index_of(conn, leaf) == ["hnsw (attached)"], leaf
    with app_store.tenant("globex"):
        assert hashed.search("bread", 1)[0].id == "globex1"


def test_embedding_queue_and_mirror_capture_work(app_store: vecpg.Store, conn: psycopg.Connection,
                                                 embedder: vecpg.Embedder) -> None:
    coll = app_store.create_collection("queued", partition_by_tenant="hash", partitions=2)
    conn.execute("SELECT vecpg.enable_mirror('queued')")
    conn.execute("DELETE FROM vecpg.mirror_outbox")
    conn.execute("SET vecpg.tenant_id = 'acme'")
    assert conn.execute("SELECT vecpg.add_document('queued', 'a', NULL, 'text to embed')").fetchone() == ("a",)
    assert conn.execute("SELECT vecpg.add_document('queued', 'a', NULL, 'text changed')").fetchone() == ("a",)
    conn.execute("RESET vecpg.tenant_id")
    assert conn.execute("SELECT doc_id FROM vecpg.embedding_queue WHERE collection = 'queued'").fetchall() == [("a",)]
    assert conn.execute("SELECT doc_id FROM vecpg.mirror_outbox ORDER BY seq").fetchall() == [("a",), ("a",)]
    assert coll.give_tenant_partition("acme") == 1
    assert conn.execute("SELECT count(*) FROM vecpg.mirror_outbox").fetchone() == (2,)  # a move is no write
    assert conn.execute("SELECT count(*) FROM vecpg.embedding_queue").fetchone() == (1,)


def test_bad_options_are_refused(app_store: vecpg.Store, conn: psycopg.Connection) -> None:
    with pytest.raises(InvalidArgument, match="use hash or list"):
        app_store.create_collection("bad", 2, partition_by_tenant="range")
    with pytest.raises(InvalidArgument, match="between 1 and 1024"):
        app_store.create_collection("bad", 2, partition_by_tenant="hash", partitions=0)
    with pytest.raises(InvalidArgument, match="applies to hash"):
        app_store.create_collection("bad", 2, partition_by_tenant="list", partitions=4)
    with pytest.raises(InvalidArgument, match="needs partition_by_tenant"):
        app_store.create_collection("bad", 2, partitions=4)
    with pytest.raises(InvalidArgument, match="not partitioned by tenant"):
        app_store.create_collection("flat", 2).give_tenant_partition("acme")
    with pytest.raises(InvalidArgument, match="a tenant is needed"):
        app_store.create_collection("parted", 2, partition_by_tenant="list").give_tenant_partition("")


def test_postgresql_before_15_is_refused_with_the_reason(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.Error, match="needs PostgreSQL 15 or later .this server is 140011.: its unique key"):
        conn.execute("SELECT vecpg.check_partitioning('hash', 8, 140011)")
    conn.rollback()
    conn.execute("SELECT vecpg.check_partitioning('hash', 8, 150000)")  # no error
