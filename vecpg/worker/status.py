"""The embedding pipeline's state, from the view vecpg.embedding_status and the failed list."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import psycopg

from ..resources import query


@dataclass(frozen=True)
class EmbeddingStatus:
    """One collection with a model: its documents, how many have a current vector, the queue,
    the failed list and what the workers embedded over the last five minutes."""

    collection: str
    documents: int
    embedded: int
    coverage: float
    queued: int
    oldest_queued_seconds: float | None
    failed: int
    last_error: str | None
    embedded_5min: int
    docs_per_second: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Failure:
    """A row in the failed list: `vecpg worker retry` puts it back in the queue."""

    collection: str
    doc_id: str
    attempts: int
    last_error: str | None
    failed_at: datetime


def embedding_status(conn: psycopg.Connection, collection: str | None = None) -> list[EmbeddingStatus]:
    rows = conn.execute(query("embedding_status"), {"collection": collection}).fetchall()
    return [EmbeddingStatus(*row) for row in rows]


def failures(conn: psycopg.Connection, collection: str | None = None, limit: int = 20) -> list[Failure]:
    rows = conn.execute(query("embedding_failures"), {"collection": collection, "limit": limit}).fetchall()
    return [Failure(*row) for row in rows]
