"""Write the reverse delta of revision N (sql/history/N.sql): what N's layer had that N+1's changed.

    python -m vecpg.schema.freeze 0010                # N's layer as the commit HEAD composes it
    python -m vecpg.schema.freeze 0010 --base v0.4.0  # ... as another commit does

Run it when revision N+1 is added, and again whenever sql/idempotent/ changes while N+1 is the
head: the delta of the revision below the head is relative to the head's layer. Both layers are
applied in a scratch database (on the server of --url, default VECPG_DATABASE_URL or the
embedded one) and compared by their catalog rows, so a function differs only if its definition,
comment or grants do. It prints the fingerprint of N's layer (its functions' catalog rows) for
sql/frozen.txt, which holds the layers of released revisions to what they were.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import psycopg
from psycopg import sql

from ..resources import bundled_dir
from .layer import FINISH_MARK, VECTOR_SCHEMA, apply_layer, layer_parts, vector_schema

_FUNCTIONS = """
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), obj_description(p.oid, 'pg_proc'),
       ARRAY(SELECT CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
             FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
             WHERE a.grantee <> p.proowner ORDER BY 1),
       pg_get_function_arguments(p.oid), pg_get_function_result(p.oid)
FROM pg_proc p WHERE p.pronamespace = 'vecpg'::regnamespace
ORDER BY 1
"""

class Function(NamedTuple):
    """A vecpg function as the catalog has it (``definition`` with pgvector's schema written
    as @vector_schema@); ``arguments`` and ``result`` decide whether CREATE OR REPLACE can
    turn one version into another."""

    definition: str
    comment: str | None
    grantees: tuple[str, ...]
    arguments: str
    result: str


def read_functions(conn: psycopg.Connection) -> dict[str, Function]:
    """Every vecpg function of a database, by signature."""
    schema = vector_schema(conn)
    out = {}
    for signature, definition, comment, grantees, arguments, result in conn.execute(_FUNCTIONS).fetchall():
        definition = "\n".join(
            line.replace(f"'{schema}'", VECTOR_SCHEMA) if line.lstrip().startswith("SET search_path") else line
            for line in definition.rstrip("\n").split("\n")
        )
        out[signature] = Function(definition, comment, tuple(grantees), arguments, result)
    return out


def fingerprint(functions: Mapping[str, Function]) -> str:
    """SHA-256 of a layer's functions as the catalog has them: what a released layer must keep
    however sql/history/ stores it (sql/frozen.txt, ``layer/<revision>``)."""
    return hashlib.sha256(json.dumps(sorted(functions.items())).encode()).hexdigest()


def _literal(conn: psycopg.Connection, value: str | None) -> str:
    return "NULL" if value is None else sql.Literal(value).as_string(conn)


def _wrapped(head: str, items: list[str], width: int = 100) -> str:
    """``head`` and the items separated by commas, in lines of at most ``width`` characters."""
    lines = [head]
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(lines[-1]) + len(piece) + 1 > width and lines[-1].strip():
            lines.append("    ")
        lines[-1] += ("" if lines[-1].endswith((" ", "    ")) else " ") + piece
    return "\n".join(line.rstrip() for line in lines)


def _normalised(statements: str) -> list[str]:
    """Statements without comment lines and blank-space differences, to compare two finishes."""
    lines = (line.split("--", 1)[0] if line.lstrip().startswith("--") else line for line in statements.splitlines())
    return " ".join(" ".join(lines).split()).split(";")


def delta(conn: psycopg.Connection, revision: str, newer: str, old: Mapping[str, Function],
          new: Mapping[str, Function], old_finish: str, new_finish: str) -> str:
    """The text of sql/history/<revision>.sql: applied after ``newer``'s layer, gives ``revision``'s."""
    out = [f"-- Revision {revision}'s layer as a delta from {newer}'s (python -m vecpg.schema.freeze {revision}):",
           f"-- applied after {newer}'s layer, it gives {revision}'s. Generated: never edit by hand.", ""]
    added = [s for s in new if s not in old]
    if added:
        out += [f"-- Functions {newer} added.", _wrapped("DROP FUNCTION ", added) + ";", ""]
    for signature, function in old.items():
        current = new.get(signature)
        # What the function's grants are before this delta's GRANT: a new function's, PUBLIC's.
        granted: tuple[str, ...] = ("PUBLIC",)
        if current is None or current.definition != function.definition:
            if current is not None and (current.arguments, current.result) != (function.arguments, function.result):
                out.append(f"DROP FUNCTION {signature};")  # CREATE OR REPLACE cannot change these
            elif current is not None:
                granted = current.grantees
            out.append(function.definition + ";")
        elif current.comment == function.comment and current.grantees == function.grantees:
            continue
        else:
            granted = current.grantees
        out.append(f"COMMENT ON FUNCTION {signature} IS {_literal(conn, function.comment)};")
        if granted != function.grantees:
            if granted:
                out.append(f"REVOKE ALL ON FUNCTION {signature} FROM {', '.join(granted)};")
            if function.grantees:
                out.append(f"GRANT EXECUTE ON FUNCTION {signature} TO {', '.join(function.grantees)};")
        out.append("")
    if _normalised(old_finish) != _normalised(new_finish):
        finish = [line for line in old_finish.splitlines() if line.strip() and not line.lstrip().startswith("--")]
        out += [FINISH_MARK, *finish]
    return "\n".join(out).rstrip("\n") + "\n"


@contextmanager
def _scratch_database(url: str) -> Iterator[str]:
    """An empty database beside ``url``'s, dropped afterwards."""
    name = f"vecpg_freeze_{os.getpid()}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield psycopg.conninfo.make_conninfo(url, dbname=name)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(drop)


