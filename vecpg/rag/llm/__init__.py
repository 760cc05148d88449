"""Language models behind one protocol (``protocol.LLM``)."""

from .protocol import LLM, CallableLLM, Message, StreamingLLM, as_llm, render

__all__ = ["LLM", "CallableLLM", "Message", "StreamingLLM", "as_llm", "render"]
