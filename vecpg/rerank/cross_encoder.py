"""A sentence-transformers ``CrossEncoder`` from a local directory: the query and each candidate
read together by one model, the strongest kind of reranker and the slowest.

No cross-encoder ships on PyPI and vecpg downloads nothing at run time: save one on a machine
that can download it (``CrossEncoder(name).save_pretrained(dir)``) and give its directory here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..embedding.models import go_offline, limit_torch_threads
from ..errors import InvalidArgument, MissingDependency
from ..search.results import SearchResult
from .protocol import candidate_text

# Pairs per forward pass: a pair is up to max_length tokens, so a CPU gains nothing from more.
BATCH_SIZE = 16

# One model per (directory, max_length, device) in a process, loaded on first use.
_models: dict[tuple[str, int | None, str], Any] = {}
_loading = threading.Lock()


class CrossEncoderReranker:
    """Scores each (query, candidate) pair with a cross-encoder saved in ``path``.

    ``rerank_score`` is the model's raw output (a logit for the usual one-output models): the
    same order as the sigmoid ``CrossEncoder.predict`` applies by default, without its ties
    where it saturates. ``max_length``: tokens per pair (default: the model's own limit).
    """

    def __init__(self, path: str | Path, batch_size: int = BATCH_SIZE, max_length: int | None = None,
                 device: str = "cpu") -> None:
        self.path = check_cross_encoder_dir(path)
        self.name = str(self.path)
        self.batch_size = batch_size
        self.max_length = max_length
        self._model = _shared(self.path, max_length, device)

    def score(self, query: str, candidates: Sequence[SearchResult]) -> np.ndarray:
        """The model's score of each candidate read with the query."""
        pairs = [(query, candidate_text(c)) for c in candidates]
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        import torch

        scores = self._model.predict(pairs, batch_size=self.batch_size, activation_fn=torch.nn.Identity(),
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(scores, dtype=np.float32).reshape(len(pairs))

    def __repr__(self) -> str:
        return f"CrossEncoderReranker({self.name!r})"


def check_cross_encoder_dir(path: str | Path) -> Path:
    """The directory, resolved, if it can hold a cross-encoder; InvalidArgument saying what is
    wrong otherwise (missing, no model in it, or a model of another kind, such as an embedder)."""
    directory = Path(path).expanduser()
    if not directory.is_dir():
        raise InvalidArgument(f"reranker path {str(path)!r}: no such directory (a cross-encoder is given by the "
                              "directory CrossEncoder.save_pretrained wrote)")
    config_file = directory / "config.json"
    if not config_file.is_file():
        raise InvalidArgument(f"reranker path {str(path)!r} holds no model: no config.json (a cross-encoder's "
                              "directory has its config.json, weights and tokenizer)")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidArgument(f"reranker path {str(path)!r}: unreadable config.json ({exc})") from None
    architectures = config.get("architectures") if isinstance(config, dict) else None
    if isinstance(architectures, list) and architectures and not any(
            str(a).endswith("ForSequenceClassification") for a in architectures):
        raise InvalidArgument(f"reranker path {str(path)!r} holds a {', '.join(map(str, architectures))}, not a "
                              "cross-encoder (a sequence-classification model scoring a pair of texts); "
                              "a sentence-embedding model is an embedder, not a reranker")
    return directory.resolve()


def _shared(path: Path, max_length: int | None, device: str) -> Any:
    key = (str(path), max_length, device)
    found = _models.get(key)
    if found is not None:
        return found
    with _loading:
        if key not in _models:
            _models[key] = _load(path, max_length, device)
        return _models[key]


def _load(path: Path, max_length: int | None, device: str) -> Any:
    go_offline()
    try:
        from sentence_transformers import CrossEncoder
    except ImportError as exc:
        raise MissingDependency("a cross-encoder reranker needs sentence-transformers: "
                                "pip install 'vecpg[embed]'") from exc
    limit_torch_threads()
    try:
        model = CrossEncoder(str(path), device=device, max_length=max_length, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"reranker path {str(path)!r}: not a cross-encoder sentence-transformers can "
                              f"load ({exc})") from None
    if model.num_labels != 1:
        raise InvalidArgument(f"reranker path {str(path)!r}: the model gives {model.num_labels} scores per pair; "
                              "a reranker needs a cross-encoder with one (num_labels=1)")
    return model
