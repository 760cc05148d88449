"""The async store: ``await vecpg.connect_async()``, on psycopg's AsyncConnectionPool.

It is the sync store's second runner, not a second implementation: an ``AsyncStore`` wraps a
``Store`` (which knows the database, the embedders, the tenant of each context) and runs the
same operations on async connections (vecpg/ops/async_runner.py). What is rare or bulk — creating
and dropping collections, index builds, COPY — runs on the sync store in a worker thread; the
collection's ``sync`` twin offers everything else (``await asyncio.to_thread(coll.sync.tune)``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from pgvector.psycopg import register_vector_async
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool
from psycopg_pool import PoolTimeout as PoolTimeoutError

from ..db.connection import check_idle_async
from ..db.replicas import LEND_WAIT, PRIMARY_POSITION, Replicas, lsn
from ..errors import CollectionExists, CollectionNotFound, PoolTimeout, from_database
from ..ops import catalog
from ..ops.async_runner import AsyncRunner, restore
from ..ops.catalog import CollectionInfo
from ..ops.statement import Statement
from ..store import Store, connect

if TYPE_CHECKING:
    from typing_extensions import Self

    from .collection import AsyncCollection

T = TypeVar("T")


class _Acting:
    """``with`` or ``async with`` the sync store's context manager (a tenant, acting settings)."""

    def __init__(self, inner: AbstractContextManager[Any], store: AsyncStore) -> None:
        self._inner, self._store = inner, store

    def __enter__(self) -> AsyncStore:
        self._inner.__enter__()
        return self._store

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)  # type: ignore[arg-type]

    async def __aenter__(self) -> AsyncStore:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)


