"""The mirror on a Qdrant server, through qdrant-client (the ``qdrant`` extra).

Every write waits (``wait=True``) until the server has applied it and written it to its log,
which is what makes it durable there: :meth:`ServerBackend.flush` has nothing left to do.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from vecpg.errors import InvalidArgument, MirrorError, MissingDependency, VecpgError

from .cluster import shard_key
from .points import DOC_ID, TENANT, MirrorPoint, point_id
from .protocol import CollectionSpec, Fields, Hit, Payload, StoredPoint, Vector, check_k

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

try:
    from qdrant_client import QdrantClient, models
except ImportError as exc:  # pragma: no cover - the test extra installs it
    raise MissingDependency("the Qdrant server mirror needs qdrant-client: pip install 'vecpg[qdrant]'") from exc

F = TypeVar("F", bound=Callable[..., Any])


def _wrapped(method: F) -> F:
    """Whatever qdrant-client raises (HTTP and gRPC errors, a refused connection, local mode's
    ValueError for a missing collection) reaches vecpg's callers as one MirrorError."""

    @functools.wraps(method)
    def call(self: ServerBackend, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except VecpgError:
            raise  # our own checks (k, names) keep their class
        except Exception as exc:  # see the docstring
            raise MirrorError(f"Qdrant server {self.where}: {' '.join(str(exc).split()) or type(exc).__name__}") from exc

    return call  # type: ignore[return-value]


# Seconds before a search that wants a shard key this backend has not seen lists the keys again.
KEYS_TTL = 1.0
_DISTANCE = {"cosine": models.Distance.COSINE, "l2": models.Distance.EUCLID, "ip": models.Distance.DOT}


def _index_schema(field: str) -> models.KeywordIndexParams:
    # is_tenant lets Qdrant keep each tenant's points together, which filtered search rewards.
    return models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=field == TENANT or None)


def _selector(fields: Fields) -> bool | list[str]:
    # doc_id always: a point id alone cannot always name its document (points.doc_id_of), and a
    # second request to ask would race the writer.
    return True if fields is None else [DOC_ID, *fields]


def _hits(points: list[models.ScoredPoint]) -> list[Hit]:
    return [Hit(p.payload[DOC_ID], p.score, p.payload) for p in points if p.payload]


def _dense(vector: Any) -> Vector:
    # The collection has one unnamed vector; a dict would hold it under "".
    return list(vector[""] if isinstance(vector, dict) else vector)


