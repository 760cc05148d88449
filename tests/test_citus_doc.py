"""docs/citus.md's SQL: every block parses (pglast, PostgreSQL 18's parser), the Citus-only
blocks are exactly those calling Citus's functions, and every other block runs, in the order of
the page, on a fresh vecpg database on plain PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from pglast import ast, parse_sql
from pglast.visitors import Visitor

import vecpg

DOC = Path(__file__).resolve().parent.parent / "docs" / "citus.md"
# A block is preceded by "<!-- Citus only -->" (parsed only) or "<!-- fails: SQLSTATE -->".
BLOCK = re.compile(r"(?:<!-- (?P<mark>[^>]*?) -->\n)?^```sql\n(?P<sql>.*?)^```", re.MULTILINE | re.DOTALL)
CITUS_ONLY = {"create_distributed_table", "create_reference_table", "run_command_on_workers"}


def blocks() -> list[tuple[str, str]]:
    return [(m["mark"] or "", m["sql"]) for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))]


def called(sql: str) -> set[str]:
    """The names of the functions a block calls."""
    names: set[str] = set()

    class Calls(Visitor):  # type: ignore[misc]
        def visit_FuncCall(self, ancestors: object, node: ast.FuncCall) -> None:
            names.add(node.funcname[-1].sval)

    for statement in parse_sql(sql):
        Calls()(statement)
    return names


def statements(sql: str) -> list[str]:
    """A block's statements, one string each, as written."""
    out = []
    for raw in parse_sql(sql):
        start = raw.stmt_location
        out.append(sql[start:start + raw.stmt_len] if raw.stmt_len else sql[start:])
    return [s.strip().rstrip(";") for s in out]


def test_the_page_has_its_blocks() -> None:
    marks = [mark for mark, _ in blocks()]
    assert len(marks) >= 8
    assert marks.count("Citus only") == 3 and marks.count("fails: 42P10") == 1


@pytest.mark.parametrize(("mark", "sql"), blocks())
def test_every_block_parses_and_only_marked_ones_call_citus(mark: str, sql: str) -> None:
    assert parse_sql(sql)  # a syntax error raises pglast.parser.ParseError
    assert bool(called(sql) & CITUS_ONLY) == (mark == "Citus only"), called(sql)


def test_the_plain_postgresql_blocks_run(conn: psycopg.Connection) -> None:
    results: list[list[tuple]] = []
    for mark, sql in blocks():
        if mark == "Citus only":
            continue
        for statement in statements(sql):
            if mark.startswith("fails: "):
                with pytest.raises(psycopg.Error) as caught:
                    conn.execute(statement)
                assert caught.value.sqlstate == mark.removeprefix("fails: ")
                continue
            cur = conn.execute(statement)
            results.append(cur.fetchall() if cur.description else [])

    policies = dict(results[1])
    assert set(policies) == {"tenant_delete", "tenant_insert", "tenant_select", "tenant_update"}
    # The only column the policies test is the one Citus distributes by (citus#7182).
    assert all(set(re.findall(r"\b[a-z_]+\b(?!\()", expr)) - {"case", "when", "then", "else", "end", "is", "null",
                                                             "and", "or", "vecpg", "current_tenant"} == {"tenant_id"}
               for expr in policies.values()), policies
    key = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = 'vecpg_data.docs'::regclass AND contype = 'p'").fetchone()
    assert key == ("PRIMARY KEY (tenant_id, id)",)
    assert [r[0] for r in results if r and r[0][0] == "a"] == [("a", pytest.approx(1.0))]  # the search's hit


def test_vecpg_upserts_stop_working_once_the_key_includes_the_tenant(store: vecpg.Store) -> None:
    with store.connection() as conn:
        conn.execute("SELECT vecpg.create_collection('docs', 3)")
        conn.execute("ALTER TABLE vecpg_data.docs DROP CONSTRAINT docs_pkey, ADD PRIMARY KEY (tenant_id, id)")
    # Planning the statement fails, before any row (or its missing tenant) is looked at.
    with pytest.raises(psycopg.errors.InvalidColumnReference, match="ON CONFLICT"):  # 42P10
        store.collection("docs").upsert([{"id": "a", "content": "one", "embedding": [1.0, 0.0, 0.0]}])
