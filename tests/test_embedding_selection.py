"""Choosing the embedder per collection (vecpg.collection.embedder) and per store, against the
real database and the real model."""

from __future__ import annotations

import numpy as np
import pytest

import vecpg
from vecpg import config
from vecpg.embedding import TransformersEmbedder

DOCS = [
    {"id": "pg", "title": "pgvector", "content": "pgvector adds vector similarity search to PostgreSQL."},
    {"id": "bread", "title": "Baking", "content": "Bake sourdough at 230 degrees Celsius with steam."},
    {"id": "tides", "title": "Tides", "content": "The Moon's gravity raises tides in the oceans."},
]


def test_a_collection_on_onnx_upserts_and_searches(store: vecpg.Store, onnx_embedder, embedder) -> None:
    docs = store.create_collection("docs", embedder="onnx")
    assert docs.info.embedder == "onnx" and docs.embedder_backend == "onnx"
    assert docs.embedder() is onnx_embedder
    docs.upsert(DOCS)
    stored = docs.get("pg")[0].embedding
    text = "pgvector pgvector adds vector similarity search to PostgreSQL."  # title and content, as embedded
    assert np.allclose(stored, onnx_embedder.embed([text])[0], atol=1e-5)
    assert float(stored @ embedder.embed([text])[0]) > 0.999  # what sentence-transformers would have stored
    hits = docs.search("what oven temperature for bread?", k=3)
    assert hits[0].id == "bread" and hits[0].score > hits[1].score
    assert docs.search("why does the sea rise?", k=1, mode="hybrid")[0].id == "tides"
    # Another store sees the choice: it lives in the database.
    assert store.collection("docs").info.embedder == "onnx"


def test_set_embedder_changes_the_backend_and_none_restores_the_default(store: vecpg.Store, onnx_int8_embedder) -> None:
    docs = store.create_collection("docs")
    assert docs.info.embedder is None and docs.embedder_backend == "sentence-transformers"
    docs.upsert(DOCS)
    docs.set_embedder("onnx-int8")
    assert docs.embedder_backend == "onnx-int8" and docs.embedder() is onnx_int8_embedder
    assert store.collection("docs").info.embedder == "onnx-int8"
    # Vectors written by sentence-transformers are still found by int8 queries.
    assert docs.search("what oven temperature for bread?", k=1)[0].id == "bread"
    docs.set_embedder(None)
    assert store.collection("docs").info.embedder is None and docs.embedder_backend == "sentence-transformers"


def test_the_store_default_comes_from_connect_or_the_environment(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with vecpg.connect(db_url, embedder_backend="transformers") as store:
        docs = store.create_collection("docs")
        assert docs.info.embedder is None and docs.embedder_backend == "transformers"
        assert isinstance(docs.embedder(), TransformersEmbedder)
        docs.upsert(DOCS[:1])
    monkeypatch.setenv(config.EMBEDDER_ENV, "transformers")
    with vecpg.connect(db_url) as store:
        assert store.embedder_backend == "transformers"
        assert store.collection("docs").embedder_backend == "transformers"
    with vecpg.connect(db_url, embedder_backend="sentence-transformers") as store:  # the argument wins
        assert store.collection("docs").embedder_backend == "sentence-transformers"


def test_unknown_embedder_names_are_refused_everywhere(db_url: str, store: vecpg.Store,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = "choose one of sentence-transformers, transformers, onnx, onnx-int8"
    with pytest.raises(vecpg.InvalidArgument, match=allowed):
        vecpg.connect(db_url, embedder_backend="onnx-fp16")
    monkeypatch.setenv(config.EMBEDDER_ENV, "torch")
    with pytest.raises(vecpg.InvalidArgument, match=f"unknown embedder in VECPG_EMBEDDER 'torch': {allowed}"):
        vecpg.connect(db_url)
    monkeypatch.delenv(config.EMBEDDER_ENV)
    with pytest.raises(vecpg.InvalidArgument, match=allowed):
        store.create_collection("docs", embedder="ONNX")
    assert store.list_collections() == []  # refused before anything was written
    docs = store.create_collection("docs")
    with pytest.raises(vecpg.InvalidArgument, match=allowed):
        docs.set_embedder("gpu")
    assert store.collection("docs").info.embedder is None


def test_a_collection_without_a_model_takes_no_embedder(store: vecpg.Store) -> None:
    with pytest.raises(vecpg.InvalidArgument, match="no model for embedder 'onnx'"):
        store.create_collection("items", dimension=3, embedder="onnx")
    items = store.create_collection("items", dimension=3)
    with pytest.raises(vecpg.InvalidArgument, match="has no embedding model"):
        items.set_embedder("onnx")


def test_an_embedder_given_to_connect_wins_over_the_backend(db_url: str, embedder) -> None:
    with vecpg.connect(db_url, embedder=embedder) as store:
        docs = store.create_collection("docs", embedder="transformers")
        assert docs.embedder_backend == "transformers" and docs.embedder() is embedder
