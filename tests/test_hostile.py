"""Hostile input through Python, SQL and the CLI: every case is served correctly or refused with a
vecpg error (exit code 2 on the CLI), and a refusal leaves the database unchanged."""

from __future__ import annotations

import json

import psycopg
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vecpg
from vecpg.cli import main

nasty = st.text(alphabet=st.sampled_from(list("'\";\\$%{}[]().,-_ aZz09") + ["\x00", "\u00e9", "\u2603", "\n", "\t"]),
                max_size=30)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def items(store: vecpg.Store) -> vecpg.Collection:
    coll = store.create_collection("items", dimension=3)
    coll.upsert([{"id": "keep", "content": "solar power", "embedding": [1, 0, 0], "metadata": {"k": 1}}])
    return coll


def same_json(a, b) -> bool:
    """JSON equality as jsonb keeps it: numbers compare by value (jsonb stores them as numeric)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return a == pytest.approx(b, rel=1e-15)
    return a == b and type(a) is type(b)


def snapshot(conn: psycopg.Connection) -> tuple:
    return (conn.execute("SELECT name FROM vecpg.collection ORDER BY 1").fetchall(),
            conn.execute("SELECT id, content, metadata::text FROM vecpg_data.items ORDER BY 1").fetchall(),
            conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'vecpg_data'").fetchone())


@FUZZ
@given(name=nasty)
def test_collection_names(items: vecpg.Collection, conn: psycopg.Connection, name: str) -> None:
    store = items.store
    before = snapshot(conn)
    try:
        created = store.create_collection(name, dimension=2)
    except (vecpg.InvalidArgument, vecpg.CollectionExists):
        assert snapshot(conn) == before
        return
    assert created.name == name  # only valid identifiers get this far
    store.drop_collection(name)
    assert snapshot(conn) == before


@FUZZ
@given(name=nasty)
def test_collection_names_from_sql_and_cli(items: vecpg.Collection, conn: psycopg.Connection, db_url: str, name: str) -> None:
    before = snapshot(conn)
    if "\x00" not in name:
        try:
            conn.execute("SELECT vecpg.drop_collection(%s, true)", (name,))
            conn.execute("SELECT vecpg.search(%s, '[1,0,0]', 1)", (name,))
        except psycopg.Error as exc:
            assert exc.sqlstate in ("VP001", "VP005")
    result = CliRunner().invoke(main, ["--url", db_url, "collection", "info", name])
    assert result.exit_code in (0, 2) and "Traceback" not in result.output
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(conn) == before


@FUZZ
@given(text=st.one_of(nasty, st.just("x" * 1_000_000), st.just("a & b | !c <-> 'd':*")))
def test_query_text(items: vecpg.Collection, text: str) -> None:
    for mode in ("keyword", "hybrid"):
        try:
            hits = items.search(text, k=3, mode=mode) if mode == "keyword" else []
        except vecpg.InvalidArgument:
            assert "\x00" in text or not text.strip()
            continue
        assert all(h.id == "keep" for h in hits)
    assert items.count() == 1


metadata_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), nasty),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty, inner, max_size=3),
    max_leaves=10,
)


@FUZZ
@given(metadata=st.dictionaries(nasty, metadata_values, max_size=4), content=nasty, doc_id=nasty)
def test_documents(items: vecpg.Collection, conn: psycopg.Connection, metadata, content, doc_id) -> None:
    before = snapshot(conn)
    doc = {"id": doc_id or None, "content": content, "metadata": metadata, "embedding": [0.5, 0.5, 0.5]}
    try:
        ids = items.upsert([{"id": "other", "content": "fine", "embedding": [0, 1, 0]}, doc])
    except (vecpg.InvalidDocument, vecpg.ValueRejected):
        assert snapshot(conn) == before  # the good row in the same batch was not written either
        return
    stored = items.get(ids[1])[0]
    assert stored.content == content and same_json(stored.metadata, metadata)
    items.delete(ids)
    items.upsert([{"id": "keep", "content": "solar power", "embedding": [1, 0, 0], "metadata": {"k": 1}}])


@pytest.mark.parametrize(
    "vector",
    [[float("nan")] * 3, [float("inf"), 0, 0], [1, 2], [1, 2, 3, 4], [[1, 2, 3]], ["1", "x", "3"], [], None],
)
def test_bad_vectors_are_refused_everywhere(items: vecpg.Collection, conn: psycopg.Connection, vector) -> None:
    before = snapshot(conn)
    with pytest.raises(vecpg.VecpgError):
        items.upsert([{"id": "v", "content": "x", "embedding": vector if vector is not None else "nope"}])
    with pytest.raises(vecpg.VecpgError):
        items.search(vector if vector is not None else "\x00")
    assert snapshot(conn) == before


def test_deep_and_huge_json(items: vecpg.Collection, conn: psycopg.Connection) -> None:
    before = snapshot(conn)
    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(vecpg.InvalidDocument):
        items.upsert([{"id": "deep", "embedding": [1, 1, 1], "metadata": deep}])
    with pytest.raises(vecpg.FilterError):
        items.count(deep)
    with pytest.raises(vecpg.FilterError):
        items.count("[" * 100_000 + "]" * 100_000)
    with pytest.raises(vecpg.ValueRejected):  # a tsvector holds at most 1 MB of lexemes
        items.upsert([{"id": "huge", "embedding": [1, 1, 1], "content": " ".join(f"w{i}" for i in range(300_000))}])
    assert snapshot(conn) == before
    big = "y" * 1_000_000
    items.upsert([{"id": "big", "embedding": [1, 1, 1], "metadata": {"blob": big}}])
    assert items.get("big")[0].metadata["blob"] == big


@FUZZ
@given(text=nasty, flt=st.dictionaries(nasty, st.one_of(nasty, st.integers(), st.booleans()), max_size=2))
def test_query_text_and_filters_through_sql_and_cli(items: vecpg.Collection, conn: psycopg.Connection, db_url: str,
                                                     text: str, flt) -> None:
    before = snapshot(conn)
    if "\x00" not in text and "\\u0000" not in json.dumps(flt):  # PostgreSQL text cannot hold NUL at all
        try:
            rows = conn.execute("SELECT id FROM vecpg.keyword_search('items', %s, 5, %s)", (text, json.dumps(flt)))
            assert all(r[0] == "keep" for r in rows)
        except psycopg.Error as exc:
            assert exc.sqlstate == "VP004"  # only a filter may be refused (an empty key, say)
    result = CliRunner().invoke(main, ["--url", db_url, "search", text or "x", "-c", "items", "--mode", "keyword",
                                       "--filter", json.dumps(flt), "--json"])
    assert result.exit_code in (0, 2) and "Traceback" not in (result.output + result.stderr)
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1
    else:
        assert all(h["id"] == "keep" for h in json.loads(result.output))
    assert snapshot(conn) == before
