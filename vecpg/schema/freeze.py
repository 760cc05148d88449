"""Freeze a revision's layer into sql/snapshots/ when the revision is released.

    python -m vecpg.schema.freeze 0007            # copy of sql/idempotent/ as it is now
    python -m vecpg.schema.freeze 0003 --from URL # read back from a database at that revision

The second form made the snapshots of revisions 0001-0006, whose functions were spread over
numbered files before the idempotent layer existed. Then add the file's hash to sql/frozen.txt.
"""

from __future__ import annotations

import argparse
import hashlib

import psycopg
from psycopg import sql

from ..resources import bundled_dir
from .layer import VECTOR_SCHEMA, head_layer, vector_schema

_FUNCTIONS = """
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), obj_description(p.oid, 'pg_proc'),
       ARRAY(SELECT CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
             FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
             WHERE a.grantee <> p.proowner ORDER BY 1)
FROM pg_proc p WHERE p.pronamespace = 'vecpg'::regnamespace
ORDER BY p.proname, 1
"""

# Grants are restored exactly: first nobody but the owner may run the layer's functions (only
# those: touching another function's grants would hide from apply_layer that it is obsolete).
_RESET_GRANTS = """DO $reset$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT DISTINCT p.oid::regprocedure AS proc, a.grantee
             FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
             WHERE p.oid = ANY (ARRAY[{signatures}]::regprocedure[]) AND a.grantee <> p.proowner LOOP
        IF f.grantee = 0 THEN
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.proc);
        ELSE
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I', f.proc, f.grantee::regrole::text);
        END IF;
    END LOOP;
END
$reset$;"""

_REGENERATE = """DO $regenerate$
DECLARE
    c vecpg.collection;
BEGIN
    FOR c IN SELECT * FROM vecpg.collection x WHERE vecpg.keyword_index(x) IS NOT NULL LOOP
        PERFORM vecpg.create_keyword_search_function(c);
    END LOOP;
END
$regenerate$;"""


def _literal(conn: psycopg.Connection, value: str | None) -> str:
    return "NULL" if value is None else sql.Literal(value).as_string(conn)


def dump_layer(conn: psycopg.Connection, revision: str) -> str:
    """The functions of vecpg in a database, with comments and grants, as a layer file."""
    schema = vector_schema(conn)
    rows = conn.execute(_FUNCTIONS).fetchall()
    out = [f"-- The function layer of revision {revision}, read back from a database at it (vecpg.schema.freeze).",
           "-- Generated and frozen: never edit (sql/frozen.txt holds its hash).", ""]
    for signature, definition, comment, _grantees in rows:
        definition = "\n".join(
            line.replace(f"'{schema}'", VECTOR_SCHEMA) if line.lstrip().startswith("SET search_path") else line
            for line in definition.rstrip("\n").split("\n")
        )
        out += [definition + ";", f"COMMENT ON FUNCTION {signature} IS {_literal(conn, comment)};", ""]
    signatures = ",\n        ".join(sql.Literal(r[0]).as_string(conn) for r in rows)
    out += [_RESET_GRANTS.format(signatures="\n        " + signatures), ""]
    for signature, _definition, _comment, grantees in rows:
        out += [f"GRANT EXECUTE ON FUNCTION {signature} TO {g};" for g in grantees]
    if any(r[0].startswith("vecpg.create_keyword_search_function(") for r in rows):
        out += ["", "-- The keyword indexes' search functions are made from this layer's functions.", _REGENERATE]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision")
    parser.add_argument("--from", dest="url", help="read the layer back from a database at REVISION")
    args = parser.parse_args()
    if args.url:
        with psycopg.connect(args.url) as conn:
            text = dump_layer(conn, args.revision)
    else:
        text = head_layer()
    path = bundled_dir("sql") / "snapshots" / f"{args.revision}.sql"
    path.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    print(f"{digest}  snapshots/{path.name}   <- add this line to sql/frozen.txt")


if __name__ == "__main__":
    main()
