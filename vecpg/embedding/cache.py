"""A bounded LRU cache of query embeddings: a repeated search text skips the model.

Only queries go through it. Documents being written are embedded once each and would only push
the queries out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from .. import config
from ..errors import InvalidArgument
from .protocol import Embedder

# (model, backend, text): the same text through another backend is another vector.
Key = tuple[str, str, str]


def backend_label(embedder: Embedder) -> str:
    """The backend part of a cache key: vecpg's backend name, or ``custom`` for an embedder you
    gave ``connect`` (a store uses it for every collection of its model, so it cannot collide)."""
    backend = getattr(embedder, "backend", None)
    return backend if isinstance(backend, str) else "custom"


class QueryCache:
    """Up to ``max_entries`` query vectors (``VECPG_QUERY_CACHE_SIZE``, default 1024; 0 keeps
    none), least recently used out first. Safe to share between threads."""

    def __init__(self, max_entries: int | None = None) -> None:
        if max_entries is None:
            max_entries = config.query_cache_size()
        if not isinstance(max_entries, int) or isinstance(max_entries, bool) or max_entries < 0:
            raise InvalidArgument(f"the query cache size must be a whole number >= 0, got {max_entries!r}")
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._vectors: OrderedDict[Key, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vector(self, embedder: Embedder, text: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached vector of ``text`` through ``embedder``, else ``compute()``'s, remembered.

        The vector is read-only: it is shared by every caller asking for the same text.
        """
        key = (embedder.model, backend_label(embedder), text)
        with self._lock:
            found = self._found(key)
        if found is not None:
            return found
        # Computed outside the lock: one thread's model call must not hold up others' hits. Two
        # threads missing the same text both compute it, and the second result replaces the first.
        return self._remember(key, compute())

    def vectors(self, embedder: Embedder, texts: Sequence[str],
                compute: Callable[[list[str]], np.ndarray | Sequence[np.ndarray]]) -> list[np.ndarray]:
        """The vectors of ``texts`` as :meth:`vector` gives them, those not cached from one call
        of ``compute`` (the model's batch) with each of them once."""
        label = backend_label(embedder)
        keys = [(embedder.model, label, text) for text in texts]
        with self._lock:
            found = [self._found(key) for key in keys]
        missing = list(dict.fromkeys(key for key, vector in zip(keys, found) if vector is None))
        computed = {key: self._remember(key, vector)
                    for key, vector in zip(missing, compute([key[2] for key in missing]) if missing else ())}
        return [computed[key] if vector is None else vector for key, vector in zip(keys, found)]

    def _found(self, key: Key) -> np.ndarray | None:
        """The cached vector, counted as a hit or a miss. Call with the lock held."""
        found = self._vectors.get(key)
        if found is None:
            self.misses += 1
            return None
        self._vectors.move_to_end(key)
        self.hits += 1
        return found

    def _remember(self, key: Key, computed: np.ndarray) -> np.ndarray:
        vector = np.array(computed, dtype=np.float32)
        vector.flags.writeable = False
        if self.max_entries:
            with self._lock:
                self._vectors[key] = vector
                self._vectors.move_to_end(key)
                while len(self._vectors) > self.max_entries:
                    self._vectors.popitem(last=False)
        return vector

    def clear(self) -> None:
        """Forget every vector (the counters stay)."""
        with self._lock:
            self._vectors.clear()

    def __len__(self) -> int:
        return len(self._vectors)

    def __repr__(self) -> str:
        return f"QueryCache({len(self)}/{self.max_entries} entries, {self.hits} hits, {self.misses} misses)"
