"""The metrics themselves, and the two calls instrumented code makes (``timed``, ``rows_written``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ..errors import MissingDependency
from ..ops.statement import Operation, Steps, steps

T = TypeVar("T")

# Seconds: searches take a millisecond or so, embedding batches and answers take seconds.
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Metrics:
    """vecpg's metrics on one registry."""

    def __init__(self, registry: Any = None) -> None:
        try:
            import prometheus_client as prom
        except ImportError:
            raise MissingDependency("vecpg's metrics need prometheus-client: pip install 'vecpg[metrics]'") from None
        self.prom = prom
        self.registry = registry if registry is not None else prom.CollectorRegistry()
        registry = self.registry
        self.search = prom.Histogram("vecpg_search_duration_seconds", "Searches, by collection and mode",
                                     ["collection", "mode"], buckets=_FAST, registry=registry)
        self.rows = prom.Counter("vecpg_rows_written", "Documents written (upserted, loaded) or deleted",
                                 ["collection", "operation"], registry=registry)
        self.embedding = prom.Histogram("vecpg_embedding_batch_duration_seconds",
                                        "Embedding batches of the workers, by model", ["model"], buckets=_SLOW, registry=registry)
        self.embedded = prom.Counter("vecpg_embedded_texts", "Texts the workers embedded, by model", ["model"], registry=registry)
        self.rag = prom.Histogram("vecpg_rag_stage_duration_seconds", "Stages of RAG answers (retrieve, "
                                  "assemble, generate, first_token)", ["stage"], buckets=_SLOW, registry=registry)
        self.http = prom.Histogram("rest_responses_duration_seconds", "HTTP requests of vecpg serve",
                                   ["method", "endpoint", "status"], buckets=_FAST, registry=registry)
        self.http_failures = prom.Counter("rest_responses_fail", "HTTP requests answered with an error",
                                          ["method", "endpoint", "status"], registry=registry)

    def watch(self, store: Any) -> None:
        """Add ``store``'s database gauges (collections, points, queue, mirror) and its pool and
        query cache, read at each scrape."""
        from .database import DatabaseCollector

        self.registry.register(DatabaseCollector(store))

    def text(self) -> bytes:
        """The registry in Prometheus' text format."""
        return bytes(self.prom.generate_latest(self.registry))


_current: Metrics | None = None


def enable(registry: Any = None) -> Metrics:
    """Turn metrics on for this process, on ``registry`` (a ``prometheus_client.CollectorRegistry``;
    default: a new one). Returns them; enabling again returns the same."""
    global _current
    if _current is None or (registry is not None and _current.registry is not registry):
        _current = Metrics(registry)
    return _current


def disable() -> None:
    """Turn metrics off again (instrumented code stops recording; the registry keeps its values)."""
    global _current
    _current = None


def current() -> Metrics | None:
    """The metrics, when enabled."""
    return _current


@contextmanager
def timed(histogram: str, *labels: str) -> Iterator[None]:
    """Time the block into one of the metrics' histograms (``"search"``, ``"embedding"``...),
    when metrics are on."""
    metrics = _current
    if metrics is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        getattr(metrics, histogram).labels(*labels).observe(time.perf_counter() - start)


def rows_written(collection: str, operation: str, count: int) -> None:
    if _current is not None and count:
        _current.rows.labels(collection, operation).inc(count)


def measured(operation: Operation[T], histogram: str, *labels: str) -> Operation[T]:
    """The operation, timed into a histogram from its first step to its value when metrics are
    on (whichever runner runs it); the operation itself when they are off."""
    if _current is None:
        return operation
    return _measured(operation, histogram, labels)


def _measured(operation: Operation[T], histogram: str, labels: tuple[str, ...]) -> Steps[T]:
    start = time.perf_counter()
    value = yield from steps(operation)
    if _current is not None:
        getattr(_current, histogram).labels(*labels).observe(time.perf_counter() - start)
    return value


def counted(operation: Operation[int], collection: str, kind: str) -> Operation[int]:
    """The operation, its value (rows) counted into ``vecpg_rows_written`` when metrics are on."""
    if _current is None:
        return operation
    return _counted(operation, collection, kind)


def _counted(operation: Operation[int], collection: str, kind: str) -> Steps[int]:
    count = yield from steps(operation)
    rows_written(collection, kind, count)
    return count
