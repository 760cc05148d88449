"""Read replicas: where a store's searches go when ``connect(read_urls=...)`` names standbys.

Each replica has a pool, opened on first use, and a health state probed at most every
PROBE_EVERY seconds on a connection of its own (so a search costs no extra round trip): is it
still in recovery (a promoted standby is no longer a copy of this primary), and how far behind
is its replay. Lag is measured by position first: a replica that has replayed the primary's
current WAL position lags 0 s, however long ago the last transaction was (an idle primary makes
``now() - pg_last_xact_replay_timestamp()`` grow on a caught-up replica). Only a replica behind
that position is given the age of its last replayed transaction as its lag, an upper bound.
A replica past ``max_lag``, not in recovery, or down is skipped; the healthy ones take turns.

A replica that refuses a connection, or drops one, is down for COOL_OFF seconds (no probe
until then), and the search runs elsewhere: another replica or the primary (the caller sees no
error). A failure of the search's own SQL is not a replica's fault and is not retried.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import VecpgError
from .connection import open_pool
from .timeouts import Timeouts

PROBE_EVERY = 1.0  # seconds a replica's health is trusted
COOL_OFF = 5.0  # seconds a replica that failed is left alone
LEND_WAIT = 1.0  # seconds a search waits for a replica's pooled connection before going elsewhere
PROBE = ("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), "
         "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8")
PRIMARY_POSITION = "SELECT pg_current_wal_lsn()"
# SQLSTATEs of a server going away: connection exceptions, admin/crash shutdown, cannot connect now.
_LOST = ("57P01", "57P02", "57P03")


def lsn(text: str | None) -> int | None:
    """A pg_lsn ('16/B374D848') as a number, to compare positions."""
    if text is None:
        return None
    high, _, low = str(text).partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def connection_lost(conn: psycopg.Connection | psycopg.AsyncConnection, exc: BaseException) -> bool:
    """Whether ``exc`` on ``conn`` is the server going away rather than the statement's failure."""
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate or ""
    return conn.broken or state.startswith("08") or state in _LOST or (
        isinstance(exc, psycopg.OperationalError) and not state)


@dataclass
class Replica:
    """One read URL, its pool and what its last probe saw."""

    url: str
    in_recovery: bool = False
    replayed: int | None = None  # the WAL position it has replayed, at the last probe
    lag: float = math.inf  # seconds, at the last probe
    probed_at: float = -math.inf  # time.monotonic() of the last probe
    down_until: float = -math.inf
    error: str | None = None  # why it was last found unusable
    pool: ConnectionPool | None = None
    probe_conn: psycopg.Connection | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def usable(self, max_lag: float, position: int | None, now: float) -> bool:
        """In recovery, within the lag bound, and (for read-your-writes) past ``position``."""
        if now < self.down_until or not self.in_recovery or self.lag > max_lag:
            return False
        return position is None or (self.replayed is not None and self.replayed >= position)


