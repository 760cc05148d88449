"""The transformers backend: the model's encoder through plain ``AutoModel`` on torch, with the
mean pooling and normalisation sentence-transformers applies, done here (see pooling)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import MissingDependency
from .models import limit_torch_threads
from .pooling import MeanPoolingEmbedder
from .protocol import BATCH_SIZE, DEFAULT_MODEL, TRANSFORMERS


class TransformersEmbedder(MeanPoolingEmbedder):
    """A Hugging Face encoder run by transformers on torch; weights never downloaded."""

    backend = TRANSFORMERS

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = BATCH_SIZE[TRANSFORMERS],
                 device: str = "cpu") -> None:
        super().__init__(model, batch_size)
        try:
            import torch
            from transformers import AutoModel
        except ImportError as exc:
            raise MissingDependency("the transformers embedder needs torch: pip install 'vecpg[embed]'") from exc
        limit_torch_threads()
        self._torch: Any = torch
        self._device = device
        self._encoder: Any = AutoModel.from_pretrained(str(self.path)).to(device).eval()

    def _token_states(self, batch: Mapping[str, np.ndarray]) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            inputs = {name: torch.from_numpy(value).to(self._device) for name, value in batch.items()}
            states = self._encoder(**inputs).last_hidden_state
            return np.asarray(states.float().cpu().numpy())
