"""How a collection's table stores its vectors: the one list of storages on Python's side.

``vector`` keeps 4-byte floats; ``halfvec`` keeps 2-byte ones (11 significant bits, values of at
most 65504 in magnitude), which halves the table and its index and lets pgvector index up to
4,000 dimensions directly. The choice is made when a collection is created
(``create_collection(storage=...)``) and recorded in ``vecpg.collection.storage``; SQL's own
list is in ``vecpg.create_collection`` (sql/idempotent/02_collections.sql).

Everything that writes sends float32 vectors as it does for ``vector`` storage: the database
casts them (upserts, staged loads, the embedding workers), except a COPY straight into an empty
table, where COPY casts nothing and the rows go in halfvec's own binary form (``HalfvecDumper``).
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from pgvector import HalfVector
from psycopg.adapt import Dumper
from psycopg.pq import Format

from .errors import InvalidArgument

# The largest finite half-precision value: pgvector refuses what would round beyond it.
HALF_MAX = 65504.0


@dataclass(frozen=True)
class Storage:
    """A storage: the pgvector type of the embedding column and what it can hold and index."""

    name: str
    bytes_per_dimension: int
    # The largest magnitude of a component it holds (None: any finite float32).
    largest: float | None
    # The most dimensions pgvector's HNSW and IVFFlat index in a column of this type (SQL's
    # vecpg.indexable_dimensions); above, vecpg indexes halfvec copies or binary codes.
    indexable_dimensions: int


STORAGES: dict[str, Storage] = {
    "vector": Storage("vector", 4, None, 2000),
    "halfvec": Storage("halfvec", 2, HALF_MAX, 4000),
}
DEFAULT_STORAGE = "vector"


def check_storage(value: Any) -> Storage:
    """The storage of that name, or InvalidArgument listing the choices."""
    storage = STORAGES.get(value) if isinstance(value, str) else None
    if storage is None:
        raise InvalidArgument(f"invalid storage {value!r}: use {' or '.join(STORAGES)}")
    return storage


class HalfvecDumper(Dumper):
    """Binary halfvec for COPY after ``set_types([... "halfvec" ...])``: takes the float32 arrays
    vecpg writes (pgvector-python's own dumper takes only its HalfVector)."""

    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        if isinstance(obj, HalfVector):
            return obj.to_binary()
        # Checked already: every component is within HALF_MAX, so none becomes an infinity.
        values = np.asarray(obj, dtype=">f2")
        return struct.pack(">HH", values.shape[0], 0) + values.tobytes()


def register_halfvec_copy(cur: psycopg.Cursor[Any]) -> None:
    """Let COPY on ``cur`` write numpy arrays into halfvec columns (registered by oid only, so
    nothing else dumps differently; on the cursor, which copied its connection's adapters)."""
    info = cur.adapters.types.get("halfvec")
    if info is None:
        info = psycopg.types.TypeInfo.fetch(cur.connection, "halfvec")
        if info is None:  # pragma: no cover - pgvector before 0.7 has no halfvec
            raise InvalidArgument("this pgvector has no halfvec type: upgrade pgvector to 0.7 or newer")
        info.register(cur)
    cur.adapters.register_dumper(None, _dumper_for(info.oid))


@functools.cache
def _dumper_for(oid: int) -> type[HalfvecDumper]:
    # One class per database's halfvec oid: a load registers it on its connection each time.
    return type("HalfvecDumper", (HalfvecDumper,), {"oid": oid})
