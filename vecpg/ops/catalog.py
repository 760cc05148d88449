"""Collections in vecpg's catalog, and each collection's settings: one operation per call.

Each function checks nothing the SQL function does not check itself better; the facades
(store.py, collection.py) check arguments first and run these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ..errors import InvalidArgument
from ..storage import DEFAULT_STORAGE
from .statement import Result, Statement, Steps, each, flag, number, scalar

_CATALOG = ("SELECT name, schema_name, table_name, dimension, distance, model, language::text, "
            "created_at, embedder, quantization, search_defaults, storage, ttl, vecpg.tenant_partitioned(name), "
            "vecpg.tenant_scope_sql(c), vecpg.conflict_key(name) FROM vecpg.collection c")


@dataclass(frozen=True)
class CollectionInfo:
    """A collection's row in ``vecpg.collection``."""

    name: str
    schema: str
    table: str
    dimension: int
    distance: str
    model: str | None
    language: str
    created_at: datetime
    embedder: str | None = None  # the backend running its model; None: the store's default
    quantization: str | None = None  # what the vector index is built on: None, "halfvec" or "binary"
    search_defaults: dict[str, Any] = field(default_factory=dict)  # search options tuning chose
    storage: str = DEFAULT_STORAGE  # the embedding column's type: "vector" or "halfvec" (vecpg/storage.py)
    ttl: timedelta | None = None  # how long its documents live after their last write (vecpg/ops/expiry.py)
    partitioned: bool = False  # partitioned by tenant (18_partitions.sql)
    # What a search acting for a tenant adds to its WHERE clause to open that tenant's partition
    # alone (vecpg.tenant_scope_sql); empty unless partitioned.
    tenant_scope: str = ""
    conflict_key: str = "id"  # the columns an upsert's ON CONFLICT names (vecpg.conflict_key)

    @property
    def key(self) -> sql.SQL:
        """``conflict_key`` as SQL (columns vecpg.conflict_key wrote, no value in it)."""
        return sql.SQL(self.conflict_key)  # type: ignore[arg-type]


def _first_info(result: Result) -> CollectionInfo | None:
    return CollectionInfo(*result.rows[0]) if result.rows else None


def collection_info(name: str) -> Statement[CollectionInfo | None]:
    return Statement(_CATALOG + " WHERE name = %s", (name,), _first_info)


def list_collections() -> Statement[list[CollectionInfo]]:
    return Statement(_CATALOG + " ORDER BY name", None, each(CollectionInfo))


def create_collection(name: str, dimension: int, distance: str, model: str | None, language: str, schema: str,
                      storage: str, embedder: str | None, partition_by_tenant: str | None = None,
                      partitions: int | None = None) -> Steps[CollectionInfo | None]:
    """Create a collection (with its embedder backend, in the same statement) and read it back."""
    create = "vecpg.create_collection(%s, %s, %s, %s, %s::regconfig, %s, %s)"
    params: tuple[Any, ...] = (name, dimension, distance, model, language, schema, storage)
    if partition_by_tenant is not None:
        create = "vecpg.create_partitioned_collection(%s, %s, %s, %s, %s, %s, %s::regconfig, %s, %s)"
        params = (name, dimension, partition_by_tenant, partitions, distance, model, language, schema, storage)
    elif partitions is not None:
        raise InvalidArgument("partitions needs partition_by_tenant='hash'")
    if embedder is None:
        yield Statement(f"SELECT {create}", params)
    else:  # one statement, so one transaction: no collection is left without its embedder
        yield Statement(f"WITH made AS (SELECT {create}) SELECT vecpg.set_embedder(%s, %s) FROM made",
                        (*params, name, embedder))
    return (yield collection_info(name))


def give_tenant_partition(name: str, tenant: str) -> Statement[int]:
    # It moves a tenant's rows between partitions, which row-level security does not cover.
    return Statement("SELECT vecpg.give_tenant_partition(%s, %s)", (name, tenant), number, admin=True)


def tenant_partitions(name: str) -> Statement[list[tuple[Any, ...]]]:
    """(partition, parent, bound, is_leaf, level, row estimate) of a partitioned collection, top down."""
    return Statement("SELECT * FROM vecpg.tenant_partitions(%s)", (name,), lambda result: list(result.rows))


def drop_collection(name: str, missing_ok: bool) -> Statement[bool]:
    return Statement("SELECT vecpg.drop_collection(%s, %s)", (name, missing_ok), flag)


def set_embedder(name: str, embedder: str | None) -> Statement[Any]:
    return Statement("SELECT vecpg.set_embedder(%s, %s)", (name, embedder))


def searched_by(name: str) -> Statement[tuple[Any, ...] | None]:
    """What searches depend on and another client may change: (quantization, search_defaults)."""
    return Statement("SELECT quantization, search_defaults FROM vecpg.collection WHERE name = %s", (name,),
                     lambda result: result.rows[0] if result.rows else None)


def enable_chunking(name: str, settings: Mapping[str, int]) -> Statement[int]:
    """Chunk the collection's documents; ``settings`` are the named arguments given."""
    params: dict[str, Any] = {"collection": name, **settings}
    call = ", ".join(f"{key} => %({key})s" for key in params)  # keys are vecpg's own argument names
    return Statement(f"SELECT vecpg.enable_chunking({call})", params, number)


def disable_chunking(name: str) -> Statement[bool]:
    return Statement("SELECT vecpg.disable_chunking(%s)", (name,), flag)


def chunking(name: str) -> Statement[tuple[int, int] | None]:
    return Statement("SELECT chunk_tokens, chunk_overlap FROM vecpg.collection WHERE name = %s", (name,),
                     lambda result: None if not result.rows or result.rows[0][0] is None else result.rows[0])


def enable_keyword_index(name: str) -> Statement[int]:
    # It reads every tenant's rows: where row-level security does not restrict it.
    return Statement("SELECT vecpg.enable_keyword_index(%s)", (name,), number, admin=True)


def disable_keyword_index(name: str) -> Statement[bool]:
    return Statement("SELECT vecpg.disable_keyword_index(%s)", (name,), flag)


def enable_mirror(name: str, settings: Mapping[str, Any]) -> Statement[Any]:
    return Statement("SELECT vecpg.enable_mirror(%s, %s)", (name, Jsonb(dict(settings))))


def disable_mirror(name: str) -> Statement[bool]:
    return Statement("SELECT vecpg.disable_mirror(%s)", (name,), flag)


def rebuild_mirror(name: str) -> Statement[Any]:
    return Statement("SELECT vecpg.rebuild_mirror(%s)", (name,))


def tuning(name: str) -> Statement[Any]:
    """What the last tuning stored (JSON), or None."""
    return Statement("SELECT tuning FROM vecpg.collection WHERE name = %s", (name,), scalar)


def set_search_defaults(name: str, given: Mapping[str, Any]) -> Statement[dict[str, Any]]:
    return Statement("SELECT vecpg.set_search_defaults(%s, %s)", (name, Jsonb(dict(given))),
                     lambda result: dict(scalar(result) or {}))


def reset_search_defaults(name: str) -> Statement[bool]:
    return Statement("SELECT vecpg.reset_search_defaults(%s)", (name,), flag)
