"""Vector search through the Qdrant mirror, with PostgreSQL's filters and tenants.

The caller's tenant becomes a condition beside the whole user filter (mirror/filters.py), so
the mirror enforces what row-level security enforces in PostgreSQL. A mirror lagging more than
``store.mirror_max_lag`` seconds, or failing, makes the search fall back to PostgreSQL, or raise
MirrorError when ``store.mirror_fallback`` is ``"error"``. How current the mirror is, a process
asks PostgreSQL at most every ``min(STATE_TTL, mirror_max_lag)`` seconds (see STATE_TTL), so a
search through the mirror misses no change older than ``mirror_max_lag`` plus that interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from weakref import WeakKeyDictionary

import numpy as np
import psycopg

from ..errors import MirrorError
from ..search.results import SearchResult
from .cluster import search_keys
from .filters import tenant_filter
from .points import CONTENT, METADATA, TITLE
from .protocol import Fields, Hit, MirrorBackend

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    class _Store(Protocol):
        mirror_max_lag: float
        mirror_fallback: str
        current_tenant: str | None

        def connection(self) -> AbstractContextManager[psycopg.Connection]: ...

        def mirror_backend(self) -> MirrorBackend: ...

    class Collection(Protocol):
        """A collection as a search through the mirror sees it."""

        @property
        def name(self) -> str: ...

        @property
        def distance(self) -> str: ...

        @property
        def store(self) -> _Store: ...

FALLBACKS = ("postgres", "error")
# The document fields a search returns besides id and scores: vecpg's names are the payload's keys.
FIELDS: tuple[str, ...] = (TITLE, CONTENT, METADATA)
T = TypeVar("T")

# Qdrant's score is the similarity for cosine and ip, the distance itself for l2 (protocol.py):
# vecpg's distance is offset + sign * score, and its score Qdrant's but for l2 (none).
_DISTANCES: dict[str, tuple[float, float, bool]] = {"cosine": (1.0, -1.0, True), "ip": (0.0, -1.0, True),
                                                    "l2": (0.0, 1.0, False)}


def _results(hits: list[Hit], distance: str) -> list[SearchResult]:
    # Fields not asked for are absent from the payload and come back empty, as from PostgreSQL.
    offset, sign, scored = _DISTANCES[distance]
    return [SearchResult(doc_id, p.get(TITLE), p.get(CONTENT) or "", p.get(METADATA) or {}, offset + sign * s,
                         s if scored else None) for doc_id, s, p in hits]


def mirror_state(conn: psycopg.Connection, collection: str, max_lag: float) -> tuple[str | None, bool]:
    """Why the mirror cannot answer now (None when it is current enough), and whether the
    collection shares its rows without a tenant."""
    row = conn.execute("SELECT extract(epoch FROM s.lag), s.full_copy_pending, c.shared_rows "
                       "FROM vecpg.collection c LEFT JOIN vecpg.mirror_status() s ON s.collection = c.name "
                       "WHERE c.name = %s", (collection,)).fetchone()
    if row is None or row[1] is None:
        return f'collection "{collection}" is not mirrored', bool(row and row[2])
    lag, full_copy, shared = row
    if full_copy:
        return f'the mirror of "{collection}" waits for a full copy (vecpg mirror sync)', shared
    if lag is not None and float(lag) > max_lag:
        return f'the mirror of "{collection}" lags {float(lag):.1f} s behind (more than {max_lag:g} s)', shared
    return None, shared


# Seconds a current mirror's state is trusted, at most, per store and collection before PostgreSQL is
# asked again (asking is a round trip, as long as Qdrant Edge's search itself). Every change
# the mirror lacks at time t was then either unsynced for at most max_lag when the state was
# read, or made since: so it is at most max_lag + min(STATE_TTL, max_lag) old (the interval
# shrinks with max_lag: 0 asks at every search). A lagging mirror is asked at every search.
STATE_TTL = 0.5


_STATES: WeakKeyDictionary[Any, dict[str, tuple[float, float, str | None, bool]]] = WeakKeyDictionary()


def _state(collection: Collection) -> tuple[str | None, bool]:
    store = collection.store
    cache = _STATES.setdefault(store, {})
    now = time.monotonic()
    max_lag = store.mirror_max_lag
    cached = cache.get(collection.name)
    if cached is not None and now - cached[0] < min(STATE_TTL, max_lag) and cached[1] == max_lag:
        return cached[2], cached[3]
    with store.connection() as conn:
        problem, shared = mirror_state(conn, collection.name, max_lag)
    if problem is None:
        cache[collection.name] = (now, max_lag, problem, shared)
    return problem, shared


def _through_mirror(collection: Collection, filter: Any,
                    ask: Callable[[MirrorBackend, Any, list[int | str]], T]) -> T | None:
    """``ask(backend, condition, shard_keys)`` (condition: the filter within the caller's tenant;
    the shard keys that can hold its points), or None when the search should go to PostgreSQL;
    MirrorError instead with mirror_fallback "error"."""
    store = collection.store
    problem, shared_rows = _state(collection)
    if problem is None:
        backend: MirrorBackend = store.mirror_backend()
        # A filter Qdrant cannot say exactly is the caller's error (FilterError), not a reason to fall back.
        # Expired points are left out by this process's clock (PostgreSQL's reads use the server's).
        condition = tenant_filter(filter, store.current_tenant, shared_rows, backend.filter_models,
                                  now=datetime.now(timezone.utc))
        try:
            return ask(backend, condition, search_keys(store.current_tenant, shared_rows))
        except Exception as exc:  # noqa: BLE001 - an unreachable or failing Qdrant, whatever raised it
            problem = f"Qdrant failed: {exc}"
    if store.mirror_fallback == "error":
        raise MirrorError(problem)
    return None


def mirror_search(collection: Collection, vector: np.ndarray, k: int, filter: Any,
                  fields: Fields = FIELDS) -> list[SearchResult] | None:
    """The k nearest points of the mirror with the document ``fields`` asked for (``()``: ids and
    scores only, which reads no payload), or None when the search should go to PostgreSQL."""
    # tolist() gives Python floats ten times faster than a comprehension over numpy scalars.
    query = np.asarray(vector, dtype=np.float32).tolist()
    hits = _through_mirror(collection, filter,
                           lambda backend, condition, keys: backend.search(collection.name, query, k, condition,
                                                                           fields=fields, shard_keys=keys))
    return None if hits is None else _results(hits, collection.distance)


def mirror_search_many(collection: Collection, vectors: Sequence[Sequence[float]] | np.ndarray, k: int, filter: Any,
                       fields: Fields = FIELDS) -> list[list[SearchResult]] | None:
    """:func:`mirror_search` for each vector, as one batch request to Qdrant (one state check,
    one filter); the results of each vector in input order, or None for PostgreSQL."""
    queries = np.asarray(vectors, dtype=np.float32).tolist()
    if not queries:
        return []
    batches = _through_mirror(collection, filter,
                              lambda backend, condition, keys: backend.search_many(collection.name, queries, k,
                                                                                   condition, fields=fields,
                                                                                   shard_keys=keys))
    if batches is None:
        return None
    distance = collection.distance
    return [_results(hits, distance) for hits in batches]
