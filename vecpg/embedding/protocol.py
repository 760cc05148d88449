"""What an embedder is, the model names vecpg records, and the embedder backends it offers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import InvalidArgument

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_ALIASES = {"all-MiniLM-L6-v2": DEFAULT_MODEL, "all-minilm-l6-v2": DEFAULT_MODEL}

# The backends that run a model, as stored in vecpg.collection.embedder. The same model through
# any of them gives the same vectors within rounding (int8 within quantization error), so a
# collection can change backend without re-embedding.
SENTENCE_TRANSFORMERS = "sentence-transformers"
TRANSFORMERS = "transformers"
ONNX = "onnx"
ONNX_INT8 = "onnx-int8"
BACKENDS = (SENTENCE_TRANSFORMERS, TRANSFORMERS, ONNX, ONNX_INT8)
DEFAULT_BACKEND = SENTENCE_TRANSFORMERS
# Texts per forward pass. Small, because on a CPU a bigger batch is not cheaper per text: one
# embed() call sorts its texts by length and cuts them into batches of this size, so each pads
# to similar lengths. Measured on 2 cores with SciFact sentences in calls of 256 (docs/s):
# torch 103 / 164 / 175 / 180 / 166 at 1 / 4 / 8 / 16 / 32, onnx-int8 353 / 357 / 377 / 344 / 252
# (64 was 93 and 111).
BATCH_SIZE = {SENTENCE_TRANSFORMERS: 16, TRANSFORMERS: 16, ONNX: 8, ONNX_INT8: 8}


@runtime_checkable
class Embedder(Protocol):
    """Anything with a model name, a dimension and a batch ``embed`` returning float32 rows.

    vecpg's own embedders also carry ``backend`` (one of ``BACKENDS``); yours need not.
    """

    model: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text, shape ``(len(texts), dimension)``."""
        ...


def canonical_model_name(model: str) -> str:
    """The name vecpg records for a model (short aliases map to their full names)."""
    return _ALIASES.get(model, model)


def check_backend(name: str, source: str = "embedder") -> str:
    """``name`` if it is a backend vecpg has, else InvalidArgument naming the allowed ones."""
    if name not in BACKENDS:
        raise InvalidArgument(f"unknown {source} {name!r}: choose one of {', '.join(BACKENDS)}")
    return name


def text_list(texts: Sequence[str]) -> list[str]:
    """The texts of a batch as a list; a lone string is refused (it would embed its characters)."""
    if isinstance(texts, str):
        raise InvalidArgument("embed() takes a sequence of texts, not a single string")
    return list(texts)
