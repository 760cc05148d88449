"""Tenancy on the default setup: no VECPG_DATABASE_URL, the embedded server in a fresh VECPG_HOME,
as a new user following the README would have it. Applications log in as vecpg_app, which
row-level security binds; store.tenant() refuses roles that RLS does not bind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy import func, select

import vecpg
from vecpg import orm
from vecpg.cli import main
from vecpg.db.server import APP_ROLE, EmbeddedServer

ROLE_ATTRIBUTES = "SELECT rolsuper, rolbypassrls, pg_has_role(oid, 'vecpg_admin', 'USAGE') FROM pg_roles WHERE rolname = %s"


@pytest.fixture(scope="module")
def new_user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """The environment of a new user: a VECPG_HOME of their own and no database URL."""
    home = tmp_path_factory.mktemp("new-user-home")
    server = EmbeddedServer(home)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("VECPG_DATABASE_URL", raising=False)
        mp.delenv("VECPG_TENANT", raising=False)
        mp.setenv("VECPG_HOME", str(home))
        try:
            yield server
        finally:
            server.stop()


def _admin_url(server: EmbeddedServer) -> str:
    url = server.url()
    assert url is not None and "postgres@" in url
    return url


def test_python_on_the_default_setup_isolates_tenants(new_user: EmbeddedServer) -> None:
    with vecpg.connect() as store:
        assert store.role == APP_ROLE and not store.bypasses_rls
        with store.connection() as conn:
            assert conn.execute(ROLE_ATTRIBUTES, (APP_ROLE,)).fetchone() == (False, False, True)
        docs = store.create_collection("py_docs", dimension=2)
        with store.tenant("acme"):
            docs.upsert([{"id": "a1", "content": "solar power", "embedding": [1, 0]}])
            assert docs.count() == 1
        with store.tenant("beta"):
            assert docs.count() == 0 and docs.get(["a1"]) == [] and docs.search([1, 0], k=5) == []
            assert docs.search("solar", k=5, mode="keyword") == []
        assert docs.count() == 0 and docs.search([1, 0], k=5) == []  # no tenant: no tenant's rows
        assert docs.count(tenant="acme") == 1 and docs.count(tenant="beta") == 0
    # The row exists, and is acme's: the superuser sees past row-level security.
    with psycopg.connect(_admin_url(new_user)) as conn:
        assert conn.execute("SELECT id, tenant_id FROM vecpg_data.py_docs").fetchall() == [("a1", "acme")]
    # ORM sessions on the default setup are bound too.
    doc = orm.document_model("py_docs", 2)
    engine = orm.engine()
    try:
        for tenant, expected in (("beta", []), ("acme", ["a1"])):
            with orm.session(bind=engine) as s:
                s.execute(select(func.set_config("vecpg.tenant_id", tenant, True)))
                assert s.scalars(select(doc.id)).all() == expected
        with orm.session(bind=engine) as s:
            assert s.scalars(select(doc.id)).all() == []
    finally:
        engine.dispose()


def test_cli_on_the_default_setup_isolates_tenants(new_user: EmbeddedServer, embedder, tmp_path: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(main, ["collection", "create", "cli_facts"])  # all-MiniLM-L6-v2 embeds the text
    assert created.exit_code == 0, created.output
    path = tmp_path / "facts.jsonl"
    path.write_text(json.dumps({"id": "a9", "content": "solar roof tiles"}) + "\n")
    ingested = runner.invoke(main, ["--tenant", "acme", "ingest", str(path), "-c", "cli_facts", "--quiet"])
    assert ingested.exit_code == 0 and "wrote 1 documents" in ingested.output, ingested.output

    def documents(*options: str, env: dict[str, str] | None = None) -> int:
        result = runner.invoke(main, [*options, "collection", "info", "cli_facts", "--json"], env=env)
        assert result.exit_code == 0, result.output
        return int(json.loads(result.output)["documents"])

    assert documents("--tenant", "acme") == 1
    assert documents("--tenant", "beta") == 0 and documents(env={"VECPG_TENANT": "beta"}) == 0
    assert documents() == 0
    found = runner.invoke(main, ["--tenant", "beta", "search", "solar", "-c", "cli_facts", "--mode", "keyword", "--json"])
    assert found.exit_code == 0 and json.loads(found.output) == []
    deleted = runner.invoke(main, ["--tenant", "beta", "delete", "-c", "cli_facts", "--id", "a9"])
    assert deleted.exit_code == 0 and "deleted 0 documents" in deleted.output, deleted.output
    assert documents("--tenant", "acme") == 1


def test_sql_through_the_app_url_isolates_tenants(new_user: EmbeddedServer) -> None:
    runner = CliRunner()
    app = runner.invoke(main, ["db", "url", "--app"])
    admin = runner.invoke(main, ["db", "url"])
    assert app.exit_code == 0 and admin.exit_code == 0
    assert admin.output.strip() == _admin_url(new_user)  # the administrator's, for psql and migrations
    assert app.output.strip() == new_user.url(user=APP_ROLE) and f"{APP_ROLE}@" in app.output
    assert "administrator" in runner.invoke(main, ["db", "url", "--help"]).output
    with psycopg.connect(app.output.strip()) as conn:
        conn.execute("SELECT vecpg.create_collection('sql_docs', 2)")
        conn.execute("SELECT set_config('vecpg.tenant_id', 'acme', true)")
        conn.execute("INSERT INTO vecpg_data.sql_docs (id, content, embedding) VALUES ('a1', 'solar', '[1,0]')")
        conn.commit()
        for tenant, expected in (("beta", 0), ("acme", 1), ("", 0)):
            conn.execute("SELECT set_config('vecpg.tenant_id', %s, true)", (tenant,))
            assert conn.execute("SELECT count(*) FROM vecpg_data.sql_docs").fetchone() == (expected,)
            hits = conn.execute("SELECT id FROM vecpg.search('sql_docs', '[1,0]'::vector, 10)").fetchall()
            assert len(hits) == expected
            conn.commit()
    with psycopg.connect(admin.output.strip()) as conn:
        assert conn.execute("SELECT tenant_id FROM vecpg_data.sql_docs").fetchall() == [("acme",)]


def test_the_default_setup_builds_keyword_indexes_over_every_tenant(new_user: EmbeddedServer) -> None:
    with vecpg.connect() as store:
        docs = store.create_collection("kw_docs", dimension=2)
        with store.tenant("acme"):
            docs.upsert([{"id": "a1", "content": "solar power", "embedding": [1, 0]}])
        with store.tenant("beta"):
            docs.upsert([{"id": f"b{i}", "content": "solar eclipse tonight", "embedding": [0, 1]} for i in range(3)])
        # The application role alone may not: the build reads every tenant's documents.
        with pytest.raises(vecpg.PermissionDenied, match="every tenant"), store.connection() as conn:
            conn.execute("SELECT vecpg.enable_keyword_index('kw_docs')")
        with psycopg.connect(_admin_url(new_user)) as conn:
            lexemes = conn.execute("SELECT count(*) FROM vecpg_data.kw_docs, unnest(fts)").fetchone()
        assert lexemes is not None and lexemes[0] == 2 + 3 * 3
        with store.tenant("acme"):  # built whole even from inside a tenant block
            assert docs.enable_keyword_index() == lexemes[0]
        assert docs.has_keyword_index()
        for tenant, mine in (("acme", {"a1"}), ("beta", {"b0", "b1", "b2"})):
            with store.tenant(tenant), store.connection() as conn:  # the keyword list comes from the index
                rows = conn.execute("SELECT id FROM vecpg.hybrid_search('kw_docs', 'solar', '[1,0]', 10)").fetchall()
                assert {r[0] for r in rows} == mine
        result = CliRunner().invoke(main, ["index", "keyword", "-c", "kw_docs"])
        assert result.exit_code == 0 and f"{lexemes[0]:,} postings" in result.output, result.output
        assert docs.disable_keyword_index()  # owned by vecpg_admin: the application role may drop it


def test_connect_restores_the_app_role_if_someone_widened_it(new_user: EmbeddedServer) -> None:
    vecpg.connect().close()
    with psycopg.connect(_admin_url(new_user), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} BYPASSRLS").format(sql.Identifier(APP_ROLE)))
        conn.execute(sql.SQL("REVOKE vecpg_admin FROM {}").format(sql.Identifier(APP_ROLE)))
        assert conn.execute(ROLE_ATTRIBUTES, (APP_ROLE,)).fetchone() == (False, True, False)
    with vecpg.connect() as store:
        assert not store.bypasses_rls
        with store.tenant("acme"):
            assert store.collection("py_docs").count() == 1
    with psycopg.connect(_admin_url(new_user)) as conn:
        assert conn.execute(ROLE_ATTRIBUTES, (APP_ROLE,)).fetchone() == (False, False, True)


def test_tenant_refuses_roles_that_bypass_row_level_security(store: vecpg.Store, db_url: str, logins) -> None:
    assert store.bypasses_rls  # the test database's superuser
    with pytest.raises(vecpg.TenancyNotEnforced, match='role "postgres".*row-level security'), store.tenant("acme"):
        pass
    docs = store.create_collection("docs", dimension=2)
    with pytest.raises(vecpg.TenancyNotEnforced):
        docs.count(tenant="acme")
    with pytest.raises(vecpg.InvalidArgument):  # a malformed tenant is still that error first
        docs.count(tenant="")
    result = CliRunner().invoke(main, ["--url", db_url, "--tenant", "acme", "collection", "info", "docs"])
    assert result.exit_code == 2 and "row-level security" in result.output
    # BYPASSRLS without superuser is refused too; an ordinary member of vecpg_writer is not.
    with psycopg.connect(db_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'vecpg_test_bypass'").fetchone():
            conn.execute("CREATE ROLE vecpg_test_bypass LOGIN BYPASSRLS")
        conn.execute("GRANT vecpg_writer TO vecpg_test_bypass")
    with (vecpg.connect(make_conninfo(db_url, user="vecpg_test_bypass"), pool_size=1) as bypass,
          pytest.raises(vecpg.TenancyNotEnforced, match="vecpg_test_bypass"), bypass.tenant("acme")):
        pass
    with vecpg.connect(logins["writer"], pool_size=1) as writer, writer.tenant("acme"):
        assert not writer.bypasses_rls and writer.collection("docs").count() == 0
