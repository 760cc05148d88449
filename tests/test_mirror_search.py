"""Searching through the Qdrant mirror: the same results as PostgreSQL's exact search, the same
filters and fields, alone or in batches, the caller's tenant enforced, and PostgreSQL again when
the mirror lags beyond the documented bound."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import vecpg
from vecpg.cli import main
from vecpg.mirror.search import FIELDS, STATE_TTL, mirror_search, mirror_search_many


def fill_and_mirror(store: vecpg.Store) -> vecpg.Collection:
    docs = store.create_collection("docs", dimension=4)
    rng = random.Random(3)
    docs.upsert([{"id": f"d{i}", "title": f"title {i}", "content": f"text {i}",
                  "embedding": [rng.uniform(-1, 1) for _ in range(4)],
                  "metadata": {"n": i, "tags": ["even" if i % 2 == 0 else "odd"]}} for i in range(60)])
    docs.enable_mirror()
    assert docs.sync_mirror() == 1
    return docs


@pytest.fixture
def mirrored(store: vecpg.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> vecpg.Collection:
    monkeypatch.setenv("VECPG_QDRANT_PATH", str(tmp_path / "qdrant"))
    monkeypatch.delenv("VECPG_QDRANT_URL", raising=False)
    return fill_and_mirror(store)


@pytest.fixture(params=["edge", "server"])
def mirrored_on(request: pytest.FixtureRequest, store: vecpg.Store, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[vecpg.Collection]:
    """The collection mirrored to Qdrant Edge, or to a Qdrant server (qdrant-client's local mode)."""
    monkeypatch.setenv("VECPG_QDRANT_PATH", str(tmp_path / "qdrant"))
    monkeypatch.delenv("VECPG_QDRANT_URL", raising=False)
    if request.param == "edge":
        yield fill_and_mirror(store)
        return
    from qdrant_client import QdrantClient

    from vecpg.mirror.server import ServerBackend

    client = QdrantClient(path=str(tmp_path / "server"))
    store.set_mirror_backend(ServerBackend(client=client))
    yield fill_and_mirror(store)
    client.close()


QUERIES = [np.array(v) for v in ([0.3, -0.2, 0.9, 0.1], [-1, 0.5, 0, 0.2], [0.1, 0.1, 0.1, -0.9])]


@pytest.mark.parametrize("filter", [None, {"n": {"$gte": 20}}, {"tags": {"$contains": "odd"}},
                                    {"$or": [{"n": {"$lt": 5}}, {"id": {"$in": ["d40", "d41"]}}]}])
def test_the_mirror_finds_what_postgres_finds(mirrored: vecpg.Collection, filter) -> None:
    for q in QUERIES:
        ours = mirrored.search(q, k=10, filter=filter)  # exact: no vector index in PostgreSQL
        theirs = mirrored.search(q, k=10, filter=filter, backend="qdrant")
        assert [h.id for h in theirs] == [h.id for h in ours]
        assert np.allclose([h.score for h in theirs], [h.score for h in ours], atol=1e-5)
        assert theirs[0].content == ours[0].content and theirs[0].metadata == ours[0].metadata


def test_a_lagging_mirror_falls_back_to_postgres_or_fails(mirrored: vecpg.Collection, store: vecpg.Store) -> None:
    mirrored.upsert([{"id": "fresh", "content": "new", "embedding": [0.3, -0.2, 0.9, 0.1]}])
    store.mirror_max_lag = 0.0
    assert mirrored.search(QUERIES[0], k=1, backend="qdrant")[0].id == "fresh"  # from PostgreSQL
    store.mirror_fallback = "error"
    with pytest.raises(vecpg.MirrorError, match="lags"):
        mirrored.search(QUERIES[0], k=1, backend="qdrant")
    assert mirrored.sync_mirror() == 1
    assert mirrored.search(QUERIES[0], k=1, backend="qdrant")[0].id == "fresh"  # from Qdrant, caught up


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect", "ignore:Local mode performs exact")
@pytest.mark.parametrize("include", [(), ("title",), ("content", "metadata"), None])
def test_the_mirror_returns_the_fields_asked_for(mirrored_on: vecpg.Collection, include) -> None:
    for q in QUERIES:
        ours = mirrored_on.search(q, k=10, include=include)
        theirs = mirrored_on.search(q, k=10, include=include, backend="qdrant")
        assert [(h.id, h.title, h.content, h.metadata) for h in theirs] == \
            [(h.id, h.title, h.content, h.metadata) for h in ours]
        assert np.allclose([h.distance for h in theirs], [h.distance for h in ours], atol=1e-5)
    if include == ():
        assert theirs[0].title is None and theirs[0].content == "" and theirs[0].metadata == {}


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect", "ignore:Local mode performs exact")
@pytest.mark.parametrize("filter", [{}, {"tags": {"$contains": "odd"}}])
def test_a_batch_through_the_mirror_is_each_search_through_it(mirrored_on: vecpg.Collection, filter) -> None:
    queries = np.array(QUERIES + [np.array([0.5, 0.5, -0.5, 0.5])])
    for fields in ((), ("metadata",), FIELDS):
        batch = mirror_search_many(mirrored_on, queries, 7, filter, fields)
        assert batch == [mirror_search(mirrored_on, q, 7, filter, fields) for q in queries]
        assert [[h.id for h in hits] for hits in batch] == \
            [[h.id for h in mirrored_on.search(q, k=7, filter=filter)] for q in queries]
    assert mirror_search_many(mirrored_on, queries[:0], 7, filter) == []


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect", "ignore:Local mode performs exact")
def test_search_many_and_the_search_service_go_through_the_mirror(mirrored_on: vecpg.Collection,
                                                                  store: vecpg.Store) -> None:
    queries = np.array(QUERIES)
    through = mirrored_on.search_many(queries, 5, backend="qdrant", filter={"tags": {"$contains": "odd"}})
    assert through == mirror_search_many(mirrored_on, queries, 5, {"tags": {"$contains": "odd"}})
    service = vecpg.SearchService(mirrored_on, mode="vector", k=3, backend="qdrant")
    assert [[h.id for h in hits] for hits in service.search_many(list(queries))] == \
        [[h.id for h in hits] for hits in mirrored_on.search_many(queries, 3)]
    with pytest.raises(vecpg.InvalidArgument, match="stored vectors"):
        mirrored_on.search_many(queries, 5, backend="qdrant", vectors=True)
    with pytest.raises(vecpg.InvalidArgument, match="without tuning options"):
        mirrored_on.search_many(queries, 5, backend="qdrant", ef_search=50)
    # A mirror that is behind leaves the batch to PostgreSQL, as single searches do.
    mirrored_on.upsert([{"id": "fresh", "content": "new", "embedding": [0.3, -0.2, 0.9, 0.1]}])
    store.mirror_max_lag = 0.0
    assert mirrored_on.search_many(queries, 20, backend="qdrant")[0] == mirrored_on.search_many(queries, 20)[0]


def test_a_lagging_mirror_sends_batches_to_postgres_or_fails(mirrored: vecpg.Collection, store: vecpg.Store) -> None:
    mirrored.upsert([{"id": "fresh", "content": "new", "embedding": [0.3, -0.2, 0.9, 0.1]}])
    store.mirror_max_lag = 0.0
    assert mirror_search_many(mirrored, QUERIES, 3, {}) is None  # the caller asks PostgreSQL
    store.mirror_fallback = "error"
    with pytest.raises(vecpg.MirrorError, match="lags"):
        mirror_search_many(mirrored, QUERIES, 3, {})
    mirrored.sync_mirror()
    assert mirror_search_many(mirrored, QUERIES, 3, {})[0][0].id == "fresh"


def test_a_mirror_falling_behind_is_left_within_the_documented_bound(mirrored: vecpg.Collection,
                                                                      store: vecpg.Store) -> None:
    """docs/mirror.md: a search through the mirror misses no change older than max_lag plus the
    interval its state is trusted for, min(max_lag, STATE_TTL); max_lag 0 asks every time."""
    store.mirror_max_lag = 0.3
    store.mirror_fallback = "error"
    assert mirrored.search(QUERIES[0], k=1, backend="qdrant")  # current: its state is now trusted a while
    mirrored.upsert([{"id": "fresh", "content": "new", "embedding": [0.3, -0.2, 0.9, 0.1]}])
    time.sleep(0.3 + min(0.3, STATE_TTL) + 0.05)
    with pytest.raises(vecpg.MirrorError, match="lags"):
        mirrored.search(QUERIES[0], k=1, backend="qdrant")
    store.mirror_fallback = "postgres"
    assert mirrored.search(QUERIES[0], k=1, backend="qdrant")[0].id == "fresh"  # from PostgreSQL

    mirrored.sync_mirror()
    store.mirror_max_lag = 0.0
    assert mirrored.search(QUERIES[0], k=1, backend="qdrant")[0].id == "fresh"  # the mirror, current
    mirrored.upsert([{"id": "fresher", "content": "newer", "embedding": QUERIES[1]}])
    assert mirrored.search(QUERIES[1], k=1, backend="qdrant")[0].id == "fresher"  # asked again: PostgreSQL


def test_filters_qdrant_cannot_say_are_refused(mirrored: vecpg.Collection) -> None:
    with pytest.raises(vecpg.FilterError, match="exists"):
        mirrored.search(QUERIES[0], k=3, filter={"n": {"$exists": True}}, backend="qdrant")
    with pytest.raises(vecpg.InvalidArgument):
        mirrored.search("text", k=3, mode="keyword", backend="qdrant")
    with pytest.raises(vecpg.InvalidArgument):
        mirrored.search(QUERIES[0], k=3, ef_search=100, backend="qdrant")


def test_tenants_see_only_their_points(store: vecpg.Store, logins: dict[str, str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VECPG_QDRANT_PATH", str(tmp_path / "qdrant"))
    monkeypatch.delenv("VECPG_QDRANT_URL", raising=False)
    docs = store.create_collection("docs", dimension=2)
    with vecpg.connect(logins["writer"], pool_size=1) as writer:
        writer.set_mirror_backend(store.mirror_backend())  # one Edge shard per process
        for tenant in ("a", "b"):
            writer.collection("docs").upsert([{"id": f"{tenant}{i}", "content": tenant, "embedding": [1, i]}
                                              for i in range(3)], tenant=tenant)
        docs.upsert([{"id": "shared", "content": "for all", "embedding": [1, 0]}])
        with store.connection() as conn:
            conn.execute("SELECT vecpg.set_shared_rows('docs', true)")
        docs.enable_mirror()
        docs.sync_mirror()  # the superuser's store copies every tenant's rows
        coll = writer.collection("docs")
        widen = {"$or": [{"tenant_id": "b"}, {"n": {"$ne": 1}}]}
        for tenant, own in (("a", {"a0", "a1", "a2"}), ("b", {"b0", "b1", "b2"})):
            for flt in (None, widen):
                hits = coll.search([1, 0], k=20, filter=flt, backend="qdrant", tenant=tenant)
                assert {h.id for h in hits} == own | {"shared"}
                assert {h.id for h in hits} == {h.id for h in coll.search([1, 0], k=20, filter=flt, tenant=tenant)}
        assert {h.id for h in coll.search([1, 0], k=20, backend="qdrant")} == {"shared"}  # no tenant


def test_search_through_the_mirror_from_the_command_line(store: vecpg.Store, db_url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, embedder) -> None:
    monkeypatch.setenv("VECPG_QDRANT_PATH", str(tmp_path / "qdrant"))
    monkeypatch.delenv("VECPG_QDRANT_URL", raising=False)
    notes = store.create_collection("notes")  # all-MiniLM-L6-v2
    notes.upsert([{"id": "tide", "content": "The moon pulls the tides."},
                  {"id": "bread", "content": "Sourdough needs a hot oven."}])
    notes.enable_mirror()
    notes.sync_mirror()
    store.close()  # the command opens the Edge shard itself: one process at a time

    def ids(backend: str) -> list[str]:
        result = CliRunner().invoke(main, ["--url", db_url, "search", "why are there tides", "-c", "notes",
                                           "--backend", backend, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return [hit["id"] for hit in json.loads(result.output)]

    assert ids("qdrant") == ids("postgres") == ["tide", "bread"]
