"""The mirror on a Qdrant cluster (docs/qdrant-cluster.md): shards, replicas and shard keys from
the collection's mirror settings. No Qdrant server runs here: qdrant-client's local mode shows
what it accepts, and the request objects the backend builds are checked field by field."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import psycopg
import pytest
from qdrant_client import QdrantClient, models

from vecpg.errors import InvalidArgument, MirrorError
from vecpg.mirror.cluster import SHARED_KEY, ClusterSettings, search_keys, shard_key, shard_key_request
from vecpg.mirror.protocol import CollectionSpec
from vecpg.mirror.server import ServerBackend
from vecpg.mirror.sync import spec_for, sync
from vecpg.mirror.verify import verify

CLUSTER = {"shard_number": 6, "replication_factor": 2, "write_consistency_factor": 2}


@pytest.fixture
def docs(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("SELECT vecpg.create_collection('docs', 4)")
    conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding, tenant_id) VALUES "
                 "('a', 'one', '[1,0,0,0]', 'acme'), ('b', 'two', '[0,1,0,0]', 'globex'), ('c', 'three', '[0,0,1,0]', NULL)")
    return conn


def test_the_cluster_settings_are_mirror_settings_and_reach_the_spec(docs: psycopg.Connection) -> None:
    docs.execute("SELECT vecpg.enable_mirror('docs', %s)", (psycopg.types.json.Jsonb({**CLUSTER, "m": 32}),))
    settings = docs.execute("SELECT settings FROM vecpg.mirror WHERE collection = 'docs'").fetchone()[0]
    spec = spec_for(docs, "docs", settings)
    assert spec.cluster == ClusterSettings(shard_number=6, replication_factor=2, write_consistency_factor=2)
    assert spec.hnsw_m == 32


@pytest.mark.parametrize("bad", [{"write_consistency_factor": 3, "replication_factor": 2},
                                 {"write_consistency_factor": 2},  # one replica by default
                                 {"shard_number": 0}, {"replication_factor": 1.5},
                                 {"shard_by_tenant": "yes"}, {"shards": 3}])
def test_the_database_refuses_a_layout_qdrant_would_refuse(docs: psycopg.Connection, bad: dict) -> None:
    with pytest.raises(psycopg.Error) as caught:
        docs.execute("SELECT vecpg.enable_mirror('docs', %s)", (psycopg.types.json.Jsonb(bad),))
    assert caught.value.sqlstate == "VP005"


@pytest.mark.parametrize("bad", [{"write_consistency_factor": 3, "replication_factor": 2},
                                 {"shard_number": 0}, {"replication_factor": True}, {"shard_by_tenant": 1}])
def test_python_refuses_the_same(bad: dict) -> None:
    with pytest.raises(InvalidArgument):
        ClusterSettings(**bad)


def test_the_create_collection_request_carries_the_layout() -> None:
    vectors = models.VectorParams(size=4, distance=models.Distance.COSINE)
    request = ClusterSettings(**CLUSTER).creation_request(vectors)
    assert isinstance(request, models.CreateCollection)
    body = request.model_dump(exclude_none=True, mode="json")
    assert body == {"vectors": {"size": 4, "distance": "Cosine"}, **CLUSTER}
    by_tenant = ClusterSettings(shard_number=2, shard_by_tenant=True).creation_request(vectors)
    assert by_tenant.model_dump(exclude_none=True, mode="json")["sharding_method"] == "custom"
    # Nothing set, nothing sent: Qdrant keeps its own defaults.
    assert ClusterSettings().collection_args() == {}


def test_shard_keys_by_tenant() -> None:
    assert shard_key("acme") == "acme"
    assert shard_key(None) == SHARED_KEY == 0  # an integer: no tenant name can collide with it
    assert shard_key_request("acme").model_dump(exclude_none=True) == {"shard_key": "acme"}
    # The selectors qdrant-client takes on upsert, delete and search: a key or a list of keys.
    assert models.CreateShardingKey(shard_key=SHARED_KEY).shard_key == 0
    for selector in ("acme", 0, ["acme", 0]):
        models.PointIdsList(points=[1], shard_key=selector)


def test_the_server_backend_asks_for_the_layout() -> None:
    client = QdrantClient(":memory:")
    spec = CollectionSpec("docs", 4, cluster=ClusterSettings(**CLUSTER))
    with mock.patch.object(client, "create_collection", wraps=client.create_collection) as create:
        ServerBackend(client=client).ensure_collection(spec)
    assert {k: create.call_args.kwargs[k] for k in CLUSTER} == CLUSTER
    assert "sharding_method" not in create.call_args.kwargs


def test_local_mode_accepts_the_layout_ignores_it_and_the_mirror_stays_whole(docs: psycopg.Connection) -> None:
    docs.execute("SELECT vecpg.enable_mirror('docs', %s)", (psycopg.types.json.Jsonb(CLUSTER),))
    with ServerBackend(client=QdrantClient(":memory:")) as backend:
        assert sync(docs, backend) == 1  # the full copy
        params = backend.client.get_collection("docs").config.params
        assert (params.shard_number, params.replication_factor) == (None, None)  # one local shard
        docs.execute("UPDATE vecpg_data.docs SET content = 'uno' WHERE id = 'a'")
        sync(docs, backend)
        result = verify(docs, backend, "docs")
        assert result.ok and result.qdrant_count == 3


def test_shard_by_tenant_is_refused_where_qdrant_cannot_shard_by_key(docs: psycopg.Connection) -> None:
    docs.execute("""SELECT vecpg.enable_mirror('docs', '{"shard_by_tenant": true}')""")
    client = QdrantClient(":memory:")
    with pytest.raises(NotImplementedError, match="Sharding is not supported"):
        client.create_shard_key("x", "acme")  # local mode's own answer, for the record
    with ServerBackend(client=client) as backend, pytest.raises(MirrorError, match="not sharded by key"):
        sync(docs, backend)
    assert docs.execute("SELECT count(*) FROM vecpg.mirror_outbox").fetchone()[0] == 1  # kept for a retry


def test_a_search_asks_only_the_shard_keys_of_the_callers_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    """A collection sharded by tenant is searched on the caller's keys alone (its tenant's, and the
    shared one when rows without a tenant are shared), never on every shard: local mode cannot
    shard, so the client's answers about sharding are given and its requests read."""
    assert search_keys("acme", False) == ["acme"] and search_keys("acme", True) == ["acme", SHARED_KEY]
    assert search_keys(None, True) == [SHARED_KEY]
    client = QdrantClient(":memory:")
    backend = ServerBackend(client=client)
    sharded = SimpleNamespace(config=SimpleNamespace(params=SimpleNamespace(sharding_method=models.ShardingMethod.CUSTOM)))
    listing = SimpleNamespace(shard_keys=[SimpleNamespace(key="acme"), SimpleNamespace(key=SHARED_KEY)])
    empty = SimpleNamespace(points=[])
    with mock.patch.object(client, "get_collection", return_value=sharded), \
            mock.patch.object(client, "list_shard_keys", return_value=listing) as listed, \
            mock.patch.object(client, "query_points", return_value=empty) as query, \
            mock.patch.object(client, "query_batch_points", return_value=[empty, empty]) as batch:
        backend.search("docs", [1, 0, 0, 0], 3, shard_keys=search_keys("acme", True))
        assert query.call_args.kwargs["shard_key_selector"] == ["acme", SHARED_KEY]
        backend.search_many("docs", [[1, 0, 0, 0], [0, 1, 0, 0]], 3, shard_keys=search_keys("acme", False))
        assert [r.shard_key for r in batch.call_args.kwargs["requests"]] == [["acme"], ["acme"]]
        # A tenant without a key has no point: nothing is asked, and the keys are listed again
        # only once KEYS_TTL has passed (another process's sync makes a key with its first point).
        assert backend.search("docs", [1, 0, 0, 0], 3, shard_keys=["globex"]) == []
        assert query.call_count == 1 and listed.call_count == 1
        listing.shard_keys.append(SimpleNamespace(key="globex"))
        monkeypatch.setattr("vecpg.mirror.server.KEYS_TTL", 0.0)
        backend.search("docs", [1, 0, 0, 0], 3, shard_keys=["globex"])
        assert query.call_args.kwargs["shard_key_selector"] == ["globex"] and listed.call_count == 2
    # A collection that is not sharded by key is asked whole.
    other = ServerBackend(client=QdrantClient(":memory:"))
    other.ensure_collection(CollectionSpec("plain", 4))
    with mock.patch.object(other.client, "query_points", wraps=other.client.query_points) as query:
        assert other.search("plain", [1, 0, 0, 0], 3, shard_keys=["acme"]) == []
    assert query.call_args.kwargs["shard_key_selector"] is None
