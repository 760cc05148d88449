"""vecpg.connect() and the store's collection management."""

from __future__ import annotations

import psycopg
import pytest

import vecpg


def test_create_get_list_and_drop_collections(store: vecpg.Store) -> None:
    items = store.create_collection("items", dimension=3, distance="l2")
    assert (items.name, items.dimension, items.distance, items.model) == ("items", 3, "l2", None)
    assert store.collection("items").info == items.info
    store.create_collection("other", dimension=8)
    assert [c.name for c in store.list_collections()] == ["items", "other"]

    assert store.drop_collection("items") is True
    with pytest.raises(vecpg.CollectionNotFound):
        store.collection("items")
    assert store.drop_collection("items", missing_ok=True) is False
    with pytest.raises(vecpg.CollectionNotFound):
        store.drop_collection("items")


def test_get_collection_is_collection_by_its_other_name(store: vecpg.Store) -> None:
    items = store.create_collection("items", dimension=3)
    found = store.get_collection("items")
    assert isinstance(found, vecpg.Collection) and found.info == items.info
    assert [c.name for c in store.list_collections()] == ["items"]
    with pytest.raises(vecpg.CollectionNotFound, match='"missing" does not exist'):
        store.get_collection("missing")


def test_collection_without_dimension_takes_the_models(store: vecpg.Store, embedder: vecpg.Embedder) -> None:
    docs = store.create_collection("docs")
    assert docs.dimension == 384
    assert docs.model == vecpg.DEFAULT_MODEL
    short = store.create_collection("short_name", model="all-MiniLM-L6-v2")
    assert short.model == vecpg.DEFAULT_MODEL


def test_get_or_create_returns_the_existing_collection(store: vecpg.Store) -> None:
    first = store.get_or_create_collection("items", dimension=3)
    first.upsert([{"id": "a", "embedding": [1, 2, 3]}])
    again = store.get_or_create_collection("items", dimension=3)
    assert again.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"name": "Bad-Name", "dimension": 3}, vecpg.InvalidArgument),
        ({"name": "x; DROP TABLE vecpg.collection", "dimension": 3}, vecpg.InvalidArgument),
        ({"name": "a" * 64, "dimension": 3}, vecpg.InvalidArgument),
        ({"name": "ok", "dimension": 0}, vecpg.InvalidArgument),
        ({"name": "ok", "dimension": 20000}, vecpg.InvalidArgument),
        ({"name": "ok", "dimension": 3, "distance": "hamming"}, vecpg.InvalidArgument),
    ],
)
def test_bad_collection_definitions_are_refused(store: vecpg.Store, kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        store.create_collection(**kwargs)
    assert store.list_collections() == []


def test_duplicate_collection(store: vecpg.Store) -> None:
    store.create_collection("items", dimension=3)
    with pytest.raises(vecpg.CollectionExists, match="already exists"):
        store.create_collection("items", dimension=3)


def test_collections_from_sql_are_visible_to_python(store: vecpg.Store, conn: psycopg.Connection) -> None:
    conn.execute("SELECT vecpg.create_collection('from_sql', 4, 'ip')")
    assert store.collection("from_sql").distance == "ip"


def test_connect_refuses_an_unmigrated_database(blank_db_url: str) -> None:
    with pytest.raises(vecpg.NotMigrated, match="vecpg migrate"):
        vecpg.connect(blank_db_url)
    with vecpg.connect(blank_db_url, migrate_schema=True) as store:
        assert store.list_collections() == []


def test_connect_reports_an_unreachable_database() -> None:
    with pytest.raises(vecpg.VecpgError, match="cannot connect"):
        vecpg.connect("postgresql://nobody@/nowhere?host=/nonexistent-socket-dir")
