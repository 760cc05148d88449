"""Upgrades and downgrades proven by catalog snapshots, the way pgai tests its extension.

For every earlier revision R: a database installed at R and given collections, tenants, shared
rows and a keyword index there, then upgraded one revision at a time, has the catalog of a fresh
install at head given the same; and head downgraded one revision at a time to R has the catalog
of a fresh install at R. Data (rows, BM25 statistics, postings) survive the upgrade.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from alembic.script import ScriptDirectory

from vecpg.db import migrate
from vecpg.resources import bundled_dir
from vecpg.schema.catalog import catalog_snapshot, snapshot_differences
from vecpg.schema.freeze import fingerprint, read_functions

# Every revision of migrations/versions/, oldest first, as Alembic chains them.
REVISIONS = [r.revision for r in reversed(list(ScriptDirectory(str(bundled_dir("migrations"))).walk_revisions()))]

ROWS = [  # id, content, embedding, tenant
    ("a1", "tides follow the moon", "[1,0,0]", "acme"),
    ("a2", "the moon has no air", "[0.9,0.1,0]", "acme"),
    ("b1", "sourdough needs steam", "[0,1,0]", "beta"),
    ("s1", "shared handbook on the moon and tides", "[0,0,1]", None),
]


def _index(revision: str) -> int:
    return REVISIONS.index(migrate.head() if revision == "head" else revision)


def populate(url: str, revision: str) -> None:
    """What a user of ``revision`` had: collections, documents of tenants, what the revision offers."""
    at = _index(revision)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS mine")
        conn.execute("SELECT vecpg.create_collection('docs', 3)")
        conn.execute("SELECT vecpg.create_collection('items', 3, 'l2', schema_name => 'mine')")
        for id_, content, embedding, tenant in ROWS:
            conn.execute("INSERT INTO vecpg_data.docs (id, title, content, embedding, metadata, tenant_id) "
                         "VALUES (%s, 'T ' || %s::text, %s, %s::vector, jsonb_build_object('n', %s::text), %s)",
                         (id_, id_, content, embedding, id_, tenant))
        conn.execute("INSERT INTO mine.items (id, content, embedding) VALUES ('i1', 'a lamp', '[1,2,3]')")
        conn.execute("SELECT vecpg.create_index('docs', 'hnsw')")
        if at >= _index("0003"):
            conn.execute("SELECT vecpg.set_shared_rows('docs', true)")
        if at >= _index("0005"):
            conn.execute("SELECT vecpg.enable_keyword_index('docs')")
        if at >= _index("0008"):
            conn.execute("SELECT vecpg.enable_mirror('docs', '{\"payload_indexes\": [\"n\"]}')")
        conn.execute("UPDATE vecpg_data.docs SET content = content || ' again' WHERE id = 'a2'")
        conn.execute("DELETE FROM vecpg_data.docs WHERE id = 'b1'")


def data(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The documents, statistics and postings (not the audit log, whose times differ)."""
    with psycopg.connect(url) as conn:
        out = {
            "docs": conn.execute("SELECT id, title, content, embedding::text, metadata, tenant_id, fts::text "
                                 "FROM vecpg_data.docs ORDER BY id").fetchall(),
            "items": conn.execute("SELECT id, content, embedding::text FROM mine.items ORDER BY id").fetchall(),
        }
        # A count that dropped to zero is the same statistic as one never written.
        # Statistics are what a key's rows sum to: rows appended since 0011, one row a key before.
        statistics = {
            "vecpg.bm25_df": "SELECT collection, tenant_key, lexeme, sum(df) FROM vecpg.bm25_df "
                             "GROUP BY 1, 2, 3 HAVING sum(df) <> 0 ORDER BY 1, 2, 3",
            "vecpg.bm25_totals": "SELECT collection, tenant_key, sum(n_docs), sum(total_len) FROM vecpg.bm25_totals "
                                 "GROUP BY 1, 2 HAVING sum(n_docs) <> 0 ORDER BY 1, 2",
            "vecpg_postings.docs": "SELECT * FROM vecpg_postings.docs ORDER BY 1, 2, 3",
        }
        for table, query in statistics.items():
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() != (None,):
                out[table] = conn.execute(query).fetchall()  # type: ignore[arg-type]  # constants
    return out


