"""Gauges read from the database at each scrape: collections, points, the embedding queue, the
mirror's lag; and the store's own pool and query cache."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from ..errors import VecpgError
from ..ops.statement import Statement

log = logging.getLogger("vecpg.metrics")

# Points from the planner's estimate (pg_class.reltuples, kept by ANALYZE and autovacuum): a
# count(*) per scrape would read every table, and would count only the rows of the store's tenant.
Rows = Statement[list[tuple[Any, ...]]]
# As the store's admin (the embedded server's superuser): the queue and the outbox are every tenant's.
_POINTS: Rows = Statement(
    "SELECT c.name, greatest(coalesce(t.reltuples, 0), 0)::float8 FROM vecpg.collection c "
    "LEFT JOIN pg_class t ON t.oid = to_regclass(format('%I.%I', c.schema_name, c.table_name)) ORDER BY c.name",
    admin=True)
_QUEUE: Rows = Statement("SELECT collection, queued, failed, coalesce(extract(epoch FROM oldest_queued), 0)::float8 "
                         "FROM vecpg.embedding_status", admin=True)
_MIRROR: Rows = Statement("SELECT collection, backlog, coalesce(extract(epoch FROM lag), 0)::float8 "
                          "FROM vecpg.mirror_status()", admin=True)


class DatabaseCollector:
    """A prometheus_client collector over one store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        failed = 0
        for part in (self._collections, self._queue, self._mirror, self._connections):
            try:
                yield from part()
            except VecpgError as exc:  # one part failing (a privilege, say) spoils no other
                log.warning("metrics: %s", exc)
                failed += 1
        yield GaugeMetricFamily("vecpg_metrics_scrape_errors", "Parts of the last scrape that failed", value=failed)

    def _collections(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        found = self.store.run(_POINTS)
        points = GaugeMetricFamily("collection_points", "Documents per collection (planner's estimate)",
                                   labels=["collection"])
        for name, count in found:
            points.add_metric([name], count)
        yield GaugeMetricFamily("collections_total", "Number of collections", value=len(found))
        yield points

    def _queue(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        queued = GaugeMetricFamily("vecpg_embedding_queue_depth", "Documents waiting to be embedded",
                                   labels=["collection"])
        failed = GaugeMetricFamily("vecpg_embedding_failed", "Documents whose embedding failed", labels=["collection"])
        oldest = GaugeMetricFamily("vecpg_embedding_queue_oldest_seconds", "Age of the oldest queued document",
                                   labels=["collection"])
        for name, depth, failures, age in self.store.run(_QUEUE):
            queued.add_metric([name], depth)
            failed.add_metric([name], failures)
            oldest.add_metric([name], age)
        yield from (queued, failed, oldest)

    def _mirror(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        backlog = GaugeMetricFamily("vecpg_mirror_backlog", "Changes not yet copied to Qdrant", labels=["collection"])
        lag = GaugeMetricFamily("vecpg_mirror_lag_seconds", "Age of the oldest change not yet in Qdrant",
                                labels=["collection"])
        for name, waiting, seconds in self.store.run(_MIRROR):
            backlog.add_metric([name], waiting)
            lag.add_metric([name], seconds)
        yield from (backlog, lag)

    def _connections(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        stats = self.store.pool_stats()
        pool = GaugeMetricFamily("vecpg_pool_connections", "The store's pooled connections", labels=["state"])
        pool.add_metric(["open"], stats.get("pool_size", 0))
        pool.add_metric(["idle"], stats.get("pool_available", 0))
        pool.add_metric(["waiting_requests"], stats.get("requests_waiting", 0))
        yield pool
        yield CounterMetricFamily("vecpg_pool_wait_seconds", "Time requests waited for a pooled connection",
                                  value=stats.get("requests_wait_ms", 0) / 1000)
        yield from self._replicas()
        cache = self.store.query_cache
        yield CounterMetricFamily("vecpg_query_cache_hits", "Query embeddings found in the cache", value=cache.hits)
        yield CounterMetricFamily("vecpg_query_cache_misses", "Query embeddings computed", value=cache.misses)

    def _replicas(self) -> Iterator[Any]:
        """With read replicas: searches by target ("primary", "replica0"... in read_urls' order,
        not the URLs, which may hold passwords) and each replica's lag at its last probe."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        targets = self.store.search_targets()
        if not targets:
            return
        searches = CounterMetricFamily("vecpg_replica_searches", "Searches by where they ran", labels=["target"])
        searches.add_metric(["primary"], targets.pop("primary"))
        lag = GaugeMetricFamily("vecpg_replica_lag_seconds", "Each read replica's lag at its last probe "
                                "(+Inf: down, promoted or not probed yet)", labels=["replica"])
        for i, status in enumerate(self.store.replica_status()):
            searches.add_metric([f"replica{i}"], targets.get(str(status["url"]), 0))
            lag.add_metric([f"replica{i}"], float(status["lag"]))  # type: ignore[arg-type]
        yield from (searches, lag)
