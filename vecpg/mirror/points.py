"""How a document becomes a Qdrant point: its id and its payload, defined once for every backend.

Qdrant accepts only unsigned integers and UUIDs as point ids. A document id that already is one
keeps its value; any other becomes a UUIDv5 of the id, so the same document always maps to the
same point and a replayed upsert overwrites instead of duplicating.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Fixed forever: changing it would give every document a new point id.
NAMESPACE = uuid.UUID("5b8e4d1c-3f0a-5e7b-9c2d-6a1f0e9b7c34")
U64_MAX = 2**64 - 1

# Payload keys. Metadata stays nested under its own key, so a filter on "author.name" reads
# "metadata.author.name" and can never collide with a column.
DOC_ID, TITLE, CONTENT, METADATA, TENANT, REVISION = "doc_id", "title", "content", "metadata", "tenant_id", "revision"
CREATED_AT, UPDATED_AT, EXPIRES_AT = "created_at", "updated_at", "expires_at"


def point_id(doc_id: str) -> int | str:
    """The Qdrant point id of a document id (an int, or a UUID as a string)."""
    if doc_id.isascii() and doc_id.isdigit() and (doc_id == "0" or not doc_id.startswith("0")):
        value = int(doc_id)
        if value <= U64_MAX:
            return value
    try:
        parsed = uuid.UUID(doc_id)
    except ValueError:
        return str(uuid.uuid5(NAMESPACE, doc_id))
    # Only the canonical spelling maps to itself: "{...}" or upper case would be a second name.
    return str(parsed) if str(parsed) == doc_id else str(uuid.uuid5(NAMESPACE, doc_id))


def doc_id_of(point: int | str | uuid.UUID) -> str | None:
    """The document id a point id stands for, read off the id itself, or None when only the
    payload can tell: a UUIDv5 may be a document's own id or the hash of another. So a search
    for ids alone reads no payload for most ids (reading them is half of Qdrant Edge's query
    time). Qdrant Edge gives UUIDs as UUID objects, qdrant-client as canonical strings."""
    if isinstance(point, int):
        return str(point)  # only a canonical decimal id becomes an integer
    if isinstance(point, uuid.UUID):
        return None if point.version == 5 else str(point)
    return None if point[14] == "5" else point  # the version digit of a canonical UUID


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class MirrorPoint:
    """A document as the mirror stores it."""

    doc_id: str
    vector: list[float]
    title: str | None
    content: str | None  # None when the mirror is configured without content
    metadata: dict[str, Any]
    tenant_id: str | None
    revision: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    expires_at: datetime | None = None  # searches skip the point from then on, before the purge deletes it

    @property
    def id(self) -> int | str:
        return point_id(self.doc_id)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            DOC_ID: self.doc_id, TITLE: self.title, METADATA: self.metadata, TENANT: self.tenant_id,
            REVISION: self.revision, CREATED_AT: _iso(self.created_at), UPDATED_AT: _iso(self.updated_at),
            EXPIRES_AT: _iso(self.expires_at),
        }
        if self.content is not None:
            out[CONTENT] = self.content
        return out
