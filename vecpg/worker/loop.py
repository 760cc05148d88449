"""The worker loop: claim a batch, embed it, write it back; collection after collection.

A worker holds a session advisory lock on its own key for as long as it is connected; its
claims carry that key. If the process dies (SIGKILL, a lost connection), PostgreSQL drops the
lock with the session and every row it had claimed is free for the next worker at once.
Claims are committed before embedding starts, so no transaction and no row lock is held while
the model runs: writers updating a queued document are never kept waiting by a worker.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from ..db.connection import wait_for_notify
from ..embedding import Embedder, embedder_for
from ..embedding.chunking import Chunk, chunks
from ..errors import CollectionNotFound, PermissionDenied, VecpgError
from ..metrics import current as current_metrics
from ..metrics import timed
from .options import WorkerOptions

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

# (model, embedder name or None) -> the embedder that computes that collection's vectors.
EmbedderFor = Callable[[str, "str | None"], Embedder]


def default_embedder(model: str, embedder: str | None) -> Embedder:
    """The process's shared embedder for the collection's model and embedder (None: the default,
    or VECPG_EMBEDDER). The CLI passes the store's instead, which honours its own default."""
    return embedder_for(model, embedder)


@dataclass
class WorkerStats:
    """What a worker did: vectors written, rows failed, batches, seconds spent in the model."""

    embedded: int = 0
    failed: int = 0
    batches: int = 0
    model_seconds: float = 0.0
    by_collection: dict[str, int] = field(default_factory=dict)

    def add(self, collection: str, embedded: int, failed: int, seconds: float) -> None:
        self.embedded += embedded
        self.failed += failed
        self.batches += 1
        self.model_seconds += seconds
        self.by_collection[collection] = self.by_collection.get(collection, 0) + embedded


@dataclass(frozen=True)
class Target:
    """A collection a worker embeds for, as the catalog describes it."""

    name: str
    model: str
    embedder: str | None
    dimension: int
    chunk_tokens: int | None = None
    chunk_overlap: int | None = None


@dataclass(frozen=True)
class _Claimed:
    doc_id: str
    text_hash: bytes
    text: str


