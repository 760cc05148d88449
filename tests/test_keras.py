"""vecpg.keras: a retrieval layer inside a Keras 3 model on the torch backend. A batch of query
embeddings in, the scores and stored vectors of each query's k nearest documents out; a model
trains through it with ``fit``, and saves and loads with the collection given back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported: TensorFlow is not needed

import keras
import numpy as np
import pytest
from keras import ops
from test_torch import CLASSES, DIM, clusters, load_items

import vecpg
from vecpg.keras import VecpgRetrievalLayer, custom_objects

K = 8


@pytest.fixture
def items(store: vecpg.Store) -> vecpg.Collection:
    return load_items(store, *clusters(300))


def test_keras_runs_on_the_torch_backend() -> None:
    assert keras.backend.backend() == "torch"


def test_a_batch_gives_scores_mask_and_vectors(items: vecpg.Collection) -> None:
    queries = clusters(5, seed=1)[0]
    layer = VecpgRetrievalLayer(items, k=K, return_vectors=True)
    out = layer(queries)
    assert set(out) == {"scores", "mask", "vectors"}
    assert tuple(out["scores"].shape) == (5, K) and tuple(out["vectors"].shape) == (5, K, DIM)
    assert layer.compute_output_shape((None, DIM)) == {"scores": (None, K), "mask": (None, K), "vectors": (None, K, DIM)}
    expected = items.search_many(queries, k=K, vectors=True)
    assert layer.last_ids == [[h.id for h in hits] for hits in expected]
    assert [h.metadata for h in layer.last_results[3]] == [h.metadata for h in expected[3]]
    scores = ops.convert_to_numpy(out["scores"])
    assert np.allclose(scores, [[h.score for h in hits] for hits in expected], atol=1e-5)
    assert np.allclose(ops.convert_to_numpy(ops.einsum("bd,bkd->bk", queries, out["vectors"])), scores, atol=1e-4)
    assert ops.convert_to_numpy(out["mask"]).all()
    assert set(VecpgRetrievalLayer(items, k=K)(queries)) == {"scores", "mask"}


def test_fewer_hits_than_k_are_padded_and_masked(store: vecpg.Store) -> None:
    small = store.create_collection("three", dimension=DIM)
    small.load({"id": str(i), "content": str(i), "embedding": v} for i, v in enumerate(clusters(3)[0]))
    out = VecpgRetrievalLayer(small, k=5, return_vectors=True)(clusters(2, seed=4)[0])
    assert ops.convert_to_numpy(out["mask"]).tolist() == [[True] * 3 + [False] * 2] * 2
    assert np.isneginf(ops.convert_to_numpy(out["scores"])[:, 3:]).all()
    assert not ops.convert_to_numpy(out["vectors"])[:, 3:].any()


def test_bad_settings_and_shapes_fail_when_the_model_is_built(items: vecpg.Collection) -> None:
    with pytest.raises(vecpg.InvalidArgument, match="by vector"):
        VecpgRetrievalLayer(items, mode="keyword")
    with pytest.raises(vecpg.InvalidArgument, match="custom_objects"):
        VecpgRetrievalLayer("items")  # type: ignore[arg-type]
    with pytest.raises(vecpg.InvalidArgument):
        VecpgRetrievalLayer(items, k=1001)
    with pytest.raises(vecpg.InvalidArgument, match=r"\[batch, 16\]"):
        VecpgRetrievalLayer(items)(keras.Input((DIM + 1,)))


def retrieval_model(items: vecpg.Collection, features: int) -> keras.Model:
    """A query encoder, retrieval, attention over the neighbours' vectors (scores recomputed from
    the query embedding: the gradient's path) and a classifier over what was read."""
    x = keras.Input((features,))
    q = keras.layers.Dense(DIM, use_bias=False, name="encoder")(x)
    hits = VecpgRetrievalLayer(items, k=K, return_vectors=True, name="retrieval")(q)
    scores = keras.layers.Dot(axes=(1, 2))([q, hits["vectors"]])  # einsum("bd,bkd->bk")
    weights = keras.layers.Softmax()(scores)
    read = keras.layers.Dot(axes=(1, 1))([weights, hits["vectors"]])  # einsum("bk,bkd->bd")
    y = keras.layers.Dense(CLASSES, activation="softmax")(keras.layers.Concatenate()([q, read]))
    return keras.Model(x, y)


def test_a_retrieval_model_trains_with_fit_and_round_trips_through_a_keras_file(
        items: vecpg.Collection, tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    points, labels = clusters(1000, seed=0)  # the items' distribution: the first 300 are the items
    mixing = np.random.default_rng(7).normal(size=(DIM, DIM)).astype(np.float32)
    x, y = points[300:] @ mixing, labels[300:]
    model = retrieval_model(items, DIM)
    with pytest.warns(UserWarning, match="jit_compile"):  # a database call cannot be compiled
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", jit_compile=True)
    assert model.jit_compile is False
    held_out = (x[600:], y[600:])
    before = model.evaluate(*held_out, verbose=0)
    history = model.fit(x[:600], y[:600], batch_size=32, epochs=3, verbose=0)
    after = model.evaluate(*held_out, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert after < 0.7 * before, (before, after)

    path = tmp_path / "retrieval.keras"
    model.save(path)
    with pytest.raises(vecpg.InvalidArgument, match=r"collection 'items': .*vecpg\.keras\.custom_objects\(store\)"):
        keras.saving.load_model(path)
    loaded = keras.saving.load_model(path, custom_objects=custom_objects(items.store))
    layer = loaded.get_layer("retrieval")
    assert isinstance(layer, VecpgRetrievalLayer) and layer.collection.name == "items" and layer.k == K
    assert np.allclose(loaded.predict(x[600:], verbose=0), model.predict(x[600:], verbose=0), atol=1e-6)
    loaded.predict(x[:5], verbose=0)
    assert len(layer.last_ids) == 5 and all(len(ids) == K for ids in layer.last_ids)  # the latest batch's


def imported(missing: str, backend: str = "torch") -> str:
    """What ``import vecpg.keras`` says in a fresh interpreter where a package cannot be imported."""
    code = (f"import sys; sys.modules[{missing!r}] = None\ntry:\n    import vecpg.keras\n"
            "except ImportError as e: print(type(e).__name__, e)")
    env = {**os.environ, "KERAS_BACKEND": backend}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout.strip()


def test_without_keras_or_its_backend_importing_vecpg_keras_says_what_to_do() -> None:
    assert imported("keras") == "MissingDependency vecpg.keras needs Keras 3: pip install 'vecpg[keras]'"
    assert imported("tensorflow", backend="tensorflow") == (
        "MissingDependency Keras could not load its backend (tensorflow): set KERAS_BACKEND=torch before keras is "
        "imported (pip install 'vecpg[keras]' installs torch), or install tensorflow")
