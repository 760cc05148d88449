"""Compare a mirrored collection in PostgreSQL with its copy in Qdrant, point by point."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.rows import dict_row

from ..errors import MirrorError
from ..resources import composed
from .points import REVISION, MirrorPoint
from .protocol import MirrorBackend

# float32 in both systems, but Qdrant normalises cosine vectors itself, summing in another order:
# vectors are equal within TOLERANCE, and hashed at CHECKSUM_DECIMALS. The checksum is a quick
# summary to compare by eye; a rounding flip can change it, so equality is decided point by point.
TOLERANCE = 1e-5
CHECKSUM_DECIMALS = 3


@dataclass(frozen=True)
class Verification:
    """What differs: ids only in PostgreSQL, only in Qdrant, or in both with another vector or payload."""

    collection: str
    postgres_count: int
    qdrant_count: int
    postgres_checksum: str
    qdrant_checksum: str
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.changed) and self.postgres_count == self.qdrant_count


def _vector(values: Any, distance: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if distance == "cosine":  # Qdrant stores cosine vectors normalised
        norm = np.linalg.norm(v)
        v = v / norm if norm else v
    return v


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in payload.items() if k != REVISION}, sort_keys=True, default=str)


def _digest(items: dict[str, tuple[np.ndarray, str]]) -> str:
    h = hashlib.sha256()
    for doc_id in sorted(items):
        vector, payload = items[doc_id]
        h.update(json.dumps([doc_id, np.round(vector, CHECKSUM_DECIMALS).tolist(), payload]).encode())
    return h.hexdigest()


def _same(a: tuple[np.ndarray, str], b: tuple[np.ndarray, str]) -> bool:
    return a[1] == b[1] and a[0].shape == b[0].shape and bool(np.allclose(a[0], b[0], rtol=0, atol=TOLERANCE))


def verify(conn: psycopg.Connection, backend: MirrorBackend, collection: str) -> Verification:
    """Every document of ``collection`` that has a vector, against every point of its Qdrant copy."""
    register_vector(conn)
    row = conn.execute("SELECT c.schema_name, c.table_name, c.distance, m.settings FROM vecpg.collection c "
                       "JOIN vecpg.mirror m ON m.collection = c.name WHERE c.name = %s", (collection,)).fetchone()
    if row is None:
        raise MirrorError(f'collection "{collection}" is not mirrored')
    schema, table, distance, settings = row
    content = bool(settings.get("content", True))
    ours: dict[str, tuple[np.ndarray, str]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for r in cur.execute(composed("mirror_rows", table=sql.Identifier(schema, table)),  # type: ignore[arg-type]
                             {"ids": None}):
            point = MirrorPoint(r["id"], [], r["title"], r["content"] if content else None, r["metadata"],
                                r["tenant_id"], 0, r["created_at"], r["updated_at"], r["expires_at"])
            ours[r["id"]] = (_vector(r["embedding"].to_list(), distance), _canonical(point.payload()))
    theirs = {doc_id: (_vector(vector, distance), _canonical(payload))
              for doc_id, vector, payload in backend.scroll(collection)}
    both = ours.keys() & theirs.keys()
    return Verification(
        collection, len(ours), backend.count(collection), _digest(ours), _digest(theirs),
        missing=sorted(ours.keys() - theirs.keys()), extra=sorted(theirs.keys() - ours.keys()),
        changed=sorted(i for i in both if not _same(ours[i], theirs[i])),
    )