class Worker:
    """Embeds queued documents of the database at ``url`` (a role that sees every tenant's rows:
    the worker writes vectors for all of them). Use as a context manager, or call close()."""

    def __init__(self, url: str, options: WorkerOptions | None = None, *,
                 embedder_for: EmbedderFor = default_embedder,
                 on_batch: Callable[[str, int, int], None] | None = None) -> None:
        self.url = url
        self.options = options or WorkerOptions()
        self._embedder_for = embedder_for
        self._on_batch = on_batch
        self.stats = WorkerStats()  # since this worker started
        self._run_stats = WorkerStats()  # of the run_once() in progress
        self.conn = psycopg.connect(url, autocommit=True)
        register_vector(self.conn)
        try:
            self._check_role()
            self.key = self._take_key()
        except BaseException:
            self.conn.close()
            raise

    # -- set-up ---------------------------------------------------------------------------
    def _check_role(self) -> None:
        row = self.conn.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
        if not (row and row[0]):
            raise PermissionDenied("the embedding worker writes every tenant's vectors: connect it as a role that "
                                   "bypasses row-level security (vecpg uses the store's admin URL)")

    def _take_key(self) -> int:
        while True:
            key = random.randint(1, 2**31 - 1)
            row = self.conn.execute("SELECT pg_try_advisory_lock(vecpg.worker_lock_class(), %s)", (key,)).fetchone()
            if row and row[0]:
                return key

    def collections(self) -> list[Target]:
        """The collections this worker serves: all with a model, or those of ``options.collections``."""
        rows = self.conn.execute("SELECT name, model, embedder, dimension, chunk_tokens, chunk_overlap "
                                 "FROM vecpg.collection WHERE model IS NOT NULL ORDER BY name").fetchall()
        if not self.options.collections:
            return [Target(*r) for r in rows]
        known = {r[0]: Target(*r) for r in rows}
        for name in self.options.collections:
            if name not in known:
                exists = self.conn.execute("SELECT 1 FROM vecpg.collection WHERE name = %s", (name,)).fetchone()
                raise CollectionNotFound(f'collection "{name}" has no model: nothing to embed' if exists
                                         else f'collection "{name}" does not exist')
        return [known[n] for n in self.options.collections]

    # -- one batch --------------------------------------------------------------------------
    def run_batch(self, target: Target) -> int:
        """Claim, embed and write one batch of a collection; rows claimed (0: nothing ready)."""
        rows = self.conn.execute("SELECT doc_id, text_hash, body FROM vecpg.claim_embeddings(%s, %s, %s)",
                                 (target.name, self.key, self.options.batch)).fetchall()
        if not rows:
            return 0
        claimed = [_Claimed(r[0], r[1], r[2]) for r in rows]
        try:
            started = time.perf_counter()
            done: list[_Embedded] = []
            try:
                embedder = self._embedder_for(target.model, target.embedder)
                plans = [self._plan(target, c.text) for c in claimed]
            except VecpgError as exc:  # a model or embedder this machine lacks: this collection's rows wait
                failed = [(c, _message(exc)) for c in claimed]
            else:
                done, failed = self._embed(claimed, plans, embedder, target.dimension)
            seconds = time.perf_counter() - started
            written = self._store(target, done, seconds) if done else 0
            for error, ids in _by_error(failed).items():
                self.conn.execute("SELECT vecpg.embedding_failed(%s, %s, %s, %s, %s)",
                                  (target.name, self.key, ids, error, self.options.max_attempts))
        except BaseException:
            self._release(target.name, [c.doc_id for c in claimed])
            raise
        for stats in (self.stats, self._run_stats):
            stats.add(target.name, written, len(failed), seconds)
        if self._on_batch:
            self._on_batch(target.name, written, len(failed))
        return len(claimed)

    @staticmethod
    def _plan(target: Target, text: str) -> list[Chunk]:
        if target.chunk_tokens is None:
            return []
        return chunks(target.model, text, target.chunk_tokens, target.chunk_overlap or 0)

    def _store(self, target: Target, done: list[_Embedded], seconds: float) -> int:
        """One statement: each document's vector (its first chunk's when it has chunks) and its chunks."""
        parents: list[str] = []
        numbers: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        texts: list[str] = []
        vectors: list[np.ndarray] = []
        for claimed, plan, matrix in done:
            for number, (chunk, vector) in enumerate(zip(plan, matrix)):
                parents.append(claimed.doc_id)
                numbers.append(number)
                starts.append(chunk.start)
                ends.append(chunk.end)
                texts.append(chunk.text)
                vectors.append(vector)
        row = self.conn.execute(
            "SELECT vecpg.store_embeddings(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (target.name, self.key, [c.doc_id for c, _, _ in done], [c.text_hash for c, _, _ in done],
             [m[0] for _, _, m in done], seconds, parents, numbers, starts, ends, texts, vectors)).fetchone()
        return int(row[0]) if row else 0

    def _embed(self, claimed: Sequence[_Claimed], plans: Sequence[list[Chunk]], embedder: Embedder,
               dimension: int) -> tuple[list[_Embedded], list[tuple[_Claimed, str]]]:
        """For each row that could be embedded, its vectors (one per chunk, or one for its text);
        errors for the others. A batch that fails is embedded again row by row, so that one bad
        row fails alone."""
        if embedder.dimension != dimension:
            error = f"model {embedder.model} gives {embedder.dimension}-d vectors, the collection holds {dimension}-d"
            return [], [(c, error) for c in claimed]
        units = [[chunk.text for chunk in plan] or [c.text] for c, plan in zip(claimed, plans)]
        texts = [t for unit in units for t in unit]
        try:
            with timed("embedding", embedder.model):
                vectors = embedder.embed(texts)
            metrics = current_metrics()
            if metrics is not None:
                metrics.embedded.labels(embedder.model).inc(len(texts))
            return self._split(claimed, plans, units, vectors), []
        except Exception as exc:  # noqa: BLE001 - any model failure; narrowed down row by row below
            if len(claimed) == 1:
                return [], [(claimed[0], _message(exc))]
        done: list[_Embedded] = []
        failed: list[tuple[_Claimed, str]] = []
        for c, plan, unit in zip(claimed, plans, units):
            try:
                done += self._split([c], [plan], [unit], embedder.embed(unit))
            except Exception as exc:  # noqa: BLE001 - kept in the queue as the row's last error
                failed.append((c, _message(exc)))
        return done, failed

    @staticmethod
    def _split(claimed: Sequence[_Claimed], plans: Sequence[list[Chunk]], units: Sequence[list[str]],
               vectors: np.ndarray) -> list[_Embedded]:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.shape[0] != sum(len(u) for u in units):
            raise ValueError(f"the model returned {matrix.shape[0]} vectors for {sum(len(u) for u in units)} texts")
        if not np.isfinite(matrix).all():
            raise ValueError("the model returned a vector with NaN or infinite values")
        out = []
        at = 0
        for c, plan, unit in zip(claimed, plans, units):
            out.append((c, plan, matrix[at:at + len(unit)]))
            at += len(unit)
        return out

    def _release(self, collection: str, ids: list[str]) -> None:
        try:
            self.conn.execute("SELECT vecpg.release_embeddings(%s, %s, %s)", (collection, self.key, ids))
        except psycopg.Error:
            pass  # the connection is gone, and with it the lock: the claims are free anyway

    # -- loops ------------------------------------------------------------------------------
    def run_once(self, should_stop: Callable[[], bool] = lambda: False) -> WorkerStats:
        """Embed until no collection has a ready row (rows waiting for a retry stay); what this
        call did (``self.stats`` counts everything since the worker started)."""
        self._run_stats = WorkerStats()
        targets = self.collections()
        busy = True
        while busy and not should_stop():
            busy = False
            for target in targets:  # one batch each in turn: no collection waits for another
                if should_stop():
                    break
                busy |= self.run_batch(target) > 0
        return self._run_stats

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> WorkerStats:
        """Embed, then wait for a NOTIFY (or ``options.poll`` seconds) and embed again, until
        ``should_stop`` (a SIGTERM handler's flag); the batch in hand is finished first. Database
        failures are reported on stderr and retried with a backoff up to 30 s."""
        backoff = 0.5
        while not should_stop():
            try:
                with psycopg.connect(self.url, autocommit=True) as listener:
                    listener.execute("LISTEN vecpg_embed")
                    while not should_stop():
                        self.run_once(should_stop)
                        backoff = 0.5
                        wait_for_notify(listener, self.options.poll, should_stop)
            except (psycopg.OperationalError, psycopg.errors.AdminShutdown) as exc:
                if should_stop():
                    break
                print(f"vecpg worker: {' '.join(str(exc).split())} (retrying in {backoff:g} s)", file=sys.stderr)
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                self._reconnect()
        return self.stats

    def _reconnect(self) -> None:
        try:
            self.conn.close()
            self.conn = psycopg.connect(self.url, autocommit=True)
            register_vector(self.conn)
            self.key = self._take_key()
        except psycopg.OperationalError:
            pass  # still down: the next round tries again

    def close(self) -> None:
        self.conn.close()  # the advisory lock goes with the session

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A row embedded: its claim, its chunks (none when it fits the window), one vector per chunk or
# one for its whole text.
_Embedded = tuple[_Claimed, list[Chunk], np.ndarray]


def _by_error(failed: list[tuple[_Claimed, str]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for claimed, error in failed:
        groups.setdefault(error, []).append(claimed.doc_id)
    return groups


def _message(exc: Exception) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"
