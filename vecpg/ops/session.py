"""pgvector's search settings at session level on vecpg's pooled connections.

A hand-written client SETs ``hnsw.ef_search`` once per session; vecpg used to set it in every
statement (``set_config(..., true)`` in a wrapper query), which cost it about 0.05 ms a search
(docs/notes/2026-12-02-search-path-and-load.md). So each pooled connection remembers the values vecpg
gave it, and a search sends only what differs from what it needs, pipelined with the search
itself: one round trip, and none of it when the values are already right.

Every search states every setting, the call's value or the one the connection started with (its
role's and server's), so no call's tuning reaches another search; and ``Store.connection()``
gives the connection back its own values (``restoring``) before any other SQL runs on it. SQL of
your own that SETs pgvector's settings for the session on such a connection would leave vecpg's
record of it wrong: use SET LOCAL in a transaction.

This module decides what to send; the runner sends it (runner.py), so both runners share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np

from ..resources import query
from .statement import Statement

# pgvector's settings that vecpg's searches set (search/options.py maps search options onto them),
# and plan_cache_mode (searches of collections partitioned by tenant plan for their tenant).
SETTINGS = ("hnsw.ef_search", "hnsw.iterative_scan", "hnsw.max_scan_tuples",
            "ivfflat.probes", "ivfflat.iterative_scan", "plan_cache_mode")

# The connection's values before vecpg set any. A new backend has not loaded pgvector's library,
# so its settings do not exist yet: the vector parameter loads it before they are read.
READ: Statement[list[tuple[Any, ...]]] = Statement(query("session_settings"), {"names": list(SETTINGS), "load": np.zeros(1, np.float32)})


def setting(changes: Mapping[str, str]) -> Statement[Any]:
    """The statement that sets these values for the rest of the session."""
    return Statement(query("set_session"), {"names": list(changes), "settings": list(changes.values())})


@dataclass
class Session:
    """What vecpg knows of one connection's settings."""

    initial: dict[str, str]  # the connection's values before vecpg set any
    current: dict[str, str] = field(default_factory=dict)  # what vecpg knows them to be now

    def changes(self, wanted: Mapping[str, str], ef_search_floor: int = 0) -> dict[str, str]:
        """What to send so that the settings are ``wanted``, the others as the connection started."""
        if not wanted and not ef_search_floor and self.current == self.initial:
            return {}  # the common case: a search with the connection's own settings, already there
        target = {**self.initial, **wanted}
        if ef_search_floor:
            # Raised for a scan that must return more rows, never below the connection's own.
            own = int(self.initial.get("hnsw.ef_search") or 0)
            target["hnsw.ef_search"] = str(max(own, ef_search_floor))
        return {name: value for name, value in target.items() if self.current.get(name) != value}

    def restoring(self) -> dict[str, str]:
        """What to send to give the connection back the values it started with."""
        return self.changes({})

    def applied(self, changes: Mapping[str, str]) -> None:
        self.current.update(changes)

    def forget(self) -> None:
        """After a failed statement, which may or may not have rolled the settings back with its
        transaction: send them all again next time."""
        self.current.clear()


_sessions: WeakKeyDictionary[Any, Session] = WeakKeyDictionary()
_lock = Lock()


def known(conn: Any) -> Session | None:
    """The session vecpg knows for a connection, if a search ran on it."""
    return _sessions.get(conn)


def remember(conn: Any, rows: Iterable[tuple[str, str | None]]) -> Session:
    """A connection's session from the rows of READ run on it."""
    initial = {name: value for name, value in rows if value is not None}
    session = Session(initial, dict(initial))
    with _lock:
        _sessions[conn] = session
    return session
