"""Drain a mirrored collection's outbox into Qdrant, crash-safe.

A batch is claimed (``FOR UPDATE SKIP LOCKED``) under a per-collection advisory lock, so that
several sync processes share collections and never work on one at the same time: two syncs
reading one document at different moments could otherwise write the older state last. Each
claimed id's *current* row is copied (or its point deleted when the row is gone or has no
vector yet), Qdrant is made durable (``flush``), and only then are the events deleted, in the
same transaction that claimed them. A crash anywhere before that commit leaves the events for
the next run, and applying them again is harmless: upserts overwrite, deletes of absent points
do nothing. An event without an id recreates the Qdrant collection from the table.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.rows import dict_row

from ..db.connection import wait_for_notify
from ..errors import MirrorError
from ..resources import composed, query
from .cluster import ClusterSettings
from .points import MirrorPoint
from .protocol import CollectionSpec, Distance, MirrorBackend

DEFAULT_BATCH = 500
PAGE = 1000  # rows upserted to Qdrant at a time during a full copy


@dataclass(frozen=True)
class BatchResult:
    """What one batch did: events acknowledged, points written and deleted, whether it copied all."""

    events: int = 0
    upserted: int = 0
    deleted: int = 0
    full_copy: bool = False


# Mirror settings (checked by vecpg.check_mirror_settings) and the CollectionSpec fields they set;
# defaults are CollectionSpec's.
_SETTINGS = {"m": "hnsw_m", "ef_construct": "hnsw_ef_construct", "quantization": "quantization",
             "quantile": "quantile", "always_ram": "always_ram"}


def spec_for(conn: psycopg.Connection, collection: str, settings: dict[str, Any]) -> CollectionSpec:
    """The Qdrant collection a vecpg collection and its mirror settings call for."""
    row = conn.execute("SELECT dimension, distance FROM vecpg.collection WHERE name = %s", (collection,)).fetchone()
    if row is None:
        raise MirrorError(f'collection "{collection}" does not exist')
    return _spec(collection, row[0], row[1], settings)


def _spec(collection: str, dimension: int, distance: Distance, settings: dict[str, Any]) -> CollectionSpec:
    given = {field: settings[key] for key, field in _SETTINGS.items() if key in settings}
    return CollectionSpec(name=collection, dimension=dimension, distance=distance,
                          payload_indexes=tuple(settings.get("payload_indexes", ())),
                          cluster=ClusterSettings.from_settings(settings), **given)


def _points(rows: Iterable[dict[str, Any]], revisions: Callable[[str], int], content: bool) -> list[MirrorPoint]:
    return [MirrorPoint(doc_id=r["id"], vector=[float(x) for x in r["embedding"].to_list()], title=r["title"],
                        content=r["content"] if content else None, metadata=r["metadata"], tenant_id=r["tenant_id"],
                        revision=revisions(r["id"]), created_at=r["created_at"], updated_at=r["updated_at"],
                        expires_at=r["expires_at"])
            for r in rows]


def sync_batch(conn: psycopg.Connection, backend: MirrorBackend, collection: str,
               batch: int = DEFAULT_BATCH) -> BatchResult | None:
    """Mirror one batch of ``collection``'s events; None when another sync holds the collection."""
    register_vector(conn)
    with conn.transaction():
        locked = conn.execute("SELECT pg_try_advisory_xact_lock(hashtext('vecpg_mirror'), hashtext(%s))",
                              (collection,)).fetchone()
        if not (locked and locked[0]):
            return None
        events = conn.execute(query("mirror_claim"), {"collection": collection, "batch": batch}).fetchall()
        if not events:
            return BatchResult()
        settings: dict[str, Any] = events[0][2]
        content = bool(settings.get("content", True))
        row = conn.execute("SELECT schema_name, table_name, dimension, distance FROM vecpg.collection WHERE name = %s",
                           (collection,)).fetchone()
        if row is None:
            raise MirrorError(f'collection "{collection}" does not exist')
        rows_sql = composed("mirror_rows", table=sql.Identifier(row[0], row[1]))
        spec = _spec(collection, row[2], row[3], settings)
        last = max(seq for seq, _, _ in events)
        full = any(doc_id is None for _, doc_id, _ in events)
        upserted = deleted = 0
        if full:
            backend.drop_collection(collection)
            backend.ensure_collection(spec)
            with conn.cursor(name="vecpg_mirror_copy", row_factory=dict_row) as cur:
                cur.execute(rows_sql, {"ids": None})
                while page := cur.fetchmany(PAGE):
                    backend.upsert(collection, _points(page, lambda _id: last, content))
                    upserted += len(page)
            # Qdrant Edge builds its HNSW graph only when asked (a server does it in the background).
            optimize = getattr(backend, "optimize", None)
            if optimize is not None:
                optimize(collection)
        else:
            backend.ensure_collection(spec)
            revision: dict[str, int] = {}
            for seq, doc_id, _ in events:
                revision[doc_id] = max(seq, revision.get(doc_id, 0))
            ids = sorted(revision)
            with conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(rows_sql, {"ids": ids}).fetchall()
            present = {r["id"] for r in rows}
            gone = [i for i in ids if i not in present]
            if rows:
                backend.upsert(collection, _points(rows, revision.__getitem__, content))
            if gone:
                backend.delete(collection, gone)
            upserted, deleted = len(rows), len(gone)
        backend.flush(collection)  # durable before the events go
        conn.execute("DELETE FROM vecpg.mirror_outbox WHERE seq = ANY(%s)", ([seq for seq, _, _ in events],))
    # Index what accumulated (Qdrant Edge only), after the commit: the events are not held meanwhile.
    maintain = getattr(backend, "maintain", None)
    if maintain is not None and not full:
        maintain(collection)
    return BatchResult(len(events), upserted, deleted, full)


