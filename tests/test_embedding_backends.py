"""The four backends run the same real model and agree: transformers and ONNX within rounding of
sentence-transformers, int8 within quantization error. The ONNX export is made once and reused."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import vecpg
from vecpg.embedding import BACKENDS, OnnxEmbedder, TransformersEmbedder, embedder_for
from vecpg.embedding.models import check_mean_pooling, model_path
from vecpg.embedding.onnx_export import FP32_FILE, INT8_FILE, export_dir


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)  # the rows are unit length


@pytest.fixture(scope="module")
def reference(embedder: vecpg.Embedder, sample_texts: list[str]) -> np.ndarray:
    return embedder.embed(sample_texts)


def test_there_are_four_backends_defined_once() -> None:
    assert BACKENDS == ("sentence-transformers", "transformers", "onnx", "onnx-int8")
    assert vecpg.BACKENDS is BACKENDS


def test_transformers_mean_pooling_matches_sentence_transformers(sample_texts, reference) -> None:
    vectors = embedder_for("all-MiniLM-L6-v2", "transformers").embed(sample_texts)
    assert _cosines(vectors, reference).min() > 0.999


def test_onnx_matches_sentence_transformers(onnx_embedder, sample_texts, reference) -> None:
    assert _cosines(onnx_embedder.embed(sample_texts), reference).min() > 0.999


def test_onnx_int8_stays_close(onnx_int8_embedder, sample_texts, reference) -> None:
    cosines = _cosines(onnx_int8_embedder.embed(sample_texts), reference)
    assert cosines.min() > 0.98 and cosines.mean() > 0.99


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_keeps_the_protocol(backend: str, models_dir: Path, sample_texts) -> None:
    embedder = embedder_for(vecpg.DEFAULT_MODEL, backend)
    assert isinstance(embedder, vecpg.Embedder) and embedder.backend == backend  # type: ignore[attr-defined]
    assert embedder.model == vecpg.DEFAULT_MODEL and embedder.dimension == 384
    vectors = embedder.embed(sample_texts[:7])
    assert vectors.shape == (7, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batched in length order inside, returned in the order given.
    assert np.allclose(embedder.embed(sample_texts[:7][::-1]), vectors[::-1], atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    with pytest.raises(vecpg.InvalidArgument):
        embedder.embed("a string, not a list")  # type: ignore[arg-type]


def test_the_registry_shares_one_embedder_per_model_and_backend(onnx_embedder, onnx_int8_embedder) -> None:
    assert embedder_for("all-MiniLM-L6-v2", "onnx") is onnx_embedder
    assert embedder_for(vecpg.DEFAULT_MODEL) is embedder_for(vecpg.DEFAULT_MODEL, "sentence-transformers")
    assert len({id(embedder_for(vecpg.DEFAULT_MODEL, b)) for b in BACKENDS}) == 4


def test_an_unknown_backend_names_the_allowed_ones() -> None:
    with pytest.raises(vecpg.InvalidArgument, match="unknown embedder 'tensorflow': choose one of "
                                                    "sentence-transformers, transformers, onnx, onnx-int8"):
        embedder_for(vecpg.DEFAULT_MODEL, "tensorflow")


def test_the_export_is_made_once_and_reused(onnx_int8_embedder, models_dir: Path, sample_texts) -> None:
    directory = export_dir(vecpg.DEFAULT_MODEL, models_dir)
    assert onnx_int8_embedder.file == directory / INT8_FILE  # type: ignore[attr-defined]
    before = {name: (directory / name).stat().st_mtime_ns for name in (FP32_FILE, INT8_FILE)}
    again = OnnxEmbedder(quantized=True)  # a new instance, as another process would make
    assert again.exported is False
    assert {name: (directory / name).stat().st_mtime_ns for name in before} == before
    assert np.array_equal(again.embed(sample_texts[:3]), onnx_int8_embedder.embed(sample_texts[:3]))


def test_a_stale_export_is_remade(onnx_embedder, models_dir: Path, tmp_path: Path) -> None:
    source = export_dir(vecpg.DEFAULT_MODEL, models_dir)
    for name in (FP32_FILE, "model.json", INT8_FILE):
        shutil.copy2(source / name, tmp_path / name)
    # As if the int8 file came from other weights: it is remade from the (valid) fp32 export.
    (tmp_path / "model_int8.json").write_text(json.dumps({"source": "weights of another release"}))
    int8 = OnnxEmbedder(quantized=True, cache_dir=tmp_path)
    assert int8.exported is True
    assert (tmp_path / FP32_FILE).stat().st_mtime_ns == (source / FP32_FILE).stat().st_mtime_ns  # kept
    assert not list(tmp_path.glob(".export-*")) and not list(tmp_path.glob(".quantize-*"))  # no leftovers


def test_onnx_without_onnxruntime_is_a_missing_dependency(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what an environment without it imports
    with pytest.raises(vecpg.MissingDependency, match=r"pip install 'vecpg\[onnx\]'"):
        OnnxEmbedder(cache_dir=tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_model_that_does_not_pool_by_mean_is_refused(tmp_path: Path) -> None:
    shutil.copy(Path(model_path(vecpg.DEFAULT_MODEL)) / "config.json", tmp_path / "config.json")
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(
        {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}))
    with pytest.raises(vecpg.InvalidArgument, match="pools with pooling_mode_cls_token"):
        check_mean_pooling(tmp_path, "cls-model")
    with pytest.raises(vecpg.InvalidArgument, match="not available offline"):
        TransformersEmbedder(str(tmp_path / "nothing here"))


def test_a_shared_embedder_serves_threads_at_once(sample_texts) -> None:
    embedder = embedder_for(vecpg.DEFAULT_MODEL, "transformers")
    expected = embedder.embed(sample_texts[:8])
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(embedder.embed(sample_texts[:8]))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4
    assert all(np.allclose(r, expected, atol=1e-5) for r in results)
