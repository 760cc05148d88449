"""Retrieval-augmented generation: answers with cited sources.

``RAG(search, llm)`` retrieves through a ``SearchService``, fits the passages into the model's
token budget (``context``), builds the prompt with the sources delimited as data (``prompt``),
calls any language model behind ``llm.LLM`` and maps the answer's ``[n]`` markers back to the
sources (``pipeline``).
"""

from .context import Context, Source, fit
from .llm import LLM, CallableLLM, Message, StreamingLLM, as_llm
from .pipeline import NO_CONTEXT, RAG, Answer, check_question
from .prompt import PromptTemplate, citations, format_sources

__all__ = ["LLM", "NO_CONTEXT", "RAG", "Answer", "CallableLLM", "Context", "Message", "PromptTemplate", "Source",
           "StreamingLLM", "as_llm", "check_question", "citations", "fit", "format_sources"]