def mirrored_collections(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT collection FROM vecpg.mirror ORDER BY collection").fetchall()]


def sync(conn: psycopg.Connection, backend: MirrorBackend, collections: list[str] | None = None, *,
         batch: int = DEFAULT_BATCH, on_batch: Callable[[str, BatchResult], None] | None = None) -> int:
    """Drain the outboxes of ``collections`` (default: every mirrored one); events acknowledged."""
    total = 0
    for collection in collections or mirrored_collections(conn):
        while (result := sync_batch(conn, backend, collection, batch)) is not None and result.events:
            total += result.events
            if on_batch:
                on_batch(collection, result)
    return total


def follow(url: str, backend: MirrorBackend, collections: list[str] | None = None, *,
           batch: int = DEFAULT_BATCH, poll: float = 5.0, should_stop: Callable[[], bool] = lambda: False,
           on_batch: Callable[[str, BatchResult], None] | None = None) -> None:
    """Sync, then wait for NOTIFY (or ``poll`` seconds) and sync again, until ``should_stop``.

    Failures (the database or Qdrant unreachable for a while, a Qdrant error) are reported on
    stderr and retried with an exponential backoff up to 30 s; the events stay in the outbox
    meanwhile, so nothing is lost however long it takes.
    """
    backoff = 0.5
    while not should_stop():
        try:
            with psycopg.connect(url, autocommit=True) as conn, psycopg.connect(url, autocommit=True) as listener:
                listener.execute("LISTEN vecpg_mirror")
                while not should_stop():
                    sync(conn, backend, collections, batch=batch, on_batch=on_batch)
                    backoff = 0.5
                    wait_for_notify(listener, poll, should_stop)
        except Exception as exc:  # noqa: BLE001 - a follower outlives whatever failed; see the docstring
            if should_stop():
                return
            print(f"vecpg mirror sync: {' '.join(str(exc).split())} (retrying in {backoff:g} s)", file=sys.stderr)
            time.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
