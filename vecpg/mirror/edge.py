"""The mirror in this process: one Qdrant Edge shard directory per collection under a root.

Qdrant Edge does not replay an unflushed write-ahead log when it loads a shard, so a write is
durable only once :meth:`EdgeBackend.flush` returns; :meth:`EdgeBackend.close` flushes too.
A shard directory can be open in one process at a time (the log is locked).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import qdrant_edge as qe

from vecpg import config
from vecpg.errors import MirrorError

from .points import DOC_ID, TENANT, MirrorPoint, doc_id_of, point_id
from .protocol import CollectionSpec, Fields, Hit, Payload, StoredPoint, Vector, check_k, check_name

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

_DISTANCE = {"cosine": qe.Distance.Cosine, "l2": qe.Distance.Euclid, "ip": qe.Distance.Dot}
# Qdrant's default: segments below this many KB are searched by a full scan, not HNSW.
_FULL_SCAN_THRESHOLD_KB = 10_000
# Points written since the last HNSW build that make maintain() build again. Edge has no
# background optimizer: without this, points the sync adds after a full copy would be searched
# by brute force forever. A build blocks the sync for seconds (4 s for 10,000 new 384-d points
# beside 20,000 indexed ones), so not after every batch.
OPTIMIZE_AFTER = 10_000


def _config(spec: CollectionSpec) -> qe.EdgeConfig:
    quantization = None
    if spec.quantization == "int8":
        quantization = qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, quantile=spec.quantile,
                                                   always_ram=spec.always_ram)
    return qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=spec.dimension, distance=_DISTANCE[spec.distance]),
        hnsw_config=qe.HnswIndexConfig(m=spec.hnsw_m, ef_construct=spec.hnsw_ef_construct,
                                       full_scan_threshold=_FULL_SCAN_THRESHOLD_KB),
        quantization_config=quantization,
    )


def _index_schema(field: str) -> qe.KeywordIndexParams:
    # is_tenant lets Qdrant keep each tenant's points together, which filtered search rewards.
    return qe.KeywordIndexParams(is_tenant=True) if field == TENANT else qe.KeywordIndexParams()


def _selector(fields: Fields) -> bool | list[str]:
    if fields is None:
        return True
    return [DOC_ID, *fields] if fields else False


# Hit(...) runs a Python-level __new__; this is the same tuple built in C (a search makes k of them).
_hit: Callable[[tuple[str | None, float, Payload]], Hit] = partial(tuple.__new__, Hit)  # type: ignore[assignment]


def _hits(shard: qe.EdgeShard, results: list[list[qe.ScoredPoint]], fields: Fields) -> list[list[Hit]]:
    """Scored points as hits. Without payload, the document ids point ids cannot give are read
    from those points' payloads in one retrieve; call with the lock held, so that nothing has
    changed since the query."""
    if fields is None or fields:
        return [[_hit((p[DOC_ID], s.score, p)) for s in scored if (p := s.payload)] for scored in results]
    unknown: list[qe.PointId] = []
    hits = []
    for scored in results:
        row = []
        for s in scored:
            pid = s.id
            doc_id = str(pid) if type(pid) is int else doc_id_of(pid)  # the common case inline: it is per hit
            if doc_id is None:
                unknown.append(pid)
            row.append(_hit((doc_id, s.score, {})))
        hits.append(row)
    if not unknown:
        return hits
    names = {r.id: r.payload[DOC_ID] for r in shard.retrieve(unknown, [DOC_ID], False) if r.payload}
    return [[h._replace(doc_id=names[s.id]) if h.doc_id is None else h
             for s, h in zip(scored, row) if h.doc_id is not None or s.id in names]
            for scored, row in zip(results, hits)]


def _query(vector: Sequence[float]) -> qe.Query:
    return qe.Query.Nearest(vector if isinstance(vector, list) else list(vector))


def _dense(vector: Any) -> Vector:
    # The collection has one unnamed vector; a dict would hold it under "".
    return list(vector[""] if isinstance(vector, dict) else vector)


class EdgeBackend:
    """Qdrant Edge shards under ``root`` (default ``vecpg.config.qdrant_path()``), opened on
    first use and kept open until :meth:`close`. One lock serializes every shard operation:
    the bindings promise no thread safety, and the mirror's writer is a single sync loop."""

    filter_models = "edge"

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else config.qdrant_path()
        self.root.mkdir(parents=True, exist_ok=True)
        self._shards: dict[str, qe.EdgeShard] = {}
        self._ensured: dict[str, CollectionSpec] = {}  # specs checked against their open shard
        self._lock = threading.RLock()
        self._closed = False

    def _path(self, name: str) -> Path:
        check_name(name)  # so no name can leave the root
        return self.root / name

    def _exists(self, name: str) -> bool:
        path = self._path(name)
        return path.is_dir() and any(path.iterdir())

    def _shard(self, name: str) -> qe.EdgeShard:
        """The open shard of a collection, loading it on first use. Call with the lock held."""
        if self._closed:
            raise MirrorError("this EdgeBackend is closed")
        shard = self._shards.get(name)
        if shard is None:
            if not self._exists(name):
                raise MirrorError(f"no mirror collection {name!r} under {self.root}: call ensure_collection first")
            shard = self._load(name, None)
        return shard

    def _load(self, name: str, config: qe.EdgeConfig | None) -> qe.EdgeShard:
        path = self._path(name)
        try:
            shard = qe.EdgeShard.load(str(path), config)
        except Exception as exc:  # the bindings raise plain Exception, the reason in the message
            if "incompatible" in str(exc).lower():
                raise MirrorError(f"mirror collection {name!r} at {path} exists with another vector "
                                  f"configuration: {exc}") from exc
            raise MirrorError(f"cannot open mirror collection {name!r} at {path}: {exc}") from exc
        self._shards[name] = shard
        return shard

    def ensure_collection(self, spec: CollectionSpec) -> None:
        with self._lock:
            if self._closed:
                raise MirrorError("this EdgeBackend is closed")
            if self._ensured.get(spec.name) == spec and spec.name in self._shards:
                return  # checked since it was opened: reopening costs ~0.2 s at 100,000 points
            if self._exists(spec.name):
                # Only load() checks a config against the shard, so reopen an open one. Passing
                # just the vectors checks dimension and distance and leaves the rest as created.
                self._close_shard(spec.name)
                shard = self._load(spec.name, qe.EdgeConfig(
                    vectors=qe.EdgeVectorParams(size=spec.dimension, distance=_DISTANCE[spec.distance])))
            else:
                try:
                    shard = qe.EdgeShard.create(str(self._path(spec.name)), _config(spec))
                except Exception as exc:
                    raise MirrorError(f"cannot create mirror collection {spec.name!r}: {exc}") from exc
                self._shards[spec.name] = shard
            indexed = shard.info().payload_schema
            for field in spec.index_fields():
                current = indexed.get(field)
                if current is None or current.data_type != qe.PayloadSchemaType.Keyword:
                    shard.update(qe.UpdateOperation.create_field_index(field, _index_schema(field)))
            shard.flush()
            self._ensured[spec.name] = spec

    def drop_collection(self, name: str) -> None:
        with self._lock:
            self._close_shard(name, flush=False)
            shutil.rmtree(self._path(name), ignore_errors=True)

    def upsert(self, name: str, points: Sequence[MirrorPoint]) -> None:
        if not points:
            return
        batch = [qe.Point(id=p.id, vector=list(p.vector), payload=p.payload()) for p in points]
        with self._lock:
            self._shard(name).update(qe.UpdateOperation.upsert_points(batch))

    def delete(self, name: str, doc_ids: Sequence[str]) -> None:
        if not doc_ids:
            return
        ids: list[qe.PointId] = [point_id(d) for d in doc_ids]
        with self._lock:
            self._shard(name).update(qe.UpdateOperation.delete_points(ids))

    def flush(self, name: str) -> None:
        with self._lock:
            self._shard(name).flush()

    def retrieve(self, name: str, doc_ids: Sequence[str]) -> dict[str, tuple[Vector, Payload]]:
        if not doc_ids:
            return {}
        ids: list[qe.PointId] = [point_id(d) for d in doc_ids]
        with self._lock:
            # The stub marks with_payload/with_vector optional; the binding requires both.
            records = self._shard(name).retrieve(ids, True, True)
        return {r.payload[DOC_ID]: (_dense(r.vector), r.payload) for r in records if r.payload}

    def scroll(self, name: str, batch_size: int = 256) -> Iterator[StoredPoint]:
        offset: qe.PointId | None = None
        while True:
            request = qe.ScrollRequest(offset=offset, limit=batch_size, with_payload=True, with_vector=True)
            with self._lock:  # per page, so a long verify does not hold off the writer
                records, offset = self._shard(name).scroll(request)
            for r in records:
                payload = r.payload or {}
                yield StoredPoint(payload[DOC_ID], _dense(r.vector), payload)
            if offset is None:
                return

    def count(self, name: str) -> int:
        with self._lock:
            return self._shard(name).count(qe.CountRequest(exact=True))

    def search(self, name: str, vector: Sequence[float], k: int, filter: qe.Filter | None = None, *,
               exact: bool = False, fields: Fields = None, shard_keys: Sequence[int | str] | None = None) -> list[Hit]:
        # One local shard: no shard keys to choose among (the filter holds the tenant).
        check_k(k)
        # exact: a full scan, and over the original vectors, not the int8 copies.
        params = qe.SearchParams(exact=True, quantization=qe.QuantizationSearchParams(ignore=True)) if exact else None
        request = qe.QueryRequest(limit=k, query=_query(vector), filter=filter,
                                  with_payload=_selector(fields), with_vector=False, params=params)
        with self._lock:
            shard = self._shard(name)
            return _hits(shard, [shard.query(request)], fields)[0]

    def search_many(self, name: str, vectors: Sequence[Sequence[float]], k: int, filter: qe.Filter | None = None, *,
                    fields: Fields = None, shard_keys: Sequence[int | str] | None = None) -> list[list[Hit]]:
        check_k(k)
        selector = _selector(fields)
        batch = qe.QueryBatchRequest([qe.QueryRequest(limit=k, query=_query(v), filter=filter,
                                                      with_payload=selector, with_vector=False) for v in vectors])
        with self._lock:
            shard = self._shard(name)
            return _hits(shard, shard.query_batch(batch), fields)

    def optimize(self, name: str) -> bool:
        """Build HNSW and quantized segments now; Edge runs no optimizer in the background.
        True if anything was optimized. Blocks for as long as the build takes."""
        with self._lock:
            return self._shard(name).optimize()

    def maintain(self, name: str) -> bool:
        """Build the HNSW graph of recently written points once there are OPTIMIZE_AFTER of
        them (what a Qdrant server's optimizer does in the background); True if it built."""
        with self._lock:
            info = self._shard(name).info()
            if info.points_count - info.indexed_vectors_count < OPTIMIZE_AFTER:
                return False
            return self._shard(name).optimize()

    def info(self, name: str) -> qe.ShardInfo:
        """Qdrant Edge's view of the shard: points, segments, indexed vectors, payload indexes."""
        with self._lock:
            return self._shard(name).info()

    def _close_shard(self, name: str, *, flush: bool = True) -> None:
        self._ensured.pop(name, None)
        shard = self._shards.pop(name, None)
        if shard is not None:
            if flush:
                shard.flush()
            shard.close()

    def close(self) -> None:
        with self._lock:
            for name in list(self._shards):
                self._close_shard(name)
            self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
