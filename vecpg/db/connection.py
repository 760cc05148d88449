"""Connections: choose the database, open pooled psycopg connections with pgvector registered."""

from __future__ import annotations

import select
import time
from collections.abc import Callable

import psycopg
from pgvector.psycopg import register_vector
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from .. import config
from ..errors import ConnectTimeout
from .server import EmbeddedServer
from .timeouts import Timeouts


def resolve_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``VECPG_DATABASE_URL``, else the embedded server's
    superuser (for migrations and administration; applications use ``vecpg.embedded.application_url``)."""
    return url or config.database_url() or EmbeddedServer().start()


def sqlalchemy_url(url: str) -> str:
    """The same database as a SQLAlchemy URL using the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    # A key=value conninfo string: SQLAlchemy accepts it passed through the query string.
    return "postgresql+psycopg:///?" + "&".join(url.split())


def _dropped(conn: psycopg.Connection | psycopg.AsyncConnection) -> bool:
    """Whether an idle connection may have been dropped by the server: its socket is readable.
    An idle autocommit connection receives nothing unless the server ended it (a restart, an
    idle timeout, pg_terminate_backend: a last message, then end of file) or sent a NOTIFY, so
    this costs a poll of the socket, not a round trip."""
    try:
        fd = conn.fileno()
        if hasattr(select, "poll"):  # no limit on the descriptor's number, unlike select()
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError, psycopg.Error):
        return True


def check_idle(conn: psycopg.Connection) -> None:
    """The pools' check before lending a connection: a dropped one fails the round trip it is
    then given, and the pool replaces it (pgvector-haystack #847: the first query after the
    server ended an idle connection failed)."""
    if _dropped(conn):
        ConnectionPool.check_connection(conn)


async def check_idle_async(conn: psycopg.AsyncConnection) -> None:
    """check_idle for the async pool."""
    if _dropped(conn):
        await AsyncConnectionPool.check_connection(conn)


def open_pool(url: str, min_size: int = 1, max_size: int = 4, timeouts: Timeouts | None = None) -> ConnectionPool:
    """A pool of autocommit connections that understand ``vector``; callers open transactions.
    ``timeouts``: each connection's connect and statement timeouts, and the wait for a free one."""
    timeouts = timeouts or Timeouts()
    statement_ms = timeouts.statement_ms()

    def configure(conn: psycopg.Connection) -> None:
        register_vector(conn)
        if statement_ms is not None:
            conn.execute("SELECT set_config('statement_timeout', %s, false)", (f"{statement_ms}ms",))

    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"autocommit": True, **timeouts.connect_kwargs()},
        configure=configure,
        check=check_idle,
        timeout=timeouts.pool,
        open=False,
        name="vecpg",
    )
    try:
        pool.open(wait=True, timeout=max(timeouts.connect or 30.0, 2.0) + 1.0)
    except PoolTimeout:
        pool.close()
        raise ConnectTimeout(f"could not connect to the database within {timeouts.connect or 30:g} s") from None
    return pool


STOP_CHECK = 0.25  # seconds between looks at should_stop while waiting for a NOTIFY


def wait_for_notify(listener: psycopg.Connection, timeout: float, should_stop: Callable[[], bool]) -> bool:
    """Wait up to ``timeout`` seconds for a NOTIFY on ``listener`` (which LISTENs already); True
    if one came. Waits in short slices so that a stop request (SIGTERM) is seen within
    STOP_CHECK seconds, not at the end of a long poll interval."""
    deadline = time.monotonic() + timeout
    while not should_stop():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        for _ in listener.notifies(timeout=min(left, STOP_CHECK), stop_after=1):
            return True
    return False
