"""A collection: documents with embeddings in one table, and everything you do with them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from .documents import Document, Row, check_ids, check_k, check_text, check_vector, prepare
from .embedding import QueryCache, check_backend
from .embedding.chunking import check_chunking, over_window
from .errors import NO_MODEL_FIX, DimensionMismatch, InvalidArgument
from .filters import parse_filter
from .index.advice import IndexAdvice, recommend
from .index.builds import create_concurrently, rebuild_concurrently, vector_indexes
from .index.progress import index_build_progress
from .index.specs import HNSW, IndexInfo, IndexSpec, Prewarmed
from .resources import query
from .search import (
    FIELDS,
    Options,
    SearchResult,
    Statements,
    chunk_search,
    hybrid_search,
    keyword_search,
    options_for,
    vector_search,
)
from .search.target import Database
from .storage import DEFAULT_STORAGE, Storage, check_storage, register_halfvec_copy

if TYPE_CHECKING:
    from .embedding import Embedder
    from .index.tuning import TuningResult


class Backend(Database, Protocol):
    """A store as a collection sees it (``Store`` is one; the store imports this module, not the reverse)."""

    def tenant(self, tenant_id: str) -> AbstractContextManager[Any]: ...

    def embedder(self, model: str, backend: str | None = None) -> Embedder: ...

    def admin_connection(self) -> AbstractContextManager[psycopg.Connection]: ...

    def mirror_backend(self) -> Any: ...

    @property
    def admin_url(self) -> str: ...

    mirror_max_lag: float
    mirror_fallback: str
    bypasses_rls: bool
    embedder_backend: str
    query_cache: QueryCache


# Up to this many rows an upsert is one INSERT ... SELECT FROM unnest(arrays) ON CONFLICT; above
# it, it goes through the bulk path (binary COPY, see _copy_merge).
COPY_THRESHOLD = 500
_ROW_TYPES = ["text", "text", "text", "vector", "jsonb", "text"]  # the staging table's (vectors, cast on merge)
F = TypeVar("F", bound=Callable[..., Any])


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


def _array(value: Any) -> np.ndarray | None:
    """pgvector-python returns numpy arrays before 0.4 and its own Vector type since."""
    if value is None or isinstance(value, np.ndarray):
        return value
    return np.asarray(value.to_numpy(), dtype=np.float32)


def _tenant_scoped(method: F) -> F:
    """Adds ``tenant=`` to a method: the call acts for that tenant, as inside ``store.tenant()``."""

    @functools.wraps(method)
    def scoped(self: Collection, *args: Any, tenant: str | None = None, **kwargs: Any) -> Any:
        if tenant is None:
            return method(self, *args, **kwargs)
        with self.store.tenant(tenant):
            return method(self, *args, **kwargs)

    return scoped  # type: ignore[return-value]


def check_fields(include: Iterable[str] | None, mode: str) -> tuple[str, ...]:
    """The document fields a search fetches, in their canonical order."""
    if include is None:
        return FIELDS
    if isinstance(include, str):
        raise InvalidArgument("include takes a sequence of field names, not a string")
    asked = set(include)
    unknown = sorted(asked - set(FIELDS))
    if unknown:
        raise InvalidArgument(f"unknown field(s) {', '.join(map(repr, unknown))}: include takes {', '.join(FIELDS)}")
    if mode != "vector" and asked != set(FIELDS):
        raise InvalidArgument("include applies to vector searches")
    return tuple(f for f in FIELDS if f in asked)


def _only(hit: SearchResult, fields: tuple[str, ...]) -> SearchResult:
    # As PostgreSQL's search returns them: the fields not asked for empty.
    if "title" not in fields:
        hit.title = None
    if "content" not in fields:
        hit.content = ""
    if "metadata" not in fields:
        hit.metadata = {}
    return hit


def _q(name: str, **identifiers: sql.Composable) -> sql.Composed:
    return sql.SQL(query(name)).format(**identifiers)  # type: ignore[arg-type]


class Collection:
    """Documents of one collection. Get one from ``Store.create_collection`` or ``Store.collection``."""

    def __init__(self, store: Backend, info: CollectionInfo) -> None:
        self.store = store
        self.info = info
        self.table = sql.Identifier(info.schema, info.table)
        self.statements = Statements(info.name, self.table)  # search's, kept per collection
        self._storage: Storage = check_storage(info.storage)
        # A COPY straight into the table casts nothing: rows go in the column's own type.
        self._direct_types = [info.storage if t == "vector" else t for t in _ROW_TYPES]

    name = property(lambda self: self.info.name, doc="Collection name.")
    dimension = property(lambda self: self.info.dimension, doc="Length of its vectors.")
    distance = property(lambda self: self.info.distance, doc="cosine, l2 or ip.")
    model = property(lambda self: self.info.model, doc="Embedding model that fills it, if any.")
    quantization = property(lambda self: self.info.quantization,
                            doc="What the vector index is built on: None (the vectors), halfvec or binary.")
    search_defaults = property(lambda self: self.info.search_defaults,
                               doc="Search options used unless a call gives its own (see tune).")
    storage = property(lambda self: self.info.storage,
                       doc="How the table stores the vectors: vector (4 bytes a dimension) or halfvec (2).")

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
        """The embedder of the collection's model through its backend (``embedder_backend``; an
        embedder given to ``connect`` for this model wins), or None when it stores vectors only."""
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
        if not isinstance(text, str) or not text.strip():
            raise InvalidArgument("query text must not be empty")
        check_text(text, "query text")
        embedder = self.embedder()
        if embedder is None:
            raise InvalidArgument(f"collection {self.name!r} has no embedding model to embed a text query: {NO_MODEL_FIX}")
        return self.store.query_cache.vector(embedder, text, lambda: embedder.embed([text])[0])

    def set_embedder(self, embedder: str | None) -> None:
        """Run the collection's model through this backend from now on (one of
        ``vecpg.BACKENDS``), or through the store's default with None. Stored vectors stay: every
        backend gives the same model's vectors within rounding."""
        if embedder is not None:
            check_backend(embedder)
            if self.model is None:
                raise InvalidArgument(f"collection {self.name!r} has no embedding model for {embedder!r} to run")
        with self.store.connection() as conn:
            conn.execute("SELECT vecpg.set_embedder(%s, %s)", (self.name, embedder))
        self.info = replace(self.info, embedder=embedder)

    # -- writes -------------------------------------------------------------------------------
    @_tenant_scoped
    def upsert(self, documents: Iterable[Document | Mapping[str, Any]]) -> list[str]:
        """Insert documents or replace those whose id exists; returns their ids in order.

        Missing embeddings are computed with the collection's model. The whole batch is one
        transaction: if any row is invalid, nothing is written and the error names the row.
        """
        rows = prepare(documents, self.dimension, self._embed_fn(), tenant=self.store.current_tenant,
                       largest=self._storage.largest)
        if len(rows) > COPY_THRESHOLD:
            with self.store.connection() as conn:
                self._copy_merge(conn, [rows])
        elif rows:
            unique = list({r.id: r for r in rows}.values())  # the last row of a repeated id wins
            vector_type = sql.SQL("{}.vector").format(sql.Identifier(self.store.vector_schema))
            with self.store.connection() as conn:
                conn.execute(_q("upsert", table=self.table, vector=vector_type), {
                    "ids": [r.id for r in unique], "titles": [r.title for r in unique],
                    "contents": [r.content for r in unique], "embeddings": [r.embedding for r in unique],
                    "metadata": [r.metadata for r in unique], "tenants": [r.tenant_id for r in unique],
                })
        return [r.id for r in rows]

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

        The documents may be a generator of any length; they are checked, embedded and copied
        ``batch_size`` at a time in one transaction, so either all of them are written or, on any
        bad row, none. Small batches keep the server busy inserting one while Python checks the
        next (measured: 256 loads about 1.3x faster than 5,000).

        ``via_queue``: documents without an embedding are written without one and no model runs
        here; the collection's embedding queue takes them in the same transaction and
        ``vecpg worker`` embeds them later. It needs a collection with a model.
        ``connection``: write inside this connection's transaction rather than a transaction of
        its own, so that the caller commits its own writes with the rows (an ingest's checkpoint).
        ``first_row``: the number of the first document, for error messages.
        """
        if batch_size < 1:
            raise InvalidArgument("batch_size must be at least 1")
        if via_queue and self.model is None:
            raise InvalidArgument(
                f"collection {self.name!r} has no model, so nothing would embed queued documents: give them "
                "embeddings, or create the collection with a model"
            )
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="doc", desc=f"loading {self.name}")

        tenant = self.store.current_tenant
        embed = None if via_queue else self._embed_fn()

        def batches() -> Iterator[list[Row]]:
            it = iter(documents)
            first = first_row
            while chunk := list(islice(it, batch_size)):
                yield prepare(chunk, self.dimension, embed, first_row=first, tenant=tenant, queue=via_queue,
                              largest=self._storage.largest)
                first += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))

        try:
            if connection is not None:
                return self._copy_merge(connection, batches())
            with self.store.connection() as conn:
                return self._copy_merge(conn, batches())
        finally:
            if bar is not None:
                bar.close()

    def _copy_merge(self, conn: psycopg.Connection, batches: Iterable[list[Row]]) -> int:
        """One binary COPY for the whole load; ids that may already exist are merged afterwards.

        Into an empty table (locked against other writers for the load) rows are copied straight
        in, at raw COPY speed; an id repeated within the load is set aside and merged at the end.
        Into a table with rows, everything is copied into a temporary staging table and merged
        with one INSERT ... ON CONFLICT DO UPDATE. Either way the last occurrence of an id wins.
        """
        seen: set[str] = set()
        repeated: list[Row] = []
        with conn.transaction(), conn.cursor() as cur:
            # A tenant sees only its rows, so "empty" would only mean empty for it, and the lock
            # would stall every other tenant's writers: tenants always take the merge path. So
            # does every role that row-level security binds (vecpg_app on the embedded server):
            # PostgreSQL refuses COPY FROM into a table whose policies apply to the copier.
            direct = self.store.current_tenant is None and self.store.bypasses_rls and self._lock_if_empty(conn)
            if direct:
                if self.storage == "halfvec":
                    register_halfvec_copy(cur)
                with cur.copy(_q("copy_direct", table=self.table)) as copy:
                    copy.set_types(self._direct_types)
                    for rows in batches:
                        for row in rows:
                            if row.id in seen:
                                repeated.append(row)
                            else:
                                seen.add(row.id)
                                copy.write_row(row)
                if repeated:
                    self._stage_and_merge(cur, [repeated])
            else:
                def remember(rows: list[Row]) -> list[Row]:
                    seen.update(row.id for row in rows)
                    return rows

                self._stage_and_merge(cur, (remember(rows) for rows in batches))
        return len(seen)

    def _stage_and_merge(self, cur: Any, batches: Iterable[list[Row]]) -> None:
        vector_type = sql.SQL("{}.vector").format(sql.Identifier(self.store.vector_schema))
        cur.execute(_q("create_staging", vector=vector_type))
        ids: set[str] = set()
        repeats = False
        ordinal = 0
        with cur.copy(query("copy_staging")) as copy:  # type: ignore[arg-type]
            copy.set_types(["int8", *_ROW_TYPES])
            for rows in batches:
                for row in rows:
                    copy.write_row((ordinal, *row))
                    ordinal += 1
                    repeats = repeats or row.id in ids
                    ids.add(row.id)
        # DISTINCT ON needs a sort: only pay for it when the load repeated an id.
        distinct = sql.SQL("DISTINCT ON (id)" if repeats else "")
        order = sql.SQL("ORDER BY id, ord DESC" if repeats else "")
        cur.execute(_q("merge_staging", table=self.table, distinct=distinct, order=order))

    def _lock_if_empty(self, conn: Any) -> bool:
        """True, holding a lock that keeps other writers out, when the table has no rows."""
        probe = _q("is_empty", table=self.table)
        if not conn.execute(probe).fetchone()[0]:
            return False
        conn.execute(_q("lock_for_load", table=self.table))
        return bool(conn.execute(probe).fetchone()[0])  # another writer may have come first

    @_tenant_scoped
    def delete(self, ids: Sequence[str] | str | None = None, *, filter: Any = None) -> int:
        """Delete documents by id, by filter, or both (the documents matching both); returns the count."""
        if ids is None and not filter:
            raise InvalidArgument("delete needs ids or a non-empty filter (refusing to delete everything)")
        where, params = self.store.filters.compile(filter)
        parts = [where]
        if ids is not None:
            parts.append(sql.SQL("AND id = ANY(%(ids)s)"))
            params["ids"] = check_ids(ids)
        with self.store.connection() as conn:
            cur = conn.execute(_q("delete", table=self.table, where=sql.SQL(" ").join(parts)), params)
            return cur.rowcount

    # -- reads --------------------------------------------------------------------------------
    @_tenant_scoped
    def get(self, ids: Sequence[str] | str) -> list[Document]:
        """Documents with these ids, in the order asked (missing ids are left out)."""
        wanted = check_ids(ids)
        with self.store.connection() as conn:
            rows = conn.execute(_q("get", table=self.table), {"ids": wanted}).fetchall()
        by_id = {
            r[0]: Document(id=r[0], title=r[1], content=r[2], metadata=r[3], embedding=_array(r[4]),
                           tenant_id=r[5], created_at=r[6], updated_at=r[7])
            for r in rows
        }
        return [by_id[i] for i in wanted if i in by_id]

    @_tenant_scoped
    def count(self, filter: Any = None) -> int:
        """Number of documents, or of those matching a filter."""
        where, params = self.store.filters.compile(filter)
        with self.store.connection() as conn:
            row = conn.execute(_q("count", table=self.table, where=where), params).fetchone()
        return int(row[0]) if row else 0

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

        ``mode``: ``vector`` (nearest embeddings), ``keyword`` (BM25 over title and content) or
        ``hybrid`` (both lists fused). Tuning for this call only, as keywords or ``options``
        (``VectorOptions``, ``KeywordOptions``, ``HybridOptions``, or a mapping; see
        vecpg/search/options.py): vector search takes ``ef_search`` (HNSW), ``probes`` (IVFFlat),
        ``iterative_scan`` and ``max_scan_tuples`` (pgvector 0.8); keyword search ``k1``, ``b``,
        ``ranking`` (bm25 or ts_rank_cd) and ``max_candidates``; hybrid search all of those and
        ``method`` (adaptive, rrf or convex), ``candidates``, ``rrf_k``, ``vector_weight``,
        ``keyword_weight``, ``max_postings`` (with a keyword index) and ``keyword_index=False``
        (rank exactly). An option the mode does not take is an InvalidArgument.
        ``backend="qdrant"`` searches the Qdrant mirror instead (vector mode, no tuning), with the
        same filters and tenant; see ``Store.mirror_max_lag`` and ``Store.mirror_fallback``.
        ``chunks=True`` (vector mode, a chunked collection: ``enable_chunking``) ranks documents by
        their best chunk and returns it as ``highlight``. ``include`` (vector mode): the document
        fields to fetch, of ``title``, ``content`` and ``metadata`` (default all); ``include=()``
        returns ids and scores only, which a re-ranker or recommender needs and which sends less
        over the wire. Like every read and write here, it takes ``tenant=`` to act for one tenant.
        """
        opts = options_for(mode, options, **tuning)  # cheap checks before the model runs
        check_k(k)
        flt = parse_filter(filter)
        if backend not in ("postgres", "qdrant"):
            raise InvalidArgument(f"backend must be postgres or qdrant, got {backend!r}")
        if backend == "qdrant" and (mode != "vector" or options or chunks or any(v is not None for v in tuning.values())):
            raise InvalidArgument("the Qdrant mirror serves vector searches without tuning options or chunks")
        if chunks and mode != "vector":
            raise InvalidArgument("searching by chunks is a vector search: use mode='vector'")
        fields = check_fields(include, mode)
        if mode == "vector":
            vector = check_vector(self.embed_query(query) if isinstance(query, str) else query, self.dimension,
                                  largest=self._storage.largest)
            if backend == "qdrant":
                from .mirror.search import mirror_search

                hits = mirror_search(self, vector, k, flt)
                if hits is not None:
                    return [_only(h, fields) for h in hits] if fields != FIELDS else hits
            if chunks:
                return chunk_search(self, vector, k, flt, opts)
            return vector_search(self, vector, k, flt, opts, fields)
        if not isinstance(query, str):
            raise InvalidArgument(f"{mode} search needs a text query")
        check_text(query, "query text")
        if mode == "keyword":
            return keyword_search(self, query, k, flt, opts)
        return hybrid_search(self, query, self.embed_query(query), k, flt, opts)

    # -- chunks -------------------------------------------------------------------------------
    def enable_chunking(self, chunk_tokens: int | None = None, chunk_overlap: int | None = None) -> int:
        """Split documents longer than ``chunk_tokens`` model tokens (default 240, overlapping
        by 40: they fit all-MiniLM-L6-v2's 256-token window) into chunks with their own vectors,
        written by the embedding workers; returns the documents queued for chunking. Search
        with ``chunks=True`` then ranks documents by their best chunk."""
        if self.model is None:
            raise InvalidArgument(f"collection {self.name!r} has no model: only collections the workers embed "
                                  "can be chunked")
        params: dict[str, Any] = {"collection": self.name}
        if chunk_tokens is not None:
            check_chunking(self.model, chunk_tokens)
            params["chunk_tokens"] = chunk_tokens
        if chunk_overlap is not None:
            params["chunk_overlap"] = chunk_overlap
        call = ", ".join(f"{name} => %({name})s" for name in params)
        with self.store.connection() as conn:
            row = conn.execute(f"SELECT vecpg.enable_chunking({call})", params).fetchone()  # type: ignore[arg-type]
        return int(row[0]) if row else 0

    def disable_chunking(self) -> bool:
        """Drop the chunks: one vector per document again. False when it was not chunked."""
        with self.store.connection() as conn:
            row = conn.execute("SELECT vecpg.disable_chunking(%s)", (self.name,)).fetchone()
        return bool(row and row[0])

    def over_window(self, sample: int = 500) -> tuple[int, int]:
        """(documents longer than the model's window, documents looked at) in a sample of the
        collection: those are embedded with their end cut off unless the collection is chunked."""
        if self.model is None:
            raise InvalidArgument(f"collection {self.name!r} has no model: nothing is embedded here")
        with self.store.connection() as conn:
            estimate = conn.execute("SELECT greatest(reltuples, 1) FROM pg_class WHERE oid = %s::regclass",
                                    (self.table.as_string(conn),)).fetchone()
            percent = min(100.0, 100.0 * 3 * sample / float(estimate[0] if estimate else 1))
            texts = [r[0] for r in conn.execute(_q("text_sample", table=self.table),
                                                {"percent": percent, "n": sample}).fetchall()]
        return over_window(self.model, texts), len(texts)

    def chunking(self) -> tuple[int, int] | None:
        """(chunk_tokens, chunk_overlap), or None when documents are not chunked."""
        with self.store.connection() as conn:
            row = conn.execute("SELECT chunk_tokens, chunk_overlap FROM vecpg.collection WHERE name = %s",
                               (self.name,)).fetchone()
        return None if row is None or row[0] is None else (row[0], row[1])

    # -- keyword index ------------------------------------------------------------------------
    def enable_keyword_index(self) -> int:
        """Build (or rebuild, refreshing its impacts) the keyword index; returns postings written.

        Hybrid search then reads each query term's best postings instead of scoring every
        candidate: 3x faster on SciFact, at a small cost in ranking (docs/performance.md).
        Writes maintain it in their own transaction, which makes them slower.
        """
        with self.store.admin_connection() as conn:  # it reads every tenant's rows
            row = conn.execute("SELECT vecpg.enable_keyword_index(%s)", (self.name,)).fetchone()
        self.statements.forget_keyword_index()
        return int(row[0]) if row else 0

    def disable_keyword_index(self) -> bool:
        """Drop the keyword index; False when there was none."""
        with self.store.connection() as conn:
            row = conn.execute("SELECT vecpg.disable_keyword_index(%s)", (self.name,)).fetchone()
        self.statements.forget_keyword_index()
        return bool(row and row[0])

    def has_keyword_index(self) -> bool:
        """Whether the collection has a keyword index."""
        with self.store.connection() as conn:
            row = conn.execute("SELECT vecpg.has_keyword_index(%s)", (self.name,)).fetchone()
        return bool(row and row[0])

    # -- Qdrant mirror ------------------------------------------------------------------------
    def enable_mirror(self, **settings: Any) -> None:
        """Mirror this collection to Qdrant from now on (``vecpg mirror sync`` copies it).

        Settings of the Qdrant collection: ``m`` and ``ef_construct`` (HNSW), ``quantization="int8"``
        with ``quantile`` and ``always_ram``, ``payload_indexes`` (metadata keys to index) and
        ``content=False`` to leave the text out of the payload. Called again, it changes them and
        asks for a full copy.
        """
        with self.store.connection() as conn:
            conn.execute("SELECT vecpg.enable_mirror(%s, %s)", (self.name, Jsonb(settings)))

    def disable_mirror(self) -> bool:
        """Stop mirroring (Qdrant's copy stays as it is); False when the collection was not mirrored."""
        with self.store.connection() as conn:
            row = conn.execute("SELECT vecpg.disable_mirror(%s)", (self.name,)).fetchone()
        return bool(row and row[0])

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
        with self.store.connection() as conn:
            conn.execute("SELECT vecpg.rebuild_mirror(%s)", (self.name,))

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
        with (index_build_progress(self.store, f"{spec.method} index on {self.name}", progress) as follow,
              self.store.connection() as conn):
            if concurrently:
                name = create_concurrently(conn, self.info, spec.method, params, follow)
            else:
                if follow is not None:
                    follow(conn.info.backend_pid)
                row = conn.execute(
                    "SELECT vecpg.create_index(%s, %s, %s)", (self.name, spec.method, Jsonb(params))
                ).fetchone()
                name = str(row[0]) if row else ""
        self.refresh()  # searches order by what the new index holds
        return name

    def drop_index(self) -> int:
        """Drop the vector index; returns how many were dropped (0 or 1)."""
        with self.store.connection() as conn:
            row = conn.execute("SELECT vecpg.drop_index(%s)", (self.name,)).fetchone()
        self.refresh()
        return int(row[0]) if row else 0

    def refresh(self) -> None:
        """Read again what searches depend on (the index's quantization, tuned options), after
        another client rebuilt the index or tuned the collection."""
        with self.store.connection() as conn:
            row = conn.execute("SELECT quantization, search_defaults FROM vecpg.collection WHERE name = %s",
                               (self.name,)).fetchone()
        if row is not None:
            self.info = replace(self.info, quantization=row[0], search_defaults=row[1])
            self.statements = Statements(self.name, self.table)

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

        return tune(self, target_recall, k, queries, sample, seed=seed, progress=progress)

    def tuning(self) -> TuningResult | None:
        """What the last ``tune`` measured and chose, or None (never tuned, or the index changed since)."""
        from .index.tuning import TuningResult

        with self.store.connection() as conn:
            row = conn.execute("SELECT tuning FROM vecpg.collection WHERE name = %s", (self.name,)).fetchone()
        return None if row is None or row[0] is None else TuningResult.from_json(self.name, row[0])

    def set_search_defaults(self, options: Options | Mapping[str, Any] | None = None, **tuning: Any) -> dict[str, Any]:
        """Set by hand the vector search options every search uses unless a call gives its own
        (``ef_search``, ``probes``, ``rerank``...), replacing the old ones; returns them."""
        given = options_for("vector", options, **tuning).given()
        with self.store.connection() as conn:
            row = conn.execute("SELECT vecpg.set_search_defaults(%s, %s)", (self.name, Jsonb(given))).fetchone()
        self.refresh()
        return dict(row[0]) if row else {}

    def reset_search_defaults(self) -> bool:
        """Forget the search defaults and tuning; False when there were none."""
        with self.store.connection() as conn:
            row = conn.execute("SELECT vecpg.reset_search_defaults(%s)", (self.name,)).fetchone()
        self.refresh()
        return bool(row and row[0])

    def rebuild_index(self, *, concurrently: bool = False, progress: bool = False) -> int:
        """Rebuild the vector index in place (after large changes, or an invalid one a failed
        concurrent build left; one beside a valid index is dropped); returns how many were rebuilt.
        ``concurrently=True`` rebuilds without blocking writes (``REINDEX INDEX CONCURRENTLY``)."""
        self._outside_tenant(concurrently)
        with (index_build_progress(self.store, f"rebuilding the index of {self.name}", progress) as follow,
              self.store.connection() as conn):
            if concurrently:
                return rebuild_concurrently(conn, self.info, follow)
            if follow is not None:
                follow(conn.info.backend_pid)
            row = conn.execute("SELECT vecpg.rebuild_index(%s)", (self.name,)).fetchone()
        return int(row[0]) if row else 0

    def _outside_tenant(self, concurrently: bool) -> None:
        if concurrently and self.store.current_tenant is not None:
            raise InvalidArgument(
                "a concurrent index build cannot run inside store.tenant(): it needs a connection outside any "
                "transaction, and an index serves every tenant anyway; build it outside the tenant block"
            )

    def indexes(self) -> list[IndexInfo]:
        """The collection's vector indexes, with ``valid`` False for one a concurrent build is
        still making or left behind when it failed."""
        with self.store.connection() as conn:
            return vector_indexes(conn, self.name)

    def prewarm(self) -> list[Prewarmed]:
        """Read the table and its vector index into shared buffers, so that the first searches
        after a restart do not read them from disk: pg_prewarm's job (not in the embedded
        build) done with a sequential scan and an index walk that visits every element
        (``vecpg.prewarm``). Pages stay as long as shared_buffers holds them."""
        with self.store.connection() as conn:  # its settings end with the statement
            rows = conn.execute("SELECT * FROM vecpg.prewarm(%s)", (self.name,)).fetchall()
        return [Prewarmed(*r) for r in rows]

    def recommend_index(self, *, rows: int | None = None, maintenance_work_mem: int | str | None = None,
                        shared_buffers: int | str | None = None) -> IndexAdvice:
        """The index to build for this collection's rows and dimension, its estimated size, and
        warnings when its build will not fit maintenance_work_mem or the index shared_buffers.

        The figures are the database's unless given: ``rows`` (plan ahead of a load), and sizes
        in bytes or PostgreSQL's units ('64MB'): the maintenance_work_mem the build would get and
        shared_buffers.
        """
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 0):
            raise InvalidArgument(f"rows must be a non-negative integer, got {rows!r}")
        sizes = {}
        for key, value in (("maintenance_work_mem", maintenance_work_mem), ("shared_buffers", shared_buffers)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, str))
                                      or (isinstance(value, int) and value < 0)):
                raise InvalidArgument(f"{key} must be a size in bytes or a string such as '64MB', got {value!r}")
            sizes[key] = None if value is None else str(value)
        with self.store.connection() as conn:
            row = conn.execute(_q("index_inputs", table=self.table),
                               {"collection": self.name, "rows": rows, **sizes}).fetchone()
        assert row is not None  # one row per collection, which exists
        return recommend(self.name, int(row[0]), self.dimension, int(row[1]), int(row[2]), self._storage)