def released_layer(revision: str) -> str:
    """The fingerprint sql/frozen.txt holds for ``revision``'s layer."""
    for line in (bundled_dir("sql") / "frozen.txt").read_text().splitlines():
        if line.endswith(f"  layer/{revision}"):
            return line.split()[0]
    raise AssertionError(f"sql/frozen.txt has no layer/{revision}")


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return catalog_snapshot(conn)


def assert_same(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]]) -> None:
    differences = snapshot_differences(a, b)
    assert not differences, "\n".join(differences[:20])


def test_revisions_are_listed_in_order() -> None:
    assert REVISIONS[0] == "0001" and REVISIONS[-1] == migrate.head()
    assert len(REVISIONS) == len(list((bundled_dir("migrations") / "versions").glob("[0-9]*_*.py")))


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_upgrade_and_downgrade_match_fresh_installs(revision: str, make_database: Callable[[], str]) -> None:
    old, jump, new = make_database(), make_database(), make_database()
    migrate.upgrade(old, revision)
    populate(old, revision)
    at_revision = snapshot(old)
    for step in REVISIONS[_index(revision) + 1:]:
        migrate.upgrade(old, step)
    # and all the way in one run: every incremental file, then head's layer once
    migrate.upgrade(jump, revision)
    populate(jump, revision)
    migrate.upgrade(jump)

    migrate.upgrade(new)
    populate(new, revision)
    for upgraded in (old, jump):
        assert_same(snapshot(new), snapshot(upgraded))
        assert data(new) == data(upgraded)

    for step in reversed(REVISIONS[_index(revision):-1]):
        migrate.downgrade(new, step)
    assert migrate.current(new) == revision
    # The deltas give the layer released as ``revision``, whatever the head's layer has become.
    with psycopg.connect(new) as conn:
        assert fingerprint(read_functions(conn)) == released_layer(revision)
    # Roles belong to the cluster, not the database: created when missing, never dropped.
    at_revision.pop("roles")
    assert_same(at_revision, {kind: rows for kind, rows in snapshot(new).items() if kind != "roles"})


def test_a_database_of_revision_0006_keeps_every_row_statistic_and_posting(make_database: Callable[[], str]) -> None:
    url = make_database()
    migrate.upgrade(url, "0006")
    populate(url, "0006")
    before = data(url)
    assert before["vecpg_postings.docs"] and before["vecpg.bm25_df"]
    migrate.upgrade(url)
    assert data(url) == before
    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_config('vecpg.tenant_id', 'acme', false)")
        hits = conn.execute("SELECT id, keyword_rank FROM vecpg.hybrid_search('docs', 'moon tides', '[1,0,0]', 3)").fetchall()
    # acme's own rows and the shared one, found by both lists through the keyword index
    assert {h[0] for h in hits} == {"a1", "a2", "s1"}
    assert all(rank is not None for _, rank in hits)


def test_an_upgrade_that_fails_half_way_changes_nothing(make_database: Callable[[], str]) -> None:
    url = make_database()
    migrate.upgrade(url, "0008")
    populate(url, "0008")
    with psycopg.connect(url, autocommit=True) as conn:
        # 0009 would succeed; 0010's 012_halfvec_storage.sql adds this column and fails.
        conn.execute("ALTER TABLE vecpg.collection ADD COLUMN storage text")
    before, rows = snapshot(url), data(url)
    with pytest.raises(Exception, match="storage"):
        migrate.upgrade(url)
    assert migrate.current(url) == "0008"
    assert_same(before, snapshot(url))
    assert data(url) == rows


def test_applying_the_layer_drops_functions_it_does_not_define(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION vecpg.leftover() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    migrate.upgrade(db_url)  # at head already: the layer is applied again
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT to_regproc('vecpg.leftover')").fetchone() == (None,)
        assert conn.execute("SELECT to_regproc('vecpg.hybrid_search')").fetchone() != (None,)
