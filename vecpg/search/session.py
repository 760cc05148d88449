"""pgvector's search settings at session level on vecpg's pooled connections.

A hand-written client SETs ``hnsw.ef_search`` once per session; vecpg used to set it in every
statement (``set_config(..., true)`` in a wrapper query), which cost it about 0.05 ms a search
(docs/notes/2026-12-02-search-path-and-load.md). So each pooled connection remembers the values vecpg
gave it, and a search sends only what differs from what it needs, pipelined with the search
itself: one round trip, and none of it when the values are already right.

Every search states every setting, the call's value or the one the connection started with (its
role's and server's), so no call's tuning reaches another search; and ``Store.connection()``
gives the connection back its own values (``restore``) before any other SQL runs on it. SQL of
your own that SETs pgvector's settings for the session on such a connection would leave vecpg's
record of it wrong: use SET LOCAL in a transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import psycopg

from ..resources import query

# pgvector's settings that vecpg's searches set (options.py maps search options onto them).
SETTINGS = ("hnsw.ef_search", "hnsw.iterative_scan", "hnsw.max_scan_tuples",
            "ivfflat.probes", "ivfflat.iterative_scan")


@dataclass
class _Session:
    initial: dict[str, str]  # the connection's values before vecpg set any
    current: dict[str, str] = field(default_factory=dict)  # what vecpg knows them to be now


_sessions: WeakKeyDictionary[psycopg.Connection, _Session] = WeakKeyDictionary()
_lock = Lock()


def _session(conn: psycopg.Connection) -> _Session:
    session = _sessions.get(conn)
    if session is None:
        # A new backend has not loaded pgvector's library, so its settings do not exist yet: the
        # vector parameter loads it before the settings are read.
        rows = conn.execute(query("session_settings"), {"names": list(SETTINGS), "load": np.zeros(1, np.float32)})
        initial = {name: value for name, value in rows.fetchall() if value is not None}
        session = _Session(initial, dict(initial))
        with _lock:
            _sessions[conn] = session
    return session


def initial_setting(conn: psycopg.Connection, name: str) -> str | None:
    """A setting's value on this connection before vecpg changed it (None: pgvector has none)."""
    return _session(conn).initial.get(name)


def run(conn: psycopg.Connection, statement: bytes | str, params: Any, wanted: Mapping[str, str],
        *, binary: bool = False) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` run with pgvector's settings as ``wanted`` says, the others as
    the connection started."""
    session = _session(conn)
    target = {**session.initial, **wanted}
    changes = {name: value for name, value in target.items() if session.current.get(name) != value}
    try:
        if not changes:
            return conn.execute(statement, params, binary=binary).fetchall()
        with conn.pipeline():
            conn.execute(query("set_session"), {"names": list(changes), "settings": list(changes.values())})
            cursor = conn.execute(statement, params, binary=binary)
        rows = cursor.fetchall()
    except BaseException:
        # A failed statement may have rolled the settings back with its transaction, or not:
        # set them all again next time.
        session.current.clear()
        raise
    session.current.update(changes)
    return rows


def restore(conn: psycopg.Connection) -> None:
    """Give the connection back the values it started with, if a search changed them."""
    session = _sessions.get(conn)
    if session is None:
        return
    changes = {name: value for name, value in session.initial.items() if session.current.get(name) != value}
    if not changes:
        return
    try:
        conn.execute(query("set_session"), {"names": list(changes), "settings": list(changes.values())})
    except BaseException:
        session.current.clear()
        raise
    session.current.update(changes)
