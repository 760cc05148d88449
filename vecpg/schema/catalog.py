"""A snapshot of everything vecpg puts in a database's catalog, for comparing two databases.

Two databases with equal snapshots have the same vecpg functions (bodies and settings), tables,
columns and their storage, indexes, constraints, triggers, policies, grants and roles: the
upgrade tests hold a database upgraded from an old revision to a fresh install this way.
"""

from __future__ import annotations

from typing import Any

import psycopg

# Collection tables may live in schemas of the user's choosing: the catalog says where.
_RELATIONS = """
SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm')
  AND (n.nspname IN ('vecpg', 'vecpg_data', 'vecpg_postings')
       OR c.oid = to_regclass('vecpg_version')
       OR (to_regclass('vecpg.collection') IS NOT NULL
           AND c.oid IN (SELECT to_regclass(format('%I.%I', x.schema_name, x.table_name)) FROM vecpg.collection x)))
"""

_ACL = "ARRAY(SELECT format('%s:%s', a.grantee::regrole, a.privilege_type) FROM aclexplode(coalesce({acl}, acldefault({kind}, {owner}))) a ORDER BY 1)"

_QUERIES: dict[str, str] = {
    "roles": """
        SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolbypassrls,
               ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                     WHERE m.member = r.oid ORDER BY 1)
        FROM pg_roles r WHERE r.rolname LIKE 'vecpg\\_%' AND r.rolname NOT LIKE 'vecpg\\_test\\_%'
    """,
    "schemas": f"""
        SELECT n.nspname, n.nspowner::regrole::text, {_ACL.format(acl='n.nspacl', kind="'n'", owner='n.nspowner')},
               obj_description(n.oid, 'pg_namespace')
        FROM pg_namespace n WHERE n.nspname LIKE 'vecpg%'
    """,
    "functions": f"""
        SELECT p.oid::regprocedure::text, pg_get_function_result(p.oid), l.lanname, p.prosrc,
               ARRAY(SELECT s FROM unnest(p.proconfig) s ORDER BY 1), p.prosecdef, p.provolatile,
               p.proowner::regrole::text, {_ACL.format(acl='p.proacl', kind="'f'", owner='p.proowner')},
               obj_description(p.oid, 'pg_proc')
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname LIKE 'vecpg%'
    """,
    "tables": f"""
        SELECT c.oid::regclass::text, c.relkind, c.relowner::regrole::text, c.relrowsecurity, c.relforcerowsecurity,
               {_ACL.format(acl='c.relacl', kind="'r'", owner='c.relowner')}, obj_description(c.oid, 'pg_class')
        FROM pg_class c WHERE c.oid IN ({_RELATIONS})
    """,
    "columns": f"""
        SELECT a.attrelid::regclass::text, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attstorage, a.attgenerated, a.attidentity
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attrelid IN ({_RELATIONS})
    """,
    "indexes": f"SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid IN ({_RELATIONS})",
    "constraints": f"""
        SELECT x.conrelid::regclass::text, x.conname, pg_get_constraintdef(x.oid)
        FROM pg_constraint x WHERE x.conrelid IN ({_RELATIONS})
    """,
    "triggers": f"SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgrelid IN ({_RELATIONS})",
    "policies": f"""
        SELECT x.polrelid::regclass::text, x.polname, x.polcmd, x.polpermissive,
               ARRAY(SELECT r::regrole::text FROM unnest(x.polroles) r ORDER BY 1),
               pg_get_expr(x.polqual, x.polrelid), pg_get_expr(x.polwithcheck, x.polrelid)
        FROM pg_policy x WHERE x.polrelid IN ({_RELATIONS})
    """,
}


def catalog_snapshot(conn: psycopg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Each kind of object vecpg owns, as sorted rows."""
    return {kind: sorted(conn.execute(query).fetchall(), key=repr) for kind, query in _QUERIES.items()}  # type: ignore[arg-type]


def snapshot_differences(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """Readable lines naming what one snapshot has and the other has not."""
    lines = []
    for kind, rows in a.items():
        only_a = [row for row in rows if row not in b[kind]]
        only_b = [row for row in b[kind] if row not in rows]
        lines += [f"{kind} only in the first: {row!r:.400}" for row in only_a]
        lines += [f"{kind} only in the second: {row!r:.400}" for row in only_b]
    return lines
