"""One embedder per (model, backend) in a process, loaded on first use and shared after."""

from __future__ import annotations

import threading

from .protocol import (
    DEFAULT_BACKEND,
    ONNX,
    ONNX_INT8,
    SENTENCE_TRANSFORMERS,
    TRANSFORMERS,
    Embedder,
    canonical_model_name,
    check_backend,
)

_shared: dict[tuple[str, str], Embedder] = {}
# Held while a model loads, so two threads asking for the same one load it once.
_loading = threading.Lock()


def embedder_for(model: str, backend: str | None = None) -> Embedder:
    """The shared embedder of a model through a backend (default sentence-transformers), whatever
    alias names the model. InvalidArgument for an unknown backend."""
    key = (canonical_model_name(model), check_backend(backend or DEFAULT_BACKEND))
    found = _shared.get(key)
    if found is not None:
        return found
    with _loading:
        if key not in _shared:
            _shared[key] = _load(*key)
        return _shared[key]


def _load(model: str, backend: str) -> Embedder:
    # Each backend imported only when chosen: torch, transformers and onnxruntime are heavy.
    if backend == SENTENCE_TRANSFORMERS:
        from .sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model)
    if backend == TRANSFORMERS:
        from .transformers import TransformersEmbedder

        return TransformersEmbedder(model)
    from .onnx import OnnxEmbedder

    assert backend in (ONNX, ONNX_INT8)  # check_backend admitted nothing else
    return OnnxEmbedder(model, quantized=backend == ONNX_INT8)
