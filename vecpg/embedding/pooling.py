"""The classic sentence-embedding recipe shared by the transformers and ONNX backends: tokenise,
run the encoder, average the token states under the attention mask, scale to unit length."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import MissingDependency
from .models import check_mean_pooling, go_offline, local_model_dir, max_seq_length
from .protocol import canonical_model_name, text_list


def mean_pool(token_states: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Unit-length mean of each text's token states, padding left out: shape (texts, dimension)."""
    mask = attention_mask.astype(np.float32)
    # (texts, 1, tokens) @ (texts, tokens, dim): one BLAS call per text instead of a masked copy.
    sums = np.matmul(mask[:, None, :], token_states.astype(np.float32, copy=False))[:, 0, :]
    means = sums / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
    return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)


class MeanPoolingEmbedder:
    """Base of the backends that run a Hugging Face encoder themselves; a subclass gives the
    token states of a tokenised batch (``_token_states``) and its ``backend`` name."""

    backend: str

    def __init__(self, model: str, batch_size: int) -> None:
        self.model = canonical_model_name(model)
        self.batch_size = batch_size
        self.path = local_model_dir(self.model)
        check_mean_pooling(self.path, self.model)
        go_offline()
        try:
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise MissingDependency(f"the {self.backend} embedder needs transformers: pip install 'vecpg[embed]'") from exc
        self._tokenizer: Any = AutoTokenizer.from_pretrained(str(self.path))
        # A fast tokenizer changes its truncation settings on every call, and two threads doing
        # so at once fail with "Already borrowed": shared embedders tokenise one batch at a time.
        self._tokenizer_lock = threading.Lock()
        self.max_length = max_seq_length(self.path, getattr(self._tokenizer, "model_max_length", None))
        self.dimension = int(json.loads((self.path / "config.json").read_text(encoding="utf-8"))["hidden_size"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed a batch of texts into unit-length float32 vectors, in the order given."""
        items = text_list(texts)
        out = np.empty((len(items), self.dimension), dtype=np.float32)
        # Longest first, as sentence-transformers batches: texts of a batch then pad to similar lengths.
        order = np.argsort([-len(text) for text in items], kind="stable")
        for start in range(0, len(items), self.batch_size):
            chosen = order[start:start + self.batch_size]
            with self._tokenizer_lock:
                encoded = self._tokenizer([items[i] for i in chosen], padding=True, truncation=True,
                                          max_length=self.max_length, return_tensors="np")
            batch = {name: np.asarray(value) for name, value in encoded.items()}
            out[chosen] = mean_pool(self._token_states(batch), batch["attention_mask"])
        return out

    def _token_states(self, batch: Mapping[str, np.ndarray]) -> np.ndarray:
        """The encoder's last hidden states for a tokenised batch: (texts, tokens, dimension)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model!r}, dimension={self.dimension})"
