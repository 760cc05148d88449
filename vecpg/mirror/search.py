"""Vector search through the Qdrant mirror, with PostgreSQL's filters and tenants.

The caller's tenant becomes a condition beside the whole user filter (mirror/filters.py), so
the mirror enforces what row-level security enforces in PostgreSQL. A mirror lagging more than
``store.mirror_max_lag`` seconds, or failing, makes the search fall back to PostgreSQL, or raise
MirrorError when ``store.mirror_fallback`` is ``"error"``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol
from weakref import WeakKeyDictionary

import numpy as np
import psycopg

from ..errors import MirrorError
from ..search.results import SearchResult
from .filters import tenant_filter
from .points import CONTENT, DOC_ID, METADATA, TITLE
from .protocol import Hit, MirrorBackend

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


def _result(hit: Hit, distance: str) -> SearchResult:
    # Qdrant's score is the similarity for cosine and ip, the distance itself for l2.
    if distance == "cosine":
        dist, score = 1.0 - hit.score, hit.score
    elif distance == "ip":
        dist, score = -hit.score, hit.score
    else:
        dist, score = hit.score, None
    p = hit.payload
    return SearchResult(p[DOC_ID], p.get(TITLE), p.get(CONTENT) or "", p.get(METADATA) or {}, dist, score)


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


# A current mirror is trusted this long per store and collection before its lag is asked again:
# asking costs a round trip, a third of a search through Qdrant Edge. So a lag bound holds
# within this many seconds. A lagging mirror is asked again at every search.
STATE_TTL = 0.5


_STATES: WeakKeyDictionary[Any, dict[str, tuple[float, float, str | None, bool]]] = WeakKeyDictionary()


def _state(collection: Collection) -> tuple[str | None, bool]:
    store = collection.store
    cache = _STATES.setdefault(store, {})
    now = time.monotonic()
    cached = cache.get(collection.name)
    if cached is not None and now - cached[0] < STATE_TTL and cached[1] == store.mirror_max_lag:
        return cached[2], cached[3]
    with store.connection() as conn:
        problem, shared = mirror_state(conn, collection.name, store.mirror_max_lag)
    if problem is None:
        cache[collection.name] = (now, store.mirror_max_lag, problem, shared)
    return problem, shared


def mirror_search(collection: Collection, vector: np.ndarray, k: int, filter: Any) -> list[SearchResult] | None:
    """The k nearest points of the mirror, or None when the search should go to PostgreSQL."""
    store = collection.store
    problem, shared_rows = _state(collection)
    if problem is None:
        backend: MirrorBackend = store.mirror_backend()
        # A filter Qdrant cannot say exactly is the caller's error (FilterError), not a reason to fall back.
        condition = tenant_filter(filter, store.current_tenant, shared_rows, backend.filter_models)
        try:
            # tolist() gives Python floats ten times faster than a comprehension over numpy scalars.
            hits = backend.search(collection.name, np.asarray(vector, dtype=np.float64).tolist(), k, condition)
            return [_result(h, collection.distance) for h in hits]
        except Exception as exc:  # noqa: BLE001 - an unreachable or failing Qdrant, whatever raised it
            problem = f"Qdrant failed: {exc}"
    if store.mirror_fallback == "error":
        raise MirrorError(problem)
    return None
