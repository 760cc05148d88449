"""What the RAG pipeline asks of a language model: chat messages in, text out, and the model's
own token count (the context budget is counted with the generator's tokenizer).

Any callable from a prompt string to text also works: ``as_llm`` wraps it. Streaming is optional:
a model without ``stream`` answers in one piece.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message: ``system`` (instructions), ``user`` (the question and its context) or
    ``assistant``."""

    role: Literal["system", "user", "assistant"]
    content: str


@runtime_checkable
class LLM(Protocol):
    """A language model behind one protocol."""

    name: str

    def complete(self, messages: Sequence[Message], *, max_tokens: int = 512) -> str:
        """The model's answer to the conversation, in one piece."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many of the model's own tokens ``text`` takes."""
        ...


@runtime_checkable
class StreamingLLM(LLM, Protocol):
    """A model that can also hand out its answer as it is generated."""

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 512) -> Iterator[str]:
        """The answer's text in pieces, as the model produces them."""
        ...


def render(messages: Sequence[Message]) -> str:
    """The conversation as plain text, for models that take one prompt string."""
    return "\n\n".join(f"{m.role.upper()}:\n{m.content}" for m in messages) + "\n\nASSISTANT:\n"


@dataclass
class CallableLLM:
    """Any callable from a prompt string to text as an ``LLM``; tokens are counted as
    whitespace-separated words unless ``count`` is given."""

    function: Callable[[str], str]
    name: str = "callable"
    count: Callable[[str], int] | None = None

    def complete(self, messages: Sequence[Message], *, max_tokens: int = 512) -> str:
        return self.function(render(messages))

    def count_tokens(self, text: str) -> int:
        return self.count(text) if self.count is not None else len(text.split())


def as_llm(model: LLM | Callable[[str], str]) -> LLM:
    """An ``LLM`` as it is, a callable wrapped in ``CallableLLM``."""
    if isinstance(model, LLM):
        return model
    if callable(model):
        return CallableLLM(model)
    raise TypeError(f"an LLM or a callable from prompt to text, got {type(model).__name__}")
