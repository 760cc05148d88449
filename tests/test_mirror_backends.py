"""Both mirror backends, used the way the sync loop uses them: Qdrant Edge shards in a temporary
directory, and the server client in qdrant-client's local mode (no server here). No PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import qdrant_edge as qe
from qdrant_client import QdrantClient, models

from vecpg import config
from vecpg.errors import InvalidArgument, MirrorError
from vecpg.mirror.edge import EdgeBackend
from vecpg.mirror.factory import backend_from_env
from vecpg.mirror.points import MirrorPoint
from vecpg.mirror.protocol import CollectionSpec, MirrorBackend
from vecpg.mirror.server import ServerBackend

DIM = 16
N = 200
TENANTS = ("acme", "globex", None)

# Local mode says its payload indexes and search params do nothing; tests check the requests.
pytestmark = [pytest.mark.filterwarnings("ignore:Payload indexes have no effect"),
              pytest.mark.filterwarnings("ignore:Local mode performs exact")]


@dataclass
class Kind:
    """How to open a backend on some storage, reopen it, and build its native tenant filter."""

    name: str
    open: Callable[[Path], MirrorBackend]
    tenant_filter: Callable[[str], Any]


def _open_server(path: Path) -> MirrorBackend:
    return ServerBackend(client=QdrantClient(path=str(path)))


KINDS = [
    Kind("edge", EdgeBackend,
         lambda t: qe.Filter(must=[qe.FieldCondition(key="tenant_id", match=qe.MatchValue(t))])),
    Kind("server", _open_server,
         lambda t: models.Filter(must=[models.FieldCondition(key="tenant_id", match=models.MatchValue(value=t))])),
]


@pytest.fixture(params=KINDS, ids=lambda k: k.name)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    return tmp_path / "qdrant"


@pytest.fixture
def backend(kind: Kind, storage: Path) -> Iterator[MirrorBackend]:
    b = kind.open(storage)
    yield b
    b.close()
    if isinstance(b, ServerBackend):
        b.client.close()  # the test built it, so the test closes it


def doc_id(i: int) -> str:
    """Every kind of id points.py maps: plain integers, canonical UUIDs, anything else."""
    if i % 3 == 0:
        return str(i)
    if i % 3 == 1:
        return str(uuid.UUID(int=i))
    return f"doc-{i}"


def make_points(rng: np.random.Generator, n: int = N, revision: int = 1) -> list[MirrorPoint]:
    # float32 values, so what Qdrant stores (float32) is exactly what was written.
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    created = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    return [
        MirrorPoint(doc_id=doc_id(i), vector=[float(x) for x in vectors[i]], title=f"title {i}",
                    content=None if i % 5 == 0 else f"content {i} rev {revision}",
                    metadata={"color": ["red", "green", "blue"][i % 3], "n": i, "tags": ["a", str(i)]},
                    tenant_id=TENANTS[i % 3], revision=revision, created_at=created, updated_at=None)
        for i in range(n)
    ]


def as_array(points: list[MirrorPoint]) -> np.ndarray:
    return np.array([p.vector for p in points], dtype=np.float64)


def true_nearest(points: list[MirrorPoint], query: np.ndarray, k: int, distance: str) -> tuple[list[str], np.ndarray]:
    """Brute force with numpy: the k nearest ids and their Qdrant scores."""
    x = as_array(points)
    if distance == "cosine":
        scores = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (query / np.linalg.norm(query))
        order = np.argsort(-scores)
    elif distance == "ip":
        scores = x @ query
        order = np.argsort(-scores)
    else:
        scores = np.linalg.norm(x - query, axis=1)
        order = np.argsort(scores)
    top = order[:k]
    return [points[i].doc_id for i in top], scores[top]


def test_both_backends_satisfy_the_protocol(backend: MirrorBackend) -> None:
    assert isinstance(backend, MirrorBackend)


@pytest.mark.parametrize("distance", ["cosine", "l2", "ip"])
def test_upsert_count_retrieve_and_exact_search(backend: MirrorBackend, kind: Kind, distance: str) -> None:
    rng = np.random.default_rng(7)
    backend.ensure_collection(CollectionSpec("docs", DIM, distance))  # type: ignore[arg-type]
    points = make_points(rng)
    backend.upsert("docs", points[:150])
    backend.upsert("docs", points[150:])
    assert backend.count("docs") == N

    wanted = [p.doc_id for p in points[::7]] + ["not-there"]
    got = backend.retrieve("docs", wanted)
    assert set(got) == set(wanted) - {"not-there"}
    for p in points[::7]:
        vector, payload = got[p.doc_id]
        expected = np.array(p.vector)
        if distance == "cosine":  # Qdrant stores cosine vectors normalized
            expected = expected / np.linalg.norm(expected)
            np.testing.assert_allclose(vector, expected, rtol=1e-5, atol=1e-6)
        else:
            assert vector == p.vector
        assert payload == p.payload()

    for q in rng.standard_normal((5, DIM)):
        ids, scores = true_nearest(points, q, 10, distance)
        hits = backend.search("docs", q.tolist(), 10, exact=True)
        assert [h.doc_id for h in hits] == ids
        np.testing.assert_allclose([h.score for h in hits], scores, rtol=1e-4, atol=1e-5)
        assert hits[0].payload == next(p for p in points if p.doc_id == ids[0]).payload()

    # A native filter passes through: only that tenant's points, still the true nearest among them.
    acme = [p for p in points if p.tenant_id == "acme"]
    q = rng.standard_normal(DIM)
    hits = backend.search("docs", q.tolist(), 5, kind.tenant_filter("acme"), exact=True)
    assert [h.doc_id for h in hits] == true_nearest(acme, q, 5, distance)[0]
    assert {h.payload["tenant_id"] for h in hits} == {"acme"}


def test_search_without_exact_finds_a_stored_vector_first(backend: MirrorBackend) -> None:
    points = make_points(np.random.default_rng(1))
    backend.ensure_collection(CollectionSpec("docs", DIM, "l2"))
    backend.upsert("docs", points)
    hits = backend.search("docs", points[42].vector, 3)
    assert hits[0].doc_id == points[42].doc_id and hits[0].score == pytest.approx(0.0, abs=1e-4)
    with pytest.raises(InvalidArgument):
        backend.search("docs", points[0].vector, 0)


def test_searches_return_the_fields_asked_for_alone_or_in_batches(backend: MirrorBackend) -> None:
    rng = np.random.default_rng(4)
    points = make_points(rng)
    # A document id that is itself a UUIDv5 looks like a hashed one: only the payload can tell.
    own_v5 = replace(points[0], doc_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, "example.org")))
    points = [own_v5, *points[1:]]
    backend.ensure_collection(CollectionSpec("docs", DIM))
    backend.upsert("docs", points)
    queries = [p.vector for p in points[:6]] + rng.standard_normal((4, DIM)).tolist()
    everything = [backend.search("docs", q, 8, exact=True) for q in queries]
    assert everything[0][0].doc_id == own_v5.doc_id
    for fields in ((), ("title",), ("title", "content", "metadata")):
        alone = [backend.search("docs", q, 8, exact=True, fields=fields) for q in queries]
        batched = backend.search_many("docs", queries, 8, fields=fields)
        for full, one, many in zip(everything, alone, batched):
            assert [h.doc_id for h in one] == [h.doc_id for h in many] == [h.doc_id for h in full]
            assert [h.score for h in one] == pytest.approx([h.score for h in full], abs=1e-5)
            assert [h.score for h in many] == pytest.approx([h.score for h in full], abs=1e-5)
            for h, f in zip(one + many, full + full):  # a mirror without content has no "content"
                assert {k: v for k, v in h.payload.items() if k != "doc_id"} == \
                    {k: v for k, v in f.payload.items() if k in fields}
    acme = backend.search_many("docs", queries[:3], 5, native_tenant_filter(backend, "acme"), fields=())
    assert all(len(hits) == 5 for hits in acme)
    assert {h.doc_id for hits in acme for h in hits} <= {p.doc_id for p in points if p.tenant_id == "acme"}


def native_tenant_filter(backend: MirrorBackend, tenant: str) -> Any:
    kind = next(k for k in KINDS if (k.name == "edge") == isinstance(backend, EdgeBackend))
    return kind.tenant_filter(tenant)


def test_upserting_the_same_ids_overwrites(backend: MirrorBackend) -> None:
    rng = np.random.default_rng(2)
    backend.ensure_collection(CollectionSpec("docs", DIM, "l2"))
    first = make_points(rng)
    backend.upsert("docs", first)
    second = make_points(rng, revision=2)  # same ids, new vectors and payloads
    backend.upsert("docs", second)
    backend.upsert("docs", second[:10])  # a replayed batch changes nothing
    assert backend.count("docs") == N
    got = backend.retrieve("docs", [p.doc_id for p in second])
    assert all(got[p.doc_id] == (p.vector, p.payload()) for p in second)
    assert {payload["revision"] for payload in (v[1] for v in got.values())} == {2}


def test_delete_removes_only_those_ids(backend: MirrorBackend) -> None:
    points = make_points(np.random.default_rng(3))
    backend.ensure_collection(CollectionSpec("docs", DIM))
    backend.upsert("docs", points)
    gone = [p.doc_id for p in points[:30]]
    backend.delete("docs", gone + ["never-written"])
    backend.delete("docs", [])
    assert backend.count("docs") == N - 30
    assert backend.retrieve("docs", gone) == {}
    assert {s.doc_id for s in backend.scroll("docs", batch_size=17)} == {p.doc_id for p in points[30:]}
    hits = backend.search("docs", points[0].vector, N, exact=True)
    assert len(hits) == N - 30 and not set(gone) & {h.doc_id for h in hits}


def test_flushed_state_survives_reopening(kind: Kind, storage: Path) -> None:
    rng = np.random.default_rng(4)
    spec = CollectionSpec("docs", DIM, "ip", payload_indexes=("color",))
    points = make_points(rng)
    newer = make_points(rng, revision=2)[:10]
    first = kind.open(storage)
    first.ensure_collection(spec)
    first.upsert("docs", points)
    first.delete("docs", [p.doc_id for p in points[10:40]])
    first.upsert("docs", newer)
    first.flush("docs")
    expected = {p.doc_id: (p.vector, p.payload()) for p in newer + points[40:]}
    before = {s.doc_id: (s.vector, s.payload) for s in first.scroll("docs")}
    assert before == expected
    first.close()
    if isinstance(first, ServerBackend):
        first.client.close()

    again = kind.open(storage)
    try:
        assert again.count("docs") == len(expected)
        assert {s.doc_id: (s.vector, s.payload) for s in again.scroll("docs")} == expected
        again.ensure_collection(spec)  # the same spec again: accepted, nothing lost
        assert again.count("docs") == len(expected)
    finally:
        again.close()
        if isinstance(again, ServerBackend):
            again.client.close()


def test_edge_flush_is_what_survives_a_crash(storage: Path) -> None:
    # A child process writes, flushes, writes more, and dies without closing anything: the
    # flushed state must be there on reopening. Of the unflushed writes nothing is promised
    # (0.9.0 replays its log after a process crash, which says nothing about a power cut).
    child = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import numpy as np
        from test_mirror_backends import make_points, CollectionSpec, EdgeBackend, DIM
        points = make_points(np.random.default_rng(11))
        backend = EdgeBackend({str(storage)!r})
        backend.ensure_collection(CollectionSpec("docs", DIM, "l2"))
        backend.upsert("docs", points[:150])
        backend.delete("docs", [p.doc_id for p in points[:20]])
        backend.flush("docs")
        backend.upsert("docs", points[150:])
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", child], check=True, timeout=60)
    points = make_points(np.random.default_rng(11))
    flushed = {p.doc_id: (p.vector, p.payload()) for p in points[20:150]}
    with EdgeBackend(storage) as backend:
        state = {s.doc_id: (s.vector, s.payload) for s in backend.scroll("docs")}
    assert {d: v for d, v in state.items() if d in flushed} == flushed
    assert set(state) - set(flushed) <= {p.doc_id for p in points[150:]}


def test_a_spec_with_another_dimension_or_distance_is_refused(backend: MirrorBackend) -> None:
    spec = CollectionSpec("docs", DIM, "cosine")
    backend.ensure_collection(spec)
    backend.upsert("docs", make_points(np.random.default_rng(5), n=3))
    with pytest.raises(MirrorError, match="docs"):
        backend.ensure_collection(replace(spec, dimension=DIM + 1))
    with pytest.raises(MirrorError, match="docs"):
        backend.ensure_collection(replace(spec, distance="l2"))
    backend.ensure_collection(spec)  # the refusals changed nothing
    assert backend.count("docs") == 3


def test_drop_collection(backend: MirrorBackend) -> None:
    backend.ensure_collection(CollectionSpec("docs", DIM))
    backend.upsert("docs", make_points(np.random.default_rng(6), n=5))
    backend.drop_collection("docs")
    backend.drop_collection("docs")  # already gone: nothing happens
    backend.ensure_collection(CollectionSpec("docs", DIM + 2, "l2"))  # the name is free again
    assert backend.count("docs") == 0


def test_edge_payload_indexes_are_created_and_kept(storage: Path) -> None:
    spec = CollectionSpec("docs", DIM, payload_indexes=("color", "author.name"))
    with EdgeBackend(storage) as backend:
        backend.ensure_collection(spec)
        backend.upsert("docs", make_points(np.random.default_rng(8), n=30))
        schema = backend.info("docs").payload_schema
        assert set(schema) == {"doc_id", "tenant_id", "metadata.color", "metadata.author.name"}
        assert {i.data_type for i in schema.values()} == {qe.PayloadSchemaType.Keyword}
        assert schema["metadata.color"].points == 30 and schema["tenant_id"].points == 20  # a third have none
        backend.flush("docs")
    with EdgeBackend(storage) as backend:
        assert set(backend.info("docs").payload_schema) == set(spec.index_fields())


def test_server_requests_the_payload_indexes(storage: Path) -> None:
    # Local mode keeps no payload indexes, so check what the backend asks the client for.
    client = QdrantClient(path=str(storage))
    spec = CollectionSpec("docs", DIM, payload_indexes=("color",))
    with mock.patch.object(client, "create_payload_index") as create_index:
        ServerBackend(client=client).ensure_collection(spec)
    client.close()
    fields = {c.args[1]: c.kwargs["field_schema"] for c in create_index.call_args_list}
    assert set(fields) == {"doc_id", "tenant_id", "metadata.color"}
    assert all(s.type == models.KeywordIndexType.KEYWORD for s in fields.values())
    assert fields["tenant_id"].is_tenant is True


def test_int8_quantization_is_accepted(backend: MirrorBackend) -> None:
    points = make_points(np.random.default_rng(9))
    backend.ensure_collection(CollectionSpec("docs", DIM, "cosine", quantization="int8", quantile=0.95))
    backend.upsert("docs", points)
    if isinstance(backend, EdgeBackend):
        backend.optimize("docs")  # builds the quantized segments the search then reads
    q = np.random.default_rng(10).standard_normal(DIM)
    hits = backend.search("docs", q.tolist(), 10, exact=True)
    assert [h.doc_id for h in hits] == true_nearest(points, q, 10, "cosine")[0]
    assert backend.search("docs", points[3].vector, 1)[0].doc_id == points[3].doc_id


def test_server_creates_with_the_spec_settings(storage: Path) -> None:
    client = QdrantClient(path=str(storage))
    spec = CollectionSpec("docs", DIM, "l2", hnsw_m=32, hnsw_ef_construct=100, quantization="int8",
                          quantile=0.9, always_ram=False)
    with mock.patch.object(client, "create_collection") as create, mock.patch.object(client, "create_payload_index"):
        ServerBackend(client=client).ensure_collection(spec)
    client.close()
    kwargs = create.call_args.kwargs
    assert kwargs["vectors_config"] == models.VectorParams(size=DIM, distance=models.Distance.EUCLID)
    assert (kwargs["hnsw_config"].m, kwargs["hnsw_config"].ef_construct) == (32, 100)
    scalar = kwargs["quantization_config"].scalar
    assert (scalar.type, scalar.quantile, scalar.always_ram) == (models.ScalarType.INT8, 0.9, False)


def test_edge_indexes_points_written_after_its_last_build(storage: Path) -> None:
    """Edge runs no optimizer of its own: maintain() builds HNSW once OPTIMIZE_AFTER points wait."""
    from vecpg.mirror import edge

    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((edge.OPTIMIZE_AFTER, 384)).astype(np.float32)
    points = [MirrorPoint(doc_id=str(i), vector=vectors[i].tolist(), title=None, content=None, metadata={},
                          tenant_id=None, revision=1, created_at=None, updated_at=None) for i in range(len(vectors))]
    with EdgeBackend(storage) as backend:
        backend.ensure_collection(CollectionSpec(name="docs", dimension=384))
        half = len(points) // 2
        backend.upsert("docs", points[:half])
        assert not backend.maintain("docs")
        backend.upsert("docs", points[half:])
        assert backend.info("docs").indexed_vectors_count == 0
        assert backend.maintain("docs")
        assert backend.info("docs").indexed_vectors_count == len(points)
        assert not backend.maintain("docs")  # nothing new since


def test_a_collection_that_was_never_created(storage: Path) -> None:
    with EdgeBackend(storage) as backend, pytest.raises(MirrorError, match="ensure_collection"):
        backend.count("nothing")
    with ServerBackend(client=QdrantClient(":memory:")) as backend, pytest.raises(MirrorError, match="nothing"):
        backend.count("nothing")


def test_an_unreachable_server_is_a_mirror_error() -> None:
    # Port 9 (discard) has no Qdrant: the refused connection comes back as MirrorError, not httpx's.
    with ServerBackend("http://127.0.0.1:9") as backend:
        for call in (lambda: backend.count("docs"), lambda: list(backend.scroll("docs")),
                     lambda: backend.search("docs", [0.0] * DIM, 3)):
            with pytest.raises(MirrorError, match="127.0.0.1:9"):
                call()


@pytest.mark.parametrize("bad", [{"name": "../up"}, {"name": "Docs"}, {"dimension": 0}, {"distance": "euclid"},
                                 {"quantization": "int4"}, {"quantile": 0.2}])
def test_a_malformed_spec_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        CollectionSpec(**{"name": "docs", "dimension": DIM, **bad})


def test_spec_indexes_metadata_keys_under_metadata() -> None:
    spec = CollectionSpec("docs", 3, payload_indexes=["color", "doc_id"])  # type: ignore[arg-type]
    assert spec.payload_indexes == ("color", "doc_id") and hash(spec)
    assert spec.index_fields() == ("doc_id", "tenant_id", "metadata.color", "metadata.doc_id")


def test_backend_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(config.QDRANT_URL_ENV, raising=False)
    monkeypatch.delenv(config.QDRANT_PATH_ENV, raising=False)
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "home"))
    assert config.qdrant_path() == tmp_path / "home" / "qdrant"
    monkeypatch.setenv(config.QDRANT_PATH_ENV, str(tmp_path / "shards"))
    edge = backend_from_env()
    assert isinstance(edge, EdgeBackend) and edge.root == tmp_path / "shards" and edge.root.is_dir()
    edge.close()

    monkeypatch.setenv(config.QDRANT_URL_ENV, "http://qdrant.invalid:6333")
    monkeypatch.setenv(config.QDRANT_API_KEY_ENV, "secret")
    with mock.patch("vecpg.mirror.server.QdrantClient") as client:
        server = backend_from_env()
    assert isinstance(server, ServerBackend)
    client.assert_called_once_with(url="http://qdrant.invalid:6333", api_key="secret")
    server.close()
    client.return_value.close.assert_called_once()
