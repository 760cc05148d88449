"""What bench_suite.py shares with bench/peer_runner.py: the settings, the adapter interface and
the timed loops.

It imports neither vecpg nor tqdm: peer_runner.py imports it in the peers' own virtualenv, where
vecs and langchain-postgres pin pgvector (the Python package) below what vecpg needs. Because the
timed loops live here, a peer run by the runner is timed by the same code, with the same
boundaries, as a system measured inside the suite's process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

K = 10
M, EF_CONSTRUCTION = 16, 64
FILTERS = {"1%": ("bucket", 7), "10%": ("decile", 3)}
NAME = "bench_suite"

# (query row, latency ms, row numbers found), one per timed search.
Timed = tuple[list[int], list[float], list[list[int]]]


def metadata_of(i: int) -> dict[str, int]:
    return {"bucket": i % 100, "decile": i % 10}


def batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, size):
        yield lo, min(lo + size, n)


def pg_sizes(url: str, regclass: str) -> dict[str, int | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_table_size(c.oid), "
            "coalesce(sum(pg_relation_size(i.indexrelid)) FILTER (WHERE am.amname IN ('hnsw', 'ivfflat')), 0)::bigint, "
            "coalesce(sum(pg_relation_size(i.indexrelid)) FILTER (WHERE am.amname NOT IN ('hnsw', 'ivfflat')), 0)::bigint "
            "FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid "
            "LEFT JOIN pg_class ic ON ic.oid = i.indexrelid LEFT JOIN pg_am am ON am.oid = ic.relam "
            "WHERE c.oid = %s::regclass GROUP BY c.oid", (regclass,)).fetchone()
    return {"table_bytes": row[0], "vector_index_bytes": row[1], "other_index_bytes": row[2]}


def pg_settle(url: str, regclass: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.SQL(regclass)))


def time_queries(run: Callable[[np.ndarray], list[int]], queries: np.ndarray, order: list[int],
                 out: Timed) -> None:
    """The timed loop: each search alone, from the call to the row numbers in hand."""
    rows, lat, found = out
    for i in order:
        start = time.perf_counter()
        ids = run(queries[i])
        lat.append((time.perf_counter() - start) * 1000)
        rows.append(i)
        found.append(ids)


class Adapter:
    """A system under test. ``load`` writes the rows (id = row number, metadata bucket and
    decile), ``build`` its index, ``search`` returns row numbers; ``worker`` gives a handle
    another thread may search with; ``close`` drops everything the adapter made.

    The methods below the abstract ones are what the suite calls: they do the timing, so that a
    proxy for a system in another process (bench_suite.PeerProcess) can have it done there."""

    label = ""
    param = "ef_search"
    build_params = f"m {M}, ef_construction {EF_CONSTRUCTION}"
    load_includes_build = False
    filter_note = ""

    def __init__(self, ctx: Any, ds: Any) -> None:
        self.ctx, self.ds, self.dim = ctx, ds, ds.dim

    def load(self, data: np.ndarray, bar: Any) -> None:
        raise NotImplementedError

    def build(self) -> None:
        """Build the vector index (and what the system builds after a load)."""

    def settle(self) -> None:
        """Untimed housekeeping after the build (statistics), before searches."""

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        raise NotImplementedError

    def search_filtered(self, q: np.ndarray, k: int, param: int, fname: str, value: int) -> list[int]:
        raise NotImplementedError

    def worker(self) -> Adapter:
        return self

    def close_worker(self) -> None:
        """Release what ``worker`` opened (nothing unless it opened something)."""

    def sizes(self) -> dict[str, int | None]:
        return {}

    def close(self) -> None:
        raise NotImplementedError

    # ---- timed steps ----------------------------------------------------------------------
    def timed_load(self, data: np.ndarray, bar: Any) -> float:
        start = time.perf_counter()
        self.load(data, bar)
        return time.perf_counter() - start

    def timed_build(self) -> float:
        start = time.perf_counter()
        self.build()
        return time.perf_counter() - start

    def runner(self, param: int, filt: tuple[str, int] | None = None) -> Callable[[np.ndarray], list[int]]:
        if filt is None:
            return lambda q: self.search(q, K, param)
        fname, value = filt
        return lambda q: self.search_filtered(q, K, param, fname, value)

    def warm(self, queries: np.ndarray, count: int, param: int, filt: tuple[str, int] | None = None) -> None:
        """Untimed searches of the first ``count`` queries: the parameter takes effect, caches warm."""
        run = self.runner(param, filt)
        for q in queries[:count]:
            run(q)

    def timed_block(self, queries: np.ndarray, param: int, filt: tuple[str, int] | None = None) -> Timed:
        out: Timed = ([], [], [])
        time_queries(self.runner(param, filt), queries, list(range(len(queries))), out)
        return out

    def two_clients(self, queries: np.ndarray, param: int, warmup: int, rounds: int,
                    progress: Callable[[int], None]) -> tuple[Timed, float]:
        """Two threads search at once, each with its own handle (``worker``); each warms up, then
        runs every query ``rounds`` times, the second in reverse order. Returns both threads'
        searches and the wall time from the common start to the last one's end."""
        workers = [self.worker(), self.worker()]
        results: list[Timed] = [([], [], []), ([], [], [])]
        errors: list[BaseException] = []
        barrier = threading.Barrier(3)
        forward = list(range(len(queries)))

        def client(t: int) -> None:
            try:
                w = workers[t]
                w.warm(queries, warmup, param)
                barrier.wait()
                run = w.runner(param)
                order = forward if t == 0 else forward[::-1]
                for _ in range(rounds):
                    time_queries(run, queries, order, results[t])
                    progress(len(queries))
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                errors.append(exc)
                barrier.abort()

        threads = [threading.Thread(target=client, args=(t,), daemon=True) for t in (0, 1)]
        for th in threads:
            th.start()
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        start = time.perf_counter()
        for th in threads:
            th.join()
        wall = time.perf_counter() - start
        for w in workers:
            if w is not self:
                w.close_worker()
        if errors:
            raise errors[0]
        both = tuple(a + b for a, b in zip(results[0], results[1]))
        return both, wall  # type: ignore[return-value]
