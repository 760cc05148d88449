"""A collection: documents with embeddings in one table, and everything you do with them.

The facade checks what is cheap to check, then runs an operation (vecpg/ops/, vecpg/search/)
through the store's runner: each method is one operation, which the async API of a later
issue runs through a second runner. Bulk loads stream through the COPY engine (ops/bulk.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import psycopg
from psycopg import sql

from .documents import Document, Row, check_ids, check_text, prepare
from .embedding import QueryCache, check_backend
from .embedding.chunking import check_chunking, over_window
from .errors import NO_MODEL_FIX, DimensionMismatch, InvalidArgument
from .filters import parse_filter
from .index import operations as indexes
from .index.advice import IndexAdvice, recommend
from .index.builds import create_concurrently, rebuild_concurrently
from .index.progress import index_build_progress
from .index.specs import HNSW, IndexInfo, IndexSpec, Prewarmed
from .metrics import counted, measured, rows_written
from .ops import catalog, expiry, records
from .ops import documents as docs
from .ops.bulk import COPY_THRESHOLD, BulkTarget, copy_merge, prepared, progress_bar
from .ops.catalog import CollectionInfo
from .ops.statement import Call, Steps, call
from .search import Options, SearchResult, Statements, options_for
from .search.batch import search_many_query
from .search.dispatch import search_query
from .search.hybrid import has_keyword_index
from .search.target import Database
from .storage import Storage, check_storage

if TYPE_CHECKING:
    from .embedding import Embedder
    from .index.tuning import TuningResult

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class Backend(Database, Protocol):
    """A store as a collection sees it (``Store`` is one; the store imports this module, not the reverse)."""

    def tenant(self, tenant_id: str) -> AbstractContextManager[Any]: ...

    def scoped(self, tenant: str | None, work: Callable[[], T]) -> T: ...

    def embedder(self, model: str, backend: str | None = None) -> Embedder: ...

    def connection(self, *, for_search: bool = False) -> AbstractContextManager[psycopg.Connection]: ...

    def admin_connection(self) -> AbstractContextManager[psycopg.Connection]: ...

    def mirror_backend(self) -> Any: ...

    @property
    def admin_url(self) -> str: ...

    mirror_max_lag: float
    mirror_fallback: str
    bypasses_rls: bool
    embedder_backend: str
    query_cache: QueryCache


def _tenant_scoped(method: F) -> F:
    """Adds ``tenant=`` to a method: the call acts for that tenant, as inside ``store.tenant()``."""

    @functools.wraps(method)
    def scoped(self: Collection, *args: Any, tenant: str | None = None, **kwargs: Any) -> Any:
        if tenant is None:
            return method(self, *args, **kwargs)
        with self.store.tenant(tenant):
            return method(self, *args, **kwargs)

    return scoped  # type: ignore[return-value]


def _in_order(found: Steps[list[Document]], ids: list[str]) -> Steps[list[Document]]:
    by_id = {d.id: d for d in (yield from found)}
    return [by_id[i] for i in ids if i in by_id]


def _check_query_text(text: Any, what: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"{what} must not be empty")
    check_text(text, what)


class Collection:
    """Documents of one collection. Get one from ``Store.create_collection`` or ``Store.collection``."""

    def __init__(self, store: Backend, info: CollectionInfo) -> None:
        self.store = store
        self.info = info
        self.table = sql.Identifier(info.schema, info.table)
        self.statements = Statements(info.name, self.table)  # search's, kept per collection
        self._storage: Storage = check_storage(info.storage)
        self._run = store.run

    name = property(lambda self: self.info.name, doc="Collection name.")
    schema = property(lambda self: self.info.schema, doc="The schema of its table.")
    dimension = property(lambda self: self.info.dimension, doc="Length of its vectors.")
    distance = property(lambda self: self.info.distance, doc="cosine, l2 or ip.")
    model = property(lambda self: self.info.model, doc="Embedding model that fills it, if any.")
    quantization = property(lambda self: self.info.quantization,
                            doc="What the vector index is built on: None (the vectors), halfvec or binary.")
    search_defaults = property(lambda self: self.info.search_defaults,
                               doc="Search options used unless a call gives its own (see tune).")
    storage = property(lambda self: self.info.storage,
                       doc="How the table stores the vectors: vector (4 bytes a dimension) or halfvec (2).")
    ttl = property(lambda self: self.info.ttl,
                   doc="How long a document lives after its last write when it brings no expires_at (None: forever).")

    @property
    def embedder_backend(self) -> str:
        """The backend that runs its model: the collection's choice, else the store's default
        (``connect(embedder_backend=)``, ``VECPG_EMBEDDER``, else sentence-transformers)."""
        return self.info.embedder or self.store.embedder_backend

    def __repr__(self) -> str:
        storage = "" if self.storage == "vector" else f", storage={self.storage!r}"
        return f"Collection({self.name!r}, dimension={self.dimension}, distance={self.distance!r}{storage})"

    # -- embedding ----------------------------------------------------------------------------
    def embedder(self) -> Embedder | None:
        """A collection's row in ``vecpg.collection``."""
        if self.model is None:
            return None
        embedder = self.store.embedder(self.model, self.embedder_backend)
        if embedder.dimension != self.dimension:
            raise DimensionMismatch(
                f"model {self.model} produces {embedder.dimension}-dimensional vectors but collection "
                f"{self.name!r} holds {self.dimension}-dimensional ones"
            )
        return embedder

    def _embed_fn(self) -> Any:
        if self.model is None:
            return None
        return lambda texts: self.embedder().embed(texts)  # type: ignore[union-attr]

    def embed_query(self, text: str) -> np.ndarray:
        """The query vector for a text, from the collection's model; a text asked again comes
        from the store's query cache (read-only then)."""
        _check_query_text(text, "query text")
        embedder = self._query_embedder()
        return self.store.query_cache.vector(embedder, text, lambda: embedder.embed([text])[0])

    def embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The query vectors of several texts, as ``embed_query`` gives them; those not in the
        query cache come from one batch of the model, much faster than one call each."""
        for i, text in enumerate(texts):
            _check_query_text(text, f"query {i}")
        embedder = self._query_embedder()
        return self.store.query_cache.vectors(embedder, texts, embedder.embed)

    def _query_embedder(self) -> Embedder:
        embedder = self.embedder()
        if embedder is None:
            raise InvalidArgument(f"collection {self.name!r} has no embedding model to embed a text query: {NO_MODEL_FIX}")
        return embedder

    def set_embedder(self, embedder: str | None) -> None:
        """Run the collection's model through this backend from now on (one of
        ``vecpg.BACKENDS``), or through the store's default with None. Stored vectors stay: every
        backend gives the same model's vectors within rounding."""
        if embedder is not None:
            check_backend(embedder)
            if self.model is None:
                raise InvalidArgument(f"collection {self.name!r} has no embedding model for {embedder!r} to run")
        self._run(catalog.set_embedder(self.name, embedder))
        self.info = replace(self.info, embedder=embedder)

    # -- writes -------------------------------------------------------------------------------
    @_tenant_scoped
    def upsert(self, documents: Iterable[Document | Mapping[str, Any]]) -> list[str]:
        """Insert documents or replace those whose id exists; returns their ids in order.

        Missing embeddings are computed with the collection's model. The whole batch is one
        transaction: if any row is invalid, nothing is written and the error names the row.
        """
        return self._run(self._upsert(documents, self.store.current_tenant))

    def _upsert(self, documents: Iterable[Document | Mapping[str, Any]], tenant: str | None) -> Steps[list[str]]:
        rows: list[Row] = yield Call(functools.partial(prepare, tenant=tenant, largest=self._storage.largest),
                                     (documents, self.dimension, self._embed_fn()))
        if len(rows) > COPY_THRESHOLD:
            yield Call(self._copy, ([rows],))
        elif rows:
            yield docs.upsert(self.table, self.store.vector_schema, rows, self.info.key)
        rows_written(self.name, "upsert", len(rows))
        return [r.id for r in rows]

    def _copy(self, batches: Iterable[Sequence[Row]], connection: psycopg.Connection | None = None) -> int:
        # COPY is a protocol of its own, spoken on a connection (ops/bulk.py), not through the
        # runner: the async API runs this in a thread, on a connection of the store's own.
        if connection is not None:
            return copy_merge(connection, self._bulk_target(), batches)
        with self.store.connection() as conn:
            return copy_merge(conn, self._bulk_target(), batches)

    @_tenant_scoped
    def load(
        self,
        documents: Iterable[Document | Mapping[str, Any]],
        batch_size: int = 256,
        progress: bool = False,
        total: int | None = None,
        *,
        via_queue: bool = False,
        first_row: int = 0,
        connection: psycopg.Connection | None = None,
    ) -> int:
        """Bulk load through binary COPY with upsert semantics; returns the number of distinct ids.

        The documents may be a generator of any length, checked, embedded and copied
        ``batch_size`` at a time in one transaction: all of them are written or, on any bad row,
        none. ``via_queue``: documents without an embedding are left to the embedding queue
        (``vecpg worker``). ``connection``: write in that connection's transaction, committed
        by the caller with its own writes. ``first_row``: the first document's number, for errors.
        """
        if batch_size < 1:
            raise InvalidArgument("batch_size must be at least 1")
        if via_queue and self.model is None:
            raise InvalidArgument(
                f"collection {self.name!r} has no model, so nothing would embed queued documents: give them "
                "embeddings, or create the collection with a model"
            )
        embed = None if via_queue else self._embed_fn()
        rows = prepared(documents, batch_size, self.dimension, embed, first_row=first_row, queue=via_queue,
                        tenant=self.store.current_tenant, largest=self._storage.largest)
        return self._run(call(self._load, rows, progress, total, connection))

    def _load(self, rows: Iterator[list[Row]], progress: bool, total: int | None,
              connection: psycopg.Connection | None) -> int:
        with progress_bar(rows, progress, total, f"loading {self.name}") as batches:
            loaded = self._copy(batches, connection)
        rows_written(self.name, "load", loaded)
        return loaded

    def _bulk_target(self) -> BulkTarget:
        direct = self.store.current_tenant is None and self.store.bypasses_rls
        return BulkTarget(self.table, self.storage, self.store.vector_schema, direct, key=self.info.key)

    @_tenant_scoped
    def delete(self, ids: Sequence[str] | str | None = None, *, filter: Any = None) -> int:
        """Delete documents by id, by filter, or both (the documents matching both); returns the count."""
        if ids is None and not filter:
            raise InvalidArgument("delete needs ids or a non-empty filter (refusing to delete everything)")
        wanted = None if ids is None else check_ids(ids)
        return self._run(counted(docs.delete(self.store.filters, self.table, wanted, filter), self.name, "delete"))

    # -- reads --------------------------------------------------------------------------------
    @_tenant_scoped
    def get(self, ids: Sequence[str] | str) -> list[Document]:
        """Documents with these ids, in the order asked (missing and expired ids are left out)."""
        return self._run(docs.get(self.store.filters, self.table, check_ids(ids)))

    @_tenant_scoped
    def find(self, filter: Any = None, *, ids: Sequence[str] | str | None = None) -> list[Document]:
        """Every document matching a filter (all of them without one), in id order: a listing,
        not a search. ``ids``: only these, returned in the order asked (missing ones left out)."""
        wanted = None if ids is None else check_ids(ids)
        if wanted is not None:
            filter = {"$and": [f for f in (parse_filter(filter), {"id": {"$in": wanted}}) if f]}
        found = records.select(self.store.filters, self.table, filter)
        return self._run(found if wanted is None else _in_order(found, wanted))

    @_tenant_scoped
    def count(self, filter: Any = None) -> int:
        """Number of documents, or of those matching a filter."""
        return self._run(docs.count(self.store.filters, self.table, filter))

    @_tenant_scoped
    def search(
        self,
        query: str | Sequence[float] | np.ndarray,
        k: int = 10,
        *,
        mode: str = "vector",
        filter: Any = None,
        options: Options | Mapping[str, Any] | None = None,
        backend: str = "postgres",
        chunks: bool = False,
        include: Iterable[str] | None = None,
        **tuning: Any,
    ) -> list[SearchResult]:
        """The k best documents for a text (or, in vector mode, a vector).

        ``mode``: ``vector``, ``keyword`` (BM25) or ``hybrid`` (both lists fused). Options for
        this call only, as keywords or ``options`` (``VectorOptions``, ``KeywordOptions``,
        ``HybridOptions`` or a mapping: vecpg/search/options.py); one the mode does not take is an
        InvalidArgument. ``backend="qdrant"``: through the Qdrant mirror (vector mode, no options).
        ``chunks=True``: documents ranked by their best chunk, returned as ``highlight``.
        ``include``: the fields to fetch in vector mode (``()``: ids and scores only).
        docs/collections-and-search.md says more; ``tenant=`` acts for one tenant.
        """
        return self._run(measured(search_query(self, query, k, mode=mode, filter=filter, options=options,
                                               backend=backend, chunks=chunks, include=include, tuning=tuning),
                                  "search", self.name, mode))

    @_tenant_scoped
    def search_many(
        self,
        queries: Sequence[str | Sequence[float] | np.ndarray] | np.ndarray,
        k: int = 10,
        *,
        mode: str = "vector",
        filter: Any = None,
        options: Options | Mapping[str, Any] | None = None,
        vectors: bool = False,
        backend: str = "postgres",
        **tuning: Any,
    ) -> list[list[SearchResult]]:
        """The k best documents for each of several queries, in one statement and one round trip:
        one list of results per query, in the order given (at most ``MAX_QUERIES``, 1,000).

        ``queries``: texts, vectors (vector mode) or a 2-D array with a vector per row; texts are
        embedded in one batch. ``mode``, ``filter``, options and ``tenant=`` as for ``search``,
        the same for every query. ``vectors=True``: each result's stored embedding in ``vector``.
        ``backend="qdrant"``: the whole batch through the Qdrant mirror, as ``search`` does.
        """
        return self._run(measured(search_many_query(self, queries, k, mode=mode, filter=filter, options=options,
                                                    vectors=vectors, tuning=tuning, backend=backend),
                                  "search", self.name, mode))

    # -- chunks -------------------------------------------------------------------------------
    def enable_chunking(self, chunk_tokens: int | None = None, chunk_overlap: int | None = None) -> int:
        """Split documents longer than ``chunk_tokens`` model tokens (default 240, overlapping
        by 40: they fit all-MiniLM-L6-v2's 256-token window) into chunks with their own vectors,
        written by the embedding workers; returns the documents queued for chunking. Search
        with ``chunks=True`` then ranks documents by their best chunk."""
        if self.model is None:
            raise InvalidArgument(f"collection {self.name!r} has no model: only collections the workers embed "
                                  "can be chunked")
        settings: dict[str, int] = {}
        if chunk_tokens is not None:
            check_chunking(self.model, chunk_tokens)
            settings["chunk_tokens"] = chunk_tokens
        if chunk_overlap is not None:
            settings["chunk_overlap"] = chunk_overlap
        return self._run(catalog.enable_chunking(self.name, settings))

    def disable_chunking(self) -> bool:
        """Drop the chunks: one vector per document again. False when it was not chunked."""
        return self._run(catalog.disable_chunking(self.name))

    def over_window(self, sample: int = 500) -> tuple[int, int]:
        """(documents longer than the model's window, documents looked at) in a sample of the
        collection: those are embedded with their end cut off unless the collection is chunked."""
        if self.model is None:
            raise InvalidArgument(f"collection {self.name!r} has no model: nothing is embedded here")
        texts = self._run(docs.text_sample(self.table, sample))
        return over_window(self.model, texts), len(texts)

    def chunking(self) -> tuple[int, int] | None:
        """(chunk_tokens, chunk_overlap), or None when documents are not chunked."""
        return self._run(catalog.chunking(self.name))

    # -- expiry -------------------------------------------------------------------------------
    def set_ttl(self, ttl: timedelta | None, *, apply_to_existing: bool = False) -> int:
        """Documents written from now on without an ``expires_at`` expire ``ttl`` after each
        write (an upsert restarts it; a metadata update keeps it); None clears the TTL.
        ``apply_to_existing``: documents without an expiry get one too, ``ttl`` after their last
        update. Returns the documents given an expiry. Expired documents are gone for every read
        at once and deleted by ``purge_expired`` (``vecpg maintain``)."""
        given = self._run(expiry.set_ttl(self.name, expiry.check_ttl(ttl), apply_to_existing))
        self.info = replace(self.info, ttl=ttl)
        return given

    def expired_count(self) -> int:
        """How many documents (of every tenant) have expired and wait for the purge."""
        return self._run(expiry.expired_count(self.name))

    def purge_expired(self, batch_size: int = expiry.DEFAULT_PURGE_BATCH, *, progress: bool = False) -> int:
        """Delete the expired documents of every tenant, ``batch_size`` per transaction, so no
        lock is held long; returns how many went. The keyword statistics, the keyword index, the
        chunks and the Qdrant mirror follow as for any delete."""
        return self._run(counted(expiry.purge(self.name, expiry.check_batch(batch_size), progress),
                                 self.name, "purge"))

    # -- backups ------------------------------------------------------------------------------
    def export(self, target: str | Path | IO[Any] | None = None, format: str | None = None, *,
               progress: bool = False) -> int:
        """Write every row of every tenant, with the collection's settings first, to ``target``
        (a path, a file object, or stdout for None or "-"); returns the rows written.

        ``format``: ``jsonl`` or ``parquet``, else by the path's extension (.parquet; JSONL
        otherwise, gzipped for .gz). Rows stream from a server-side cursor; vectors, metadata,
        tenants and timestamps come back exactly through ``Store.import_collection``.
        """
        from .backups import export_collection

        return self._run(call(export_collection, self, target, format, progress))

    # -- partitions by tenant -----------------------------------------------------------------
    tenant_scope = property(lambda self: self.info.tenant_scope,
                            doc="What a search acting for a tenant adds to open its partition alone (partitioned).")

    @property
    def partitioned(self) -> bool:
        """Whether the collection is partitioned by tenant (docs/tenancy.md#partitions-by-tenant)."""
        return self.info.partitioned

    def give_tenant_partition(self, tenant: str) -> int:
        """Move a tenant's rows out of the shared default partition into a partition of its own,
        with its own indexes, in one transaction; returns the rows moved (0 when it has one).

        The documents do not change: keyword statistics, the embedding queue and the mirror stay
        as they are. Writes to the default partition wait for the move (docs/tenancy.md).
        """
        check_text(tenant, "tenant")
        if not tenant:
            raise InvalidArgument("a tenant is needed: rows without a tenant stay in the default partition")
        return self._run(catalog.give_tenant_partition(self.name, tenant))

    def partitions(self) -> list[tuple[Any, ...]]:
        """The partitions, top down: (name, parent, bound, is_leaf, level, row estimate)."""
        return self._run(catalog.tenant_partitions(self.name))

    # -- keyword index ------------------------------------------------------------------------
    def enable_keyword_index(self) -> int:
        """Build (or rebuild, refreshing its impacts) the keyword index; returns postings written.

        Hybrid search then reads each query term's best postings instead of scoring every
        candidate: 3x faster on SciFact, at a small cost in ranking (docs/performance.md).
        Writes maintain it in their own transaction, which makes them slower.
        """
        written = self._run(catalog.enable_keyword_index(self.name))
        self.statements.forget_keyword_index()
        return written

    def disable_keyword_index(self) -> bool:
        """Drop the keyword index; False when there was none."""
        dropped = self._run(catalog.disable_keyword_index(self.name))
        self.statements.forget_keyword_index()
        return dropped

    def has_keyword_index(self) -> bool:
        """Whether the collection has a keyword index."""
        return self._run(has_keyword_index(self))

    # -- Qdrant mirror ------------------------------------------------------------------------
    def enable_mirror(self, **settings: Any) -> None:
        """Mirror this collection to Qdrant from now on (``vecpg mirror sync`` copies it).

        Settings of the Qdrant collection: ``m`` and ``ef_construct`` (HNSW), ``quantization="int8"``
        with ``quantile`` and ``always_ram``, ``payload_indexes`` (metadata keys to index) and
        ``content=False`` to leave the text out of the payload. Called again, it changes them and
        asks for a full copy.
        """
        self._run(catalog.enable_mirror(self.name, settings))

    def disable_mirror(self) -> bool:
        """Stop mirroring (Qdrant's copy stays as it is); False when the collection was not mirrored."""
        return self._run(catalog.disable_mirror(self.name))

    def sync_mirror(self) -> int:
        """Copy this collection's waiting changes to the store's mirror now; events acknowledged.

        With Qdrant Edge, whose shard one process opens at a time, the process that searches the
        mirror syncs it this way (or runs ``vecpg mirror sync`` when it does not search).
        """
        from .mirror.sync import sync

        with psycopg.connect(self.store.admin_url, autocommit=True) as conn:
            return sync(conn, self.store.mirror_backend(), [self.name])

    def rebuild_mirror(self) -> None:
        """Ask the next sync to recreate the Qdrant collection from this one."""
        self._run(catalog.rebuild_mirror(self.name))

    # -- indexes ------------------------------------------------------------------------------
    def create_index(self, index: IndexSpec | None = None, *, concurrently: bool = False, progress: bool = False,
                     **build: Any) -> str:
        """Build the vector index (HNSW by default), replacing any other; returns its name.

        ``build`` may set ``maintenance_work_mem`` and ``parallel_workers`` for this build only.
        ``concurrently=True`` builds without blocking writes (``CREATE INDEX CONCURRENTLY``:
        slower, and not inside ``store.tenant()`` or a transaction); an index it replaces serves
        searches until the new one is ready. ``progress=True`` shows a bar on stderr.
        """
        spec = index or HNSW()
        params = {**spec.params(), **build}
        self._outside_tenant(concurrently)
        with index_build_progress(self.store, f"{spec.method} index on {self.name}", progress) as follow:
            if concurrently:
                with self.store.connection() as conn:
                    name = create_concurrently(conn, self.info, spec.method, params, follow)
            else:
                name = self._run(indexes.create_index(self.name, spec.method, params, follow))
        self.refresh()  # searches order by what the new index holds
        return name

    def drop_index(self) -> int:
        """Drop the vector index; returns how many were dropped (0 or 1)."""
        dropped = self._run(indexes.drop_index(self.name))
        self.refresh()
        return dropped

    def refresh(self) -> None:
        """Read again what searches depend on (the index's quantization, tuned options), after
        another client rebuilt the index or tuned the collection."""
        row = self._run(catalog.searched_by(self.name))
        if row is not None:
            self.info = replace(self.info, quantization=row[0], search_defaults=row[1])
            self.statements = Statements(self.name, self.table)

    def rebuild_index(self, *, concurrently: bool = False, progress: bool = False) -> int:
        """Rebuild the vector index in place (after large changes, or an invalid one a failed
        concurrent build left; one beside a valid index is dropped); returns how many were rebuilt.
        ``concurrently=True`` rebuilds without blocking writes (``REINDEX INDEX CONCURRENTLY``)."""
        self._outside_tenant(concurrently)
        with index_build_progress(self.store, f"rebuilding the index of {self.name}", progress) as follow:
            if concurrently:
                with self.store.connection() as conn:
                    return rebuild_concurrently(conn, self.info, follow)
            return self._run(indexes.rebuild_index(self.name, follow))

    def _outside_tenant(self, concurrently: bool) -> None:
        if concurrently and self.store.current_tenant is not None:
            raise InvalidArgument(
                "a concurrent index build cannot run inside store.tenant(): it needs a connection outside any "
                "transaction, and an index serves every tenant anyway; build it outside the tenant block"
            )

    def indexes(self) -> list[IndexInfo]:
        """The collection's vector indexes, with ``valid`` False for one a concurrent build is
        still making or left behind when it failed."""
        return self._run(indexes.indexes(self.name))

    def prewarm(self) -> list[Prewarmed]:
        """Read the table and its vector index into shared buffers, so that the first searches
        after a restart do not read them from disk: pg_prewarm's job (not in the embedded
        build) done with a sequential scan and an index walk that visits every element
        (``vecpg.prewarm``). Pages stay as long as shared_buffers holds them."""
        return self._run(indexes.prewarm(self.name))

    def recommend_index(self, *, rows: int | None = None, maintenance_work_mem: int | str | None = None,
                        shared_buffers: int | str | None = None, quantization: str | None = None) -> IndexAdvice:
        """The index to build for this collection's rows and dimension, its estimated size, and
        warnings when its build will not fit maintenance_work_mem or the index shared_buffers.

        The figures are the database's unless given: ``rows`` (plan ahead of a load), and sizes
        in bytes or PostgreSQL's units ('64MB'): the maintenance_work_mem the build would get and
        shared_buffers. ``quantization``: plan an index of ``halfvec`` copies or ``binary`` codes
        (docs/sizing.md) rather than what ``create_index`` would choose by itself.
        """
        if quantization not in (None, "halfvec", "binary"):
            raise InvalidArgument(f"quantization {quantization!r}: plan halfvec or binary, or leave it to create_index")
        counted, memory, buffers = self._run(indexes.advice_inputs(
            self.name, self.table, rows, maintenance_work_mem=maintenance_work_mem, shared_buffers=shared_buffers))
        return recommend(self.name, counted, self.dimension, memory, buffers, self._storage, quantization)

    # -- tuning -------------------------------------------------------------------------------
    def tune(self, target_recall: float = 0.95, k: int = 10, queries: Sequence[Any] | np.ndarray | None = None,
             sample: int = 200, *, seed: int = 0, progress: bool = False) -> TuningResult:
        """Measure recall@k and store the smallest ``ef_search`` (HNSW) or ``probes`` (IVFFlat)
        reaching ``target_recall`` (and, for binary codes, the re-rank factor) as the options
        later searches use unless a call gives its own; returns what was measured and chosen.

        The queries are ``sample`` stored vectors (the same for the same ``seed``) or ``queries``
        (vectors, or texts with a model). When no value reaches the target, the best one is
        stored and ``result.reached`` is False. Building or dropping the index forgets it.
        See vecpg/index/tuning.py for how it measures.
        """
        from .index.tuning import tune

        self.refresh()  # the index as it is now: another client may have rebuilt it
        result = tune(self, self.indexes(), target_recall, k, queries, sample, seed=seed, progress=progress)
        self.refresh()
        return result

    def tuning(self) -> TuningResult | None:
        """What the last ``tune`` measured and chose, or None (never tuned, or the index changed since)."""
        from .index.tuning import TuningResult

        stored = self._run(catalog.tuning(self.name))
        return None if stored is None else TuningResult.from_json(self.name, stored)

    def set_search_defaults(self, options: Options | Mapping[str, Any] | None = None, **tuning: Any) -> dict[str, Any]:
        """Set by hand the vector search options every search uses unless a call gives its own
        (``ef_search``, ``probes``, ``rerank``...), replacing the old ones; returns them."""
        stored = self._run(catalog.set_search_defaults(self.name, options_for("vector", options, **tuning).given()))
        self.refresh()
        return stored

    def reset_search_defaults(self) -> bool:
        """Forget the search defaults and tuning; False when there were none."""
        forgotten = self._run(catalog.reset_search_defaults(self.name))
        self.refresh()
        return forgotten