def _sql_dir_at(ref: str, into: Path) -> Path:
    """sql/ as commit ``ref`` has it, extracted into ``into``."""
    root = bundled_dir("sql").parent
    archive = subprocess.run(["git", "-C", str(root), "archive", ref, "sql"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "sql"


def freeze(revision: str, base: str, url: str) -> str:
    """Write sql/history/<revision>.sql from ``base``'s layer of it and the working tree's next
    one; returns the layer's fingerprint."""
    from alembic.script import ScriptDirectory

    from ..db import migrate

    script = ScriptDirectory(str(bundled_dir("migrations")))
    head = migrate.head()
    newer = next(r.revision for r in script.walk_revisions() if r.down_revision == revision)
    with tempfile.TemporaryDirectory() as tmp:
        old_dir = _sql_dir_at(base, Path(tmp))
        # At ``base`` the revision was the head, or already had a delta from the next one.
        old_head = head if (old_dir / "history" / f"{revision}.sql").exists() else revision
        old_functions, old_finish = layer_parts(revision, old_head, old_dir)
    new_functions, new_finish = layer_parts(newer, head)
    path = bundled_dir("sql") / "history" / f"{revision}.sql"
    # Migrating the scratch database to the revision composes its layer from the working tree,
    # whose delta is the one being rewritten (or, for a revision released just now, missing):
    # an empty one (the head's functions) serves, since the layer read back is ``base``'s.
    path.write_text(f"-- sql/history/{revision}.sql: being written by vecpg.schema.freeze\n", encoding="utf-8")
    read: dict[str, dict[str, Function]] = {}
    with _scratch_database(url) as scratch:
        # Each layer's functions on tables of its own revision (a newer one's views may depend
        # on functions the older layer drops).
        for at, functions in ((revision, old_functions), (newer, new_functions)):
            migrate.upgrade(scratch, at)
            with psycopg.connect(scratch) as conn:
                apply_layer(conn, functions)
                read[at] = read_functions(conn)
        with psycopg.connect(scratch) as conn:
            text = delta(conn, revision, newer, read[revision], read[newer], old_finish, new_finish)
    path.write_text(text, encoding="utf-8")
    return fingerprint(read[revision])


def main() -> None:
    from ..db.connection import resolve_url

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision")
    parser.add_argument("--base", default="HEAD", help="the commit whose files give REVISION's layer (default HEAD)")
    parser.add_argument("--url", help="a database on the server to use (default: vecpg's usual one)")
    args = parser.parse_args()
    layer = freeze(args.revision, args.base, args.url or resolve_url())
    print(f"wrote sql/history/{args.revision}.sql; for sql/frozen.txt, once {args.revision} is released:")
    print(f"{layer}  layer/{args.revision}")


if __name__ == "__main__":
    main()
