"""How a mirrored collection is laid out on a Qdrant cluster: shards, replicas, shard keys.

The settings come from the collection's mirror settings (``enable_mirror(shard_number=3, ...)``)
and reach only a Qdrant server (:class:`vecpg.mirror.server.ServerBackend`); Qdrant Edge is one
local shard and ignores them. With ``shard_by_tenant`` each tenant's points live under a shard
key of their own (Qdrant's ``sharding_method=custom``); rows without a tenant go to the integer
key :data:`SHARED_KEY`, which no tenant (a string) can name. qdrant-client is imported only by
the functions that build its request objects, so that importing this module loads no client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgument

if TYPE_CHECKING:
    from qdrant_client import models

SHARED_KEY = 0
# The mirror settings this module reads (vecpg.check_mirror_settings accepts the same keys).
KEYS = ("shard_number", "replication_factor", "write_consistency_factor", "shard_by_tenant")


@dataclass(frozen=True)
class ClusterSettings:
    """Qdrant's own cluster settings; None leaves Qdrant's default (1 shard, 1 replica, factor 1).

    With ``shard_by_tenant``, ``shard_number`` is the number of shards *per tenant key*, as Qdrant
    reads it under custom sharding."""

    shard_number: int | None = None
    replication_factor: int | None = None
    write_consistency_factor: int | None = None
    shard_by_tenant: bool = False

    def __post_init__(self) -> None:
        for name in ("shard_number", "replication_factor", "write_consistency_factor"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InvalidArgument(f"{name} {value!r}: must be a positive integer")
        if not isinstance(self.shard_by_tenant, bool):
            raise InvalidArgument(f"shard_by_tenant {self.shard_by_tenant!r}: must be true or false")
        # A write acknowledged by more replicas than exist could never succeed.
        if (self.write_consistency_factor or 1) > (self.replication_factor or 1):
            raise InvalidArgument(f"write_consistency_factor {self.write_consistency_factor} exceeds "
                                  f"replication_factor {self.replication_factor or 1}")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ClusterSettings:
        """The cluster part of a collection's mirror settings (the rest is ignored)."""
        return cls(**{key: settings[key] for key in KEYS if settings.get(key) is not None})

    def collection_args(self) -> dict[str, Any]:
        """Keyword arguments of ``QdrantClient.create_collection`` (and fields of
        ``models.CreateCollection``): only those set, so Qdrant's defaults stay its own."""
        from qdrant_client import models

        args: dict[str, Any] = {key: getattr(self, key) for key in KEYS[:3] if getattr(self, key) is not None}
        if self.shard_by_tenant:
            args["sharding_method"] = models.ShardingMethod.CUSTOM
        return args

    def creation_request(self, vectors: models.VectorParams) -> models.CreateCollection:
        """The body of ``PUT /collections/{name}`` these settings make (the HNSW and quantization
        parts are the backend's)."""
        from qdrant_client import models

        return models.CreateCollection(vectors=vectors, **self.collection_args())


def shard_key(tenant: str | None) -> int | str:
    """The shard key of a tenant's points under ``shard_by_tenant``."""
    return SHARED_KEY if tenant is None else tenant


def search_keys(tenant: str | None, shared_rows: bool) -> list[int | str]:
    """The shard keys whose points a caller acting for ``tenant`` may see (as tenant_node says
    it with a filter): its own, and the shared key when the collection shares its rows without
    a tenant; without a tenant, the shared key alone."""
    if tenant is None:
        return [SHARED_KEY]
    return [tenant, SHARED_KEY] if shared_rows else [tenant]


def shard_key_request(key: int | str) -> models.CreateShardingKey:
    """The body of ``PUT /collections/{name}/shards`` creating one tenant's key."""
    from qdrant_client import models

    return models.CreateShardingKey(shard_key=key)
