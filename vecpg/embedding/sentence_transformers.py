"""The default backend: sentence-transformers on torch, which knows each model's own pooling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidArgument, MissingDependency
from .models import go_offline, limit_torch_threads, model_path
from .protocol import BATCH_SIZE, DEFAULT_MODEL, SENTENCE_TRANSFORMERS, canonical_model_name, text_list


class SentenceTransformerEmbedder:
    """A sentence-transformers model, batched and L2-normalised; weights never downloaded."""

    backend = SENTENCE_TRANSFORMERS

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = BATCH_SIZE[SENTENCE_TRANSFORMERS],
                 device: str = "cpu") -> None:
        self.model = canonical_model_name(model)
        self.batch_size = batch_size
        self._st = _load(self.model, device)
        # Renamed in sentence-transformers 5; keep working with older releases.
        get_dimension = getattr(self._st, "get_embedding_dimension", None) or self._st.get_sentence_embedding_dimension
        dimension = get_dimension()
        if dimension is None:  # pragma: no cover - every sentence-transformers model reports one
            raise InvalidArgument(f"model {self.model} does not report its embedding dimension")
        self.dimension = int(dimension)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed a batch of texts into unit-length float32 vectors."""
        items = text_list(texts)
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._st.encode(
            items,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.model!r}, dimension={self.dimension})"


def _load(model: str, device: str) -> Any:
    go_offline()
    limit_torch_threads()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise MissingDependency(
            "embedding text needs sentence-transformers: pip install 'vecpg[embed]'"
        ) from exc
    try:
        return SentenceTransformer(model_path(model), device=device)
    except OSError as exc:
        raise InvalidArgument(f"embedding model {model!r} is not available offline: {exc}") from exc
