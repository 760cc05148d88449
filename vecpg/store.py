"""The store: one database, its collections, and the connections and embedders they share."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import PoolTimeout as PoolTimeoutError

from . import config
from .collection import Collection
from .db import migrate
from .db.acting import Acting, check_tenant
from .db.connection import open_pool, resolve_url
from .db.replicas import PRIMARY_POSITION, Replicas, lsn
from .db.server import EmbeddedServer
from .db.timeouts import Timeouts
from .documents import check_text
from .embedding import (
    DEFAULT_BACKEND,
    DEFAULT_MODEL,
    Embedder,
    QueryCache,
    canonical_model_name,
    check_backend,
    embedder_for,
)
from .errors import (
    CollectionExists,
    CollectionNotFound,
    InvalidArgument,
    NotMigrated,
    PoolTimeout,
    TenancyNotEnforced,
    VecpgError,
    from_database,
)
from .filters import FilterCompiler
from .ops import catalog
from .ops.catalog import CollectionInfo
from .ops.runner import Runner, restore
from .storage import DEFAULT_STORAGE, check_storage

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

    from .backups.header import ImportResult
    from .doctor.findings import Finding


T = TypeVar("T")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-")[0].split(".") if part.isdigit())


# What each store's transactions run as in the current context (thread or task): {id(store): Acting}.
_ACTING: ContextVar[dict[int, Acting] | None] = ContextVar("vecpg_acting", default=None)
# Where each store's writes in the current context reached in the primary's WAL: {id(store): position}.
_WRITTEN: ContextVar[dict[int, int] | None] = ContextVar("vecpg_written", default=None)


class Store:
    """Entry point of the library: ``vecpg.connect()`` returns one. Close it, or use ``with``."""

    def __init__(self, url: str, *, embedder: Embedder | None = None, embedder_backend: str | None = None,
                 pool_size: int = 4, admin_url: str | None = None, timeouts: Timeouts | None = None,
                 read_urls: str | Sequence[str] | None = None, replica_max_lag: float | None = None) -> None:
        self.url = url
        self.timeouts = timeouts or Timeouts.resolve()
        # The backend of collections that chose none: the argument, else VECPG_EMBEDDER, else
        # sentence-transformers. Checked before the pool opens, so a typo costs no connection.
        if embedder_backend is not None:
            self.embedder_backend = check_backend(embedder_backend)
        else:
            configured = config.embedder_backend()
            self.embedder_backend = (check_backend(configured, f"embedder in {config.EMBEDDER_ENV}")
                                     if configured else DEFAULT_BACKEND)
        self.query_cache = QueryCache()
        # The embedded server's superuser, for what row-level security must not restrict (see
        # admin_connection); None on a database you configured, where the store has one role.
        self._admin_url = admin_url
        self._embedder = embedder
        read_urls = config.read_urls(read_urls)  # checked before any connection opens
        max_lag = config.replica_max_lag(replica_max_lag)
        self._pool = open_pool(url, max_size=pool_size, timeouts=self.timeouts)
        # Searches go to these when they are healthy (vecpg/db/replicas.py); None without replicas.
        self.replicas: Replicas | None = (
            Replicas(read_urls, self._primary_position, max_lag=max_lag, timeouts=self.timeouts, pool_size=pool_size)
            if read_urls else None)
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT n.nspname, e.extversion FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'"
            ).fetchone()
            # current_user, not session_user: row-level security applies to the current role,
            # and neither attribute is inherited through role membership.
            role = conn.execute(
                "SELECT rolname, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        self.vector_schema: str = row[0] if row else "public"
        self.pgvector_version: tuple[int, ...] = _version(row[1] if row else "0")
        self.role: str = role[0] if role else ""
        self.bypasses_rls: bool = bool(role and role[1])
        self.filters = FilterCompiler()
        # Every operation of the store and its collections runs here (vecpg/ops/runner.py).
        self.run = Runner(self).run
        # Searches through the Qdrant mirror (backend="qdrant"): the lag they accept, in seconds,
        # and what they do beyond it or when Qdrant fails ("postgres" or "error").
        self.mirror_max_lag: float = config.mirror_max_lag()
        self.mirror_fallback: str = config.mirror_fallback()
        self._mirror_backend: Any = None
        self._owns_mirror_backend = True  # False for one lent by set_mirror_backend: its owner closes it

    # -- tenancy ------------------------------------------------------------------------------
    @contextmanager
    def tenant(self, tenant_id: str) -> Iterator[Store]:
        """Act for one tenant inside the block: row-level security then shows and accepts only its rows.

        The tenant is set per transaction (``set_config('vecpg.tenant_id', ..., true)``), so a
        pooled connection never carries it into another request. Outside any ``tenant`` block a
        store sees only rows without a tenant.

        Raises TenancyNotEnforced when the store's role is a superuser or BYPASSRLS: row-level
        security does not bind it, so every tenant would see every row.
        """
        with self.acting(Acting(tenant=check_tenant(tenant_id))):
            yield self

    @contextmanager
    def acting(self, acting: Acting) -> Iterator[Store]:
        """Run the block's transactions with ``acting``'s settings: a tenant, and for a request of
        ``vecpg serve`` a group role, the API key and a statement timeout (vecpg/db/acting.py)."""
        if acting.tenant is not None and self.bypasses_rls:
            # Refused rather than warned about: a warning is easy to miss, a leak is not undone.
            raise TenancyNotEnforced(
                f'role "{self.role}" is a superuser or BYPASSRLS, so row-level security does not bind it and '
                f"tenant {acting.tenant!r} would see every tenant's rows: connect as an ordinary role that is a "
                "member of vecpg_reader, vecpg_writer or vecpg_admin"
            )
        token = _ACTING.set({**(_ACTING.get() or {}), id(self): acting})
        try:
            yield self
        finally:
            _ACTING.reset(token)

    @property
    def current_acting(self) -> Acting | None:
        """What this store's transactions run as here (``acting()``, ``tenant()``), or None."""
        return (_ACTING.get() or {}).get(id(self))

    @property
    def current_tenant(self) -> str | None:
        """The tenant this store acts for here, or None."""
        acting = self.current_acting
        return acting.tenant if acting else None

    def scoped(self, tenant: str | None, work: Callable[[], T]) -> T:
        """``work()`` acting for ``tenant`` (as it is without one); the async store's twin
        returns an awaitable, so code written once serves both."""
        if tenant is None:
            return work()
        with self.tenant(tenant):
            return work()

    # -- connections --------------------------------------------------------------------------
    @contextmanager
    def connection(self, *, for_search: bool = False) -> Iterator[psycopg.Connection]:
        """A pooled autocommit connection; database errors from vecpg's SQL become vecpg errors.

        Inside ``tenant()`` (or ``acting()``) it is in a transaction that has set the tenant (and
        the rest of what the context acts as). pgvector's search
        settings are the connection's own, unless ``for_search`` (vecpg's searches set theirs at
        session level and leave them: vecpg/ops/session.py). With read replicas, a search's
        connection is a healthy replica's when there is one (``_source``).
        """
        acting = self.current_acting
        try:
            # Without replicas the pool's own context (a generator less on every search).
            with self._pool.connection() if self.replicas is None else self._source(for_search) as conn:
                if not for_search:
                    restore(conn)
                if acting is None:
                    yield conn
                else:
                    with conn.transaction():
                        conn.execute(*acting.statement())
                        if acting.watch is None:
                            yield conn
                        else:
                            acting.watch(conn)
                            try:
                                yield conn
                            finally:
                                acting.watch(None)
        except PoolTimeoutError:
            raise PoolTimeout(f"no pooled connection came free within {self.timeouts.pool:g} s: raise pool_size "
                              "(connect(pool_size=...)) or pool_timeout, or lower the load") from None
        except psycopg.Error as exc:
            translated = from_database(exc)
            if translated is not None:
                raise translated from None
            raise

    @contextmanager
    def _source(self, for_search: bool) -> Iterator[psycopg.Connection]:
        """Where a connection comes from: a replica for a search when one is usable (healthy,
        within the lag bound, past this context's writes), else the primary's pool. With
        replicas, the primary's position after other work is noted for read-your-writes. Only
        with replicas: ``connection`` takes the pool's own context without them."""
        replicas = self.replicas
        assert replicas is not None
        if for_search:
            lent = replicas.lend(self.written_position)
            if lent is not None:
                try:
                    yield lent
                finally:
                    replicas.give_back(lent)
                return
        with self._pool.connection() as conn:
            try:
                yield conn
            finally:
                if not for_search:
                    self._note_written(conn)

    def _note_written(self, conn: psycopg.Connection) -> None:
        """Remember the primary's WAL position after work that may have written: this context's
        searches then go to a replica only once it has replayed that far. One round trip on
        the same connection, after the transaction ended (so its commit is before the position),
        made only when there are replicas. A read is counted as a write: whether a statement
        wrote is not known without asking the server anyway."""
        if conn.broken or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return
        with suppress(psycopg.Error):
            self.note_written(lsn(conn.execute(PRIMARY_POSITION).fetchone()[0]))  # type: ignore[index]

    def note_written(self, position: int | None) -> None:
        """This context wrote up to ``position`` of the primary's WAL (the async store's writes too)."""
        if position is not None:
            _WRITTEN.set({**(_WRITTEN.get() or {}), id(self): position})

    @property
    def written_position(self) -> int | None:
        """Where this context's writes reached in the primary's WAL, if replicas are to wait for it."""
        return (_WRITTEN.get() or {}).get(id(self))

    def _primary_position(self) -> int | None:
        """The primary's current WAL position, for the replicas' lag."""
        with self._pool.connection() as conn:
            return lsn(conn.execute(PRIMARY_POSITION).fetchone()[0])  # type: ignore[index]

    @property
    def routed(self) -> bool:
        """Whether searches may go to read replicas (the runner then steps even one statement)."""
        return self.replicas is not None

    def on_replica(self, conn: psycopg.Connection) -> bool:
        """Whether ``conn`` (lent by ``connection()``) is a replica's: the runner moves an
        operation that goes on to write onto the primary."""
        return self.replicas is not None and self.replicas.owns(conn)

    def replica_lost(self, conn: psycopg.Connection, exc: BaseException) -> bool:
        """Whether ``exc`` is the replica of ``conn`` going away (it is then marked down, and the
        runner runs the search again, on another replica or the primary)."""
        return self.replicas is not None and self.replicas.lost(conn, exc)

    def replica_status(self) -> list[dict[str, Any]]:
        """Each read replica's last known health (url, usable, in_recovery, lag, error, searches
        it ran), probed first if due; [] without replicas."""
        if self.replicas is None:
            return []
        self.replicas.refresh()
        return self.replicas.status()

    def search_targets(self) -> dict[str, int]:
        """How many searches ran where: "primary" and each read URL (empty without replicas)."""
        return dict(self.replicas.searches) if self.replicas is not None else {}

    @property
    def admin_url(self) -> str:
        """The URL for work that row-level security must not restrict (keyword index builds,
        the mirror's sync): the embedded server's superuser, else the store's own URL."""
        return self._admin_url or self.url

    @contextmanager
    def admin_connection(self) -> Iterator[psycopg.Connection]:
        """A connection for the one operation row-level security must not restrict, building a
        keyword index over existing rows (it reads every tenant's documents).

        On the embedded server it is a new autocommit connection as its superuser, with no
        tenant set; on a database you configured, the store's own ``connection()``.
        """
        if self._admin_url is None:
            with self.connection() as conn:
                yield conn
            return
        try:
            with psycopg.connect(self._admin_url, autocommit=True) as conn:
                yield conn
        except psycopg.Error as exc:
            translated = from_database(exc)
            if translated is not None:
                raise translated from None
            raise

    # -- health -------------------------------------------------------------------------------
    def doctor(self, collection: str | None = None, recall: bool = True) -> list[Finding]:
        """What is wrong with the collections (or one), each finding with the command that fixes
        it: ``vecpg.doctor()``'s checks, pending migrations, measured recall (``recall=False``
        skips it: one exact scan a sampled query), text past the model's window. See vecpg/doctor/."""
        from .doctor import doctor

        if collection is not None:
            check_text(collection, "collection name")
        return doctor(self, collection, recall=recall)

    def pool_stats(self) -> dict[str, int]:
        """psycopg_pool's statistics of the store's connections (``vecpg_pool_*`` metrics)."""
        return dict(self._pool.get_stats())

    def mirror_backend(self) -> Any:
        """The Qdrant mirror of this store's collections, opened on first use (``VECPG_QDRANT_URL``
        or Qdrant Edge in process: an Edge shard is open in one process at a time, so sync and
        search through the same store then)."""
        if self._mirror_backend is None:
            from .mirror.factory import backend_from_env

            self._mirror_backend = backend_from_env()
        return self._mirror_backend

    def set_mirror_backend(self, backend: Any) -> None:
        """Use this mirror backend (a ServerBackend on a client you configured, or the EdgeBackend
        another store of this process opened: an Edge shard opens once per process). The store
        does not close it."""
        self._mirror_backend = backend
        self._owns_mirror_backend = False

    def close(self) -> None:
        """Close every pooled connection, and the mirror's backend."""
        if self._mirror_backend is not None and self._owns_mirror_backend:
            self._mirror_backend.close()
        self._mirror_backend = None
        if self.replicas is not None:
            self.replicas.close()
        self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- embedders ----------------------------------------------------------------------------
    def embedder(self, model: str, backend: str | None = None) -> Embedder:
        """The embedder for a model: the one given to ``connect`` if it matches (whatever the
        backend), else the process's shared one through ``backend`` (default: the store's)."""
        model = canonical_model_name(model)
        if self._embedder is not None and canonical_model_name(self._embedder.model) == model:
            return self._embedder
        return embedder_for(model, backend or self.embedder_backend)

    # -- collections --------------------------------------------------------------------------
    def embedder_for_collection(self, model: str, embedder: str | None = None) -> Embedder:
        """The embedder of a collection with ``model`` and the embedder name it records (None:
        the store's default), for the embedding workers."""
        return self.embedder(model, embedder)

    def create_collection(
        self,
        name: str,
        dimension: int | None = None,
        distance: str = "cosine",
        model: str | None = None,
        language: str = "english",
        schema: str = "vecpg_data",
        embedder: str | None = None,
        storage: str = DEFAULT_STORAGE,
        partition_by_tenant: str | None = None,
        partitions: int | None = None,
    ) -> Collection:
        """Create a collection. Without a dimension it takes the model's (all-MiniLM-L6-v2 by default).

        With a dimension and no model, the collection stores the vectors you give it.
        ``embedder`` is the backend that runs its model (one of ``vecpg.BACKENDS``; default: the
        store's, see ``connect(embedder_backend=)``). ``storage`` is how the table keeps the vectors:
        ``"vector"`` (float32) or ``"halfvec"`` (half precision: half the table and index, values of
        at most 65504 in magnitude, indexed directly up to 4,000 dimensions; see vecpg/storage.py).
        ``partition_by_tenant``: ``"hash"`` (tenants spread over ``partitions`` tables, 8 by
        default) or ``"list"`` (one table until tenants get their own): native partitions, each
        with its own indexes, a tenant's search opening its own; PostgreSQL 15+ (docs/tenancy.md).
        """
        for value, what in ((name, "collection name"), (distance, "distance"), (language, "language"),
                            (schema, "schema"), (model or "", "model")):
            check_text(value, what)
        if embedder is not None:
            check_backend(embedder)
        check_storage(storage)
        if dimension is None:
            model = canonical_model_name(model or (self._embedder.model if self._embedder else DEFAULT_MODEL))
            dimension = self.embedder(model, embedder).dimension
        elif model is not None:
            model = canonical_model_name(model)
        if embedder is not None and model is None:
            raise InvalidArgument(f"collection {name!r} has no model for embedder {embedder!r} to run: give a model too")
        info = self.run(catalog.create_collection(name, dimension, distance, model, language, schema, storage,
                                                  embedder, partition_by_tenant, partitions))
        if info is None:  # pragma: no cover - created in the same operation
            raise CollectionNotFound(f'collection "{name}" does not exist')
        return Collection(self, info)

    def collection(self, name: str) -> Collection:
        """An existing collection; CollectionNotFound when there is none of that name."""
        check_text(name, "collection name")
        info = self.run(catalog.collection_info(name))
        if info is None:
            raise CollectionNotFound(f'collection "{name}" does not exist')
        return Collection(self, info)

    def get_collection(self, name: str) -> Collection:
        """The same as :meth:`collection` (the name Chroma and vecs users know): an existing
        collection, or CollectionNotFound."""
        return self.collection(name)

    def get_or_create_collection(self, name: str, **kwargs: Any) -> Collection:
        """The collection of that name, created with ``kwargs`` if it does not exist yet (also when
        another client creates it meanwhile)."""
        try:
            return self.collection(name)
        except CollectionNotFound:
            pass
        try:
            return self.create_collection(name, **kwargs)
        except CollectionExists:
            return self.collection(name)

    def list_collections(self) -> list[CollectionInfo]:
        """Every collection, by name."""
        return self.run(catalog.list_collections())

    def drop_collection(self, name: str, missing_ok: bool = False) -> bool:
        """Drop a collection and its documents; False if it did not exist and ``missing_ok``."""
        check_text(name, "collection name")
        return self.run(catalog.drop_collection(name, missing_ok))

    def import_collection(self, name: str, source: str | Path, format: str | None = None, *,
                          progress: bool = False) -> ImportResult:
        """Import an export (``Collection.export``, ``vecpg collection export``) into collection
        ``name``, created with the export's settings if it does not exist (an existing one must
        have the same dimension, distance, storage, model and language).

        One transaction: every row or none, each with its tenant, metadata, vector and
        timestamps as exported; an id that exists is replaced. Rows without a vector are queued
        for the embedding workers. ``source``: a path, or "-" for JSONL on stdin.
        """
        from .backups import import_collection

        check_text(name, "collection name")
        return import_collection(self, name, source, format, progress)


