"""The query cache: a repeated search text skips the model, the cache is bounded (least recently
used out first), keyed by model and backend, and documents being written never enter it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import CountingEmbedder

import vecpg
from vecpg import config
from vecpg.embedding import QueryCache


def test_a_repeated_query_does_not_call_the_model(db_url: str, embedder) -> None:
    counting = CountingEmbedder(embedder)
    with vecpg.connect(db_url, embedder=counting) as store:  # type: ignore[arg-type]
        docs = store.create_collection("docs")
        docs.upsert([{"id": "bread", "content": "Bake sourdough at 230 C."}, {"id": "moon", "content": "Tides."}])
        assert counting.calls == [["Bake sourdough at 230 C.", "Tides."]]
        assert len(store.query_cache) == 0  # documents are not cached
        first = docs.search("Bake sourdough at 230 C.", k=1)  # a document's text, still a new query
        assert counting.calls[-1] == ["Bake sourdough at 230 C."]
        calls = len(counting.calls)
        again = docs.search("Bake sourdough at 230 C.", k=1)
        hybrid = docs.search("Bake sourdough at 230 C.", k=1, mode="hybrid")
        assert len(counting.calls) == calls  # neither search ran the model
        assert first == again and hybrid[0].id == "bread"
        assert store.query_cache.hits == 2 and store.query_cache.misses == 1


def test_the_cache_keys_on_model_and_backend(store: vecpg.Store) -> None:
    st = store.create_collection("st")
    hf = store.create_collection("hf", embedder="transformers")
    a, b = st.embed_query("tides and the moon"), hf.embed_query("tides and the moon")
    assert len(store.query_cache) == 2  # two backends, two entries
    assert float(a @ b) > 0.999 and not a.flags.writeable


def test_the_cache_is_bounded_least_recently_used_out(embedder) -> None:
    counting = CountingEmbedder(embedder)
    cache = QueryCache(2)

    def query(text: str) -> np.ndarray:
        return cache.vector(counting, text, lambda: counting.embed([text])[0])  # type: ignore[arg-type]

    query("alpha"), query("beta"), query("alpha"), query("gamma")  # beta is the least recently used
    assert len(cache) == 2 and len(counting.calls) == 3
    query("alpha"), query("gamma")
    assert len(counting.calls) == 3
    query("beta")
    assert counting.calls[-1] == ["beta"] and len(cache) == 2


def test_size_zero_disables_and_the_size_is_configured_once(embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingEmbedder(embedder)
    off = QueryCache(0)
    for _ in range(2):
        off.vector(counting, "x", lambda: counting.embed(["x"])[0])  # type: ignore[arg-type]
    assert len(counting.calls) == 2 and len(off) == 0
    assert QueryCache().max_entries == config.QUERY_CACHE_SIZE_DEFAULT == 1024
    monkeypatch.setenv(config.QUERY_CACHE_SIZE_ENV, "5")
    assert QueryCache().max_entries == 5
    for bad in ("-1", "many", "2.5"):
        monkeypatch.setenv(config.QUERY_CACHE_SIZE_ENV, bad)
        with pytest.raises(vecpg.InvalidArgument, match="VECPG_QUERY_CACHE_SIZE must be a whole number"):
            QueryCache()
    with pytest.raises(vecpg.InvalidArgument):
        QueryCache(-3)


def test_threads_share_the_cache(embedder) -> None:
    cache = QueryCache(4)
    texts = [f"query number {i}" for i in range(8)]
    expected = {t: v for t, v in zip(texts, embedder.embed(texts))}
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(40):
                text = texts[(i + offset) % len(texts)]
                got = cache.vector(embedder, text, lambda t=text: embedder.embed([t])[0])
                assert np.allclose(got, expected[text], atol=1e-5)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) == 4 and cache.hits + cache.misses == 160
