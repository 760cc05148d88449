"""The mirror on a Qdrant cluster (docs/qdrant-cluster.md): shards, replicas and shard keys from
the collection's mirror settings. No Qdrant server runs here: qdrant-client's local mode shows
what it accepts, and the request objects the backend builds are checked field by field."""

from __future__ import annotations

from unittest import mock

import psycopg
import pytest
from qdrant_client import QdrantClient, models

from vecpg.errors import InvalidArgument, MirrorError
from vecpg.mirror.cluster import SHARED_KEY, ClusterSettings, shard_key, shard_key_request
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