def connect(
    url: str | None = None,
    *,
    embedder: Embedder | None = None,
    embedder_backend: str | None = None,
    migrate_schema: bool | None = None,
    pool_size: int = 4,
    connect_timeout: float | None = None,
    statement_timeout: float | None = None,
    pool_timeout: float | None = None,
    read_urls: str | Sequence[str] | None = None,
    replica_max_lag: float | None = None,
) -> Store:
    """Open a store on ``url``, ``VECPG_DATABASE_URL``, or the embedded server started on demand.

    The embedded database is migrated automatically, as its superuser; the store then logs in
    as the application role ``vecpg_app`` (created if needed), which row-level security binds,
    and keeps the superuser's URL only to build keyword indexes. A database you configured is
    used with the role of its URL, and migrated only with ``migrate_schema=True`` (schema
    changes are yours to schedule): otherwise NotMigrated tells you to run ``vecpg migrate``.

    ``embedder`` is an embedder of yours, used for the collections of its model.
    ``embedder_backend`` runs the models of the collections that chose no backend (one of
    ``vecpg.BACKENDS``; default ``VECPG_EMBEDDER``, else sentence-transformers).
    ``connect_timeout``, ``statement_timeout``, ``pool_timeout``: seconds (else
    ``VECPG_CONNECT_TIMEOUT``, ``VECPG_STATEMENT_TIMEOUT``, ``VECPG_POOL_TIMEOUT``; defaults 10,
    none, 30): see vecpg/db/timeouts.py.
    ``read_urls``: streaming-replication standbys of this database (else ``VECPG_READ_URLS``,
    comma-separated) that take the searches while healthy and at most ``replica_max_lag``
    seconds behind (else ``VECPG_REPLICA_MAX_LAG``, default 5); see docs/replicas.md.
    """
    if embedder_backend is not None:
        check_backend(embedder_backend)  # before a server starts for nothing
    urls = config.read_urls(read_urls)
    max_lag = config.replica_max_lag(replica_max_lag)
    timeouts = Timeouts.resolve(connect_timeout, statement_timeout, pool_timeout)
    server = EmbeddedServer() if url is None and config.database_url() is None else None
    embedded = server is not None
    resolved = server.start() if server is not None else resolve_url(url)
    if migrate_schema is None:
        migrate_schema = embedded
    try:
        at = migrate.current(make_conninfo(resolved, **timeouts.connect_kwargs()))
    except Exception as exc:  # connection refused, bad credentials, no answer within the connect timeout...
        raise VecpgError(f"cannot connect to the database: {exc}") from exc
    if at != migrate.head():
        if not migrate_schema:
            raise NotMigrated(
                f"the database is at vecpg revision {at or 'none'}, this vecpg needs {migrate.head()}: "
                "run `vecpg migrate` (or connect(migrate_schema=True))"
            )
        migrate.upgrade(resolved)
    if server is None:
        return Store(resolved, embedder=embedder, embedder_backend=embedder_backend, pool_size=pool_size,
                     timeouts=timeouts, read_urls=urls, replica_max_lag=max_lag)
    # The role is created after migrations, which create the group role it joins.
    app_url = server.ensure_app_role(resolved)
    return Store(app_url, embedder=embedder, embedder_backend=embedder_backend, pool_size=pool_size,
                 admin_url=resolved, timeouts=timeouts, read_urls=urls, replica_max_lag=max_lag)
