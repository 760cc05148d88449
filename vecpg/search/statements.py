"""The statements of one collection's searches, composed once, and what they depend on.

Composing a statement costs as much as a small query's round trip, and the same bytes let
psycopg reuse its prepared statement, so each collection keeps what it composed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from threading import Lock

from psycopg import sql

# A statement's shape: what it is (one vector search, a batch of a mode), filter, settings in it, k,
# re-rank factor, fields, re-sorted.
VectorKey = tuple[str, bytes, tuple[str, ...], int, int, tuple[str, ...], bool]
# Many shapes: start over rather than grow forever.
MAX_STATEMENTS = 1024
# A "no keyword index" answer is asked again after this many seconds, in case another client
# built the index meanwhile; a "yes" holds until a call fails.
KEYWORD_INDEX_RECHECK = 30.0
# Arguments of vecpg_postings.<collection>(...), the keyword-index search function.
FAST_ARGUMENTS = 13


class Statements:
    """Search statements of one collection by shape, and whether it has a keyword index."""

    def __init__(self, collection: str, table: sql.Identifier) -> None:
        self.table = table
        self._vector: dict[VectorKey, bytes] = {}
        self._lock = Lock()
        self._keyword_index: tuple[bool, float] | None = None
        # The keyword-index search, run only when vecpg.keyword_index_serves says the database
        # would take that path itself (the one-time filter costs about 20 µs; a second round
        # trip, or vecpg.hybrid_search composing its statement, costs far more).
        self.fast_hybrid = sql.SQL(
            "SELECT f.* FROM vecpg_postings.{function}({arguments}) f "
            "WHERE vecpg.keyword_index_serves(%s, '{{}}', %s)"
        ).format(function=sql.Identifier(collection),
                 arguments=sql.SQL(", ").join([sql.Placeholder()] * FAST_ARGUMENTS)).as_bytes(None)

    def vector(self, key: VectorKey, compose: Callable[[], sql.Composable]) -> bytes:
        """The search statement of this shape (a vector search, or a batch of any mode), composed on first use."""
        statement = self._vector.get(key)
        if statement is None:
            statement = compose().as_bytes(None)
            with self._lock:
                if len(self._vector) >= MAX_STATEMENTS:
                    self._vector.clear()
                self._vector[key] = statement
        return statement

    def keyword_index(self) -> bool | None:
        """Whether the collection has a keyword index, as remembered; None: ask the database
        (never asked, or a "no" older than KEYWORD_INDEX_RECHECK) and ``remember`` the answer."""
        known = self._keyword_index
        if known is None or (not known[0] and time.monotonic() - known[1] > KEYWORD_INDEX_RECHECK):
            return None
        return known[0]

    def remember_keyword_index(self, present: bool) -> None:
        self._keyword_index = (present, time.monotonic())

    def forget_keyword_index(self) -> None:
        """Ask the database again on the next search (the index was built, dropped or is gone)."""
        self._keyword_index = None
