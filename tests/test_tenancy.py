"""Multi-tenancy: row-level security on every collection, least-privilege roles, and tenants that
never see, change or influence each other's rows. Everything here logs in as non-superusers:
superusers bypass row-level security."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import vecpg
from vecpg import orm
from vecpg.cli import main
from vecpg.search import search_statement

DOCS = {
    "a": [("a1", "Solar panels turn sunlight into electricity"), ("a2", "Wind turbines and solar farms"),
          ("a3", "Batteries store solar energy")],
    "b": [("b1", "Solar eclipses darken the sky"), ("b2", "Solar wind streams from the Sun")],
}


@pytest.fixture
def tenants(store: vecpg.Store, logins: dict[str, str]):
    """A collection created by the superuser, filled by tenants a and b through the writer role."""
    store.create_collection("docs", dimension=2)
    with vecpg.connect(logins["writer"], pool_size=1) as writer:
        coll = writer.collection("docs")
        for tenant, docs in DOCS.items():
            with writer.tenant(tenant):
                coll.upsert([{"id": i, "content": c, "embedding": [1, n], "metadata": {"n": n}}
                             for n, (i, c) in enumerate(docs)])
        yield writer, coll


def test_each_tenant_sees_only_its_rows_through_every_path(tenants, logins) -> None:
    writer, coll = tenants
    for tenant, docs in DOCS.items():
        mine = {i for i, _ in docs}
        with writer.tenant(tenant):
            assert coll.count() == len(docs)
            assert {d.id for d in coll.get(["a1", "a2", "a3", "b1", "b2"])} == mine
            assert {h.id for h in coll.search([1, 0], k=10)} == mine
            assert {h.id for h in coll.search("solar", k=10, mode="keyword")} == mine
            with writer.connection() as conn:
                rows = conn.execute("SELECT id FROM vecpg.hybrid_search('docs', 'solar', '[1,0]', 10)").fetchall()
                assert {r[0] for r in rows} == mine
                assert {r[0] for r in conn.execute("SELECT id FROM vecpg_data.docs")} == mine
    # Without a tenant: no tenant's rows at all, never all rows.
    assert coll.count() == 0 and coll.search([1, 0], k=10) == []


def test_no_tenant_can_change_another_tenants_rows(tenants) -> None:
    writer, coll = tenants
    with writer.tenant("a"):
        assert coll.delete(["b1", "b2"]) == 0
        with writer.connection() as conn:
            assert conn.execute("UPDATE vecpg_data.docs SET content = 'pwned' WHERE id LIKE 'b%'").rowcount == 0
            assert conn.execute("DELETE FROM vecpg_data.docs WHERE tenant_id = 'b'").rowcount == 0
        with pytest.raises(vecpg.PermissionDenied, match="row-level security"):
            coll.upsert([{"id": "sneaky", "content": "x", "embedding": [1, 1], "tenant_id": "b"}])
        with pytest.raises(vecpg.PermissionDenied):
            coll.upsert([{"id": "b1", "content": "overwrite b's row", "embedding": [1, 1]}])
    with writer.tenant("b"):
        assert sorted(d.content for d in coll.get(["b1", "b2"])) == sorted(c for _, c in DOCS["b"])


def test_a_pool_of_one_connection_never_carries_a_tenant_over(tenants) -> None:
    writer, coll = tenants
    for _ in range(3):
        for tenant, docs in DOCS.items():
            with writer.tenant(tenant):
                assert coll.count() == len(docs)
            assert coll.count() == 0
    with writer.connection() as conn:
        assert conn.execute("SELECT current_setting('vecpg.tenant_id', true)").fetchone() in ((None,), ("",))


def test_hidden_rows_do_not_change_results_or_scores(tenants) -> None:
    writer, coll = tenants
    with writer.tenant("a"):
        before_kw = [(h.id, round(h.score, 9)) for h in coll.search("solar energy", k=10, mode="keyword")]
        with writer.connection() as conn:
            before_hy = conn.execute("SELECT id, round(score::numeric, 9) FROM vecpg.hybrid_search("
                                     "'docs', 'solar energy', '[1,0.5]', 10)").fetchall()
    with writer.tenant("b"):
        coll.load({"id": f"b-more-{i}", "content": "solar energy solar energy panels", "embedding": [1, 0.5]}
                  for i in range(300))
    with writer.tenant("a"):
        assert [(h.id, round(h.score, 9)) for h in coll.search("solar energy", k=10, mode="keyword")] == before_kw
        with writer.connection() as conn:
            assert conn.execute("SELECT id, round(score::numeric, 9) FROM vecpg.hybrid_search("
                                "'docs', 'solar energy', '[1,0.5]', 10)").fetchall() == before_hy


@pytest.fixture
def uneven(store: vecpg.Store, logins):
    """An HNSW-indexed collection where tenant "small" owns 30 of 3,030 rows."""
    import numpy as np

    store.create_collection("many", dimension=8)
    rng = np.random.default_rng(5)
    with vecpg.connect(logins["writer"]) as writer:
        coll = writer.collection("many")
        for tenant, n in (("big", 3000), ("small", 30)):
            with writer.tenant(tenant):
                coll.load({"id": f"{tenant}{i}", "embedding": rng.normal(size=8)} for i in range(n))
    store.collection("many").create_index(vecpg.HNSW())
    return rng.normal(size=8)


def test_search_under_rls_still_returns_k_rows(uneven, logins) -> None:
    """Row-level security filters after the index scan: iterative scans keep k rows coming."""
    with vecpg.connect(logins["reader"]) as reader, reader.tenant("small"):
        hits = reader.collection("many").search(uneven, k=10)
        assert len(hits) == 10 and all(h.id.startswith("small") for h in hits)
    with psycopg.connect(logins["reader"]) as conn:  # and from plain SQL
        conn.execute("SELECT set_config('vecpg.tenant_id', 'small', true)")
        rows = conn.execute("SELECT id FROM vecpg.search('many', %s::vector, 10)",
                            ("[" + ",".join(map(str, uneven)) + "]",)).fetchall()
    assert len(rows) == 10 and all(r[0].startswith("small") for r in rows)


def test_roles_have_least_privilege(tenants, logins) -> None:
    with vecpg.connect(logins["reader"]) as reader:
        with reader.tenant("a"):
            assert reader.collection("docs").count() == 3
            with pytest.raises(vecpg.PermissionDenied):
                reader.collection("docs").upsert([{"id": "r", "embedding": [1, 0]}])
        with pytest.raises(vecpg.PermissionDenied):
            reader.create_collection("mine", dimension=2)
    writer, _ = tenants
    with pytest.raises(vecpg.PermissionDenied):
        writer.create_collection("mine", dimension=2)
    with pytest.raises(vecpg.PermissionDenied):
        writer.collection("docs").create_index()
    with vecpg.connect(logins["admin"]) as admin:
        admin.create_collection("mine", dimension=2)
        assert admin.collection("docs").create_index() == "docs_embedding_hnsw"  # tables belong to vecpg_admin
        admin.drop_collection("mine")
    with psycopg.connect(logins["writer"]) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM vecpg.bm25_df")  # statistics change only through the triggers
        conn.execute("ALTER TABLE vecpg_data.docs DISABLE ROW LEVEL SECURITY")


def test_shared_rows_are_readable_by_every_tenant_and_writable_by_none(store: vecpg.Store, logins, tenants) -> None:
    store.collection("docs").upsert([{"id": "shared", "content": "solar glossary", "embedding": [1, 0]}])
    writer, coll = tenants
    with writer.tenant("a"):
        assert "shared" not in {d.id for d in coll.get(["shared"])}
    with store.connection() as conn:
        conn.execute("SELECT vecpg.set_shared_rows('docs', true)")
    with writer.tenant("a"):
        assert [d.id for d in coll.get(["shared"])] == ["shared"]
        assert "shared" in {h.id for h in coll.search("glossary", mode="keyword")}
        assert coll.delete(["shared"]) == 0
        with writer.connection() as conn:
            assert conn.execute("UPDATE vecpg_data.docs SET content = 'x' WHERE id = 'shared'").rowcount == 0


def test_orm_and_plain_sql_clients_are_bound_too(tenants, logins) -> None:
    Doc = orm.document_model("docs", 2)
    engine = orm.engine(logins["writer"])
    with orm.session(bind=engine) as s:
        s.execute(select(func.set_config("vecpg.tenant_id", "b", True)))
        assert sorted(s.scalars(select(Doc.id)).all()) == ["b1", "b2"]
        s.add(Doc(id="b3", content="added through the ORM", embedding=[1, 3]))
        s.commit()  # tenant_id defaults to the tenant of the transaction
    with orm.session(bind=engine) as s:
        assert s.scalars(select(Doc.id)).all() == []  # a new transaction, no tenant
    engine.dispose()
    with psycopg.connect(logins["writer"]) as conn:
        conn.execute("SELECT set_config('vecpg.tenant_id', 'b', true)")
        assert conn.execute("SELECT count(*) FROM vecpg_data.docs WHERE tenant_id = 'b'").fetchone() == (3,)


def test_cli_takes_a_tenant(tenants, logins, tmp_path, store: vecpg.Store, embedder) -> None:
    store.create_collection("facts")  # all-MiniLM-L6-v2: ingest embeds the text
    path = tmp_path / "facts.jsonl"
    runner = CliRunner()
    base = ["--url", logins["writer"], "--tenant", "a"]
    writer = tenants[0]
    result = runner.invoke(main, [*base, "search", "solar", "-c", "docs", "--mode", "keyword", "--json"])
    assert result.exit_code == 0, result.output
    assert {h["id"] for h in json.loads(result.output)} == {"a1", "a2", "a3"}
    other = runner.invoke(main, ["--url", logins["writer"], "search", "solar", "-c", "docs", "--mode", "keyword",
                                 "--json"], env={"VECPG_TENANT": "b"})
    assert {h["id"] for h in json.loads(other.output)} == {"b1", "b2"}
    # Ingest and delete as tenant a, through a URL that logs in as a non-superuser writer.
    path.write_text(json.dumps({"id": "a9", "content": "solar roof tiles"}) + "\n")
    ingested = runner.invoke(main, [*base, "ingest", str(path), "-c", "facts", "--quiet"])
    assert ingested.exit_code == 0 and "wrote 1 documents to facts" in ingested.output, ingested.output
    facts = writer.collection("facts")
    assert facts.count(tenant="a") == 1 and facts.count(tenant="b") == 0 and facts.count() == 0
    deleted = runner.invoke(main, [*base, "delete", "-c", "docs", "--id", "a1", "--id", "b1"])
    assert deleted.exit_code == 0 and "deleted 1 documents" in deleted.output  # b1 is not a's to delete
    assert tenants[1].count(tenant="b") == 2


def test_every_write_is_audited_and_the_log_is_append_only(tenants, logins, store: vecpg.Store) -> None:
    writer, coll = tenants
    with writer.tenant("a"):
        coll.upsert([{"id": "a1", "content": "changed", "embedding": [1, 0]}])
        coll.delete(["a2"])
    with psycopg.connect(logins["admin"]) as conn:
        rows = conn.execute(
            "SELECT db_user, tenant, operation, collection, ids, row_count FROM vecpg.audit_log ORDER BY id"
        ).fetchall()
    assert ("vecpg_test_writer", "b", "INSERT", "docs", ["b1", "b2"], 2) in rows  # one entry per statement
    assert ("vecpg_test_writer", "a", "UPDATE", "docs", ["a1"], 1) in rows
    assert rows[-1] == ("vecpg_test_writer", "a", "DELETE", "docs", ["a2"], 1)
    for role in ("reader", "writer"):
        with psycopg.connect(logins[role]) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM vecpg.audit_log")
    with psycopg.connect(logins["writer"]) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("INSERT INTO vecpg.audit_log (operation, collection, ids, row_count) VALUES ('DELETE', 'docs', '{}', 0)")
    with store.connection() as conn:  # not even its owner may rewrite history
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM vecpg.audit_log")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("UPDATE vecpg.audit_log SET ids = '{}'")


def test_tenant_argument_on_calls(tenants) -> None:
    _, coll = tenants
    assert coll.count(tenant="a") == 3 and coll.count(tenant="b") == 2 and coll.count() == 0
    coll.upsert([{"id": "a7", "content": "solar kettle", "embedding": [1, 7]}], tenant="a")
    assert [d.tenant_id for d in coll.get("a7", tenant="a")] == ["a"]  # rows take the caller's tenant
    assert {h.id for h in coll.search("kettle", mode="keyword", tenant="a")} == {"a7"}
    assert coll.search("kettle", mode="keyword", tenant="b") == []
    assert coll.delete(["a7"], tenant="b") == 0 and coll.delete(["a7"], tenant="a") == 1
    with pytest.raises(vecpg.InvalidArgument, match="tenant"):
        coll.count(tenant="")


def test_connection_urls_pass_tls_and_other_settings_through(db_url: str) -> None:
    url = db_url + "&sslmode=require&application_name=vecpg-tls-check"
    with vecpg.connect(url) as store, store.connection() as conn:
        assert conn.execute("SHOW application_name").fetchone() == ("vecpg-tls-check",)
        assert "sslmode=require" in conn.info.dsn
    from vecpg.db.connection import sqlalchemy_url

    assert sqlalchemy_url(url).endswith("&sslmode=require&application_name=vecpg-tls-check")


@pytest.mark.parametrize("where", ["before", "after"])
def test_cli_takes_url_and_tenant_before_or_after_the_subcommand(
    tenants, logins, tmp_path, store: vecpg.Store, embedder, where: str
) -> None:
    store.create_collection("facts")  # all-MiniLM-L6-v2: ingest embeds the text
    path = tmp_path / "facts.jsonl"
    path.write_text(json.dumps({"id": "a9", "content": "solar roof tiles"}) + "\n")
    facts = tenants[0].collection("facts")  # the writer is bound by row-level security
    connection = ["--url", logins["writer"], "--tenant", "a"]

    def run(*args: str) -> str:
        argv = [*connection, *args] if where == "before" else [*args, *connection]
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 0, result.output
        return result.output

    assert "wrote 1 documents to facts" in run("ingest", str(path), "--collection", "facts", "--quiet")
    assert facts.count(tenant="a") == 1 and facts.count(tenant="b") == 0
    hits = json.loads(run("search", "solar", "-c", "docs", "--mode", "keyword", "--json"))
    assert {h["id"] for h in hits} == {"a1", "a2", "a3"}  # tenant a's rows only


def test_cli_tenant_after_the_subcommand_wins_over_the_environment(tenants, logins) -> None:
    result = CliRunner().invoke(main, ["search", "solar", "-c", "docs", "--mode", "keyword", "--json",
                                       "--url", logins["writer"], "--tenant", "b"], env={"VECPG_TENANT": "a"})
    assert result.exit_code == 0, result.output
    assert {h["id"] for h in json.loads(result.output)} == {"b1", "b2"}


@pytest.mark.parametrize("tenant", [None, "a"])
def test_the_planner_takes_the_vector_index_for_a_role_bound_by_row_level_security(
        store: vecpg.Store, logins: dict[str, str], tenant: str | None) -> None:
    """The tenant policy once made the planner expect ~0 visible rows when no row had a tenant,
    so every search by an ordinary role sorted the whole table instead of using HNSW. Plans
    here are the planner's own choice: no scan type is turned off."""
    rng = np.random.default_rng(0)
    coll = store.create_collection("planned", dimension=32)
    coll.load({"id": str(i), "embedding": v, "tenant_id": tenant} for i, v in enumerate(rng.normal(size=(6000, 32))))
    coll.create_index(vecpg.HNSW())
    with store.connection() as conn:
        conn.execute('ANALYZE vecpg_data."planned"')
    with vecpg.connect(logins["reader"]) as reader:
        mine = reader.collection("planned")
        query = rng.normal(size=32)
        with reader.tenant(tenant) if tenant else contextlib.nullcontext(), reader.connection() as conn:
            statement, params = search_statement(mine, query, 10)
            plan = "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + statement, params).fetchall())
            assert "Index Scan using planned_embedding_hnsw" in plan, plan
            assert len(mine.search(query, k=10)) == 10