class Replicas:
    """The replicas of one store. ``primary_position`` reads the primary's current WAL position."""

    def __init__(self, urls: Sequence[str], primary_position: Callable[[], int | None], *, max_lag: float,
                 timeouts: Timeouts, pool_size: int) -> None:
        self.replicas = [Replica(url) for url in urls]
        self.max_lag = max_lag
        self._primary_position = primary_position
        self._timeouts = timeouts
        self._pool_size = pool_size
        self._turn = itertools.count()
        self._lent: dict[int, tuple[Replica, Any]] = {}  # id(connection) -> its replica, while lent
        self._probing = threading.Lock()
        self.searches: dict[str, int] = {"primary": 0, **{url: 0 for url in urls}}  # where searches ran

    # -- health -------------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Probe the replicas whose health is older than PROBE_EVERY (all, with ``force``); one
        thread probes at a time, the others use the state as it is."""
        now = time.monotonic()
        due = [r for r in self.replicas if force or (now - r.probed_at >= PROBE_EVERY and now >= r.down_until)]
        if not due or not self._probing.acquire(blocking=force):
            return
        try:
            try:
                position = self._primary_position()
            except Exception:  # noqa: BLE001 - a busy or lost primary: lag by replay age alone
                position = None
            for replica in due:
                self._probe(replica, position)
        finally:
            self._probing.release()

    def _probe(self, replica: Replica, primary: int | None) -> None:
        try:
            if replica.probe_conn is None or replica.probe_conn.closed:
                replica.probe_conn = psycopg.connect(
                    replica.url, autocommit=True, connect_timeout=self._timeouts.connect_kwargs().get("connect_timeout"))
            in_recovery, replayed, age = replica.probe_conn.execute(PROBE).fetchone()  # type: ignore[misc]
        except psycopg.Error as exc:
            self.mark_down(replica, f"probe failed: {exc}")
            return
        replica.probed_at = time.monotonic()
        replica.in_recovery, replica.replayed = bool(in_recovery), lsn(replayed)
        if not in_recovery:
            replica.lag, replica.error = math.inf, "not in recovery (promoted?): not a copy of the primary"
        elif primary is not None and replica.replayed is not None and replica.replayed >= primary:
            replica.lag, replica.error = 0.0, None
        else:
            replica.lag = math.inf if age is None else max(0.0, float(age))
            replica.error = None if replica.lag <= self.max_lag else f"lags {replica.lag:.1f} s"

    def mark_down(self, replica: Replica, reason: str) -> None:
        """Leave ``replica`` alone for COOL_OFF seconds; its connections are closed."""
        replica.down_until = time.monotonic() + COOL_OFF
        replica.probed_at = -math.inf
        replica.error = reason
        _release(replica, wait=0)

    # -- routing ------------------------------------------------------------------------------
    def lend(self, position: int | None) -> psycopg.Connection | None:
        """A connection of a usable replica for one search (give it back with ``give_back``), or
        None: the search runs on the primary. ``position``: the WAL position the context wrote
        up to (read-your-writes), or None."""
        self.refresh()
        for replica in self.candidates(position):
            try:
                pool = self._pool(replica)
                conn = pool.getconn(timeout=LEND_WAIT)
            except Exception as exc:  # noqa: BLE001 - the replica's, judged by lend_failed
                self.lend_failed(replica, exc)
                continue
            self.lent(replica, pool, conn)
            return conn
        self.to_primary()
        return None

    def to_primary(self) -> None:
        """Count a search no replica took."""
        self.searches["primary"] += 1

    def candidates(self, position: int | None) -> list[Replica]:
        """The usable replicas as last probed, in this search's turn order."""
        now = time.monotonic()
        usable = [r for r in self.replicas if r.usable(self.max_lag, position, now)]
        start = next(self._turn) if usable else 0
        return [usable[(start + i) % len(usable)] for i in range(len(usable))]

    def due(self) -> bool:
        """Whether a replica's health is to be probed again (``refresh`` would do I/O)."""
        now = time.monotonic()
        return any(now - r.probed_at >= PROBE_EVERY and now >= r.down_until for r in self.replicas)

    def lent(self, replica: Replica, pool: Any, conn: Any) -> None:
        """Note ``conn`` of ``replica``'s ``pool`` lent to a search."""
        self._lent[id(conn)] = (replica, pool)
        self.searches[replica.url] += 1

    def lend_failed(self, replica: Replica, exc: BaseException) -> None:
        """A replica's pool did not lend a connection: busy or gone, asked again at the next
        search (a pool timeout); refused, down (any other error)."""
        if isinstance(exc, PoolTimeout):
            replica.probed_at = -math.inf
        elif isinstance(exc, psycopg.Error | VecpgError):
            self.mark_down(replica, f"connection failed: {exc}")
        else:
            raise exc

    def _pool(self, replica: Replica) -> ConnectionPool:
        with replica.lock:
            if replica.pool is None:
                replica.pool = open_pool(replica.url, min_size=1, max_size=self._pool_size, timeouts=self._timeouts)
            return replica.pool

    def give_back(self, conn: psycopg.Connection) -> None:
        _, pool = self._lent.pop(id(conn))
        pool.putconn(conn)  # a pool closed meanwhile (the replica marked down) closes it

    def taken_back(self, conn: Any) -> Any:
        """The pool ``conn`` goes back to (an async store gives its connections back itself)."""
        return self._lent.pop(id(conn))[1]

    def owns(self, conn: Any) -> bool:
        """Whether ``conn`` is a replica's (lent for a search)."""
        return id(conn) in self._lent

    def lost(self, conn: Any, exc: BaseException) -> bool:
        """Whether ``exc`` is ``conn``'s replica going away; if so it is marked down and the
        search may run again elsewhere."""
        lent = self._lent.get(id(conn))
        if lent is None or not connection_lost(conn, exc):
            return False
        self.mark_down(lent[0], f"connection lost: {exc}")
        return True

    def status(self) -> list[dict[str, object]]:
        """Each replica's last known health (``Store.replica_status()``)."""
        now = time.monotonic()
        return [{"url": r.url, "usable": r.usable(self.max_lag, None, now), "in_recovery": r.in_recovery,
                 "lag": r.lag, "error": r.error, "searches": self.searches[r.url]} for r in self.replicas]

    def close(self) -> None:
        for replica in self.replicas:
            _release(replica)


def _release(replica: Replica, wait: float | None = None) -> None:
    """Close a replica's pool and probe connection (``wait``: seconds for lent connections to
    come back, psycopg_pool's default when None)."""
    with replica.lock:
        pool, replica.pool = replica.pool, None
        probe, replica.probe_conn = replica.probe_conn, None
    if probe is not None:
        probe.close()
    if pool is not None:
        pool.close(**({} if wait is None else {"timeout": wait}))