class AsyncStore:
    """The async twin of ``vecpg.Store``: ``await store.collection(name)``, ``async with store.tenant(t)``."""

    def __init__(self, sync: Store, pool: AsyncConnectionPool) -> None:
        self.sync = sync
        self._pool = pool
        self._replica_pools: dict[str, AsyncConnectionPool] = {}  # by read URL, opened on first use
        self.run = AsyncRunner(self).run

    # What search and the collection read of a store: the sync store's.
    vector_schema = property(lambda self: self.sync.vector_schema)
    pgvector_version = property(lambda self: self.sync.pgvector_version)
    filters = property(lambda self: self.sync.filters)
    query_cache = property(lambda self: self.sync.query_cache)
    role = property(lambda self: self.sync.role)
    bypasses_rls = property(lambda self: self.sync.bypasses_rls)
    current_tenant = property(lambda self: self.sync.current_tenant)

    def embedder(self, model: str, backend: str | None = None) -> Any:
        return self.sync.embedder(model, backend)

    def tenant(self, tenant_id: str) -> _Acting:
        """Act for one tenant inside the block, ``with`` or ``async with`` (per task: contextvars)."""
        return _Acting(self.sync.tenant(tenant_id), self)

    def acting(self, acting: Any) -> _Acting:
        return _Acting(self.sync.acting(acting), self)

    def scoped(self, tenant: str | None, work: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        """``await work()`` acting for ``tenant``: ``Store.scoped``'s twin."""
        if tenant is None:
            return work()

        async def scoped() -> T:
            with self.tenant(tenant):
                return await work()

        return scoped()

    @asynccontextmanager
    async def connection(self, *, for_search: bool = False) -> AsyncIterator[psycopg.AsyncConnection]:
        """A pooled async connection, as ``Store.connection`` gives a sync one: in a transaction
        with the context's tenant and settings when there are any; errors as vecpg's; a
        search's from a usable read replica when the store has some (``_source``)."""
        acting = self.sync.current_acting
        try:
            # Without replicas the pool's own context, as Store.connection.
            async with self._pool.connection() if self.sync.replicas is None else self._source(for_search) as conn:
                if not for_search:
                    await restore(conn)
                if acting is None:
                    yield conn
                else:
                    async with conn.transaction():
                        await conn.execute(*acting.statement())
                        yield conn
        except PoolTimeoutError:
            raise PoolTimeout(f"no pooled connection came free within {self.sync.timeouts.pool:g} s") from None
        except psycopg.Error as exc:
            translated = from_database(exc)
            if translated is not None:
                raise translated from None
            raise

    @asynccontextmanager
    async def _source(self, for_search: bool) -> AsyncIterator[psycopg.AsyncConnection]:
        """``Store._source``'s twin: the replicas' health is the sync store's (probed in a thread
        when due), their async pools this store's. Only with replicas."""
        replicas = self.sync.replicas
        assert replicas is not None
        if for_search:
            lent = await self._lend(replicas)
            if lent is not None:
                try:
                    yield lent
                finally:
                    await replicas.taken_back(lent).putconn(lent)
                return
        async with self._pool.connection() as conn:
            try:
                yield conn
            finally:
                if not for_search and not conn.broken and conn.info.transaction_status == TransactionStatus.IDLE:
                    with suppress(psycopg.Error):
                        row = await (await conn.execute(PRIMARY_POSITION)).fetchone()
                        self.sync.note_written(lsn(row[0]) if row else None)

    async def _lend(self, replicas: Replicas) -> psycopg.AsyncConnection | None:
        if replicas.due():
            await asyncio.to_thread(replicas.refresh)
        for replica in replicas.candidates(self.sync.written_position):
            try:
                pool = await self._replica_pool(replica.url)
                conn = await pool.getconn(timeout=LEND_WAIT)
            except Exception as exc:  # noqa: BLE001 - the replica's, judged by lend_failed
                if replica.url in self._replica_pools and not isinstance(exc, PoolTimeoutError):
                    await self._replica_pools.pop(replica.url).close(timeout=0)
                replicas.lend_failed(replica, exc)
                continue
            replicas.lent(replica, pool, conn)
            return conn
        replicas.to_primary()
        return None

    async def _replica_pool(self, url: str) -> AsyncConnectionPool:
        pool = self._replica_pools.get(url)
        if pool is None:
            pool = self._replica_pools[url] = await open_async_pool(self.sync, url, self._pool.max_size)
        return pool

    def on_replica(self, conn: psycopg.AsyncConnection) -> bool:
        return self.sync.replicas is not None and self.sync.replicas.owns(conn)

    def replica_lost(self, conn: psycopg.AsyncConnection, exc: BaseException) -> bool:
        return self.sync.replicas is not None and self.sync.replicas.lost(conn, exc)

    def run_admin(self, statement: Statement[T]) -> T:
        """A statement that must run where row-level security does not restrict it (a thread's work)."""
        return self.sync.run(statement)

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in a thread; this task then knows where the primary's WAL stood after
        its writes there (a thread runs in a copy of the task's context: read-your-writes on read
        replicas would not see what it noted)."""
        def call() -> tuple[T, int | None]:
            return function(*args), self.sync.written_position

        value, position = await asyncio.to_thread(call)
        self.sync.note_written(position)
        return value

    # -- collections --------------------------------------------------------------------------
    async def collection(self, name: str) -> AsyncCollection:
        """An existing collection; CollectionNotFound when there is none of that name."""
        from .collection import AsyncCollection

        info = await self.run(catalog.collection_info(name))
        if info is None:
            raise CollectionNotFound(f'collection "{name}" does not exist')
        return AsyncCollection(self, info)

    async def create_collection(self, name: str, **settings: Any) -> AsyncCollection:
        """``Store.create_collection`` (in a thread: it may load the model to learn its dimension)."""
        from .collection import AsyncCollection

        created = await self.in_thread(functools.partial(self.sync.create_collection, name, **settings))
        return AsyncCollection(self, created.info)

    async def get_or_create_collection(self, name: str, **settings: Any) -> AsyncCollection:
        try:
            return await self.collection(name)
        except CollectionNotFound:
            pass
        try:
            return await self.create_collection(name, **settings)
        except CollectionExists:  # another client created it meanwhile
            return await self.collection(name)

    async def list_collections(self) -> list[CollectionInfo]:
        return await self.run(catalog.list_collections())

    async def drop_collection(self, name: str, missing_ok: bool = False) -> bool:
        return await self.in_thread(self.sync.drop_collection, name, missing_ok)

    async def close(self) -> None:
        for pool in self._replica_pools.values():
            await pool.close()
        await self._pool.close()
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def connect_async(url: str | None = None, *, pool_size: int = 4, **settings: Any) -> AsyncStore:
    """``vecpg.connect``'s async twin: the same database, migrations and roles (``settings`` as
    ``connect`` takes them), with ``pool_size`` async connections for the operations and two
    sync ones for what runs in threads (collection creation, COPY, admin statements)."""
    sync = await asyncio.to_thread(connect, url, pool_size=2, **settings)
    try:
        pool = await open_async_pool(sync, sync.url, pool_size)
    except BaseException:
        await asyncio.to_thread(sync.close)
        raise
    return AsyncStore(sync, pool)


async def open_async_pool(sync: Store, url: str, size: int) -> AsyncConnectionPool:
    """An async pool on ``url`` (the primary's or a replica's) with the sync store's timeouts."""
    statement_ms = sync.timeouts.statement_ms()

    async def configure(conn: psycopg.AsyncConnection) -> None:
        await register_vector_async(conn)
        if statement_ms is not None:
            await conn.execute("SELECT set_config('statement_timeout', %s, false)", (f"{statement_ms}ms",))

    pool = AsyncConnectionPool(url, min_size=1, max_size=size, timeout=sync.timeouts.pool,
                               kwargs={"autocommit": True, **sync.timeouts.connect_kwargs()},
                               configure=configure, check=check_idle_async, open=False, name="vecpg-async")
    try:
        await pool.open(wait=True, timeout=max(sync.timeouts.connect or 30.0, 2.0) + 1.0)
    except BaseException:
        await pool.close()
        raise
    return pool
