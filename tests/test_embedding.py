"""The default embedder is the real all-MiniLM-L6-v2, loaded offline from its package."""

from __future__ import annotations

import numpy as np
import pytest

import vecpg
from vecpg.embedding import SentenceTransformerEmbedder, embedder_for


def test_default_model_is_384_dimensional_and_normalised(embedder: vecpg.Embedder) -> None:
    assert isinstance(embedder, vecpg.Embedder)
    assert embedder.model == vecpg.DEFAULT_MODEL and embedder.dimension == 384
    vectors = embedder.embed(["PostgreSQL stores vectors", "a cat sleeps on the sofa"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    with pytest.raises(vecpg.InvalidArgument):
        embedder.embed("a string, not a list")  # type: ignore[arg-type]


def test_embeddings_capture_meaning(embedder: vecpg.Embedder) -> None:
    query, near, far = embedder.embed([
        "How do I speed up nearest neighbour queries?",
        "An HNSW index makes approximate nearest neighbour search fast.",
        "Sourdough bread needs a long, slow fermentation.",
    ])
    assert query @ near > query @ far + 0.2


def test_the_model_is_loaded_once(embedder: vecpg.Embedder) -> None:
    assert embedder_for("all-MiniLM-L6-v2") is embedder_for(vecpg.DEFAULT_MODEL)


def test_unavailable_model_is_a_clear_error() -> None:
    with pytest.raises(vecpg.InvalidArgument, match="not available offline"):
        SentenceTransformerEmbedder("/nonexistent/model-dir")


def test_collections_embed_documents_and_queries(store: vecpg.Store, embedder: vecpg.Embedder) -> None:
    docs = store.create_collection("docs")
    docs.upsert([
        {"id": "pg", "title": "pgvector", "content": "pgvector adds vector similarity search to PostgreSQL."},
        {"id": "bread", "title": "Baking", "content": "Bake sourdough at 230 degrees Celsius with steam."},
        {"id": "tides", "title": "Tides", "content": "The Moon's gravity raises tides in the oceans."},
    ])
    stored = docs.get("pg")[0]
    expected = embedder.embed(["pgvector pgvector adds vector similarity search to PostgreSQL."])[0]
    assert np.allclose(stored.embedding, expected, atol=1e-5)  # title and content are embedded together
    hits = docs.search("what oven temperature for bread?", k=3)
    assert hits[0].id == "bread"
    assert hits[0].score > hits[1].score


class _Wide:
    model = vecpg.DEFAULT_MODEL
    dimension = 8

    def embed(self, texts):
        return np.ones((len(texts), 8), dtype=np.float32)


def test_a_model_of_another_dimension_is_refused(db_url: str) -> None:
    with vecpg.connect(db_url, embedder=_Wide()) as store:  # claims the default model, wrong size
        coll = store.create_collection("docs", dimension=384, model=vecpg.DEFAULT_MODEL)
        with pytest.raises(vecpg.DimensionMismatch, match="8-dimensional vectors but collection 'docs' holds 384"):
            coll.upsert([{"content": "hello"}])
        with pytest.raises(vecpg.DimensionMismatch):
            coll.search("hello")
        assert coll.count() == 0
