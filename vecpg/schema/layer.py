"""The idempotent layer of sql/: read it, render it for a database and apply it."""

from __future__ import annotations

import psycopg
from psycopg import sql

from ..resources import bundled_dir

# Written in place of pgvector's schema in the files: each function pins its search_path to
# pg_catalog, that schema and pg_temp, wherever the extension was installed.
VECTOR_SCHEMA = "@vector_schema@"

_VECPG_FUNCTIONS = "SELECT p.oid, p.ctid::text FROM pg_proc p WHERE p.pronamespace = 'vecpg'::regnamespace"


def head_layer() -> str:
    """The working tree's idempotent layer: every file of sql/idempotent/, in name order."""
    files = sorted((bundled_dir("sql") / "idempotent").glob("*.sql"))
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def snapshot_layer(revision: str) -> str:
    """The layer frozen when ``revision`` was released (sql/snapshots/<revision>.sql)."""
    path = bundled_dir("sql") / "snapshots" / f"{revision}.sql"
    if not path.exists():
        raise FileNotFoundError(f"sql/snapshots/{revision}.sql is missing: freeze the layer when releasing a revision")
    return path.read_text(encoding="utf-8")


def layer_for(revision: str, head: str) -> str:
    """The layer a database at ``revision`` has: the working tree's at head, else the snapshot."""
    return head_layer() if revision == head else snapshot_layer(revision)


def vector_schema(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'"
    ).fetchone()
    if row is None:
        raise RuntimeError("the pgvector extension is not installed in this database")
    return str(row[0])


def apply_layer(conn: psycopg.Connection, layer: str) -> list[str]:
    """Apply a layer inside the caller's transaction; returns the obsolete functions it dropped.

    Every function of the layer is (re)created with CREATE OR REPLACE, which writes a new
    version of its pg_proc row; a vecpg function whose row is unchanged afterwards is not
    defined by the layer and is dropped (without CASCADE: whatever still uses it must be
    dropped first, by an incremental file).
    """
    text = layer.replace(VECTOR_SCHEMA, sql.Identifier(vector_schema(conn)).as_string(conn))
    before: dict[int, str] = dict(conn.execute(_VECPG_FUNCTIONS).fetchall())
    # Bodies are checked when called, not when created: files need no order among themselves.
    conn.execute("SET LOCAL check_function_bodies = off")
    conn.execute(text)  # type: ignore[arg-type]  # a whole file: no parameters, '%' untouched
    after: dict[int, str] = dict(conn.execute(_VECPG_FUNCTIONS).fetchall())
    obsolete = [oid for oid, version in after.items() if before.get(oid) == version]
    dropped = []
    for oid in obsolete:
        name = conn.execute("SELECT %s::oid::regprocedure::text", (oid,)).fetchone()[0]  # type: ignore[index]
        conn.execute(sql.SQL("DROP FUNCTION {}").format(sql.SQL(name)))
        dropped.append(name)
    conn.execute("RESET check_function_bodies")
    return dropped
