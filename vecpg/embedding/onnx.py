"""The ONNX backends: the model exported locally (see onnx_export) and run by onnxruntime on the
CPU, in fp32 ("onnx") or with int8 weights ("onnx-int8")."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import config
from ..errors import MissingDependency
from .onnx_export import ensure_onnx, export_dir
from .pooling import MeanPoolingEmbedder
from .protocol import BATCH_SIZE, DEFAULT_MODEL, ONNX, ONNX_INT8


class OnnxEmbedder(MeanPoolingEmbedder):
    """A Hugging Face encoder run by onnxruntime. The first use of a model exports it into
    ``cache_dir`` (default ``<VECPG_MODELS_DIR>/<model>/onnx``, a few seconds); later ones,
    in any process, load that file. ``exported`` says whether this instance made it."""

    def __init__(self, model: str = DEFAULT_MODEL, *, quantized: bool = False, batch_size: int = BATCH_SIZE[ONNX],
                 cache_dir: Path | None = None) -> None:
        self.backend = ONNX_INT8 if quantized else ONNX
        try:
            import onnxruntime
        except ImportError as exc:
            raise MissingDependency(f"the {self.backend} embedder needs onnxruntime: pip install 'vecpg[onnx]'") from exc
        super().__init__(model, batch_size)
        directory = cache_dir if cache_dir is not None else export_dir(self.model, config.models_dir())
        self.file, self.exported = ensure_onnx(self.path, directory, quantized)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: its notices would land on the CLI's stderr
        threads = config.embed_threads()
        if threads is not None:
            options.intra_op_num_threads = threads
        self._session: Any = onnxruntime.InferenceSession(str(self.file), options, providers=["CPUExecutionProvider"])
        self._inputs = [node.name for node in self._session.get_inputs()]

    def _token_states(self, batch: Mapping[str, np.ndarray]) -> np.ndarray:
        # InferenceSession.run is thread-safe: a shared embedder needs no lock around it.
        feed = {name: batch[name].astype(np.int64, copy=False) for name in self._inputs}
        return np.asarray(self._session.run(None, feed)[0])