class ServerBackend:
    """A Qdrant server at ``url`` (with ``api_key``), or the ``client`` given, such as
    ``QdrantClient(path=...)`` or ``QdrantClient(":memory:")`` (qdrant-client's local mode,
    which ignores HNSW, quantization and payload index settings). :meth:`close` closes only a
    client this backend built."""

    filter_models = "client"

    def __init__(self, url: str | None = None, api_key: str | None = None, *,
                 client: QdrantClient | None = None) -> None:
        if client is None and not url:
            raise InvalidArgument("ServerBackend needs a url (VECPG_QDRANT_URL) or a client")
        self._owns_client = client is None
        self.where = url or "(client given)"
        # The shard keys of each collection sharded by tenant that this backend has seen or made,
        # whether each collection searched is sharded by key, and when its keys were last listed.
        self._shard_keys: dict[str, set[int | str]] = {}
        self._by_key: dict[str, bool] = {}
        self._listed: dict[str, float] = {}
        self.client = client if client is not None else QdrantClient(url=url, api_key=api_key)

    @_wrapped
    def ensure_collection(self, spec: CollectionSpec) -> None:
        wanted = models.VectorParams(size=spec.dimension, distance=_DISTANCE[spec.distance])
        if self.client.collection_exists(spec.name):
            info = self.client.get_collection(spec.name)
            have = info.config.params.vectors
            if not isinstance(have, models.VectorParams) or (have.size, have.distance) != (wanted.size, wanted.distance):
                got = (f"dimension={have.size}, distance={have.distance.value}" if isinstance(have, models.VectorParams)
                       else f"named vectors {sorted(have or {})}")
                raise MirrorError(f"mirror collection {spec.name!r} exists with {got}, not "
                                  f"dimension={spec.dimension}, distance={wanted.distance.value}")
            indexed = info.payload_schema
        else:
            quantization = None
            if spec.quantization == "int8":
                quantization = models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(
                    type=models.ScalarType.INT8, quantile=spec.quantile, always_ram=spec.always_ram))
            self.client.create_collection(
                spec.name, vectors_config=wanted,
                hnsw_config=models.HnswConfigDiff(m=spec.hnsw_m, ef_construct=spec.hnsw_ef_construct),
                quantization_config=quantization, **spec.cluster.collection_args(),
            )
            indexed = {}
        self._shard_keys.pop(spec.name, None)
        if spec.cluster.shard_by_tenant:
            # qdrant-client's local mode accepts sharding_method and ignores it: say so, not shard silently.
            if self.client.get_collection(spec.name).config.params.sharding_method != models.ShardingMethod.CUSTOM:
                raise MirrorError(f"mirror collection {spec.name!r} is not sharded by key on this Qdrant "
                                  "(shard_by_tenant needs a Qdrant server, and a collection created with it)")
            listed = self.client.list_shard_keys(spec.name).shard_keys or []
            self._shard_keys[spec.name] = {k.key for k in listed}
        for field in spec.index_fields():
            current = indexed.get(field)
            if current is None or current.data_type != models.PayloadSchemaType.KEYWORD:
                self.client.create_payload_index(spec.name, field, field_schema=_index_schema(field), wait=True)

    @_wrapped
    def drop_collection(self, name: str) -> None:
        if self.client.collection_exists(name):
            self.client.delete_collection(name)

    @_wrapped
    def upsert(self, name: str, points: Sequence[MirrorPoint]) -> None:
        if not points:
            return
        keys = self._shard_keys.get(name)
        if keys is None:
            batch = [models.PointStruct(id=p.id, vector=list(p.vector), payload=p.payload()) for p in points]
            self.client.upsert(name, points=batch, wait=True)
            return
        groups: dict[int | str, list[models.PointStruct]] = {}
        target: dict[str, int | str] = {}
        for p in points:
            target[str(p.id)] = shard_key(p.tenant_id)
            groups.setdefault(target[str(p.id)], []).append(
                models.PointStruct(id=p.id, vector=list(p.vector), payload=p.payload()))
        # A point id is unique per shard key only: a document that changed tenant leaves its old key.
        moved = [r for r in self.client.retrieve(name, ids=[p.id for p in points], with_payload=False,
                                                 with_vectors=False)
                 if r.shard_key is not None and r.shard_key != target[str(r.id)]]
        for r in moved:
            self.client.delete(name, points_selector=models.PointIdsList(points=[r.id]), wait=True,
                               shard_key_selector=r.shard_key)
        for key, batch in groups.items():
            if key not in keys:
                self.client.create_shard_key(name, key)
                keys.add(key)
            self.client.upsert(name, points=batch, wait=True, shard_key_selector=key)

    @_wrapped
    def delete(self, name: str, doc_ids: Sequence[str]) -> None:
        if not doc_ids:
            return
        ids: list[models.ExtendedPointId] = [point_id(d) for d in doc_ids]
        self.client.delete(name, points_selector=models.PointIdsList(points=ids), wait=True)

    def flush(self, name: str) -> None:
        """Nothing to do: every write already waited for the server's log (see the module)."""

    @_wrapped
    def retrieve(self, name: str, doc_ids: Sequence[str]) -> dict[str, tuple[Vector, Payload]]:
        if not doc_ids:
            return {}
        ids: list[models.ExtendedPointId] = [point_id(d) for d in doc_ids]
        records = self.client.retrieve(name, ids=ids, with_payload=True, with_vectors=True)
        return {r.payload[DOC_ID]: (_dense(r.vector), r.payload) for r in records if r.payload}

    def scroll(self, name: str, batch_size: int = 256) -> Iterator[StoredPoint]:
        offset: models.ExtendedPointId | None = None
        while True:
            records, offset = self._page(name, batch_size, offset)
            for r in records:
                payload = r.payload or {}
                yield StoredPoint(payload[DOC_ID], _dense(r.vector), payload)
            if offset is None:
                return

    @_wrapped
    def _page(self, name: str, limit: int, offset: models.ExtendedPointId | None) -> tuple[list[Any], Any]:
        return self.client.scroll(name, limit=limit, offset=offset, with_payload=True, with_vectors=True)

    @_wrapped
    def count(self, name: str) -> int:
        return self.client.count(name, exact=True).count

    def _shards_asked(self, name: str, keys: Sequence[int | str] | None) -> list[int | str] | None:
        """The shard keys a search of ``name`` asks: those of ``keys`` that exist, for a collection
        sharded by key (an empty list: none of them holds a point); None to ask every shard. A
        key not seen yet is looked for again at most every KEYS_TTL seconds (the sync of another
        process makes a tenant's key with its first point)."""
        if keys is None:
            return None
        if name not in self._by_key:
            method = self.client.get_collection(name).config.params.sharding_method
            self._by_key[name] = method == models.ShardingMethod.CUSTOM
        if not self._by_key[name]:
            return None
        known = self._shard_keys.get(name)
        now = time.monotonic()
        if known is None or (any(k not in known for k in keys) and now - self._listed.get(name, 0.0) > KEYS_TTL):
            known = {k.key for k in self.client.list_shard_keys(name).shard_keys or []}
            self._shard_keys[name], self._listed[name] = known, now
        return [k for k in keys if k in known]

    @_wrapped
    def search(self, name: str, vector: Sequence[float], k: int, filter: models.Filter | None = None, *,
               exact: bool = False, fields: Fields = None, shard_keys: Sequence[int | str] | None = None) -> list[Hit]:
        check_k(k)
        asked = self._shards_asked(name, shard_keys)
        if asked == []:
            return []
        # exact: a full scan, and over the original vectors, not the int8 copies.
        params = (models.SearchParams(exact=True, quantization=models.QuantizationSearchParams(ignore=True))
                  if exact else None)
        response = self.client.query_points(name, query=list(vector), limit=k, query_filter=filter,
                                            search_params=params, with_payload=_selector(fields), with_vectors=False,
                                            shard_key_selector=asked)
        return _hits(response.points)

    @_wrapped
    def search_many(self, name: str, vectors: Sequence[Sequence[float]], k: int, filter: models.Filter | None = None,
                    *, fields: Fields = None, shard_keys: Sequence[int | str] | None = None) -> list[list[Hit]]:
        check_k(k)
        asked = self._shards_asked(name, shard_keys)
        if asked == []:
            return [[] for _ in vectors]
        selector = _selector(fields)
        requests = [models.QueryRequest(query=list(v), limit=k, filter=filter, with_payload=selector, with_vector=False,
                                        shard_key=asked)
                    for v in vectors]
        return [_hits(r.points) for r in self.client.query_batch_points(name, requests=requests)]

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
