"""vecpg's schema comes from the files in sql/, applied and reverted by Alembic revisions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from conftest import INLINED

from vecpg.db import migrate


def _schemas(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'vecpg%'").fetchall()
    return {r[0] for r in rows}


def test_upgrade_then_downgrade_removes_everything(blank_db_url: str) -> None:
    migrate.upgrade(blank_db_url)
    assert migrate.current(blank_db_url) == migrate.head()
    assert _schemas(blank_db_url) == {"vecpg", "vecpg_data", "vecpg_postings"}

    with psycopg.connect(blank_db_url, autocommit=True) as conn:
        conn.execute("SELECT vecpg.create_collection('docs', 3)")
        conn.execute("SELECT vecpg.enable_keyword_index('docs')")
        conn.execute("CREATE SCHEMA mine")
        conn.execute("SELECT vecpg.create_collection('elsewhere', 3, schema_name => 'mine')")

    # One step down: the keyword index goes with its triggers; writes and hybrid search still work.
    migrate.downgrade(blank_db_url, "0004")
    assert _schemas(blank_db_url) == {"vecpg", "vecpg_data"}
    with psycopg.connect(blank_db_url, autocommit=True) as conn:
        # and vectors get pgvector's own storage back
        assert conn.execute("SELECT attstorage FROM pg_attribute WHERE attrelid = 'vecpg_data.docs'::regclass "
                            "AND attname = 'embedding'").fetchone() == ("e",)
        conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('a', 'tides and moons', '[1,0,0]')")
        hits = conn.execute("SELECT id, keyword_rank FROM vecpg.hybrid_search('docs', 'moon', '[1,0,0]', 1)").fetchall()
        assert hits == [("a", 1)]
    migrate.upgrade(blank_db_url)

    migrate.downgrade(blank_db_url, "base")
    assert migrate.current(blank_db_url) is None
    assert _schemas(blank_db_url) == set()
    with psycopg.connect(blank_db_url) as conn:
        # Collection tables in other schemas go too; the user's schema and pgvector stay.
        assert conn.execute("SELECT to_regclass('mine.elsewhere')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'vector'").fetchone() == (1,)

    migrate.upgrade(blank_db_url)  # and up again from scratch
    assert migrate.current(blank_db_url) == migrate.head()


def test_every_function_runs_as_invoker_with_a_pinned_search_path(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT p.proname, p.prosecdef, p.proconfig FROM pg_proc p "
            "WHERE p.pronamespace = 'vecpg'::regnamespace"
        ).fetchall()
    assert len(rows) >= 10
    for name, definer, proconfig in rows:
        # The definers: the audit, mirror, embedding-queue and partitioned-id triggers, so that
        # writers need no right to the log, outbox, queue or id registry, and the mirror's status,
        # which readers check before searching Qdrant.
        definers = ("audit_write", "mirror_capture", "embedding_capture", "mirror_status", "partitioned_ids")
        assert not definer or name in definers, f"{name} is SECURITY DEFINER"
        if f"vecpg.{name}" in INLINED:
            assert not proconfig, name
            continue
        assert any(c.startswith("search_path=pg_catalog") for c in proconfig or []), name


def test_alembic_cli_from_a_checkout(blank_db_url: str, repo_root: Path) -> None:
    """`alembic upgrade head` / `downgrade base` work from the repository root against VECPG_DATABASE_URL."""
    env = {**os.environ, "VECPG_DATABASE_URL": blank_db_url}
    alembic = [sys.executable, "-m", "alembic"]
    subprocess.run([*alembic, "upgrade", "head"], cwd=repo_root, env=env, check=True, capture_output=True)
    assert migrate.current(blank_db_url) == migrate.head()
    subprocess.run([*alembic, "downgrade", "base"], cwd=repo_root, env=env, check=True, capture_output=True)
    assert migrate.current(blank_db_url) is None
