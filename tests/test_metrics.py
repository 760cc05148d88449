"""Prometheus metrics, scraped over loopback and parsed: searches, writes, the database's
gauges, the workers' embedding batches, RAG stages and the HTTP service's requests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import prometheus_client
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

import vecpg
from vecpg import metrics as vm
from vecpg.rag import RAG
from vecpg.worker import Worker


@pytest.fixture
def metrics() -> Iterator[vm.Metrics]:
    enabled = vm.enable(prometheus_client.CollectorRegistry())
    yield enabled
    vm.disable()


def scrape(registry: prometheus_client.CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an HTTP scrape over loopback, by name and labels."""
    server, thread = prometheus_client.start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        text = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics").text
    finally:
        server.shutdown()
        thread.join(5)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_searches_and_writes_are_counted(metrics: vm.Metrics, store: vecpg.Store) -> None:
    docs = store.create_collection("docs")
    docs.upsert([{"id": str(i), "content": f"note {i} about tides"} for i in range(5)])
    docs.load([{"id": f"l{i}", "content": "loaded"} for i in range(3)])
    for mode in ("vector", "keyword", "hybrid"):
        docs.search("tides", k=2, mode=mode)
    docs.search_many(["tides", "notes"], k=2)
    assert docs.delete(["0", "1"]) == 2
    samples = scrape(metrics.registry)
    for mode, searches in (("vector", 2), ("keyword", 1), ("hybrid", 1)):
        key = ("vecpg_search_duration_seconds_count", (("collection", "docs"), ("mode", mode)))
        assert samples[key] == searches
    written = {op: samples[("vecpg_rows_written_total", (("collection", "docs"), ("operation", op)))]
               for op in ("upsert", "load", "delete")}
    assert written == {"upsert": 5, "load": 3, "delete": 2}


def test_the_database_gauges_pool_and_cache(metrics: vm.Metrics, store: vecpg.Store, conn: psycopg.Connection) -> None:
    docs = store.create_collection("queued")
    conn.execute("SELECT vecpg.add_document('queued', 'a', NULL, 'text waiting for a worker')")
    conn.execute("ANALYZE vecpg_data.queued")
    docs.embed_query("hello")
    docs.embed_query("hello")
    metrics.watch(store)
    samples = scrape(metrics.registry)
    assert samples[("collections_total", ())] == 1
    assert samples[("collection_points", (("collection", "queued"),))] == 1
    assert samples[("vecpg_embedding_queue_depth", (("collection", "queued"),))] == 1
    assert samples[("vecpg_embedding_queue_oldest_seconds", (("collection", "queued"),))] >= 0
    assert samples[("vecpg_pool_connections", (("state", "open"),))] >= 1
    assert samples[("vecpg_query_cache_hits_total", ())] >= 1


def test_worker_batches_and_rag_stages(metrics: vm.Metrics, store: vecpg.Store, conn: psycopg.Connection,
                                       db_url: str, counting) -> None:
    store.create_collection("kb")
    conn.execute("SELECT vecpg.add_document('kb', 'tides', NULL, 'The Moon pulls the oceans.')")
    with Worker(db_url, embedder_for=counting.for_collection) as worker:
        worker.run_once()
    RAG(vecpg.SearchService(store.collection("kb"), k=1), lambda prompt: "The Moon [1].").ask("why tides?")
    samples = scrape(metrics.registry)
    model = vecpg.DEFAULT_MODEL
    assert samples[("vecpg_embedding_batch_duration_seconds_count", (("model", model),))] >= 1
    assert samples[("vecpg_embedded_texts_total", (("model", model),))] == 1
    for stage in ("retrieve", "assemble", "generate"):
        assert samples[("vecpg_rag_stage_duration_seconds_count", (("stage", stage),))] == 1


def test_the_service_serves_its_metrics_to_admin_keys(metrics: vm.Metrics, serve, make_key, app_store) -> None:
    app_store.create_collection("kb", dimension=3)
    metrics.watch(app_store)
    served = serve(metrics=metrics)
    with served.client(make_key("acme")) as reader:
        assert reader.post("/collections/kb/search", json={"query": [1, 0, 0], "mode": "vector"}).status_code == 200
        assert reader.post("/collections/kb/search", json={"query": "x", "k": 0}).status_code == 400
        assert reader.get("/metrics").status_code == 403
    with served.client(make_key(None, scope="admin")) as admin:
        text = admin.get("/metrics").text
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    ok = (("endpoint", "/collections/{name}/search"), ("method", "POST"), ("status", "200"))
    bad = (("endpoint", "/collections/{name}/search"), ("method", "POST"), ("status", "400"))
    assert samples[("rest_responses_duration_seconds_count", ok)] == 1
    assert samples[("rest_responses_fail_total", bad)] == 1
    assert samples[("collection_points", (("collection", "kb"),))] == 0


def test_metrics_off_cost_nothing_and_record_nothing(store: vecpg.Store) -> None:
    assert vm.current() is None
    operation = store.create_collection("off", dimension=3).statements  # any object
    assert vm.measured(operation, "search", "off", "vector") is operation  # no wrapper when off
