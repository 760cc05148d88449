"""Language models behind one protocol (``protocol.LLM``)."""

from .openai import OpenAIChat
from .protocol import LLM, CallableLLM, Message, StreamingLLM, as_llm, render

__all__ = ["LLM", "CallableLLM", "Message", "OpenAIChat", "StreamingLLM", "as_llm", "render"]
