"""Embedders turn text into vectors, all behind one protocol (``protocol.Embedder``).

``protocol`` names the backends and models; ``models`` finds a model's files offline;
``sentence_transformers`` is the default backend; ``transformers`` and ``onnx`` run the encoder
themselves with the pooling in ``pooling`` (``onnx_export`` makes and caches the ONNX files);
``registry`` shares one embedder per (model, backend) in a process; ``cache`` keeps query
vectors; ``chunking`` splits long texts by the model's own tokens. Heavy libraries (torch,
transformers, onnxruntime) load only when a backend is used.
"""

from .cache import QueryCache
from .onnx import OnnxEmbedder
from .protocol import BACKENDS, DEFAULT_BACKEND, DEFAULT_MODEL, Embedder, canonical_model_name, check_backend
from .registry import embedder_for
from .sentence_transformers import SentenceTransformerEmbedder
from .transformers import TransformersEmbedder

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_MODEL",
    "Embedder",
    "OnnxEmbedder",
    "QueryCache",
    "SentenceTransformerEmbedder",
    "TransformersEmbedder",
    "canonical_model_name",
    "check_backend",
    "embedder_for",
]
