"""Where an ingest of a file got: a row of ``vecpg.ingest_checkpoint`` per collection, tenant and file.

The ingest writes it in the transaction of each chunk it commits, so it never says more or less
than what is in the table: a run killed at any point resumes after the last committed record
and writes no record twice (records without an id get a new random one each time they are
written, so that matters).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ..resources import query

_MIB = 1 << 20


def fingerprint(path: Path) -> str:
    """The file's size and the SHA-256 of its first and last MiB.

    It reads at most 2 MiB however large the file, and changes with almost any rewrite, append
    or truncation; an edit inside a large file that keeps its size and both ends goes unseen.
    """
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        digest.update(fh.read(_MIB))
        if size > _MIB:
            fh.seek(max(_MIB, size - _MIB))
            digest.update(fh.read(_MIB))
    return f"{size}:{digest.hexdigest()}"


@dataclass(frozen=True)
class Checkpoint:
    """What an earlier run committed of a file: its fingerprint then, how many records, all of them?"""

    fingerprint: str
    records: int
    finished: bool


def load(conn: psycopg.Connection, collection: str, source: str) -> Checkpoint | None:
    """The checkpoint of this file, collection and the transaction's tenant, if any."""
    row = conn.execute(query("ingest_checkpoint_get"), {"collection": collection, "source": source}).fetchone()
    return Checkpoint(row[0], int(row[1]), bool(row[2])) if row else None


def save(conn: psycopg.Connection, collection: str, source: str, checkpoint: Checkpoint,
         previous: Checkpoint | None) -> bool:
    """Record, in the caller's transaction, how much of the file is committed; False (nothing
    written) when the checkpoint is no longer ``previous``: another ingest of the file moved it."""
    cur = conn.execute(query("ingest_checkpoint_save"), {
        "collection": collection, "source": source, "fingerprint": checkpoint.fingerprint,
        "records": checkpoint.records, "finished": checkpoint.finished,
        "was_fingerprint": previous.fingerprint if previous else None,
        "was_records": previous.records if previous else None,
        "was_finished": previous.finished if previous else None,
    })
    return cur.rowcount == 1
