"""The function layer of sql/: compose it for a revision, render it for a database and apply it.

The head revision's layer is sql/idempotent/. An older revision R's layer is the head's followed
by the reverse deltas sql/history/<head-1>.sql, ..., <R>.sql: each re-creates what its revision
had that the next one changed, and drops what the next one added. A layer has two parts:

- its functions: idempotent/ files before ``95_``, then each delta's part before FINISH_MARK;
- its finish: idempotent/ files from ``95_`` on (triggers, policies and views on vecpg's own
  tables, the loop over existing collections). They touch tables, so only the target
  revision's own finish may run: the newest delta at or above R that records one replaces the
  head's, and it runs once, after every function exists.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from ..resources import bundled_dir

# Written in place of pgvector's schema in the files: each function pins its search_path to
# pg_catalog, that schema and pg_temp, wherever the extension was installed.
VECTOR_SCHEMA = "@vector_schema@"
# idempotent/ files from this prefix on are the finish.
FINISH_FILES = "95"
# In a delta, the line after which that revision's own finish follows (absent: the newer one's).
FINISH_MARK = "-- finish: this revision's own, in place of the newer revision's"

_VECPG_FUNCTIONS = "SELECT p.oid, p.ctid::text FROM pg_proc p WHERE p.pronamespace = 'vecpg'::regnamespace"


def _idempotent_files(sql_dir: Path) -> list[Path]:
    return sorted((sql_dir / "idempotent").glob("*.sql"))


def head_parts(sql_dir: Path | None = None) -> tuple[str, str]:
    """The head layer's functions and finish (every file of sql/idempotent/, in name order)."""
    files = _idempotent_files(sql_dir or bundled_dir("sql"))
    functions = [f.read_text(encoding="utf-8") for f in files if f.name < FINISH_FILES]
    finish = [f.read_text(encoding="utf-8") for f in files if f.name >= FINISH_FILES]
    return "\n".join(functions), "\n".join(finish)


def head_layer() -> str:
    """The working tree's idempotent layer: every file of sql/idempotent/, in name order."""
    return "\n".join(f.read_text(encoding="utf-8") for f in _idempotent_files(bundled_dir("sql")))


def layer_parts(revision: str, head: str, sql_dir: Path | None = None) -> tuple[str, str]:
    """The functions and finish of ``revision``'s layer: the head's, then the deltas down to it."""
    sql_dir = sql_dir or bundled_dir("sql")
    functions, finish = head_parts(sql_dir)
    if revision == head:
        return functions, finish
    deltas = sorted((p for p in (sql_dir / "history").glob("*.sql") if revision <= p.stem < head), reverse=True)
    if not deltas or deltas[-1].stem != revision:
        raise FileNotFoundError(f"sql/history/{revision}.sql is missing: python -m vecpg.schema.freeze {revision}")
    parts = [functions]
    for path in deltas:
        delta_functions, marked, own_finish = path.read_text(encoding="utf-8").partition(FINISH_MARK)
        parts.append(delta_functions)
        if marked:
            finish = own_finish
    return "\n".join(parts), finish


def layer_for(revision: str, head: str) -> str:
    """The layer a database at ``revision`` has, as one text."""
    return "\n".join(layer_parts(revision, head))


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
    dropped first, by an incremental file). An older revision's layer is one text too: the
    head's functions, rewritten or dropped by the deltas, so the rule holds for it unchanged.
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
