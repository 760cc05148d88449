"""Language models behind one protocol (``protocol.LLM``).

``local`` (``LocalLLM``, ``offline_model``) loads on first use: it is where torch and transformers
come in, and ``import vecpg.rag`` must not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .openai import OpenAIChat
from .protocol import LLM, CallableLLM, Message, StreamingLLM, as_llm, render

if TYPE_CHECKING:
    from .local import LocalLLM, offline_model

_LAZY = {"LocalLLM", "offline_model"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import local

        return getattr(local, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["LLM", "CallableLLM", "LocalLLM", "Message", "OpenAIChat", "StreamingLLM", "as_llm", "offline_model",
           "render"]
