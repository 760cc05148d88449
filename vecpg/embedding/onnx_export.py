"""ONNX files made here, from the model's own weights: an fp32 export and an int8 quantization of
it, cached per model and remade only when the model's files change.

Why not sentence-transformers' ``backend="onnx"``: it loads through optimum-onnx, whose newest
release requires transformers < 4.58 while sentence-transformers 6 requires transformers 5, so
the two cannot be installed together. The export below needs torch and transformers (installed
for the default backend anyway); running the files needs onnxruntime only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
# Bump when the export or the quantization below changes: caches made otherwise are then remade.
_RECIPE = 1
_OPSET = 17
_OUTPUT = "last_hidden_state"


def export_dir(model: str, root: Path) -> Path:
    """Where a model's ONNX files live under ``root``: ``<root>/<model name>/onnx``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "--", model.strip("/")) or "model"
    return root / safe / "onnx"


def ensure_onnx(source: Path, directory: Path, quantized: bool) -> tuple[Path, bool]:
    """The ONNX file of the model in ``source`` (fp32, or int8 if ``quantized``), made if it is
    missing or stale; and whether this call made any file."""
    fingerprint = _fingerprint(source)
    fp32 = directory / FP32_FILE
    made = _ensure(fp32, fingerprint, lambda out: _export(source, out))
    if not quantized:
        return fp32, made
    int8 = directory / INT8_FILE
    return int8, _ensure(int8, fingerprint, lambda out: _quantize(fp32, out)) or made


def _fingerprint(source: Path) -> str:
    """Changes when the model's files (or the recipe) do: names, sizes and modification times."""
    files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in source.iterdir() if p.is_file())
    return hashlib.sha256(json.dumps([_RECIPE, str(source.resolve()), files]).encode()).hexdigest()


def _ensure(target: Path, fingerprint: str, make: Callable[[Path], None]) -> bool:
    manifest = target.with_suffix(".json")
    try:
        if target.is_file() and json.loads(manifest.read_text(encoding="utf-8")).get("source") == fingerprint:
            return False
    except (OSError, ValueError):
        pass  # no manifest or a torn one: make the file again
    target.parent.mkdir(parents=True, exist_ok=True)
    # Made in a private directory and renamed into place, so a process reading the cache (or
    # exporting at the same time) never sees half a file; the manifest goes last.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        made = Path(tmp) / target.name
        make(made)
        os.replace(made, target)
        written = Path(tmp) / manifest.name
        written.write_text(json.dumps({"source": fingerprint}), encoding="utf-8")
        os.replace(written, manifest)
    return True


def _export(source: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class Encoder(torch.nn.Module):
        """The last hidden states from positional inputs, which is how tracing calls a module."""

        def __init__(self, encoder: Any, names: list[str]) -> None:
            super().__init__()
            self.encoder, self.names = encoder, names

        def forward(self, *inputs: Any) -> Any:
            return self.encoder(**dict(zip(self.names, inputs))).last_hidden_state

    tokenizer = AutoTokenizer.from_pretrained(str(source))
    # A model of its own, thrown away afterwards: after tracing, transformers 5's model instance
    # returned different token states in this process (measured), while other instances did not.
    encoder = AutoModel.from_pretrained(str(source)).eval()
    # Two texts of different lengths, so the traced graph sees padding under the attention mask.
    sample = tokenizer(["a short text", "a longer text, for the first to be padded"], padding=True, return_tensors="pt")
    names = list(sample.keys())
    axes = {name: {0: "texts", 1: "tokens"} for name in [*names, _OUTPUT]}
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about shape-dependent branches it records; stderr is for errors.
        warnings.simplefilter("ignore")
        torch.onnx.export(Encoder(encoder, names), tuple(sample[name] for name in names), str(out),
                          input_names=names, output_names=[_OUTPUT], dynamic_axes=axes,
                          opset_version=_OPSET, dynamo=False)


def _quantize(fp32: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".quantize-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # The pre-processing onnxruntime asks for (shape inference, constant folding); its
        # symbolic shape pass gives up on this graph's dynamic axes, and is not needed.
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        # Weights int8 per output channel, activations uint8 per batch, matrix products only.
        # Measured on all-MiniLM-L6-v2: one scale per tensor put vectors at cosine 0.94 of fp32
        # against 0.995 per channel, and quantizing the embedding lookups too made it slower.
        quantize_dynamic(prepared, out, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
