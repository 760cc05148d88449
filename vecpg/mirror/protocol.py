"""What the sync loop asks of a Qdrant mirror, whichever Qdrant it is.

Two backends implement :class:`MirrorBackend`: :class:`vecpg.mirror.edge.EdgeBackend`, Qdrant
Edge shards inside this process (the default, nothing to run), and
:class:`vecpg.mirror.server.ServerBackend`, a Qdrant server through qdrant-client.
:func:`vecpg.mirror.factory.backend_from_env` picks one the way vecpg picks its database: a URL in the environment
means a server, none means the embedded default.

Scores are Qdrant's, not re-expressed in vecpg's terms:

- ``cosine``: the cosine similarity, the same number as vecpg's ``score`` (vecpg's
  ``distance`` is ``1 - score``). Qdrant normalizes cosine vectors when it stores them, so a
  point read back is the unit vector of what was written.
- ``ip``: the inner product, the same number as vecpg's ``score`` (vecpg's ``distance`` is
  ``-score``).
- ``l2``: the Euclidean distance itself (not squared; smaller is nearer, hits ascend), the same
  number as vecpg's ``distance``; vecpg has no ``score`` for l2 (its hybrid lists use ``-distance``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

from ..errors import InvalidArgument
from .cluster import ClusterSettings
from .points import DOC_ID, METADATA, TENANT, MirrorPoint

Distance = Literal["cosine", "l2", "ip"]
DISTANCES: tuple[str, ...] = ("cosine", "l2", "ip")
Vector = list[float]
Payload = dict[str, Any]
# The payload keys a search returns besides doc_id; None for all of them.
Fields = tuple[str, ...] | None

# vecpg's collection names: each becomes a shard directory, so nothing else may pass.
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Hit(NamedTuple):
    """A search result: the document, Qdrant's score (see the module docstring), its payload."""

    doc_id: str
    score: float
    payload: Payload


class StoredPoint(NamedTuple):
    """A point as the mirror holds it, for verifying the mirror against PostgreSQL."""

    doc_id: str
    vector: Vector
    payload: Payload


@dataclass(frozen=True)
class CollectionSpec:
    """How a collection is mirrored. Dimension and distance are fixed once the collection
    exists; the HNSW and quantization settings apply when it is created.

    ``payload_indexes`` names metadata keys (``"author.name"``) to index as keywords under
    ``metadata.<key>``; ``tenant_id`` and ``doc_id`` are always indexed. ``cluster``: shards,
    replicas and shard keys on a Qdrant server (vecpg.mirror.cluster; Qdrant Edge ignores it).
    """

    name: str
    dimension: int
    distance: Distance = "cosine"
    hnsw_m: int = 16
    hnsw_ef_construct: int = 64
    quantization: Literal["int8"] | None = None
    quantile: float = 0.99  # int8 only: the share of values the int8 range covers
    always_ram: bool = True  # int8 only: keep the quantized vectors in RAM
    payload_indexes: tuple[str, ...] = ()
    cluster: ClusterSettings = field(default_factory=ClusterSettings)

    def __post_init__(self) -> None:
        check_name(self.name)
        if not isinstance(self.dimension, int) or not 1 <= self.dimension <= 65536:
            raise InvalidArgument(f"dimension {self.dimension!r}: must be an integer from 1 to 65536")
        if self.distance not in DISTANCES:
            raise InvalidArgument(f"distance {self.distance!r}: must be one of {', '.join(DISTANCES)}")
        if self.hnsw_m < 0 or self.hnsw_ef_construct < 4:
            raise InvalidArgument(f"hnsw_m={self.hnsw_m}, hnsw_ef_construct={self.hnsw_ef_construct}: "
                                  "m must be >= 0 and ef_construct >= 4")
        if self.quantization not in (None, "int8"):
            raise InvalidArgument(f"quantization {self.quantization!r}: must be None or 'int8'")
        if not 0.5 <= self.quantile <= 1.0:  # Qdrant's own bounds
            raise InvalidArgument(f"quantile {self.quantile!r}: must be from 0.5 to 1")
        # A list would make the frozen spec unhashable: keep a tuple whatever was passed.
        keys = tuple(self.payload_indexes)
        if any(not isinstance(k, str) or not k for k in keys):
            raise InvalidArgument(f"payload_indexes {keys!r}: each must be a non-empty metadata key")
        object.__setattr__(self, "payload_indexes", keys)

    def index_fields(self) -> tuple[str, ...]:
        """The payload paths indexed as keywords: doc_id, tenant_id, then the metadata keys."""
        fields = [DOC_ID, TENANT, *(f"{METADATA}.{key}" for key in self.payload_indexes)]
        return tuple(dict.fromkeys(fields))


@runtime_checkable
class MirrorBackend(Protocol):
    """A Qdrant the sync loop writes documents to. Collections are addressed by name; every
    document by its vecpg id (the point id is derived from it, see vecpg.mirror.points)."""

    # The family of Qdrant filter models its searches take: "edge" (qdrant_edge) or "client"
    # (qdrant_client.models); vecpg.mirror.filters renders the filter language into either.
    filter_models: str

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the collection if missing and its payload indexes; raise MirrorError if it
        exists with another dimension or distance."""
        ...

    def drop_collection(self, name: str) -> None:
        """Delete the collection and its points; nothing happens if it does not exist."""
        ...

    def upsert(self, name: str, points: Sequence[MirrorPoint]) -> None:
        """Write the points; a document already there is overwritten (vector and payload)."""
        ...

    def delete(self, name: str, doc_ids: Sequence[str]) -> None:
        """Remove these documents; ids not in the mirror are ignored."""
        ...

    def flush(self, name: str) -> None:
        """Return once every write before it survives a crash."""
        ...

    def retrieve(self, name: str, doc_ids: Sequence[str]) -> dict[str, tuple[Vector, Payload]]:
        """The vector and payload of each document found, by document id."""
        ...

    def scroll(self, name: str, batch_size: int = 256) -> Iterator[StoredPoint]:
        """Every point of the collection, in no particular order."""
        ...

    def count(self, name: str) -> int:
        """The exact number of points."""
        ...

    def search(self, name: str, vector: Sequence[float], k: int, filter: Any = None, *,
               exact: bool = False, fields: Fields = None, shard_keys: Sequence[int | str] | None = None) -> list[Hit]:
        """The k nearest points, nearest first. ``filter`` is the backend's own Filter object
        (from vecpg.mirror.filters), passed through untouched. ``exact`` scans every vector
        with the original (not quantized) values instead of walking HNSW. ``fields``: the
        payload keys each hit carries besides doc_id (``()``: none), None for the whole payload.
        ``shard_keys``: the only shard keys that can hold the points the filter lets through
        (cluster.search_keys), which a collection sharded by tenant asks alone; others ignore it."""
        ...

    def search_many(self, name: str, vectors: Sequence[Sequence[float]], k: int, filter: Any = None, *,
                    fields: Fields = None, shard_keys: Sequence[int | str] | None = None) -> list[list[Hit]]:
        """:meth:`search` for each vector, as one batch request; the hits of each, in input order."""
        ...

    def close(self) -> None:
        """Release the backend's resources; it is unusable afterwards."""
        ...


def check_name(name: str) -> None:
    """Refuse a collection name vecpg would refuse (and any that could leave a shard root)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(f"mirror collection name {name!r}: use 1 to 63 of a-z, 0-9 and _, "
                              "not starting with a digit")


def check_k(k: int) -> None:
    """Refuse a k Qdrant would reject less clearly."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidArgument(f"k {k!r}: must be a positive integer")
